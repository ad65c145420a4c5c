"""Text to speech with exact phone timings: espeak-ng (through libespeak-ng) and festival.

Script mode needs no recogniser: the synthesizer says which phone it is speaking
when. libespeak-ng has no maintained Python binding, so it is called through
ctypes with phoneme events; festival (where installed) is run as a subprocess and
its segment file read back. Both give ARPAbet phones (see :mod:`.phones`).
"""

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unicodedata
import wave
from dataclasses import dataclass

import numpy as np
from boya.errors import BoyaError

from .phones import espeak_to_arpabet, festival_to_arpabet

MAX_SCRIPT_CHARS = 20_000
FESTIVAL_VOICES = {"kal": "kal_diphone", "ked": "ked_diphone", "slt": "cmu_us_slt_arctic_hts"}
DEFAULT_VOICE = "espeak:en-us"

# Typographic punctuation people paste from word processors, spoken as its ASCII cousin.
_TYPOGRAPHIC = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": " - ",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


@dataclass
class Speech:
    """Synthesized audio (mono float32 in [-1, 1]) and its phones as (start_s, end_s, ARPAbet)."""

    samples: np.ndarray
    rate: int
    phones: list[tuple[float, float, str]]
    voice: str

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def clean_script(text: str) -> str:
    """The script as the synthesizers will read it, or a BoyaError naming what they cannot say.

    English voices read Latin letters, digits and punctuation; other scripts (CJK,
    emoji, control characters) would be spelled out as "chinese letter" or skipped,
    so they are refused instead of silently mis-spoken.
    """
    text = (
        unicodedata.normalize("NFC", text or "").translate(_TYPOGRAPHIC).replace("\r", " ").replace("\n", " ")
    )
    if not text.strip():
        raise BoyaError("the script is empty: type some English text to speak")
    if len(text) > MAX_SCRIPT_CHARS:
        raise BoyaError(
            f"the script has {len(text)} characters; split it into parts of at most {MAX_SCRIPT_CHARS}"
        )
    bad = sorted({ch for ch in text if not (ch.isascii() and (ch.isprintable())) and not _latin_letter(ch)})
    if bad:
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad[:8])
        raise BoyaError(
            f"unsupported characters in the script: {shown}; the English voices read Latin letters, digits and punctuation"
        )
    return re.sub(r"\s+", " ", text).strip()


def _latin_letter(ch: str) -> bool:
    return ch.isalpha() and "LATIN" in unicodedata.name(ch, "")


def available_voices() -> list[str]:
    """Voices usable on this machine, as ``engine:name``."""
    voices = [
        f"espeak:{name}"
        for name in ("en-us", "en-us+f3", "en-us+m3", "en-gb-x-rp", "en-gb-x-rp+f4", "en+klatt")
    ]
    if shutil.which("festival"):
        voices += [
            f"festival:{name}"
            for name, folder in FESTIVAL_VOICES.items()
            if _festival_voice_installed(folder)
        ]
    return voices


def _festival_voice_installed(folder: str) -> bool:
    return any(
        os.path.isdir(os.path.join("/usr/share/festival/voices", group, folder))
        for group in ("english", "us")
    )


def synthesize(
    text: str, voice: str = DEFAULT_VOICE, rate: int = 175, pitch: int = 50, stretch: float = 1.0
) -> Speech:
    """Speak ``text`` with ``voice`` (``espeak:<name>`` or ``festival:kal|ked|slt``).

    ``rate`` (words per minute) and ``pitch`` (0-100) apply to espeak-ng, ``stretch``
    (duration factor) to festival.
    """
    text = clean_script(text)
    engine, _, name = voice.partition(":")
    if engine == "espeak":
        return _ESPEAK.synthesize(text, name or "en-us", rate, pitch)
    if engine == "festival":
        return _festival(text, name, stretch)
    raise BoyaError(f"unknown voice {voice!r}; available: {', '.join(available_voices())}")


