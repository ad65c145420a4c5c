"""``boya anchor bench``: model cost per chunk, browser latency and frame rate, export speed.

- model_ms_p95: one 10 ms chunk through features + model + decision, one thread, wall clock;
  ``model_ms.cpu`` is the same in thread CPU time: on a busy machine the wall p95
  is mostly time the thread spent waiting for a core, not work.
- latency_ms_p95: headless Chromium opens /avatar with a fake microphone playing
  spoken "ah"s; the page stamps each speech onset (AudioWorklet, browser clock)
  and the first animation frame that draws the mouth open. ``browser.arrival_ms``
  stamps when the open-mouth frame reached the page, so latency splits into
  audio up + model + frame back, and waiting for the page's next frame;
  ``browser.round_trip_ms``: page → server → page pings while streaming;
  ``browser.stages_ms`` splits each event with the server's stamps (epoch clock, same machine): ``chunk`` (onset
  to the 128-sample chunk holding it leaving the page), ``later_chunks`` (chunks sent after it until the one that
  opened the mouth), ``up``, ``server`` (analysis), ``send_queue`` (until the viewer's sender sent it),
  ``down`` (to the page's message handler), ``to_frame`` (to the animation frame
  that drew it);
  ``browser.server_cpu_share`` is the CPU the server (this process) used, in cores. Both stamps are on the
  page's clock, so transport, model and drawing are all inside the figure.
- engine_latency_ms: the same probe audio streamed straight into the live engine in 128-sample chunks:
  audio onset to the open mouth (``opening``, the path the page sees) and to the model's first open
  shape (``shape``: its look-ahead and the 10 ms hop), in stream time (no transport, no drawing, no machine load).
- render_fps: that page's requestAnimationFrame rate while drawing 1920x1080.
- export_fps: frames per second of ``render`` (skia + x264) for a 1080p60 clip.
"""

import gc
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

CHROMIUM = "/usr/bin/chromium"
ONSET = (
    0.02  # sample level that starts an "ah" (the probe's gaps are digital silence); avatar.js uses the same
)
OPEN = 0.25  # MouthOpenY that counts as open; avatar.js uses the same
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


STAGES = ("chunk", "later_chunks", "up", "server", "send_queue", "down", "to_frame", "total")


