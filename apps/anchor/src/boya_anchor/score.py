"""Frame scores of a mouth-shape track against true phones (the metric our bars use).

"Set accuracy": a 10 ms frame is right when its shape is one Rhubarb's animation
rules allow for the true phone (:data:`.phones.ALLOWED`), the same rule as
``shared/tools/lipscore.py``. "Closed-mouth accuracy" compares {A, X} with
{P, B, M, silence}.
"""

import numpy as np

from .phones import ALLOWED
from .visemes import FPS

CLOSED_PHONES = ("SIL", "P", "B", "M")


def phone_frames(phones, n: int | None = None) -> list[str]:
    n = int(round(phones[-1][1] * FPS)) if n is None else n
    out = ["SIL"] * n
    for start, end, phone in phones:
        for i in range(int(round(start * FPS)), min(n, int(round(end * FPS)))):
            out[i] = phone if phone in ALLOWED else "SIL"
    return out


def set_accuracy(pred: list[str], truth: list[str], lag: int = 0) -> float:
    """Share of frames whose shape is allowed for the true phone, with ``pred`` shifted ``lag`` frames earlier."""
    n = len(truth)
    shifted = [pred[i + lag] if 0 <= i + lag < len(pred) else "X" for i in range(n)]
    return sum(p in ALLOWED[g] for p, g in zip(shifted, truth, strict=True)) / max(1, n)


def closed_accuracy(pred: list[str], truth: list[str]) -> float:
    return sum((p in "AX") == (g in CLOSED_PHONES) for p, g in zip(pred, truth, strict=False)) / max(
        1, len(truth)
    )


def allowed_matrix(truth: list[str]) -> np.ndarray:
    """(frames, 9) 0/1 targets: which of the shapes A-H, X each frame's phone allows."""
    from .phones import SHAPES

    return np.array([[s in ALLOWED[g] for s in SHAPES] for g in truth], np.float32)