class _Event(ctypes.Structure):
    class _Id(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_EVENT_PHONEME, _EVENT_END = 7, 0
_SYNCHRONOUS, _PHONEME_EVENTS, _POS_CHARACTER, _CHARS_UTF8 = 2, 1, 1, 1
_RATE, _PITCH = 1, 3


class _Espeak:
    """The one libespeak-ng instance of this process.

    The library keeps global state: it must be initialised once (re-initialising
    after espeak_Terminate hangs) and is not re-entrant, hence the lock.
    """

    def __init__(self):
        self._lib = None
        self._lock = threading.Lock()
        self._callback = _CALLBACK(self._on_audio)  # kept alive for the library's sake
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []

    def _load(self):
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            raise BoyaError(
                "libespeak-ng is not installed: apt-get install -y espeak-ng libespeak-ng1"
            ) from None
        self.sample_rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, None, _PHONEME_EVENTS)
        if self.sample_rate <= 0:
            raise BoyaError("libespeak-ng failed to initialise (is espeak-ng-data installed?)")
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib

    def _on_audio(self, wav, count, events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        i = 0
        while events[i].type != _EVENT_END:
            if events[i].type == _EVENT_PHONEME:
                self._events.append((events[i].sample, events[i].id.string.decode("ascii", "replace")))
            i += 1
        return 0

    def synthesize(self, text: str, voice: str, rate: int, pitch: int) -> Speech:
        with self._lock:
            if self._lib is None:
                self._load()
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise BoyaError(f"espeak-ng has no voice {voice!r} (try en-us, en-us+f3, en-gb-x-rp)")
            self._lib.espeak_SetParameter(_RATE, int(rate), 0)
            self._lib.espeak_SetParameter(_PITCH, int(pitch), 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8")
            self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
            pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            events = self._events
        sr = self.sample_rate
        phones = []
        for (sample, mnemonic), following in zip(events, events[1:] + [(len(pcm), "_")], strict=True):
            start, end = sample / sr, max(sample, following[0]) / sr
            parts = espeak_to_arpabet(mnemonic)
            step = (end - start) / len(parts)
            phones += [(start + k * step, start + (k + 1) * step, p) for k, p in enumerate(parts)]
        return Speech(
            pcm.astype(np.float32) / 32768.0, sr, _merge_silence(phones, len(pcm) / sr), f"espeak:{voice}"
        )


_ESPEAK = _Espeak()


def _festival(text: str, name: str, stretch: float) -> Speech:
    return festival_many([text], name, stretch)[0]


def festival_many(texts: list[str], name: str, stretch: float | list[float] = 1.0) -> list[Speech]:
    """Speak several (already cleaned) texts in one festival process: its start-up costs about a second."""
    if not shutil.which("festival"):
        raise BoyaError("festival is not installed: apt-get install -y festival festvox-kallpc16k")
    folder = FESTIVAL_VOICES.get(name)
    if folder is None or not _festival_voice_installed(folder):
        raise BoyaError(f"festival voice {name!r} is not installed; installed: {available_voices()}")
    stretches = stretch if isinstance(stretch, list) else [stretch] * len(texts)
    with tempfile.TemporaryDirectory(prefix="boya-festival-") as tmp:
        lines = [f"(voice_{folder})"]
        for k, (text, factor) in enumerate(zip(texts, stretches, strict=True)):
            quoted = text.replace("\\", " ").replace('"', " ")
            lines += [
                f"(Parameter.set 'Duration_Stretch {float(factor):.3f})",
                f'(set! utt (utt.synth (Utterance Text "{quoted}")))',
                f'(utt.save.segs utt "{tmp}/{k}.segs")',
                f'(utt.save.wave utt "{tmp}/{k}.wav" \'riff)',
            ]
        run = subprocess.run(
            ["festival", "--pipe"],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            timeout=60 + 10 * len(texts),
        )
        out = []
        for k in range(len(texts)):
            wav = os.path.join(tmp, f"{k}.wav")
            if not os.path.exists(wav):
                raise BoyaError(f"festival failed: {run.stderr.strip()[-300:]}")
            with wave.open(wav) as w:
                sr = w.getframerate()
                pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
            phones, start = [], 0.0
            with open(os.path.join(tmp, f"{k}.segs")) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) == 3 and fields[0] != "#":
                        end = float(fields[0])
                        phones.append((start, end, festival_to_arpabet(fields[2])))
                        start = end
            out.append(
                Speech(
                    pcm.astype(np.float32) / 32768.0,
                    sr,
                    _merge_silence(phones, len(pcm) / sr),
                    f"festival:{name}",
                )
            )
    return out


def _merge_silence(phones, duration):
    """Drop empty phones, join neighbouring silences and pad with silence up to the end of the audio."""
    out = []
    for start, end, p in phones:
        if end - start <= 1e-6:
            continue
        if out and p == "SIL" and out[-1][2] == "SIL":
            out[-1] = (out[-1][0], end, "SIL")
        else:
            out.append((start, end, p))
    if out and out[0][0] > 1e-6:
        out.insert(0, (0.0, out[0][0], "SIL"))
    end = out[-1][1] if out else 0.0
    if duration - end > 1e-6:
        if out and out[-1][2] == "SIL":
            out[-1] = (out[-1][0], duration, "SIL")
        else:
            out.append((end, duration, "SIL"))
    return out
