"""Word error rate of ASR on synthetic dictations, per voice.

WER is counted by jiwer (minimum edit distance over words, pooled over all
dictations of a voice). Before counting, both sides are reduced to lower-case words:
punctuation is dropped but "12.5", "C5-C6" and "3/4" stay single words. With
``written=True`` both the script and the recogniser's text first go through
:func:`boya_medreport.normalize.normalize`, so "twelve point five" and "12.5" match
and dictation commands count as the punctuation they produce (which is then dropped).
"""

import re
import time

from ..normalize import normalize
from .speech import HELD_OUT_VOICES, synthesize

_WORD = re.compile(r"[a-z0-9]+(?:[.'/-][a-z0-9]+)*")


def score_words(text: str, written: bool = True) -> str:
    """The words WER compares, space-separated."""
    return " ".join(_WORD.findall((normalize(text) if written else text).lower()))


def word_error_rate(references: list[str], hypotheses: list[str], written: bool = True) -> float:
    """Pooled WER: (substitutions + deletions + insertions) / reference words."""
    import jiwer

    refs = [score_words(r, written) for r in references]
    hyps = [score_words(h, written) for h in hypotheses]
    pairs = [(r, h) for r, h in zip(refs, hyps, strict=True) if r]
    if not pairs:
        raise ValueError("no reference words to score")
    result = jiwer.process_words([r for r, _ in pairs], [h for _, h in pairs])
    return (result.substitutions + result.deletions + result.insertions) / sum(
        len(r.split()) for r, _ in pairs
    )


def wer_by_voice(
    scripts: list[str], voices=HELD_OUT_VOICES, backend: str = "whisper", model=None, **options
) -> dict:
    """Speak each script in each voice, transcribe it and score it.

    Returns ``{"wer": {voice: WER}, "audio_seconds", "asr_seconds"}``; ``options`` go to
    :func:`boya_medreport.asr.transcribe` (e.g. ``prompt=None``); ``written`` (default
    True) also selects how the words are compared.
    """
    from . import transcribe

    written = options.pop("written", True)
    wer, audio_seconds, asr_seconds = {}, 0.0, 0.0
    for voice in voices:
        hypotheses = []
        for script in scripts:
            samples = synthesize(script, voice)
            audio_seconds += samples.size / 16_000
            start = time.perf_counter()
            hypotheses.append(
                transcribe(samples, backend, model=model, sample_rate=16_000, written=False, **options)[
                    "text"
                ]
            )
            asr_seconds += time.perf_counter() - start
        wer[voice] = round(word_error_rate(scripts, hypotheses, written), 4)
    return {"wer": wer, "audio_seconds": round(audio_seconds, 1), "asr_seconds": round(asr_seconds, 2)}
