"""The /avatar page and its WebSocket: frames to several viewers, clips, bad messages, disconnects."""

import asyncio
import json

import numpy as np
import pytest
from boya_anchor import server
from boya_anchor.clips import Clip
from boya_anchor.rig import PARAM_NAMES
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.fixture
def client():
    server._STAGE = None
    api = FastAPI()
    server.add_routes(api)
    with TestClient(api) as test_client:
        yield test_client
    server._STAGE = None


def next_frame(ws):
    while True:
        message = json.loads(ws.receive_text())
        if "p" in message:
            return message


def test_page_and_script_are_served(client):
    page = client.get("/avatar")
    assert page.status_code == 200 and '<canvas id="stage" width="1920" height="1080">' in page.text
    assert '"happy"' in page.text  # expression hotkeys are listed in the page
    script = client.get("/anchor/avatar.js")
    assert script.status_code == 200 and "requestAnimationFrame" in script.text
    assert client.get("/anchor/rigs/bolt.json").json()["name"] == "bolt"
    assert client.get("/anchor/rigs/nobody.json").status_code == 404
    assert client.get("/anchor/clips/doesnotexist.wav").status_code == 404


def test_viewer_gets_rig_then_compact_frames(client):
    with client.websocket_connect("/anchor/ws") as ws:
        hello = json.loads(ws.receive_text())
        assert (
            hello["type"] == "hello" and hello["params"] == list(PARAM_NAMES) and "A" in hello["rig"]["mouth"]
        )
        frames = [next_frame(ws) for _ in range(20)]
    assert all(len(f["p"]) == len(PARAM_NAMES) for f in frames)
    assert all(len(json.dumps(f, separators=(",", ":"))) < 160 for f in frames)
    times = [f["t"] for f in frames]
    assert times == sorted(times) and times[-1] > times[0]


def test_several_viewers_and_a_disconnect_do_not_stop_the_others(client):
    with client.websocket_connect("/anchor/ws") as first:
        first.receive_text()
        with client.websocket_connect("/anchor/ws") as second:
            second.receive_text()
            next_frame(first), next_frame(second)
            assert len(server.stage().viewers) == 2
        before = next_frame(first)["t"]
        after = [next_frame(first)["t"] for _ in range(10)]
        assert after[-1] > before
        assert len(server.stage().viewers) == 1


def test_bad_messages_get_an_error_and_the_stream_continues(client):
    with client.websocket_connect("/anchor/ws") as ws:
        ws.receive_text()
        ws.send_text("not json")
        ws.send_text(json.dumps({"type": "expression", "name": "furious"}))
        ws.send_bytes(b"\x00\x01" * 160)  # audio before announcing a microphone
        errors = []
        while len(errors) < 3:
            message = json.loads(ws.receive_text())
            if message.get("type") == "error":
                errors.append(message["message"])
        assert "unknown expression" in errors[1] and "mic" in errors[2]
        assert "p" in next_frame(ws)


def test_expression_changes_the_frames(client):
    with client.websocket_connect("/anchor/ws") as ws:
        ws.receive_text()
        ws.send_text(json.dumps({"type": "expression", "name": "happy"}))
        form = PARAM_NAMES.index("MouthForm")
        for _ in range(50):
            if next_frame(ws)["p"][form] == 0.8:
                break
        else:
            pytest.fail("expression never reached the frames")


