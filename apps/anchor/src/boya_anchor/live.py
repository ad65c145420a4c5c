"""Live mode: streaming audio → the causal viseme model → one steady mouth shape per 10 ms.

The raw model output flickers, so the engine adds what animators add: a voice
activity gate (model VAD and signal level), hysteresis between shapes and a
minimum hold of 20 ms. Each 10 ms frame goes through :class:`.model.FrameStepper`
(NumPy, one thread, no torch dispatch per chunk). The same engine labels whole
files (``boya anchor visemes``), so offline and live results agree.

The model names the shape of frame t only after hearing its look-ahead, too late
for a live mouth to *start* moving with the voice. So the engine also keeps an
``opening``: how open the loudness of the newest 10 ms of audio says the mouth is,
at zero look-ahead and updated on every push, not only on hop boundaries (as live
avatar tools drive their mouths from the microphone level). The animator opens
the mouth that far at once and lets the model's shape decide the rest a few hops
later; the model's VAD still closes a mouth that a noise opened, as soon as it
has heard enough of it.
"""

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

import numpy as np
from boya.errors import BoyaError

from .audio import resample
from .features import HOP, RATE, StreamingLogMel
from .phones import SHAPES
from .prosody import Prosody

HOLD_FRAMES = 2
SWITCH_MARGIN = 0.1
SILENCE_DBFS = -55.0
OPEN_DBFS = (-45.0, -20.0)  # hop level at which the mouth starts to part, and at which it is fully open


class LiveFrame(NamedTuple):
    """One 10 ms step: the shape of frame t - lookahead, and the energy and pitch of frame t."""

    shape: str
    energy: float
    pitch: float


def level_opening(level_dbfs: float) -> float:
    """How open (0..1) a hop this loud makes the mouth before the model has named its shape."""
    low, high = OPEN_DBFS
    return float(np.clip((level_dbfs - low) / (high - low), 0.0, 1.0))


def weights_path() -> Path:
    return Path(str(files("boya_anchor").joinpath("weights/visemes.safetensors")))


@lru_cache(maxsize=4)
def load_model(path: str | None = None):
    """The viseme model from ``path`` (default: the one shipped in the package), in eval mode."""
    import torch
    from safetensors.torch import load_model as load_safetensors

    from .model import CausalVisemeNet

    path = Path(path) if path else weights_path()
    if not path.is_file():
        raise BoyaError(f"no trained viseme model at {path}; run `boya anchor train --install` first")
    card = path.with_suffix(".json")
    settings = json.loads(card.read_text()) if card.is_file() else {}
    torch.set_num_threads(1)
    model = CausalVisemeNet(
        lookahead=settings.get("lookahead_frames", 2), cmn_prior=settings.get("cmn_prior_frames", 0)
    )
    try:
        load_safetensors(model, str(path))
    except (RuntimeError, OSError, ValueError) as error:
        raise BoyaError(f"cannot load viseme model {path}: {error}") from None
    return model.eval()


class LiveEngine:
    """Feed audio as it arrives; get a :class:`LiveFrame` for every completed 10 ms frame.

    The shape emitted after frame t describes frame t - lookahead (the model card's ``lookahead_frames``).
    After each push, ``last`` is the newest frame and ``opening`` the zero look-ahead opening of the
    newest 10 ms received, whole hop or not.
    """

    def __init__(self, rate: int = RATE, model_path: str | None = None):
        if not 8000 <= rate <= 192_000:
            raise BoyaError(f"unsupported microphone sample rate {rate} Hz (use 8000-192000)")
        self.rate = rate
        from .model import FrameStepper

        self.model = load_model(model_path)
        self.stepper = FrameStepper(self.model)
        self.features = StreamingLogMel()
        self.prosody = Prosody(RATE)
        self.shape = "X"
        self.held = HOLD_FRAMES
        self.loud_run = 0  # consecutive hops loud enough to part the lips, up to the current one
        self.last = LiveFrame("X", 0.0, 0.0)
        self.opening = 0.0
        self._pending = np.zeros(0, np.float32)
        self._recent = np.zeros(HOP, np.float32)  # the newest 10 ms received

    @property
    def lookahead(self) -> int:
        return self.model.lookahead

    def push_pcm16(self, data: bytes) -> list[LiveFrame]:
        if len(data) % 2:
            raise BoyaError("microphone frames must be 16-bit little-endian PCM (an even number of bytes)")
        return self.push(np.frombuffer(data, "<i2").astype(np.float32) / 32768.0)

    def push(self, samples: np.ndarray) -> list[LiveFrame]:
        if self.rate != RATE:
            samples = resample(samples, self.rate, RATE)
        samples = samples.astype(np.float32)
        self._pending = np.concatenate([self._pending, samples])
        self._recent = np.concatenate([self._recent, samples])[-HOP:]
        usable = len(self._pending) // HOP * HOP
        chunk, self._pending = self._pending[:usable], self._pending[usable:]
        mel = self.features.push(chunk)
        out = []
        for k in range(len(mel)):
            logits, vad = self.stepper.step(mel[k])
            probs = np.exp(logits - logits.max())
            probs /= probs.sum()
            hop = chunk[k * HOP : (k + 1) * HOP]
            energy, pitch = self.prosody.push(hop)
            level = 20 * np.log10(np.sqrt(np.mean(hop * hop)) + 1e-9)
            self.loud_run = self.loud_run + 1 if level_opening(level) > 0.0 else 0
            out.append(LiveFrame(self._decide(probs, vad > 0.0 and level > SILENCE_DBFS), energy, pitch))
        if out:
            self.last = out[-1]
        self.opening = self._opening()
        return out

    def _opening(self) -> float:
        """The newest 10 ms's opening, gated by the model once it has heard the sound.

        While the model still says X, a loud run no longer than the look-ahead plus the hold is sound the
        model has not judged yet: open with it. A longer run it keeps calling X is noise: stay closed.
        """
        if self.shape == "X" and self.loud_run > self.lookahead + HOLD_FRAMES:
            return 0.0
        return level_opening(20 * np.log10(np.sqrt(np.mean(self._recent * self._recent)) + 1e-9))

    def _decide(self, probs: np.ndarray, voiced: bool) -> str:
        """Gate, hysteresis and minimum hold over one frame's shape probabilities."""
        best = SHAPES[int(np.argmax(probs))] if voiced else "X"
        self.held += 1
        if best != self.shape and self.held >= HOLD_FRAMES:
            if not voiced or probs[SHAPES.index(best)] > probs[SHAPES.index(self.shape)] + SWITCH_MARGIN:
                self.shape, self.held = best, 0
        return self.shape


def shapes_for_audio(samples: np.ndarray, model_path: str | None = None) -> list[str]:
    """One shape per 10 ms for a whole 16 kHz recording, streamed through :class:`LiveEngine`.

    The look-ahead delay is undone, so shape i describes audio frame i.
    """
    engine = LiveEngine(RATE, model_path)
    shapes = []
    step = RATE * 10
    for start in range(0, len(samples), step):
        shapes += [frame.shape for frame in engine.push(samples[start : start + step])]
    shapes += [frame.shape for frame in engine.push(np.zeros(engine.lookahead * HOP, np.float32))]
    n = len(samples) // HOP
    return (shapes[engine.lookahead :] + ["X"] * n)[:n]
