"""The ``whisper`` ASR backend: transformers' ``WhisperForConditionalGeneration`` on the CPU.

The model is the embedded tiny.en (see ``embedded.py``) unless the user names a
local Whisper directory or a Hugging Face id already in their local cache; all three
load through the same ``from_pretrained(..., local_files_only=True)`` call, because
model hubs are unreachable here and a silent download must never happen.

The embedded model is adapted to dictation by the LoRA adapter the ``medreport-asr``
recipe trained (``boya_medreport/data/asr-adapter``, a few MB), merged into the decoder's
weights at load so decoding costs nothing extra; ``adapter=False`` gives the base model.

Radiology vocabulary goes in as Whisper's *previous-text prompt* (``prompt_ids``):
the decoder then prefers "pneumothorax" over "new mothers ox". Recordings longer
than Whisper's 30 s window are cut at their quietest point and decoded piece by piece.
"""

import os
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

from ..audio import SAMPLE_RATE, split_at_pauses

SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "data" / "asr-adapter"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
WINDOW_SECONDS = 30.0
MAX_TARGET_TOKENS = 448  # Whisper's decoder context


class WhisperTranscriber:
    """Transcribe 16 kHz mono float32 audio with a Whisper checkpoint, decoding greedily."""

    name = "whisper"

    def __init__(self, model: str | os.PathLike | None = None, *, adapter: str | os.PathLike | bool | None = None):
        """``adapter``: None uses the shipped adapter for the embedded model (none for a user's model),
        False none, or a directory holding ``adapter_model.safetensors`` + ``adapter_config.json``."""
        from transformers import WhisperForConditionalGeneration, WhisperProcessor
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        self.source = _resolve(model)
        try:
            self.processor = WhisperProcessor.from_pretrained(self.source, local_files_only=True)
            self.model = WhisperForConditionalGeneration.from_pretrained(
                self.source, local_files_only=True
            ).eval()
        except (OSError, ValueError) as e:
            raise BoyaError(
                f"cannot load Whisper model {str(self.source)!r}: it is not a Whisper directory and not in the local "
                f"Hugging Face cache (model hubs are unreachable offline); omit the model to use the embedded tiny.en ({_first_line(e)})"
            ) from None
        if adapter is None:
            adapter = SHIPPED_ADAPTER if model is None and (SHIPPED_ADAPTER / ADAPTER_WEIGHTS).is_file() else False
        self.adapter = Path(adapter) if adapter else None
        if self.adapter:
            merge_lora(self.model, self.adapter)

    def transcribe(self, samples: np.ndarray, prompt: str | None = None) -> str:
        """Text of ``samples``; ``prompt`` is domain text the decoder is conditioned on (not transcribed)."""
        import torch

        prompt_ids = (
            self.processor.get_prompt_ids(prompt.strip(), return_tensors="pt")
            if prompt and prompt.strip()
            else None
        )
        budget = MAX_TARGET_TOKENS - 4 - (0 if prompt_ids is None else len(prompt_ids))
        if budget < 32:
            raise BoyaError(
                f"the ASR prompt is too long ({len(prompt_ids)} tokens); keep it under {MAX_TARGET_TOKENS // 2} tokens"
            )
        # a multilingual checkpoint would otherwise guess the language of each piece
        language = (
            {"language": "en", "task": "transcribe"}
            if getattr(self.model.generation_config, "is_multilingual", False)
            else {}
        )
        texts = []
        for piece in split_at_pauses(samples, WINDOW_SECONDS):
            features = self.processor(piece, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
            with torch.inference_mode():
                ids = self.model.generate(
                    features, prompt_ids=prompt_ids, max_new_tokens=min(budget, 224), **language
                )
            texts.append(self.processor.batch_decode(ids, skip_special_tokens=True)[0].strip())
        return " ".join(text for text in texts if text)


def merge_lora(model, adapter_dir: Path) -> int:
    """Add a LoRA adapter saved by ``peft`` (``medreport-asr``) into ``model``'s weights: W += (alpha / r) B A.

    Merging by hand keeps peft (and its imports) out of the app's load path. Returns the
    number of merged layers; an adapter that names layers the model lacks is refused.
    """
    import json

    import torch
    from safetensors.torch import load_file

    weights_file, config_file = adapter_dir / ADAPTER_WEIGHTS, adapter_dir / "adapter_config.json"
    if not weights_file.is_file() or not config_file.is_file():
        raise BoyaError(f"{adapter_dir} is not a LoRA adapter ({ADAPTER_WEIGHTS} and adapter_config.json needed)")
    config = json.loads(config_file.read_text())
    scale = config["lora_alpha"] / config["r"]
    tensors = load_file(str(weights_file))
    modules = dict(model.named_modules())
    merged = 0
    for key, lora_a in tensors.items():
        if ".lora_A." not in key:
            continue
        name = key.split(".lora_A.")[0].removeprefix("base_model.model.")
        lora_b = tensors[key.replace(".lora_A.", ".lora_B.")]
        if name not in modules or modules[name].weight.shape != (lora_b.shape[0], lora_a.shape[1]):
            raise BoyaError(f"the ASR adapter {adapter_dir} does not fit this Whisper model (layer {name})")
        with torch.no_grad():
            modules[name].weight += scale * (lora_b.float() @ lora_a.float())
        merged += 1
    return merged


def _resolve(model) -> Path | str:
    """The embedded model's directory, a user's local directory, or a hub id to look up in the local cache."""
    if model is None:
        from .embedded import embedded_model_dir

        return embedded_model_dir()
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise BoyaError(
            f"{path} is a file; a Whisper model is a directory (config.json, model.safetensors, tokenizer files)"
        )
    return str(model)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
