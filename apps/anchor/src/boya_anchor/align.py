"""PocketSphinx for evaluation: forced phone alignment of real speech, and a Rhubarb-style phone recogniser.

Real recordings have no synthesizer to say when each phone happens, so phone times
come from forced alignment of the known transcript (PocketSphinx's state
alignment, ``pip install pocketsphinx``). The same library's all-phone decoder is
what Rhubarb Lip Sync's "phonetic" recogniser uses; followed by Rhubarb's shape
rules it gives the Rhubarb-style baseline our scores are compared with.
"""

import os
import re
from functools import lru_cache

import numpy as np
from boya.errors import BoyaError

DIGITS = "zero one two three four five six seven eight nine".split()
# Words of the real-speech transcripts (:mod:`.realspeech`) missing from PocketSphinx's dictionary.
EXTRA_WORDS = {
    "aligner": "AH L AY N ER",
    "moonwalker": "M UW N W AO K ER",
    "overwatch": "OW V ER W AA CH",
    "plat": "P L AE T",
    "yknow": "Y N OW",
}


def _pocketsphinx():
    try:
        import pocketsphinx
    except ImportError:
        raise BoyaError(
            "evaluation on real speech needs PocketSphinx: pip install 'boya-anchor[eval]'"
        ) from None
    return pocketsphinx


@lru_cache(maxsize=1)
def _aligner():
    decoder = _pocketsphinx().Decoder(lm=None, samprate=16000, loglevel="FATAL")
    for word, phones in EXTRA_WORDS.items():
        decoder.add_word(word, phones, False)
    return decoder


@lru_cache(maxsize=1)
def _phone_decoder():
    ps = _pocketsphinx()
    return ps.Decoder(
        allphone=os.path.join(ps.get_model_path(), "en-us", "en-us-phone.lm.bin"),
        lm=None,
        samprate=16000,
        loglevel="FATAL",
        beam=1e-20,
        pbeam=1e-20,
        lw=2.0,
    )


def transcript_words(text: str) -> str:
    text = re.sub(r"\d", lambda m: f" {DIGITS[int(m.group())]} ", text.lower())
    return " ".join(re.findall(r"[a-z]+(?:'[a-z]+)?", text))


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def align(samples: np.ndarray, text: str) -> list[tuple[float, float, str]] | None:
    """(start_s, end_s, ARPAbet) phones of 16 kHz ``samples`` saying ``text``; None when alignment fails.

    A ``text`` written as ``/B AA/`` is a phone sequence instead of words: syllables of other
    languages (:mod:`.realspeech`), aligned as one word with that pronunciation.
    """
    if text.startswith("/") and text.endswith("/"):
        phones = text.strip("/").split()
        word = "phones-" + "-".join(phones).lower()
        decoder = _aligner()
        try:
            if decoder.lookup_word(word) is None:
                decoder.add_word(word, " ".join(phones), False)
        except (RuntimeError, ValueError, KeyError):
            return None
        return _align_words(samples, word)
    return _align_words(samples, transcript_words(text))


def _align_words(samples: np.ndarray, words: str) -> list[tuple[float, float, str]] | None:
    decoder = _aligner()
    pcm = _pcm(samples)
    try:
        decoder.set_align_text(words)
        for second_pass in (False, True):
            if second_pass:
                decoder.set_alignment()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
        phones = [
            (p.start / 100, (p.start + p.duration) / 100, re.sub(r"\d", "", p.name))
            for w in decoder.get_alignment()
            for p in w
        ]
    except (RuntimeError, ValueError, KeyError):
        return None
    return _with_silence(phones, len(samples) / 16000) if phones else None


def recognise_phones(samples: np.ndarray) -> list[tuple[float, float, str]]:
    """Phones heard in 16 kHz ``samples`` without a transcript (PocketSphinx all-phone, as Rhubarb's phonetic mode)."""
    decoder = _phone_decoder()
    decoder.start_utt()
    decoder.process_raw(_pcm(samples), full_utt=True)
    decoder.end_utt()
    phones = [(s.start_frame / 100, (s.end_frame + 1) / 100, s.word) for s in decoder.seg()]
    return _with_silence(
        [(a, b, "SIL" if p in ("SIL", "+SPN+", "+NSN+") or p.startswith("+") else p) for a, b, p in phones],
        len(samples) / 16000,
    )


def _with_silence(phones, duration):
    out, t = [], 0.0
    for start, end, phone in phones:
        if start > t + 1e-6:
            out.append((t, start, "SIL"))
        out.append((max(start, t), end, phone))
        t = end
    if duration > t + 1e-6:
        out.append((t, duration, "SIL"))
    return out
