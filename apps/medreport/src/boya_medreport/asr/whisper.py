"""The ``whisper`` ASR backend: a Whisper checkpoint on the CPU, through our own torch model.

The model is the embedded tiny.en (see ``embedded.py``) unless the user names a local
Whisper directory (transformers format: ``config.json``, ``model.safetensors``,
``tokenizer.json``, ``generation_config.json``) or a Hugging Face id already in their
local cache: model hubs are unreachable here and a silent download must never happen.
Inference runs on :mod:`.whisper_model` (the network), :mod:`.log_mel` (the front end),
:mod:`.whisper_decode` (greedy decoding, speculative with the n-gram drafts of
:mod:`.whisper_draft`: same tokens, fewer decoder passes, and short beam searches of
:mod:`.whisper_beam` where the next word is uncertain) and the ``tokenizers`` library, so
transcribing never imports transformers (a 9 s import, more than the whole warm pipeline).

The embedded model is adapted to dictation by the LoRA adapter the ``medreport-asr``
recipe trained (``boya_medreport/data/asr-adapter``, a few MB), merged into the decoder's
weights at load so decoding costs nothing extra; ``adapter=False`` gives the base model.

Radiology vocabulary goes in as Whisper's *previous-text prompt*: the decoder then
prefers "pneumothorax" over "new mothers ox". Recordings longer than Whisper's 30 s
window are cut at pauses (shortened first where that saves a window: :mod:`.windows`) and
decoded piece by piece; a silent piece (the trailing pause of a 30.1 s recording) is
skipped: tiny.en "hears" a loop of invented words in 0.1 s of silence (WER 523% on one
held-out dictation, identical under transformers).
"""

import json
import os
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

from ..audio import SILENCE_PEAK
from .windows import whisper_windows

SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "data" / "asr-adapter"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
WINDOW_SECONDS = 30.0
MAX_TARGET_TOKENS = 448  # Whisper's decoder context
BEAM_SIZE = 4  # beams where a word is uncertain: see whisper_decode.py
ENCODER_PRECISIONS = ("auto", "bf16", "fp32")


class WhisperTranscriber:
    """Transcribe 16 kHz mono float32 audio with a Whisper checkpoint: greedily, with beams where a word is uncertain."""

    name = "whisper"

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        adapter: str | os.PathLike | bool | None = None,
        beam_size: int = BEAM_SIZE,
        speculative: bool = True,
        encoder_precision: str = "auto",
    ):
        """``adapter``: None uses the shipped adapter for the embedded model (none for a user's model),
        False none, or a directory holding ``adapter_model.safetensors`` + ``adapter_config.json``.
        ``beam_size`` beams open where the next word is uncertain (1: never); decoding is speculative
        unless ``speculative=False`` (one greedy token per decoder pass: the same tokens, slower).
        ``encoder_precision`` "bf16" runs the encoder's products in bf16, "fp32" in fp32, "auto" (the
        default) in bf16 where the CPU has bf16 instructions: 0.57x the encoder's time, the bench's audio
        F1 unchanged, real-speech WER +0.4 points (the README's "Load time and speed")."""
        if beam_size < 1:
            raise BoyaError(f"beam_size must be 1 (greedy) or more, got {beam_size}")
        if encoder_precision not in ENCODER_PRECISIONS:
            raise BoyaError(
                f"encoder_precision must be one of {', '.join(ENCODER_PRECISIONS)}, got {encoder_precision!r}"
            )
        import torch
        from tokenizers import Tokenizer

        from .whisper_decode import GreedyDecoder, tokenizer_word_classes
        from .whisper_draft import dictation_drafter
        from .whisper_model import load_whisper, native_bf16

        self.source = _resolve(model)
        self.model = load_whisper(self.source)
        tokenizer_file = self.source / "tokenizer.json"
        try:
            self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as e:  # noqa: BLE001 - tokenizers raises plain Exceptions for missing/bad files
            raise BoyaError(
                f"cannot load Whisper model {str(self.source)!r}: no usable tokenizer.json ({_first_line(e)})"
            ) from None
        self.generation = _generation_settings(self.source, self.tokenizer)
        if adapter is None:
            adapter = (
                SHIPPED_ADAPTER if model is None and (SHIPPED_ADAPTER / ADAPTER_WEIGHTS).is_file() else False
            )
        self.adapter = Path(adapter) if adapter else None
        if self.adapter:
            merge_lora(self.model, self.adapter)
        self.model.halve_decoder()  # after the merge, which changes the fp32 weights
        if encoder_precision == "auto":
            encoder_precision = "bf16" if native_bf16() else "fp32"
        self.encoder_precision = encoder_precision
        self.model.encoder_dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[encoder_precision]
        # after the merge: the decoders quantize the final weights
        self.beam_size = beam_size
        size = self.model.config["vocab_size"]
        self.decoder = GreedyDecoder(
            self.model,
            drafter=dictation_drafter(self.tokenizer, tokenizer_file) if speculative else None,
            beam_size=beam_size,
            word_classes=tokenizer_word_classes(self.tokenizer, tokenizer_file, size)
            if beam_size > 1
            else None,
        )

    def previous_text_ids(self, prompt: str | None) -> list[int]:
        """``<|startofprev|>`` + the tokens of `` prompt`` (with the leading space, as transformers' get_prompt_ids)."""
        if not prompt or not prompt.strip():
            return []
        ids = self.tokenizer.encode(" " + prompt.strip(), add_special_tokens=False).ids
        return [self.generation["prev_sot"], *ids]

    def transcribe(self, samples: np.ndarray, prompt: str | None = None) -> str:
        """Text of ``samples``; ``prompt`` is domain text the decoder is conditioned on (not transcribed)."""
        from .log_mel import log_mel

        previous = self.previous_text_ids(prompt)
        budget = MAX_TARGET_TOKENS - 4 - len(previous)  # 4: the start tokens of a multilingual model
        if budget < 32:
            raise BoyaError(
                f"the ASR prompt is too long ({len(previous)} tokens); keep it under {MAX_TARGET_TOKENS // 2} tokens"
            )
        ids = previous + self.generation["start"]
        # a silent tail cut off a long recording is skipped: Whisper would hallucinate words into it
        pieces = [
            p for p in whisper_windows(samples, WINDOW_SECONDS) if float(np.abs(p).max()) >= SILENCE_PEAK
        ]

        def window_text(piece):
            features = log_mel(piece, self.model.config["num_mel_bins"])
            tokens = self.decoder.generate(
                features,
                ids,
                eos=self.generation["eos"],
                max_new_tokens=min(budget, 224),
                suppress=self.generation["suppress"],
                begin_suppress=self.generation["begin_suppress"],
            )
            return self.tokenizer.decode(tokens, skip_special_tokens=True).strip()

        texts = side_by_side(window_text, pieces)
        return " ".join(text for text in texts if text)