def _percentiles(values) -> dict:
    a = np.asarray(values, float)
    return {
        "p50": round(float(np.percentile(a, 50)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "max": round(float(a.max()), 3),
        "n": int(a.size),
    }


def model_cost(seconds: float = 20.0) -> dict:
    import torch

    from .audio import resample
    from .live import LiveEngine
    from .tts import synthesize

    torch.set_num_threads(1)
    speech = synthesize("The quick brown fox jumps over the lazy dog. " * 4, "espeak:en-us+f3")
    samples = resample(speech.samples, speech.rate, 16000)
    samples = np.tile(samples, int(np.ceil(seconds * 16000 / len(samples))))[: int(seconds * 16000)]
    engine = LiveEngine(16000)
    wall, cpu = [], []
    gc.collect()
    gc.freeze()  # as the server does once its stage exists: no collection walks torch's objects mid-stream
    try:
        for start in range(0, len(samples) - 160, 160):
            t, c = time.perf_counter(), time.thread_time()
            engine.push(samples[start : start + 160])
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
    finally:
        gc.unfreeze()
    return {**_percentiles(wall[50:]), "cpu": _percentiles(cpu[50:])}


def probe_audio(path: Path, events: int, seed: int = 0) -> float:
    """A WAV of ``events`` spoken "ah"s separated by 0.7-1.2 s of silence; returns its duration."""
    from .audio import resample, wav_bytes
    from .tts import synthesize

    rng = np.random.default_rng(seed)
    speech = synthesize("Ah.", "espeak:en-us+f3", rate=150)
    ah = resample(speech.samples, speech.rate, 16000)
    voiced = np.nonzero(np.abs(ah) > 0.05)[0]
    ah = ah[voiced[0] : voiced[-1]] * (0.6 / np.abs(ah).max())
    parts = [np.zeros(16000, np.float32)]
    for _ in range(events):
        parts += [ah, np.zeros(int(rng.uniform(0.7, 1.2) * 16000), np.float32)]
    audio = np.concatenate(parts)
    path.write_bytes(wav_bytes(audio, 16000))
    return len(audio) / 16000


def engine_latency(events: int = 60) -> dict:
    """Onset → open mouth inside the engine, in stream time, fed 128-sample chunks as the page sends them.

    ``opening``: until the live stage's mouth (the animator fed the engine's zero look-ahead opening) is
    open as far as the probe's threshold; ``shape``: until the model names an open shape (look-ahead + hop).
    """
    from .animate import Animator
    from .audio import load_audio
    from .live import LiveEngine
    from .rig import get_avatar

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.wav"
        probe_audio(path, events)
        samples = load_audio(path)
    engine, animator = LiveEngine(16000), Animator(get_avatar("aiko"))
    ends, opened, named = [], [], []
    for start in range(0, len(samples), 128):
        engine.push(samples[start : start + 128])
        ends.append(start + 128)
        mouth = animator.frame(ends[-1] / 16000, engine.last.shape, opening=engine.opening)["MouthOpenY"]
        opened.append(mouth > OPEN)
        named.append(engine.last.shape not in "XA")
    loud = np.nonzero(np.abs(samples) > ONSET)[0]
    onsets = [int(i) for k, i in enumerate(loud) if k == 0 or i - loud[k - 1] > 3200]  # as the page's worklet
    report = {}
    for name, flags in (("opening", opened), ("shape", named)):
        found = [
            next(
                ((ends[j] - i) / 16 for j in range(i // 128, min(i // 128 + 50, len(ends))) if flags[j]), None
            )
            for i in onsets
        ]
        hits = [ms for ms in found if ms is not None]
        report[name] = {**(_percentiles(hits) if hits else {}), "missed": len(found) - len(hits)}
    return report


def _serve() -> tuple[object, int]:
    import uvicorn
    from fastapi import FastAPI

    from .server import add_routes

    api = FastAPI()
    add_routes(api)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    return server, port


def browser_probe(events: int = 60) -> dict:
    from playwright.sync_api import sync_playwright

    from .live import load_model

    if not os.path.exists(CHROMIUM):
        return {"error": f"{CHROMIUM} not found"}
    load_model()  # as a running server would have: the first microphone must not wait for torch to import
    server, port = _serve()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "probe.wav"
            duration = probe_audio(wav, events)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    args=CHROMIUM_ARGS + [f"--use-file-for-fake-audio-capture={wav}%noloop"],
                )
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(f"http://127.0.0.1:{port}/avatar?mic=1&automic=1")
                page.wait_for_function("window.anchorProbe && window.anchorStats.frames > 10", timeout=30_000)
                wall, cpu = time.perf_counter(), time.process_time()
                page.wait_for_timeout(int(duration * 1000) + 1500)
                server_cpu = (time.process_time() - cpu) / (time.perf_counter() - wall)
                probe = page.evaluate(
                    "({lat: window.anchorProbe.latencies, arr: window.anchorProbe.arrivals, rtt: window.anchorProbe.rtts,"
                    " onsets: window.anchorProbe.onsets.length, ms: window.anchorStats.frameMs, stages: window.anchorProbe.stages})"
                )
                browser.close()
    finally:
        server.should_exit = True
    frame_ms = np.asarray(probe["ms"][30:], float)
    result = {
        "onsets": probe["onsets"],
        "latency_ms": _percentiles(probe["lat"]) if probe["lat"] else None,
        "arrival_ms": _percentiles(probe["arr"]) if probe["arr"] else None,
        "round_trip_ms": _percentiles(probe["rtt"]) if probe["rtt"] else None,
        "stages_ms": {name: _percentiles([s[name] for s in probe["stages"]]) for name in STAGES}
        if probe["stages"]
        else None,
        "server_cpu_share": round(server_cpu, 3),
        "render_fps": round(1000.0 / float(frame_ms.mean()), 1) if frame_ms.size else None,
        "frame_ms_p95": round(float(np.percentile(frame_ms, 95)), 2) if frame_ms.size else None,
    }
    return result


def export_speed(
    seconds_text: str = "Hello everyone, welcome back to the stream. Today we build something fun.",
) -> dict:
    from .clips import script_clip
    from .export import export_video
    from .rig import get_avatar

    clip = script_clip(seconds_text, "espeak:en-us")
    with tempfile.TemporaryDirectory() as tmp:
        return export_video(clip, get_avatar("aiko"), Path(tmp) / "bench.mp4", 1920, 1080, 60)


def run_bench(browser: bool = True, events: int = 60) -> dict:
    cost = model_cost()
    report = {"model_ms_p95": cost["p95"], "model_ms": cost, "engine_latency_ms": engine_latency(events)}
    if browser:
        probe = browser_probe(events)
        report["latency_ms_p95"] = probe["latency_ms"]["p95"] if probe.get("latency_ms") else None
        report["render_fps"] = probe.get("render_fps")
        report["browser"] = probe
    export = export_speed()
    report["export_fps"] = export["export_fps"]
    report["export"] = export
    report["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return report
