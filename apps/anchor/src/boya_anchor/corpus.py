"""The synthetic training and evaluation corpus: sentences spoken by several voices, with exact phones.

Voices are split: the model trains on many espeak-ng accents and variants,
festival's kal and flite's rms and awb, and is scored on voices it never heard
(:data:`EVAL_VOICES`; their espeak variants f3/f4 and the slt speaker are never
used for training). Sentences are split too. Flite gives no phone times, so its
speech is forced-aligned like real speech. Human speech comes from the training
part of Asterisk's prompts (:mod:`.asterisk`). Each item is 16 kHz audio with
per-10-ms labels (:func:`frame_labels`).
"""

import random
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from .audio import resample
from .features import RATE, log_mel
from .phones import OCULUS, SHAPES, VISEMES
from .score import allowed_matrix, phone_frames
from .visemes import shape_frames

TRAIN_VOICES = (
    "espeak:en-us",
    "espeak:en-us+m3",
    "espeak:en-gb-x-rp",
    "espeak:en+klatt",
    "espeak:en-us+f2",
    "espeak:en-us+m1",
    "espeak:en-us+m7",
    "espeak:en-gb-scotland+m2",
    "espeak:en-029+f1",
    "espeak:en-us-nyc+m5",
    "espeak:en-gb-x-gbclan+f5",
    "espeak:en+croak",
    "espeak:en-gb-x-gbcwmd+m4",
    "espeak:en-us+Annie",
    "festival:kal",
    "flite:rms",
    "flite:awb",
)
EVAL_VOICES = ("espeak:en-us+f3", "espeak:en-gb-x-rp+f4", "festival:ked", "festival:slt")
EVAL_SENTENCES = 40


@dataclass
class Utterance:
    samples: np.ndarray  # 16 kHz mono float32
    phones: list  # (start_s, end_s, ARPAbet)
    voice: str
    text: str


def sentences() -> tuple[list[str], list[str]]:
    """(training sentences, held-out sentences), a fixed split of the shipped text."""
    folder = files("boya_anchor").joinpath("data")
    lines = [
        line.strip()
        for name in ("chat.txt", "prose.txt")
        for line in folder.joinpath(name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    random.Random(1234).shuffle(lines)
    return lines[EVAL_SENTENCES:], lines[:EVAL_SENTENCES]


def synthesize_all(texts: list[str], voice: str, rng: random.Random) -> list[Utterance]:
    """Speak every text with ``voice`` at a random rate/pitch; festival voices in one process."""
    from .tts import festival_many, synthesize

    engine, _, name = voice.partition(":")
    if engine == "flite":
        return flite_all(texts, name, rng)
    if engine == "festival":
        speeches = festival_many(texts, name, [rng.uniform(0.85, 1.25) for _ in texts])
    else:
        speeches = [
            synthesize(t, voice, rate=rng.randint(140, 220), pitch=rng.randint(25, 75)) for t in texts
        ]
    return [
        Utterance(resample(s.samples, s.rate, RATE), s.phones, voice, t)
        for s, t in zip(speeches, texts, strict=True)
    ]


def flite_all(texts: list[str], voice: str, rng: random.Random) -> list[Utterance]:
    """Speak with a flite voice at a random speed; phones by forced alignment (flite prints no times). Failures are skipped."""
    import shutil
    import subprocess
    import tempfile

    from boya.errors import BoyaError

    from .align import align
    from .audio import load_audio

    if not shutil.which("flite"):
        raise BoyaError(f"training voice flite:{voice} needs flite: apt-get install -y flite")
    out = []
    with tempfile.TemporaryDirectory(prefix="boya-flite-") as tmp:
        wav = f"{tmp}/u.wav"
        for text in texts:
            subprocess.run(
                [
                    "flite",
                    "-voice",
                    voice,
                    "--setf",
                    f"duration_stretch={rng.uniform(0.85, 1.25):.2f}",
                    "-t",
                    text,
                    "-o",
                    wav,
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            samples = load_audio(wav, RATE)
            phones = align(samples, text)
            if phones:
                out.append(Utterance(samples, phones, f"flite:{voice}", text))
    return out


def realigned(utterance: Utterance) -> Utterance:
    """The utterance with its phones from forced alignment of its text, as real speech is labelled
    (the synthesizer's own times where alignment fails).

    The human scores count frames against PocketSphinx alignments, whose phone choices (dictionary
    pronunciations) and boundaries differ from a synthesizer's own: on held-out synthetic speech a
    perfect copy of the synthesizer's phones agrees with the alignment on only 0.77-0.89 of frames.
    """
    from .align import align

    phones = align(utterance.samples, utterance.text)
    return Utterance(utterance.samples, phones, utterance.voice, utterance.text) if phones else utterance


def human_training_items(rng: np.random.Generator, copies: int = 3) -> list[dict]:
    """Features and labels of the training part of Asterisk's prompts: one plain copy, the others degraded."""
    from .asterisk import aligned, training_prompts

    utterances = [
        Utterance(c["samples"], c["phones"], "human", c["name"]) for c in aligned(training_prompts())
    ]
    return [featurize(u, rng if k else None) for u in utterances for k in range(copies)]


def frame_labels(phones, n: int, factor: float = 1.0) -> dict[str, np.ndarray]:
    """Per-frame targets for ``n`` frames: allowed-shape mask (n, 9), preferred shape, viseme and voice activity."""
    scaled = [(a * factor, b * factor, p) for a, b, p in phones]
    truth = phone_frames(scaled, n)
    preferred = (shape_frames(scaled, anticipation=0.0) + ["X"] * n)[:n]
    viseme_index = {v: k for k, v in enumerate(VISEMES)}
    return {
        "allowed": allowed_matrix(truth),
        "shape": np.array([SHAPES.index(s) for s in preferred], np.int64),
        "viseme": np.array([viseme_index[OCULUS.get(p, "sil")] for p in truth], np.int64),
        "vad": np.array([p != "SIL" for p in truth], np.float32),
    }


def featurize(utterance: Utterance, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Log-mel features and labels of one utterance; with ``rng``, degraded by :func:`.augment.augment` and
    spoken by a perturbed vocal tract (:func:`.augment.speaker_warp`)."""
    samples, factor, warp = utterance.samples, 1.0, 1.0
    if rng is not None:
        from .augment import augment, speaker_warp

        samples, factor = augment(samples, rng)
        warp = speaker_warp(rng)
    mel = log_mel(samples, warp)
    return {"mel": mel, **frame_labels(utterance.phones, len(mel), factor)}