def test_played_clip_reaches_every_viewer_with_audio_and_track(client):
    rate = 16000
    samples = np.sin(np.linspace(0, 2000, rate // 2)).astype(np.float32) * 0.3
    clip = Clip(samples, rate, ["X"] * 10 + ["D"] * 30 + ["X"] * 10, "test")
    with client.websocket_connect("/anchor/ws") as a, client.websocket_connect("/anchor/ws") as b:
        a.receive_text(), b.receive_text()
        server.stage().play(clip)
        for ws in (a, b):
            while (message := json.loads(ws.receive_text())).get("type") != "clip":
                pass
            assert len(message["track"]) == 50 and message["mouth_params"][0] == "MouthOpenY"
            assert max(row[0] for row in message["track"]) > 0.8  # D opens the mouth wide
        audio = client.get(message["url"])
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
        shapes = {next_frame(a)["s"] for _ in range(40)}
        assert "D" in shapes


def test_a_slow_viewer_skips_stale_frames_but_keeps_every_control_message():
    viewer = server.Viewer(websocket=None)
    for k in range(5):
        viewer.offer_frame(f"frame {k}")
    viewer.offer("clip")
    viewer.offer("error")
    assert viewer.frame == "frame 4" and list(viewer.control) == ["clip", "error"] and viewer.ready.is_set()


def test_microphone_audio_becomes_frames_and_pings_come_back(client):
    rate = 16000
    t = np.arange(rate) / rate
    loud = (np.sin(2 * np.pi * 180 * t) * np.sin(2 * np.pi * 3 * t) * 20000).astype("<i2")
    with client.websocket_connect("/anchor/ws") as ws:
        ws.receive_text()
        ws.send_text(json.dumps({"type": "mic", "rate": rate}))
        for start in range(0, rate, 160):
            ws.send_bytes(loud[start : start + 160].tobytes())
        ws.send_text(json.dumps({"type": "ping", "t": 12.5}))
        while (message := json.loads(ws.receive_text())).get("type") != "pong":
            assert message.get("type") != "error", message
        assert message["t"] == 12.5
        assert "p" in next_frame(ws)


def test_a_loud_chunk_opens_the_mouth_in_its_own_frame_with_stage_stamps(client):
    mouth = PARAM_NAMES.index("MouthOpenY")
    silence = np.zeros(128, "<i2").tobytes()
    loud = (np.sin(2 * np.pi * 220 * np.arange(128) / 16000) * 12000).astype("<i2").tobytes()

    def live_frame(ws, first_chunk):
        for _ in range(500):
            frame = next_frame(ws)
            if frame.get("a") and frame["a"][0] >= first_chunk:
                return frame
        pytest.fail(f"no frame answered chunk {first_chunk}")

    with client.websocket_connect("/anchor/ws") as ws:
        ws.receive_text()
        ws.send_text(json.dumps({"type": "mic", "rate": 16000}))
        for _ in range(40):
            ws.send_bytes(silence)
        quiet = live_frame(ws, 39)
        for _ in range(3):  # chunks 40-42: 24 ms, less than the model's look-ahead plus hold
            ws.send_bytes(loud)
        voiced = live_frame(ws, 40)
    assert quiet["a"][0] == 39 and quiet["p"][mouth] < 0.1
    chunk, received, analysed, sent = voiced["a"]
    assert chunk in (40, 41, 42) and 0 <= analysed - received <= sent - received < 1000
    assert voiced["p"][mouth] > 0.25


def test_a_stalled_viewer_does_not_delay_the_others():
    class Socket:
        def __init__(self, stalled: bool):
            self.stalled, self.sent = stalled, []

        async def send_text(self, text):
            if self.stalled:
                await asyncio.Event().wait()  # a page that stopped reading: the send never completes
            self.sent.append(text)

    async def scenario():
        stage = server.Stage()
        stalled, reading = server.Viewer(Socket(True)), server.Viewer(Socket(False))
        stage.viewers |= {stalled, reading}
        senders = [asyncio.create_task(stage._send(viewer)) for viewer in (stalled, reading)]
        for k in range(5):
            stage._send_frame(f"frame {k}")
            await asyncio.sleep(0.001)
        for task in senders:
            task.cancel()
        return stalled, reading

    stalled, reading = asyncio.run(scenario())
    assert reading.websocket.sent == [f"frame {k}" for k in range(5)]
    assert stalled.websocket.sent == [] and stalled.frame == "frame 4"  # only the newest waits, no backlog
