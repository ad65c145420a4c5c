"""Script mode: phone timings → a mouth-shape track (Rhubarb A-H/X) and 15 viseme weights.

The phones of synthesized speech are known in advance, so the track can look
ahead the way animators do: flexible consonants take the shape of the vowel they
lead into, and a shape may start a little before its phone wherever the phone it
overlaps allows that shape (Rhubarb's own rules, :data:`.phones.ALLOWED`). Tracks
are exchanged in Rhubarb Lip Sync's export formats so existing tools read them.
"""

import json

import numpy as np

from .phones import ALLOWED, FLEXIBLE, OCULUS, VISEMES, primary_shapes

FPS = 100  # one frame per 10 ms, the rate of every track in the app
ANTICIPATION_S = 0.04
MIN_CUE_S = 0.03


def shape_frames(phones: list[tuple[float, float, str]], anticipation: float = ANTICIPATION_S) -> list[str]:
    """One Rhubarb shape per 10 ms frame for ``phones`` (start_s, end_s, ARPAbet)."""
    n = int(round(phones[-1][1] * FPS)) if phones else 0
    frames = ["X"] * n
    owner = ["SIL"] * n
    plan = _plan_shapes(phones)
    for (start, end, phone), pieces in zip(phones, plan, strict=True):
        t = start
        for shape, share in pieces:
            stop = t + share * (end - start)
            for i in range(int(round(t * FPS)), min(n, int(round(stop * FPS)))):
                frames[i] = shape
                owner[i] = phone
            t = stop
    if anticipation > 0:
        _anticipate(frames, owner, int(round(anticipation * FPS)))
    _drop_flicker(frames, owner, int(round(MIN_CUE_S * FPS)))
    return frames


def _plan_shapes(phones):
    """(shape, share) pieces per phone; flexible consonants borrow the next vowel's first shape."""
    plan = []
    for k, (_, _, phone) in enumerate(phones):
        pieces = primary_shapes(phone)
        if phone in FLEXIBLE:
            following = next((p for _, _, p in phones[k + 1 : k + 3] if p not in FLEXIBLE), "SIL")
            borrowed = primary_shapes(following)[0][0]
            if borrowed in ALLOWED[phone]:
                pieces = ((borrowed, 1.0),)
        plan.append(pieces)
    return plan


def _anticipate(frames, owner, lead):
    """Start each new shape up to ``lead`` frames early where the earlier phone allows it."""
    i = len(frames) - 1
    while i > 0:
        if frames[i] != frames[i - 1]:
            shape, j = frames[i], i - 1
            while j >= 0 and i - j <= lead and shape in ALLOWED.get(owner[j], "") and frames[j] != shape:
                frames[j] = shape
                j -= 1
            i = j + 1 if j + 1 < i else i
        i -= 1


def _drop_flicker(frames, owner, shortest):
    """Merge cues shorter than ``shortest`` frames into the previous shape, unless that breaks the rules."""
    i = 0
    while i < len(frames):
        j = i
        while j < len(frames) and frames[j] == frames[i]:
            j += 1
        if 0 < i and j - i < shortest and frames[i] not in "AX":
            previous = frames[i - 1]
            if all(previous in ALLOWED.get(owner[k], "") for k in range(i, j)):
                frames[i:j] = [previous] * (j - i)
        i = j


def viseme_weights(phones, anticipation: float = ANTICIPATION_S) -> np.ndarray:
    """(frames, 15) Oculus viseme weights; each phone fades in over ``anticipation`` before it starts."""
    n = int(round(phones[-1][1] * FPS)) if phones else 0
    weights = np.zeros((n, len(VISEMES)), np.float32)
    index = {name: k for k, name in enumerate(VISEMES)}
    lead = max(1, int(round(anticipation * FPS)))
    for start, end, phone in phones:
        k = index[OCULUS.get(phone, "sil")]
        a, b = int(round(start * FPS)), min(n, int(round(end * FPS)))
        weights[a:b, k] = np.maximum(weights[a:b, k], 1.0)
        for d in range(1, lead + 1):
            if a - d >= 0:
                weights[a - d, k] = max(weights[a - d, k], 1.0 - d / (lead + 1))
    total = weights.sum(axis=1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def frames_to_cues(frames: list[str]) -> list[dict]:
    """Run-length cues ``{"start", "end", "value"}`` (seconds, 2 decimals) from per-frame shapes."""
    cues, i = [], 0
    while i < len(frames):
        j = i
        while j < len(frames) and frames[j] == frames[i]:
            j += 1
        cues.append({"start": round(i / FPS, 2), "end": round(j / FPS, 2), "value": frames[i]})
        i = j
    return cues


def cues_to_frames(cues: list[dict], n: int) -> list[str]:
    frames = ["X"] * n
    for cue in cues:
        for i in range(int(round(cue["start"] * FPS)), min(n, int(round(cue["end"] * FPS)))):
            frames[i] = cue["value"]
    return frames


def rhubarb_json(cues: list[dict], sound_file: str, duration: float) -> str:
    """Rhubarb Lip Sync's JSON export (``rhubarb -f json``)."""
    doc = {"metadata": {"soundFile": sound_file, "duration": round(duration, 2)}, "mouthCues": cues}
    return json.dumps(doc, indent=2)


def rhubarb_tsv(cues: list[dict]) -> str:
    """Rhubarb's TSV export: one ``start<TAB>shape`` line per cue, then the end time with X."""
    lines = [f"{cue['start']:.2f}\t{cue['value']}" for cue in cues]
    if cues:
        lines.append(f"{cues[-1]['end']:.2f}\tX")
    return "\n".join(lines) + "\n"