def side_by_side(fn, items: list) -> list:
    """``[fn(item) for item in items]``, one item per CPU thread torch may use when there are several.

    Every window is decoded after the same prompt, never after the previous window's text, so
    windows are independent. A decoder pass is a chain of small, memory-bound products that
    gain little from a second thread (1.6 s of CPU per 30 s on one thread, ~1.2 s of wall on
    two), while two windows decoded at once, one thread each, take about what one does. A
    single window keeps every thread for its own products (the encoder's scale well).
    ``torch.set_num_threads`` is process-wide: it is set to 1 for the duration and restored.
    """
    import torch

    threads = torch.get_num_threads()
    if len(items) < 2 or threads < 2:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(min(threads, len(items))) as pool:
            return list(pool.map(fn, items))
    finally:
        torch.set_num_threads(threads)


def merge_lora(model, adapter_dir: Path) -> int:
    """Add a LoRA adapter saved by ``peft`` (``medreport-asr``) into ``model``'s weights: W += (alpha / r) B A.

    Merging by hand keeps peft (and its imports) out of the app's load path. Returns the
    number of merged layers; an adapter that names layers the model lacks is refused.
    """
    import torch
    from safetensors.torch import load_file

    weights_file, config_file = adapter_dir / ADAPTER_WEIGHTS, adapter_dir / "adapter_config.json"
    if not weights_file.is_file() or not config_file.is_file():
        raise BoyaError(
            f"{adapter_dir} is not a LoRA adapter ({ADAPTER_WEIGHTS} and adapter_config.json needed)"
        )
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


def _resolve(model) -> Path:
    """The embedded model's directory, a user's local directory, or a hub id's snapshot in the local cache."""
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
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(str(model), local_files_only=True))
    except Exception as e:  # noqa: BLE001 - an invalid id, or one not cached: both are "not here"
        raise BoyaError(
            f"cannot load Whisper model {str(model)!r}: it is not a Whisper directory and not in the local "
            f"Hugging Face cache (model hubs are unreachable offline); omit the model to use the embedded tiny.en ({_first_line(e)})"
        ) from None


def _generation_settings(directory: Path, tokenizer) -> dict:
    """Token ids and suppression lists from ``generation_config.json``, as transformers' generate reads them.

    A checkpoint without that file (older exports) falls back to ``config.json``'s lists and the
    tokenizer's special tokens. Multilingual checkpoints are told English transcription, which
    they would otherwise guess per window.
    """
    settings = {}
    for name in ("config.json", "generation_config.json"):  # the second wins, as in transformers
        path = directory / name
        if path.is_file():
            settings.update({k: v for k, v in json.loads(path.read_text()).items() if v is not None})

    def token(key, text):
        found = settings.get(key, tokenizer.token_to_id(text))
        if found is None:
            raise BoyaError(f"cannot load Whisper model {str(directory)!r}: its tokenizer has no {text}")
        return found

    start = [token("decoder_start_token_id", "<|startoftranscript|>")]
    if settings.get("is_multilingual"):
        start += [settings["lang_to_id"]["<|en|>"], settings["task_to_id"]["transcribe"]]
    start.append(token("no_timestamps_token_id", "<|notimestamps|>"))
    return {
        "start": start,
        "prev_sot": token("prev_sot_token_id", "<|startofprev|>"),
        "eos": token("eos_token_id", "<|endoftext|>"),
        "suppress": settings.get("suppress_tokens", []),
        "begin_suppress": settings.get("begin_suppress_tokens", []),
    }


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
