"""The ``sphinx`` ASR backend: CMU PocketSphinx with a language model of the app's own dictations.

A second engine, small and fast, for closed, template-shaped dictation: PocketSphinx's
bundled US English acoustic model decodes against a trigram model counted over dictations of
the generator's training phrasings (spoken form: "comma", "period", numbers as words), so
it only ever writes words those dictations use. That is its strength on house-style
dictation and its limit everywhere else: a word outside them (a new patient name, a term
the generator never says) cannot come out, and free speech comes out worse than with
Whisper. It is optional: ``pip install 'boya-medreport[sphinx]'``.

Words the CMU dictionary lacks (most radiology terms, many names) get pronunciations from
espeak-ng's phonemes (IPA, mapped to the model's ARPAbet phones). The language model and
dictionary are built once and cached by content. PocketSphinx writes lower case; each
word gets back the casing the dictations give it ("maria lopez" -> "Maria Lopez").
The previous-text prompt Whisper takes is ignored: the language model plays that part.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

from ..audio import SILENCE_PEAK

LM_DICTATIONS = 3000  # generated dictations counted into the language model
# IPA (espeak-ng, US English) -> ARPAbet, longest symbols first; stress and length marks are dropped
_IPA = {
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY", "əʊ": "OW", "tʃ": "CH", "dʒ": "JH",
    "ɑːɹ": "AA R", "ɔːɹ": "AO R", "oːɹ": "AO R", "ɛɹ": "EH R", "ɪɹ": "IH R", "ʊɹ": "UH R", "ɜːɹ": "ER", "ɚ": "ER",
    "ɜː": "ER", "ɜ": "ER", "iː": "IY", "i": "IY", "ɪ": "IH", "ᵻ": "IH", "ɛ": "EH", "e": "EH", "æ": "AE", "a": "AE",
    "ɑː": "AA", "ɑ": "AA", "ɒ": "AA", "ɔː": "AO", "ɔ": "AO", "oː": "AO", "o": "OW", "uː": "UW", "u": "UW",
    "ʊ": "UH", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G",
    "f": "F", "v": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M",
    "n": "N", "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "w": "W", "j": "Y", "ɾ": "D", "ʔ": "T", "x": "K", "ç": "HH",
}  # fmt: skip
_IPA_SYMBOLS = sorted(_IPA, key=len, reverse=True)
_DROPPED = str.maketrans("", "", "ˈˌ\u200d\u0329 ")  # stress, zero-width joiner, syllabic mark, spaces
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")


def arpabet(ipa: str) -> str:
    """ARPAbet phones of one word's espeak-ng IPA ("nˈuːməθˌoːɹæks" -> "N UW M AH TH AO R AE K S")."""
    text, phones = ipa.translate(_DROPPED), []
    while text:
        symbol = next((s for s in _IPA_SYMBOLS if text.startswith(s)), None)
        if symbol is None:  # a symbol with no English phone (rare in en-us output): skipped
            text = text[1:]
            continue
        phones.append(_IPA[symbol])
        text = text[len(symbol) :]
    return " ".join(phones)


def espeak_pronunciations(words: list[str]) -> dict[str, str]:
    """``{word: ARPAbet phones}`` from espeak-ng (one call for all words, one per line)."""
    if not words:
        return {}
    try:
        out = subprocess.run(
            ["espeak-ng", "-q", "--ipa=3", "-v", "en-us"],
            input="\n".join(words),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError) as e:
        raise BoyaError(f"the sphinx backend needs espeak-ng for pronunciations of new words ({e})") from None
    if len(out) != len(words):
        raise BoyaError(f"espeak-ng returned {len(out)} pronunciations for {len(words)} words")
    return {word: phones for word, line in zip(words, out, strict=True) if (phones := arpabet(line))}


def dictation_texts(count: int = LM_DICTATIONS, seed: int = 0) -> list[str]:
    """Spoken-form dictations of the generator's training phrasings: what the language model counts."""
    import random

    from ..dictations import dictation

    rng = random.Random(seed)
    return [dictation(rng, "train", spoken=True)["dictation"] for _ in range(count)]


