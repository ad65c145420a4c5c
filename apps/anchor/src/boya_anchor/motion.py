"""Procedural life: blinks, breathing, head sway, eye saccades, voice-driven nods and expressions.

Streamers expect an avatar that never freezes: random blinks every 2-6 s, a
breathing rhythm, a slow head sway and eye darts, plus nods on loud syllables and
tilts with the voice's pitch. Everything is a function of time and a seeded
random generator, so an export is reproducible and the live stage never stalls.
"""

import math
import random

EXPRESSIONS = {  # preset -> parameter offsets; hotkeys 1-6 on the /avatar page follow this order
    "neutral": {},
    "happy": {"MouthForm": 0.8, "Cheek": 0.7, "BrowY": 0.3, "EyeOpenScale": 0.85},
    "sad": {"MouthForm": -0.6, "BrowY": -0.5, "EyeOpenScale": 0.75, "AngleY": -4.0},
    "surprised": {"MouthForm": 0.0, "BrowY": 1.0, "MouthOpenFloor": 0.35},
    "angry": {"MouthForm": -0.9, "BrowY": -1.0, "EyeOpenScale": 0.8},
    "wink": {"MouthForm": 0.6, "Cheek": 0.4, "WinkRight": 1.0},
}


class IdleMotion:
    """Idle parameters at any time ``t`` (seconds); call :meth:`at` with non-decreasing times."""

    def __init__(self, seed: int = 0):
        self._rng = random.Random(seed)
        self._next_blink = self._rng.uniform(1.0, 3.0)
        self._blink_start = -10.0
        self._double = False
        self._gaze = (0.0, 0.0)
        self._next_saccade = self._rng.uniform(0.5, 2.0)
        self._phases = [self._rng.uniform(0, 2 * math.pi) for _ in range(6)]
        self._nod = 0.0
        self._tilt = 0.0
        self._last_t = 0.0

    def _eye_open(self, t: float) -> float:
        if t >= self._next_blink:
            self._blink_start = t
            self._double = self._rng.random() < 0.15
            self._next_blink = t + self._rng.uniform(2.0, 6.0)
        dt = t - self._blink_start
        closing = _blink_curve(dt)
        if self._double:
            closing = max(closing, _blink_curve(dt - 0.2))
        return 1.0 - closing

    def _eyes(self, t: float) -> tuple[float, float]:
        if t >= self._next_saccade:
            self._gaze = (
                (self._rng.uniform(-0.6, 0.6), self._rng.uniform(-0.35, 0.35))
                if self._rng.random() < 0.6
                else (0.0, 0.0)
            )
            self._next_saccade = t + self._rng.uniform(0.4, 3.0)
        return self._gaze

    def at(self, t: float, energy: float = 0.0, pitch: float = 0.0) -> dict[str, float]:
        """Idle and voice-driven parameters; ``energy`` in 0..1 (loudness), ``pitch`` in -1..1 (relative)."""
        dt = min(0.1, max(0.0, t - self._last_t))
        self._last_t = t
        p = self._phases
        sway_x = 3.0 * math.sin(0.31 * t + p[0]) + 1.5 * math.sin(0.73 * t + p[1])
        sway_y = 1.5 * math.sin(0.23 * t + p[2]) + 0.8 * math.sin(0.61 * t + p[3])
        sway_z = 2.0 * math.sin(0.19 * t + p[4]) + 1.0 * math.sin(0.47 * t + p[5])
        # Nods follow loudness with a 150 ms lag, tilts follow pitch slowly.
        self._nod += (energy * 6.0 - self._nod) * min(1.0, dt / 0.15)
        self._tilt += (pitch * 5.0 - self._tilt) * min(1.0, dt / 0.6)
        eye = self._eye_open(t)
        gaze_x, gaze_y = self._eyes(t)
        return {
            "EyeLOpen": eye,
            "EyeROpen": eye,
            "EyeBallX": gaze_x,
            "EyeBallY": gaze_y,
            "AngleX": sway_x,
            "AngleY": sway_y - self._nod,
            "AngleZ": sway_z + self._tilt,
            "BodyAngleZ": 0.4 * sway_z,
            "Breath": 0.5 + 0.5 * math.sin(2 * math.pi * t / 4.2 + p[0]),
        }


def _blink_curve(dt: float) -> float:
    """How closed the eye is ``dt`` seconds into a blink: 60 ms down, 30 ms shut, 90 ms up."""
    if dt < 0 or dt > 0.18:
        return 0.0
    if dt < 0.06:
        return dt / 0.06
    if dt < 0.09:
        return 1.0
    return 1.0 - (dt - 0.09) / 0.09


def apply_expression(params: dict[str, float], name: str) -> dict[str, float]:
    """Layer expression preset ``name`` over a frame's parameters (in place; returns them)."""
    preset = EXPRESSIONS.get(name, {})
    scale = preset.get("EyeOpenScale", 1.0)
    params["EyeLOpen"] = params.get("EyeLOpen", 1.0) * scale
    params["EyeROpen"] = params.get("EyeROpen", 1.0) * scale * (1.0 - 0.95 * preset.get("WinkRight", 0.0))
    for key in ("MouthForm", "Cheek", "BrowY"):
        if key in preset:
            params[key] = preset[key]
    if "AngleY" in preset:
        params["AngleY"] = params.get("AngleY", 0.0) + preset["AngleY"]
    if "MouthOpenFloor" in preset:
        params["MouthOpenY"] = max(params.get("MouthOpenY", 0.0), preset["MouthOpenFloor"])
    return params
