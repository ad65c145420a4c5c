"""From a mouth shape per 10 ms and the idle motion to the full parameter frame the renderers draw.

A mouth that jumps between shapes looks choppy, so each mouth parameter follows
its target through a critically damped spring (about 35 ms to settle most of the
way); closures (A) get a stiffer spring so plosives stay visible. The same code
animates the live stage, script playback and video export.

Live, a spring that has to rise would add its rise time to the latency, so the
microphone's zero look-ahead ``opening`` (see :mod:`.live`) lifts MouthOpenY at
once, up to what the current shape allows; the spring only smooths the rest.
"""

import math

from .motion import IdleMotion, apply_expression
from .rig import DEFAULTS, MOUTH_PARAMS, PARAM_NAMES, RANGES, mouth_targets


class MouthSpring:
    def __init__(self, rig: dict, settle_s: float = 0.035):
        self.rig = rig
        self.settle_s = settle_s
        self.value = dict(mouth_targets(rig, "X"))
        self.velocity = dict.fromkeys(MOUTH_PARAMS, 0.0)
        self.widest = max(values["MouthOpenY"] for values in rig["mouth"].values())

    def step(self, shape: str, dt: float, opening: float | None = None) -> dict[str, float]:
        """Move toward ``shape``; an ``opening`` (0..1) snaps MouthOpenY up to that fraction of the shape's
        own opening (of the widest one while the shape is still X: the model has not named it yet)."""
        target = mouth_targets(self.rig, shape)
        omega = 4.0 / (self.settle_s * (0.6 if shape == "A" else 1.0))
        for _ in range(max(1, math.ceil(dt / 0.005))):  # sub-steps keep the explicit integration stable
            h = dt / max(1, math.ceil(dt / 0.005))
            for key in MOUTH_PARAMS:
                x, v = self.value[key], self.velocity[key]
                a = omega * omega * (target[key] - x) - 2.0 * omega * v
                v += a * h
                self.value[key] = x + v * h
                self.velocity[key] = v
        if opening is not None:
            lifted = opening * (self.widest if shape == "X" else target["MouthOpenY"])
            if lifted > self.value["MouthOpenY"]:
                self.value["MouthOpenY"], self.velocity["MouthOpenY"] = lifted, 0.0
        return self.value


class Animator:
    """Turns (time, mouth shape, voice energy and pitch, expression) into one clamped parameter frame."""

    def __init__(self, rig: dict, seed: int = 0):
        self.mouth = MouthSpring(rig)
        self.idle = IdleMotion(seed)
        self.expression = "neutral"
        self._t = None

    def frame(
        self, t: float, shape: str, energy: float = 0.0, pitch: float = 0.0, opening: float | None = None
    ) -> dict[str, float]:
        dt = 0.01 if self._t is None else min(0.1, max(0.0, t - self._t))
        self._t = t
        params = dict(DEFAULTS)
        params.update(self.idle.at(t, energy, pitch))
        params.update(self.mouth.step(shape, dt, opening))
        apply_expression(params, self.expression)
        return {k: min(RANGES[k][1], max(RANGES[k][0], params[k])) for k in PARAM_NAMES}


def pack(params: dict[str, float]) -> list[float]:
    """The frame as the WebSocket's compact "p" array (order of :data:`.rig.PARAM_NAMES`)."""
    return [round(params[k], 2 if abs(params[k]) < 10 else 1) for k in PARAM_NAMES]
