import asyncio
import json
import socket
import threading
import time

import pytest
from boya_medreport import hl7, mllp
from boya_medreport.archive import Archive
from boya_medreport.delivery import deliver
from boya_medreport.pipeline import send


def sample_report():
    return {
        "patient": {
            "name": "Mary Ann Van Dijk",
            "mrn": "00412345",
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


class Server:
    """A receiver (ours, or a scripted fake) on a background event loop."""

    def __init__(self, receiver):
        self.receiver = receiver
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(receiver.start(), self.loop).result(5)
        self.port = receiver.port

    def close(self):
        async def stop():
            self.receiver.server.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)


class ScriptedReceiver(mllp.Receiver):
    """Answers with a fixed ACK code, or never (slow)."""

    def __init__(self, out_dir, code=None, delay=0.0):
        super().__init__(out_dir, port=0)
        self.code, self.delay = code, delay

    def handle_message(self, er7):
        if self.delay:
            time.sleep(self.delay)
        return mllp.make_ack(er7, self.code, "scripted") if self.code else super().handle_message(er7)


@pytest.fixture
def archive(database_url):
    return Archive(database_url)


def test_receiver_keeps_the_connection_open_and_acks_each_message(tmp_path):
    server = Server(mllp.Receiver(tmp_path, port=0))
    try:
        with mllp.MLLPClient("127.0.0.1", server.port, timeout=5) as client:
            acks = [client.send(hl7.build_oru(sample_report(), f"M{i}")) for i in range(3)]
            bad = hl7.build_oru(sample_report(), "M9").replace("|NM|", "|NM|").replace("|2|12|", "|2|abc|")
            ae = client.send(bad)
            ar = client.send("MSH|^~\\&|A|B|C|D|20250101||ADT^A01|Z1|P|2.5\rPID|1||1")
            again = client.send(hl7.build_oru(sample_report(), "M0"))
    finally:
        server.close()
    assert [a["code"] for a in acks] == ["AA", "AA", "AA"]
    assert ae["code"] == "AE" and "not a number" in ae["text"]
    assert ar["code"] == "AR" and again["code"] == "AA"
    assert sorted(p.name for p in tmp_path.glob("*.hl7")) == ["M0.hl7", "M1.hl7", "M2.hl7"]
    assert json.loads((tmp_path / "M1.json").read_text())["patient"]["mrn"] == "00412345"


def test_report_without_findings_is_stored_and_a_failed_store_answers_ae(tmp_path, monkeypatch):
    empty = {**sample_report(), "findings": [], "impression": None, "indication": None, "critical": False}
    receiver = mllp.Receiver(tmp_path, port=0)
    server = Server(receiver)

    def full_disk(control_id, er7):
        raise OSError("No space left on device")

    try:
        with mllp.MLLPClient("127.0.0.1", server.port, timeout=5) as client:
            stored = client.send(hl7.build_oru(empty, "E1"))
            monkeypatch.setattr(receiver, "_store", full_disk)
            failed = client.send(hl7.build_oru(sample_report(), "E2"))  # same connection: it stays open
    finally:
        server.close()
    assert stored["code"] == "AA" and json.loads((tmp_path / "E1.json").read_text())["findings"] == []
    assert (
        failed["code"] == "AE" and "could not store" in failed["text"] and not (tmp_path / "E2.hl7").exists()
    )


def test_report_is_archived_then_acknowledged_once(archive, tmp_path):
    server = Server(mllp.Receiver(tmp_path, port=0))
    try:
        report_id = archive.create(sample_report(), "dictation text")
        archive.sign(report_id, "dr. who")
        row = send(archive, report_id, "127.0.0.1", server.port)
        again = send(archive, report_id, "127.0.0.1", server.port)
    finally:
        server.close()
    assert row["status"] == "acknowledged" and row["ack_code"] == "AA"
    assert again["attempts"] == 1  # acknowledged: not sent a second time
    assert [e["action"] for e in archive.audit(report_id)] == [
        "created",
        "signed",
        "queued",
        "sent",
        "acknowledged",
    ]
    assert archive.outbox("pending") == []


def test_receiver_down_keeps_the_message_pending_until_it_comes_back(archive, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report_id = archive.create(sample_report())
    row = send(archive, report_id, "127.0.0.1", port, attempts=2, backoff=0.01)
    assert row["status"] == "pending" and row["attempts"] == 2 and "cannot connect" in row["last_error"]
    assert archive.get(report_id)["report"]["patient"]["mrn"] == "00412345"
    receiver = mllp.Receiver(tmp_path, port=port)
    server = Server(receiver)
    try:
        row = deliver(archive, row["control_id"])
    finally:
        server.close()
    assert row["status"] == "acknowledged"
    assert "send_failed" in [e["action"] for e in archive.audit(report_id)]


@pytest.mark.parametrize("code", ["AE", "AR"])
def test_rejection_is_recorded_and_kept_in_the_outbox(archive, tmp_path, code):
    server = Server(ScriptedReceiver(tmp_path, code=code))
    try:
        row = send(archive, archive.create(sample_report()), "127.0.0.1", server.port)
    finally:
        server.close()
    assert row["status"] == "rejected" and row["ack_code"] == code and row["ack_text"] == "scripted"
    assert archive.outbox(None)[0]["status"] == "rejected"


def test_slow_receiver_times_out_and_stays_pending(archive, tmp_path):
    server = Server(ScriptedReceiver(tmp_path, delay=1.5))
    try:
        row = send(
            archive, archive.create(sample_report()), "127.0.0.1", server.port, timeout=0.3, attempts=1
        )
    finally:
        server.close()
    assert row["status"] == "pending" and "no ACK" in row["last_error"]


def test_versions_and_audit_trail(archive):
    report_id = archive.create(sample_report(), "first", author="a")
    edited = {**sample_report(), "impression": "corrected"}
    assert archive.edit(report_id, edited, author="b") == 2
    assert archive.get(report_id, 1)["report"]["impression"] == "Pneumothorax; 12 mm nodule."
    assert archive.get(report_id)["report"]["impression"] == "corrected"
    assert archive.versions(report_id) == [1, 2]
    assert [e["action"] for e in archive.audit(report_id)] == ["created", "edited"]
    assert archive.history()[0]["critical"] is True
