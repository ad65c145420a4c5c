"""The synthetic training and evaluation corpus: sentences spoken by several voices, with exact phones.

Voices are split: the model trains on some espeak-ng variants and festival's kal,
and is scored on voices it never heard (:data:`EVAL_VOICES`). Sentences are split
too. Each item is 16 kHz audio with per-10-ms labels (:func:`frame_labels`).
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

TRAIN_VOICES = ("espeak:en-us", "espeak:en-us+m3", "espeak:en-gb-x-rp", "espeak:en+klatt", "espeak:en-us+f2",
                "festival:kal")
EVAL_VOICES = ("espeak:en-us+f3", "espeak:en-gb-x-rp+f4", "festival:ked", "festival:slt")
EVAL_SENTENCES = 40


@dataclass
class Utterance:
    samples: np.ndarray  # 16 kHz mono float32
    phones: list          # (start_s, end_s, ARPAbet)
    voice: str
    text: str


def sentences() -> tuple[list[str], list[str]]:
    """(training sentences, held-out sentences), a fixed split of the shipped text."""
    folder = files("boya_anchor").joinpath("data")
    lines = [line.strip() for name in ("chat.txt", "prose.txt")
             for line in folder.joinpath(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(1234).shuffle(lines)
    return lines[EVAL_SENTENCES:], lines[:EVAL_SENTENCES]


def synthesize_all(texts: list[str], voice: str, rng: random.Random) -> list[Utterance]:
    """Speak every text with ``voice`` at a random rate/pitch; festival voices in one process."""
    from .tts import festival_many, synthesize

    engine, _, name = voice.partition(":")
    if engine == "festival":
        speeches = festival_many(texts, name, [rng.uniform(0.85, 1.25) for _ in texts])
    else:
        speeches = [synthesize(t, voice, rate=rng.randint(140, 220), pitch=rng.randint(25, 75)) for t in texts]
    return [Utterance(resample(s.samples, s.rate, RATE), s.phones, voice, t) for s, t in zip(speeches, texts)]


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
    """Log-mel features and labels of one utterance, degraded by :func:`.augment.augment` when ``rng`` is given."""
    samples, factor = utterance.samples, 1.0
    if rng is not None:
        from .augment import augment

        samples, factor = augment(samples, rng)
    mel = log_mel(samples)
    return {"mel": mel, **frame_labels(utterance.phones, len(mel), factor)}
