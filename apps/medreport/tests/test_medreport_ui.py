"""UI handlers called directly (the browser flow is covered by the repo's e2e tests)."""

import asyncio
import threading

from boya_medreport import mllp, ui

TEXT = (
    "Patient Ann Lee, MRN 4242, DOB 3/4/1950, female. Exam: chest x-ray. "
    "Findings: There is a pneumothorax in the right pleural space. No pleural effusion. Impression: pneumothorax."
)


def test_extract_fills_the_form_and_raises_the_banner():
    values = ui.extract_text(TEXT)
    form, banner = values[1:13], values[13]
    assert form[:4] == ["Ann Lee", "4242", "1950-03-04", "female"]
    assert ["pneumothorax", True, "", "right pleural space", ""] in form[9]
    assert "CRITICAL" in banner and "medreport-critical" in banner


def test_edited_form_is_rechecked_previewed_and_sent(tmp_path):
    form = ui.extract_text(TEXT)[1:13]
    form[9] = [["pneumothorax", False, "", "", ""], ["effusion", True, "", "left pleural space", "2 cm"]]
    report = ui.form_to_report(*form)
    assert [(f["observation"], f["present"], f["size_mm"]) for f in report["findings"]] == [
        ("pneumothorax", False, None),
        ("pleural effusion", True, 20),
    ]
    assert report["critical"] is False
    hl7_text, fhir_text, hl7_file, fhir_file, html_file, banner, warnings, status = ui.preview(*form)
    assert status.startswith("HL7 valid") and banner == "" and "PLEURAL-EFFUSION" in hl7_text
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    receiver = asyncio.run_coroutine_threadsafe(mllp.Receiver(tmp_path / "in", port=0).start(), loop).result(
        5
    )
    db = f"sqlite:///{tmp_path / 'ui.db'}"
    try:
        status, report_id, rows = ui.sign_and_send(*form, TEXT, "dr. x", "127.0.0.1", receiver.port, None, db)
        form[11] = "follow-up chest x-ray"
        status2, same_id, rows2 = ui.sign_and_send(
            *form, TEXT, "dr. x", "127.0.0.1", receiver.port, report_id, db
        )
    finally:
        loop.call_soon_threadsafe(loop.stop)
    assert "ACK AA" in status and "ACK AA" in status2 and same_id == report_id
    assert rows2[0][0] == report_id and rows2[0][3] == 2 and rows2[0][2] == "acknowledged"


def test_audio_without_a_recording_says_so():
    text, status = ui.transcribe_audio(None)
    assert text == "" and "No recording" in status


def test_build_ui_has_prefixed_api_names():
    blocks = ui.build_ui()
    names = {d.api_name for d in blocks.fns.values() if d.api_name}
    assert names and all(name.startswith("medreport_") for name in names)


def test_the_engine_choice_offers_every_backend_whisper_first(tmp_path):
    import wave

    import numpy as np
    import pytest

    engines = ui._engines()
    assert engines[0] == "whisper" and {"ctc", "sphinx"} <= set(engines)
    pytest.importorskip("pocketsphinx")
    from boya_medreport.asr.speech import synthesize

    samples = synthesize("No pneumothorax period", "festival-kal")
    path = tmp_path / "dictation.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16_000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    text, status = ui.transcribe_audio(str(path), "sphinx")
    assert status.startswith("Transcribed by sphinx") and "pneumothorax" in text.lower()
