"""Accuracy of the live model against baselines, on voices it never heard and on real human speech.

Per 10 ms frame "set accuracy" (:mod:`.score`), averaged per clip. Compared on
the same clips: an amplitude-only mouth, and a Rhubarb-style pipeline
(PocketSphinx all-phone recognition + Rhubarb's shape rules; the Rhubarb binary
itself is not installed here). Human speech: the held-out part of Asterisk's
recorded English prompts (Debian ``asterisk-core-sounds-en-wav``, 8 kHz telephone
quality; :mod:`.asterisk`) with phones from forced alignment. Those are one speaker whose other prompts
are in the training data, so speaker independence is measured separately on real
recordings of speakers never heard in training (:mod:`.speakers`, ``human_multi_speaker``,
scored per speaker). ``out_dir`` also writes truth.json and per-clip Rhubarb JSON in
the layout ``shared/tools/lipscore.py`` reads.
"""

import json
import random
from pathlib import Path

import numpy as np

from .audio import RATE
from .corpus import EVAL_VOICES, sentences, synthesize_all
from .features import HOP
from .score import closed_accuracy, phone_frames, set_accuracy
from .visemes import frames_to_cues, rhubarb_json, shape_frames

LAGS = range(-10, 11)


def amplitude_shapes(samples: np.ndarray) -> list[str]:
    """The amplitude-only baseline: RMS level per 10 ms → X / B / C / D."""
    n = len(samples) // HOP
    frames = samples[: n * HOP].reshape(n, HOP)
    level = 20 * np.log10(np.sqrt((frames**2).mean(1)) + 1e-9)
    peak = level.max() if n else 0.0
    return ["X" if v < peak - 35 else "B" if v < peak - 22 else "C" if v < peak - 12 else "D" for v in level]


def rhubarb_style_shapes(samples: np.ndarray) -> list[str]:
    from .align import recognise_phones

    return shape_frames(recognise_phones(samples))


def synthetic_clips(n_sentences: int, seed: int = 7) -> list[dict]:
    _, held_out = sentences()
    rng = random.Random(seed)
    clips = []
    for voice in EVAL_VOICES:
        for k, u in enumerate(synthesize_all(held_out[:n_sentences], voice, rng)):
            clips.append(
                {
                    "clip": f"{voice.replace(':', '-')}-{k:02d}.wav",
                    "group": voice,
                    "samples": u.samples,
                    "phones": u.phones,
                }
            )
    return clips


def human_clips(limit: int) -> list[dict]:
    """The held-out Asterisk prompts (never trained on, see :mod:`.asterisk`), forced-aligned; failures skipped."""
    from .asterisk import aligned, held_out_prompts

    return [
        {
            "clip": f"human-{c['name']}.wav",
            "group": "human (asterisk prompts)",
            "samples": c["samples"],
            "phones": c["phones"],
        }
        for c in aligned(held_out_prompts(), limit)
    ]


def multi_speaker_clips() -> list[dict]:
    """The unseen speakers' recordings (:mod:`.speakers`), forced-aligned, grouped by speaker; failures skipped."""
    from .speakers import aligned_speaker_clips

    return [
        {"clip": f"{c['name']}.wav", "group": c["speaker"], "samples": c["samples"], "phones": c["phones"]}
        for c in aligned_speaker_clips()
    ]


def _score(methods: dict, clips: list[dict], out_dir: Path | None) -> dict:
    results = {name: {"set": [], "closed": []} for name in methods}
    lag_sums = np.zeros(len(LAGS))
    by_group: dict = {}
    for clip in clips:
        truth = phone_frames(clip["phones"], len(clip["samples"]) // HOP)
        for name, method in methods.items():
            pred = (method(clip["samples"]) + ["X"] * len(truth))[: len(truth)]
            acc = set_accuracy(pred, truth)
            results[name]["set"].append(acc)
            results[name]["closed"].append(closed_accuracy(pred, truth))
            by_group.setdefault(clip["group"], {}).setdefault(name, []).append(acc)
            if name == "model":
                lag_sums += [set_accuracy(pred, truth, lag) for lag in LAGS]
                if out_dir is not None:
                    (out_dir / clip["clip"].replace(".wav", ".json")).write_text(
                        rhubarb_json(frames_to_cues(pred), clip["clip"], len(clip["samples"]) / RATE)
                    )
    summary = {
        name: {
            "set_accuracy": round(float(np.mean(r["set"])), 3),
            "closed_accuracy": round(float(np.mean(r["closed"])), 3),
        }
        for name, r in results.items()
    }
    lag = {
        f"{lag * 10:+d}ms": round(float(v / max(1, len(clips))), 3)
        for lag, v in zip(LAGS, lag_sums, strict=True)
    }
    return {
        "clips": len(clips),
        "methods": summary,
        "by_group": {g: {m: round(float(np.mean(v)), 3) for m, v in d.items()} for g, d in by_group.items()},
        "model_lag_sweep": lag,
        "model_best_lag": max(lag, key=lag.get),
    }


def evaluate(
    model_path: str | None = None,
    human: bool = True,
    n_sentences: int = 20,
    human_limit: int = 40,
    out_dir: str | None = None,
) -> dict:
    from .live import load_model, shapes_for_audio

    lookahead_ms = load_model(model_path).lookahead * 10
    methods = {
        "model": lambda s: shapes_for_audio(s, model_path),
        "amplitude": amplitude_shapes,
        "rhubarb_style": rhubarb_style_shapes,
    }
    report = {
        "note": f"set accuracy per 10 ms frame; model = streaming causal model ({lookahead_ms} ms look-ahead, VAD gate, hold); "
        "rhubarb_style = PocketSphinx all-phone + Rhubarb's rules (the rhubarb binary is not installed)"
    }
    out = Path(out_dir) if out_dir else None
    groups = {"held_out_voices": synthetic_clips(n_sentences)}
    if human:
        groups["human_speech"] = human_clips(human_limit)
        groups["human_multi_speaker"] = multi_speaker_clips()
    for key, clips in groups.items():
        target = None
        if out is not None:
            target = out / key
            target.mkdir(parents=True, exist_ok=True)
            truth = [{"clip": c["clip"], "phones": [[a, b, p] for a, b, p in c["phones"]]} for c in clips]
            (target / "truth.json").write_text(json.dumps(truth))
        report[key] = (
            _score(methods, clips, target)
            if clips
            else {"clips": 0, "note": "no clips (missing data or aligner)"}
        )
    report["telephone_note"] = (
        "human_speech: one speaker's 8 kHz telephone prompts resampled to 16 kHz; human_multi_speaker: "
        "16 kHz recordings of three speakers never used in training (PocketSphinx test data)"
    )
    return report
