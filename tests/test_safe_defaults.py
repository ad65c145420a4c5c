"""Safe defaults: the hub listens on loopback only unless told otherwise; no patient data reaches logs; audio limits
answer with a clear message."""

import asyncio
import json
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from support import boya_env, start_receiver

BOYA = str(Path(sys.executable).with_name("boya"))
NAME, MRN = "Zebulon Quixotez", "8675309"
SECRET_PHRASE = "tiny hyperdense focus beside the xiphoid"
DICTATION = (
    f"Patient name {NAME}, MRN {MRN}, born June 4 1959, male. CT of the chest without contrast. "
    f"Indication: {SECRET_PHRASE}. Findings: there is a 9 mm nodule in the left upper lobe. No pneumothorax. "
    "Impression: pulmonary nodule."
)
PATIENT_DATA = (NAME.split()[1], MRN, SECRET_PHRASE)


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port``, read from /proc/net/tcp{,6} (hex, as the kernel writes)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_serve_listens_on_loopback_only_by_default(app_hub):
    port = int(app_hub.url.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing on 0.0.0.0 or ::


class Receiver:
    """The app's MLLP receiver on a background event loop."""

    def __init__(self, folder):
        from boya_medreport.mllp import Receiver as MLLPReceiver

        self.receiver = MLLPReceiver(folder, port=0)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self.receiver.start(), self.loop).result(10)
        self.port = self.receiver.port

    def close(self):
        self.loop.call_soon_threadsafe(self.receiver.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.mark.slow
def test_hub_log_has_no_patient_data_after_a_report_is_extracted_signed_and_sent(app_hub, tmp_path):
    pytest.importorskip("boya_medreport")
    from gradio_client import Client

    receiver = Receiver(tmp_path / "received")
    try:
        client = Client(app_hub.url, verbose=False)
        extracted = client.predict(DICTATION, api_name="/medreport_extract")
        report = json.loads(extracted[0])
        assert report["patient"]["mrn"] == MRN
        form = list(extracted[1:13])
        status, _history = client.predict(
            *form, DICTATION, "dr house", "127.0.0.1", receiver.port, "", api_name="/medreport_sign_send"
        )
    finally:
        receiver.close()
    assert "ACK AA" in status, status
    assert any(MRN in path.read_text() for path in (tmp_path / "received").glob("*.hl7"))  # the data did flow
    log = app_hub.log.read_text(errors="replace")
    assert "POST /gradio_api/queue/join" in log  # the log is written at its default level
    leaked = [item for item in PATIENT_DATA if item in log]
    assert leaked == [], f"patient data in {app_hub.log}: {leaked}"


@pytest.mark.slow
def test_cli_stderr_has_no_patient_data(tmp_path):
    pytest.importorskip("boya_medreport")

    db = f"sqlite:///{tmp_path / 'archive.db'}"
    report = subprocess.run(
        [BOYA, "medreport", "report", "--text", DICTATION, "--db", db, "--json"],
        capture_output=True,
        text=True,
        env=boya_env(),
        timeout=600,
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["report"]["patient"]["mrn"] == MRN
    report_id = str(json.loads(report.stdout)["report_id"])
    listener, port = start_receiver(tmp_path / "in")
    try:
        sent = subprocess.run(
            [BOYA, "medreport", "send", report_id, "--port", str(port), "--db", db],
            capture_output=True,
            text=True,
            env=boya_env(),
            timeout=300,
        )
    finally:
        listener.terminate()
        listener_out, listener_err = listener.communicate(timeout=30)
    assert sent.returncode == 0, sent.stderr
    assert any(MRN in path.read_text() for path in (tmp_path / "in").glob("*.hl7"))
    for name, text in {
        "report stderr": report.stderr,
        "send stdout": sent.stdout,
        "send stderr": sent.stderr,
        "listen stdout": listener_out,
        "listen stderr": listener_err,
    }.items():
        assert [item for item in PATIENT_DATA if item in text] == [], (name, text)


def write_tone(path: Path, seconds: float, rate: int = 16_000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


@pytest.mark.slow
def test_too_long_dictation_upload_gets_a_clear_message(app_hub, tmp_path):
    pytest.importorskip("boya_medreport")
    from boya_medreport.audio import MAX_SECONDS
    from gradio_client import Client, handle_file

    recording = tmp_path / "long.wav"
    write_tone(recording, MAX_SECONDS + 5)
    text, status = Client(app_hub.url, verbose=False).predict(
        handle_file(str(recording)), api_name="/medreport_transcribe"
    )
    assert text == ""
    assert "Could not transcribe" in status and f"{MAX_SECONDS:g} s limit" in status, status
