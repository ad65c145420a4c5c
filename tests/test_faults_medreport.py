"""Fault injection for medreport delivery and archiving, through the real CLI processes.

- MLLP receiver down, then back: every report waits in the durable outbox and is delivered once it
  is back; the receiver stores exactly one message per control id, and nothing is sent again after the ACK.
- MLLP receiver slow (ACK after the sender gave up): the message stays pending, the retry is
  acknowledged, and the receiver still stores it once (same control id).
- ``kill -9`` of a process archiving reports: every report in the database is whole (all its
  versions and audit events, parseable JSON), and every report the writer saw committed is there.
- The receiver dying between its two files: a reader never sees an .hl7 without its .json, and the
  resent message completes the pair.
"""

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from support import boya_env, free_port

pytest.importorskip("boya_medreport")

BOYA = str(Path(sys.executable).with_name("boya"))
VT = b"\x0b"


def sample_report(i: int = 0) -> dict:
    return {
        "patient": {
            "name": f"Mary Ann Van Dijk{'' if i == 0 else ' ' + chr(65 + i) + 'son'}",
            "mrn": f"0041234{i}",
            "birth_date": "1961-09-26",
            "sex": "female",
        },
        "exam": {"modality": "CT", "body_part": "chest", "laterality": None, "contrast": True},
        "indication": "chest pain",
        "findings": [
            {
                "observation": "pneumothorax",
                "present": True,
                "location": "right pleural space",
                "size_mm": None,
            },
            {
                "observation": "pulmonary nodule",
                "present": True,
                "location": "left upper lobe",
                "size_mm": 12,
            },
        ],
        "impression": "Pneumothorax; 12 mm nodule.",
        "critical": True,
        "recommendation": None,
    }


def boya(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BOYA, *args], capture_output=True, text=True, env=boya_env(), timeout=180)


class Relay:
    """A TCP relay in front of the receiver that counts the MLLP messages it forwards.

    ``listening=False`` until :meth:`open` (receiver down); ``ack_delay`` holds every answer back
    (a slow receiver) until :meth:`heal`.
    """

    def __init__(self, target_port: int, ack_delay: float = 0.0):
        self.target_port, self.ack_delay = target_port, ack_delay
        self.port, self.messages, self.server = free_port(), 0, None
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def open(self):
        async def start():
            self.server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def heal(self):
        self.ack_delay = 0.0

    async def _connection(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def upstream():
            while data := await reader.read(65536):
                self.messages += data.count(VT)
                up_writer.write(data)
                await up_writer.drain()
            up_writer.close()

        async def downstream():
            while data := await up_reader.read(65536):
                await asyncio.sleep(self.ack_delay)
                writer.write(data)
                await writer.drain()
            writer.close()

        try:
            await asyncio.gather(upstream(), downstream())
        except ConnectionError:
            pass

    def close(self):
        if self.server is not None:
            self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def send_once(path, port: int, db: str, timeout: float) -> subprocess.CompletedProcess:
    """``boya medreport send --json`` with one attempt: the report stays pending unless an ACK comes within ``timeout`` s."""
    return boya(
        "medreport",
        "send",
        str(path),
        "--port",
        str(port),
        "--attempts",
        "1",
        "--timeout",
        str(timeout),
        "--db",
        db,
        "--json",
    )


def outbox(db: str) -> list[dict]:
    result = boya("medreport", "outbox", "--all", "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_receiver_down_then_back_delivers_each_message_exactly_once(tmp_path, receiver):
    receiver_port, received = receiver
    relay = Relay(receiver_port)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    try:
        for i in range(3):
            path = tmp_path / f"report{i}.json"
            path.write_text(json.dumps(sample_report(i)))
            sent = send_once(path, relay.port, db, timeout=2)
            assert sent.returncode == 1, sent.stderr
            assert json.loads(sent.stdout)["status"] == "pending"
        pending = outbox(db)
        assert [row["status"] for row in pending] == ["pending"] * 3
        assert len({row["control_id"] for row in pending}) == 3
        assert not list(received.glob("*.hl7"))

        relay.open()
        retried = boya("medreport", "outbox", "--retry", "--json", "--db", db)
        assert retried.returncode == 0, retried.stderr
        assert json.loads(retried.stdout) == []  # nothing left pending
        again = boya("medreport", "outbox", "--retry", "--json", "--db", db)
        assert again.returncode == 0, again.stderr
    finally:
        relay.close()
    rows = outbox(db)
    assert [row["status"] for row in rows] == ["acknowledged"] * 3
    assert relay.messages == 3  # one delivery each, none repeated after the ACK
    stored = sorted(path.stem for path in received.glob("*.hl7"))
    assert stored == sorted(row["control_id"] for row in rows)
    for row in rows:
        body = (received / f"{row['control_id']}.hl7").read_bytes().decode()
        assert f"|{row['control_id']}|" in body and "PID|1||" in body


@pytest.mark.slow
def test_slow_receiver_keeps_the_message_pending_and_the_retry_is_stored_once(tmp_path, receiver):
    receiver_port, received = receiver
    relay = Relay(receiver_port, ack_delay=4.0)
    relay.open()
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(sample_report()))
    try:
        sent = send_once(path, relay.port, db, timeout=1)
        assert sent.returncode == 1, sent.stderr
        first = json.loads(sent.stdout)
        assert first["status"] == "pending" and "no ACK" in first["last_error"]
        relay.heal()
        retried = boya("medreport", "outbox", "--retry", "--json", "--db", db)
        assert retried.returncode == 0 and json.loads(retried.stdout) == [], retried.stderr
        boya("medreport", "outbox", "--retry", "--db", db)
    finally:
        relay.close()
    (row,) = outbox(db)
    assert (
        row["status"] == "acknowledged" and row["control_id"] == first["control_id"] and row["attempts"] == 2
    )
    assert relay.messages == 2  # the late ACK made the sender try again; nothing after the ACK
    assert [p.name for p in received.glob("*.hl7")] == [f"{row['control_id']}.hl7"]  # stored once


WRITER = textwrap.dedent(
    """
    import json, sys
    from boya_medreport.archive import Archive
    archive = Archive(sys.argv[1])
    report = json.loads(sys.argv[2])
    while True:
        report_id = archive.create(report, "dictated " * 200, author="dr a")
        archive.edit(report_id, dict(report, impression="corrected " * 50), author="dr b", dictation="again " * 200)
        archive.sign(report_id, "dr b")
        archive.enqueue(report_id, 2, "MSH|" + "x" * 5000, "127.0.0.1", 9)
        print(report_id, flush=True)
    """
)


def committed_ids(process: subprocess.Popen, at_least: int) -> list[int]:
    ids = []
    for line in process.stdout:
        ids.append(int(line))
        if len(ids) >= at_least:
            return ids
    raise AssertionError("the writer stopped early")


@pytest.mark.slow
def test_kill_9_while_archiving_leaves_no_half_written_report(database_url):
    from boya_medreport.archive import Archive

    rng = random.Random(0)
    seen: list[int] = []
    for _round in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, json.dumps(sample_report())],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=boya_env(),
        )
        seen += committed_ids(writer, 2)
        time.sleep(rng.uniform(0.0, 0.3))  # land somewhere inside the next report's transactions
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
        writer.stderr.close()

    archive = Archive(database_url)
    rows = archive.history(limit=1000)
    ids = {row["id"] for row in rows}
    assert set(seen) <= ids  # every report the writer saw committed survived
    outbox = {row["report_id"]: row for row in archive.outbox(None)}
    for row in rows:
        stored = [archive.get(row["id"], version) for version in archive.versions(row["id"])]
        assert [s["version"] for s in stored] == list(range(1, row["version"] + 1))
        assert (
            stored[0]["report"]["patient"]["mrn"] == "00412340"
            and stored[0]["dictation"] == "dictated " * 200
        )
        actions = [event["action"] for event in archive.audit(row["id"])]
        assert actions == ["created", "edited", "signed", "queued"][: len(actions)] and actions, actions
        assert (row["version"] == 2) == ("edited" in actions)
        assert (row["status"] == "signed") == ("signed" in actions)
        assert (row["id"] in outbox) == ("queued" in actions)
        if row["id"] in outbox:
            assert len(outbox[row["id"]]["er7"]) == 5004
    for report_id in seen:
        assert [e["action"] for e in archive.audit(report_id)] == ["created", "edited", "signed", "queued"]