def build_model(texts: list[str], directory: Path) -> Path:
    """``domain.lm`` (ARPA trigrams), ``domain.dict`` and ``casing.json`` for ``texts``, in a folder of
    ``directory`` named by their hash (and the phone map's): built unless it exists (renamed into
    place once complete)."""
    sentences = [" ".join(_WORD.findall(text)).lower() for text in texts]
    # the phone map is in the key too: a changed mapping must not reuse old pronunciations
    key = hashlib.sha256((repr(sorted(_IPA.items())) + "\n".join(sentences)).encode()).hexdigest()[:16]
    target = directory / key
    if target.is_dir():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=directory))
    try:
        _write_model(texts, sentences, building)
        try:
            building.rename(target)  # whole or not at all: another process may be building the same model
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)  # left only when the build failed or lost the race
    return target


def _write_model(texts: list[str], sentences: list[str], building: Path) -> None:
    from pocketsphinx import get_model_path
    from pocketsphinx.lm import ArpaBoLM

    lm = ArpaBoLM(text="\n".join(sentences), add_start=True)
    lm.compute()
    lm.write_file(str(building / "domain.lm"))
    words = sorted({w for s in sentences for w in s.split()})
    wanted, known = set(words), {}
    with open(Path(get_model_path()) / "en-us" / "cmudict-en-us.dict", encoding="utf-8") as f:
        for line in f:
            word, _, phones = line.strip().partition(" ")
            if word in wanted and word not in known:  # the first (main) pronunciation
                known[word] = phones
    known |= espeak_pronunciations([w for w in words if w not in known])
    dictionary = "".join(f"{w} {known[w]}\n" for w in words if w in known)
    (building / "domain.dict").write_text(dictionary, encoding="utf-8")
    spellings = Counter(word for text in texts for word in _WORD.findall(text))  # the words the model counts
    casing = {}
    for cased, _count in spellings.most_common():  # each word's most frequent spelling
        casing.setdefault(cased.lower(), cased)
    (building / "casing.json").write_text(
        json.dumps({w: c for w, c in casing.items() if c != w}), encoding="utf-8"
    )


class SphinxTranscriber:
    """Transcribe 16 kHz mono float32 audio with PocketSphinx and the dictation language model."""

    name = "sphinx"

    def __init__(self, model: str | os.PathLike | None = None):
        """``model``: a PocketSphinx acoustic model directory; None uses the one pocketsphinx ships."""
        try:
            from pocketsphinx import Decoder, get_model_path
        except ImportError:
            raise BoyaError(
                "the sphinx backend needs pocketsphinx: pip install 'boya-medreport[sphinx]'"
            ) from None
        from .embedded import cache_root

        acoustic = Path(model).expanduser() if model else Path(get_model_path()) / "en-us" / "en-us"
        if not (acoustic / "mdef").is_file():
            raise BoyaError(f"{acoustic} is not a PocketSphinx acoustic model directory (no mdef file)")
        built = build_model(dictation_texts(), cache_root() / "sphinx")
        self.casing = json.loads((built / "casing.json").read_text(encoding="utf-8"))
        self.decoder = Decoder(
            hmm=str(acoustic),
            lm=str(built / "domain.lm"),
            dict=str(built / "domain.dict"),
            samprate=16000,
            loglevel="FATAL",
        )
        self._lock = threading.Lock()  # one decoder, one utterance at a time: the app shares loaded backends

    def transcribe(self, samples: np.ndarray, prompt: str | None = None) -> str:
        """Text of ``samples``, in the dictations' casing; ``prompt`` is ignored (see the module docstring).

        Silence gives no text: the language model would otherwise make words of it, as Whisper does."""
        if not samples.size or float(np.abs(samples).max()) < SILENCE_PEAK:
            return ""
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        with self._lock:
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            hypothesis = self.decoder.hyp()
        words = hypothesis.hypstr.split() if hypothesis else []
        return " ".join(self.casing.get(word, word) for word in words)
