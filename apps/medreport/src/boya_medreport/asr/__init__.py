"""Stage 2 of the pipeline: speech → text, through interchangeable ASR backends.

Backends come from the app's ``asr_backends(register)`` hook: ``register(name, load)``
where ``load(model=None)`` returns an object with ``transcribe(samples, prompt) -> str``
(16 kHz mono float32 in, plain text out). The built-in ``whisper``, ``ctc`` and
``sphinx`` (optional: PocketSphinx) backends are registered through the same hook by
:func:`register_builtin_backends`.
The ``whisper`` backend's ``load`` also takes ``beam_size``. Loaded backends are kept
(one per backend, model and beam size) so a warm app transcribes without reloading.
"""

import time
from functools import lru_cache

from boya.errors import BoyaError

from ..audio import MAX_SECONDS, load_audio

# Whisper's previous-text prompt: a dictation in the house style, dense with the terms
# tiny.en mishears without it. Measured on 6 dictations in three training voices (written
# WER): 79.6% without a prompt, 40.2% with this one; a bare term list (53.2%), an all-words
# lowercase dictation (50.2%) and this prompt without its last sentence (41.4%) did worse.
RADIOLOGY_PROMPT = (
    "Radiology dictation. Patient Maria Lopez, MRN 4 8 2 1 7 7 3, date of birth March 3, 1984, female. "
    "Exam: CT of the chest with contrast. Findings: a 12 by 9 millimeter pulmonary nodule in the right upper lobe, period. "
    "No pneumothorax, pleural effusion or cardiomegaly, comma, atelectasis, consolidation, lymphadenopathy, "
    "pulmonary embolism, intracranial hemorrhage, hydronephrosis, hepatic steatosis, diverticulitis, meniscal tear, "
    "rotator cuff tear, deep vein thrombosis. New paragraph. Impression:"
)


def register_builtin_backends(register) -> None:
    """Register ``whisper``, ``ctc`` and ``sphinx``; the app's plugin calls this from its ``asr_backends`` hook."""
    register("whisper", _load_whisper)
    register("ctc", _load_ctc)
    register("sphinx", _load_sphinx)


def _load_whisper(model=None, **options):
    from .whisper import WhisperTranscriber

    return WhisperTranscriber(model, **options)


def _load_ctc(model=None):
    from .ctc import CTCTranscriber

    return CTCTranscriber(model)


def _load_sphinx(model=None):
    from .sphinx import SphinxTranscriber

    return SphinxTranscriber(model)


def backends() -> dict:
    """``{name: load}`` for every ASR backend the installed plugins register."""
    from boya.plugins import collect

    return {name: load for _plugin, (name, load, *_rest) in collect("asr_backends")}


@lru_cache(maxsize=4)
def load_transcriber(backend: str = "whisper", model: str | None = None, beam_size: int | None = None):
    """The loaded backend, reused across calls (loading Whisper takes about a second).

    ``beam_size`` is Whisper's (None: its default, 4 beams where a word is uncertain; 1: greedy, less accurate)."""
    available = backends()
    if backend not in available:
        raise BoyaError(
            f"unknown ASR backend {backend!r}; available: {', '.join(sorted(available)) or 'none'}"
        )
    if beam_size is None:
        return available[backend](model=model)
    if backend != "whisper":
        raise BoyaError(f"a beam size is a whisper backend option; the {backend!r} backend has none")
    return available[backend](model=model, beam_size=beam_size)


def transcribe(
    audio,
    backend: str = "whisper",
    *,
    model: str | None = None,
    beam_size: int | None = None,
    prompt: str | None = RADIOLOGY_PROMPT,
    written: bool = True,
    sample_rate: int | None = None,
    max_seconds: float = MAX_SECONDS,
) -> dict:
    """Transcribe a recording: ``{"text", "backend", "seconds"}``.

    ``audio`` is anything :func:`boya_medreport.audio.load_audio` accepts. ``text`` is
    the written form (dictation commands applied, numbers and dates as digits, see
    :mod:`boya_medreport.normalize`) unless ``written=False``. ``seconds`` is the time
    spent decoding and recognising this recording, excluding the one-time model load.
    ``beam_size``: see :func:`load_transcriber`.
    """
    start = time.perf_counter()
    # bad audio fails before any model loads
    samples = load_audio(audio, sample_rate=sample_rate, max_seconds=max_seconds)
    decoding = time.perf_counter() - start
    transcriber = load_transcriber(backend, None if model is None else str(model), beam_size)
    start = time.perf_counter()
    text = transcriber.transcribe(samples, prompt)
    if written:
        from ..normalize import normalize

        text = normalize(text)
    return {"text": text, "backend": backend, "seconds": round(decoding + time.perf_counter() - start, 3)}