def test_receiver_killed_between_its_two_writes_never_shows_half_a_message(tmp_path, monkeypatch):
    from boya_medreport import hl7, mllp

    er7 = hl7.build_oru(sample_report(), "BMR00000001V001")
    received = tmp_path / "received"
    receiver = mllp.Receiver(received)
    write = mllp._write_atomic
    written = []

    def killed_after_first_write(path, data):
        if written:
            raise SystemExit("killed")  # the process dies here: no second file, no ACK
        written.append(path)
        write(path, data)

    monkeypatch.setattr(mllp, "_write_atomic", killed_after_first_write)
    with pytest.raises(SystemExit):
        receiver.handle_message(er7)
    assert not list(received.glob("*.hl7")) and not list(received.glob("*.tmp"))  # no .hl7 without its .json
    monkeypatch.setattr(mllp, "_write_atomic", write)
    ack = receiver.handle_message(er7)  # the sender got no ACK, so it sends the message again
    assert "MSA|AA|BMR00000001V001" in ack
    assert (received / "BMR00000001V001.hl7").read_bytes().decode("utf-8") == er7
    reading = json.loads((received / "BMR00000001V001.json").read_text(encoding="utf-8"))
    assert reading["control_id"] == "BMR00000001V001" and reading["patient"]["mrn"] == "00412340"


def test_receiver_restores_a_lost_json_on_resend(tmp_path):
    from boya_medreport import hl7, mllp

    er7 = hl7.build_oru(sample_report(), "BMR00000001V001")
    receiver = mllp.Receiver(tmp_path / "received")
    receiver.handle_message(er7)
    (
        tmp_path / "received" / "BMR00000001V001.json"
    ).unlink()  # e.g. removed by hand, or an older receiver's crash
    ack = receiver.handle_message(er7)
    assert "MSA|AA|BMR00000001V001" in ack
    assert (tmp_path / "received" / "BMR00000001V001.json").is_file()
