"""Medical reports in headless Chromium: upload a dictation recording, transcribe it, extract the report, preview a
valid HL7 message, then sign and send it to a local MLLP receiver (``boya medreport listen``) and see the ACK.

The recording is spoken by espeak-ng (a different voice from anything the ASR saw), so the test
also checks that the transcript carries the patient's record number into the fields and the message.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from support import ARTIFACTS, open_browser_page

pytest.importorskip("boya_medreport")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

MRN = "1234567"
SPOKEN = (
    "Patient name John Smith. M R N one two three four five six seven. C T of the chest without contrast. "
    "Findings: no pneumothorax. Impression: normal chest."
)


@pytest.fixture
def recording(tmp_path) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is missing (apt-get install espeak-ng)")
    path = tmp_path / "dictation.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), SPOKEN], check=True)
    return path


def code_text(block) -> str:
    """The text of a gr.Code block (CodeMirror renders one .cm-line per line)."""
    return "\n".join(block.locator(".cm-line").all_inner_texts())


def test_recording_to_acknowledged_hl7(app_hub, recording, receiver, request):
    from boya_medreport import hl7
    from boya_medreport.archive import Archive

    port, received = receiver
    with open_browser_page(request, viewport=(1280, 2400)) as page:
        page.goto(app_hub.url)
        page.get_by_role("tab", name="Medical reports").click()
        panel = page.get_by_role("tabpanel").filter(has_text="Dictate, upload or paste")
        panel.locator("input[type=file]").first.set_input_files(str(recording))
        panel.get_by_role("button", name="Transcribe").click()
        panel.get_by_text("Transcribed by").wait_for(timeout=240_000)
        transcript = panel.get_by_label("Transcript / dictation text (editable)").input_value()
        assert "Smith" in transcript and "pneumothorax" in transcript.lower(), transcript

        panel.get_by_role("button", name="Extract report").click()
        page.wait_for_function(
            "(mrn) => [...document.querySelectorAll('input, textarea')].some(e => e.value === mrn)",
            arg=MRN,
            timeout=120_000,
        )
        assert panel.get_by_label("Patient name", exact=True).input_value() == "John Smith"
        assert panel.get_by_label("MRN", exact=True).input_value() == MRN

        panel.get_by_role("button", name="Preview HL7 + FHIR").click()
        panel.get_by_text("HL7 valid").wait_for(timeout=120_000)
        shown = code_text(panel.locator(".block").filter(has_text="HL7 v2.5 ORU^R01").last)
        assert shown.startswith("MSH|") and f"|{MRN}^^^" in shown
        assert hl7.validate(shown) == []

        panel.get_by_label("Signed by").fill("Dr E2E")
        panel.get_by_label("MLLP port").fill(str(port))
        panel.get_by_role("button", name="Sign and Send").click()
        status = panel.locator("#medreport-send-status")
        status.get_by_text("ACK AA").wait_for(timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "e2e-medreport.png"), full_page=True)
        sent = status.inner_text()

    control_id = next(word for word in sent.split() if word.startswith("BMR")).rstrip(":")
    message = (received / f"{control_id}.hl7").read_text()
    assert hl7.validate(message) == [] and f"|{MRN}^^^" in message
    (row,) = [r for r in Archive(app_hub.db).outbox(None) if r["control_id"] == control_id]
    assert row["status"] == "acknowledged" and row["ack_code"] == "AA"
