"""The ``ctc`` ASR backend: a local Wav2Vec2-style CTC checkpoint (``Wav2Vec2ForCTC``).

For sites that have their own fine-tuned CTC model (e.g. a wav2vec2 trained on their
radiologists). There is no embedded CTC model: none with real weights is installable
offline, and small CTC models trained here from synthetic speech learn the voice, not
speech. Decoding is greedy CTC through the checkpoint's own processor; a CTC model
cannot take a text prompt, so the vocabulary prompt is ignored.
"""

import os
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

from ..audio import SAMPLE_RATE, split_at_pauses

WINDOW_SECONDS = 30.0


class CTCTranscriber:
    """Transcribe 16 kHz mono float32 audio with a local ``Wav2Vec2ForCTC`` directory."""

    name = "ctc"

    def __init__(self, model: str | os.PathLike | None = None):
        from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor
        from transformers.utils import logging as hf_logging

        if model is None:
            raise BoyaError(
                "the ctc backend has no embedded model: pass a local Wav2Vec2 CTC checkpoint directory"
            )
        path = Path(model).expanduser()
        if not path.is_dir():
            raise BoyaError(f"CTC model directory not found: {path}")
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        try:
            self.processor = Wav2Vec2Processor.from_pretrained(path, local_files_only=True)
            self.model = Wav2Vec2ForCTC.from_pretrained(path, local_files_only=True).eval()
        except (OSError, ValueError, TypeError) as e:
            message = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise BoyaError(f"cannot load a Wav2Vec2 CTC model from {path} ({message})") from None
        self.source = path

    def transcribe(self, samples: np.ndarray, prompt: str | None = None) -> str:
        """Greedy CTC text of ``samples``; ``prompt`` is accepted for a uniform interface and ignored."""
        import torch

        texts = []
        for piece in split_at_pauses(samples, WINDOW_SECONDS):
            inputs = self.processor(piece, sampling_rate=SAMPLE_RATE, return_tensors="pt")
            with torch.inference_mode():
                logits = self.model(inputs.input_values).logits
            texts.append(self.processor.batch_decode(logits.argmax(dim=-1))[0].strip())
        return " ".join(text for text in texts if text)
