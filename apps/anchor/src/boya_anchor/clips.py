"""A clip: audio plus its mouth shapes per 10 ms, from a typed script or an audio file.

Script clips take their shapes from the synthesizer's phones (:mod:`.visemes`);
audio clips from the causal viseme model run over the file (:mod:`.live`). Either
can be played on the stage, printed as Rhubarb cues or rendered to video.
"""

from dataclasses import dataclass, field

import numpy as np

from .audio import RATE, resample
from .prosody import prosody_track
from .visemes import FPS, frames_to_cues, shape_frames, viseme_weights


@dataclass
class Clip:
    samples: np.ndarray  # mono float32 at ``rate``
    rate: int
    shapes: list[str]  # one Rhubarb shape per 10 ms
    source: str  # "script:<voice>" or "audio:<file>"
    phones: list = field(default_factory=list)
    weights: np.ndarray | None = None  # (frames, 15) viseme weights, script clips only

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    @property
    def cues(self) -> list[dict]:
        return frames_to_cues(self.shapes)

    def prosody(self) -> np.ndarray:
        """(frames, 2) energy and pitch aligned with :attr:`shapes`."""
        track = prosody_track(resample(self.samples, self.rate, RATE), RATE)
        out = np.zeros((len(self.shapes), 2), np.float32)
        out[: min(len(track), len(out))] = track[: len(out)]
        return out


def script_clip(text: str, voice: str, rate: int = 175) -> Clip:
    from .tts import synthesize

    speech = synthesize(text, voice, rate=rate)
    shapes = shape_frames(speech.phones)
    n = int(np.ceil(speech.duration * FPS))
    shapes = (shapes + ["X"] * n)[:n]
    return Clip(
        speech.samples,
        speech.rate,
        shapes,
        f"script:{speech.voice}",
        speech.phones,
        viseme_weights(speech.phones),
    )


def audio_clip(path: str) -> Clip:
    from .audio import load_audio
    from .live import shapes_for_audio

    samples = load_audio(path, RATE)
    return Clip(samples, RATE, shapes_for_audio(samples), f"audio:{path}")
