"""The evaluation harness: scores, baselines and the lag sweep behave as the metric defines."""

import json

import numpy as np
import pytest
from boya_anchor.audio import resample
from boya_anchor.evaluate import _score, amplitude_shapes
from boya_anchor.score import closed_accuracy, phone_frames, set_accuracy
from boya_anchor.tts import synthesize
from boya_anchor.visemes import shape_frames


def test_set_accuracy_counts_allowed_shapes_and_lag_shifts():
    truth = ["SIL", "P", "AA", "AA", "S"]
    assert set_accuracy(["X", "A", "D", "D", "B"], truth) == 1.0
    assert set_accuracy(["X", "A", "C", "D", "G"], truth) == 0.6
    assert set_accuracy(["X", "X", "A", "D", "D", "B"], truth, lag=1) == 1.0
    assert closed_accuracy(["X", "A", "D", "X", "B"], truth) == 0.8


def test_amplitude_baseline_opens_on_loud_frames():
    quiet, loud = np.zeros(1600, np.float32), 0.5 * np.sin(np.arange(1600) * 0.3).astype(np.float32)
    shapes = amplitude_shapes(np.concatenate([quiet, loud, quiet]))
    assert shapes[:10] == ["X"] * 10 and shapes[10:20] == ["D"] * 10 and shapes[-10:] == ["X"] * 10


def test_harness_scores_a_perfect_method_perfectly_and_writes_lipscore_files(tmp_path):
    speech = synthesize("Bubbles and blueberry pie.", "espeak:en-us")
    samples = resample(speech.samples, speech.rate, 16000)
    clip = {"clip": "c.wav", "group": "g", "samples": samples, "phones": speech.phones}
    truth_shapes = shape_frames(speech.phones)
    report = _score({"model": lambda s: truth_shapes, "amplitude": amplitude_shapes}, [clip], tmp_path)
    assert report["methods"]["model"]["set_accuracy"] == 1.0
    assert report["model_best_lag"] == "+0ms" and report["model_lag_sweep"]["+100ms"] < 1.0
    assert report["methods"]["amplitude"]["set_accuracy"] < 0.8
    cues = json.loads((tmp_path / "c.json").read_text())["mouthCues"]
    assert cues[0]["start"] == 0.0 and len(phone_frames(speech.phones)) > 0


def test_human_prompts_are_split_by_file_and_only_held_out_ones_are_scored():
    from boya_anchor.asterisk import HELD_OUT_PROMPTS, held_out_prompts, spoken_prompts, training_prompts
    from boya_anchor.evaluate import human_clips

    prompts = spoken_prompts()
    if not prompts:
        pytest.skip("asterisk-core-sounds-en-wav is not installed")
    held, train = {p for p, _ in held_out_prompts()}, {p for p, _ in training_prompts()}
    assert len(held) == HELD_OUT_PROMPTS and held.isdisjoint(train) and len(held | train) == len(prompts)
    scored = human_clips(2)
    assert len(scored) == 2 and all(
        c["clip"][len("human-") : -len(".wav")] in {p.stem for p in held} for c in scored
    )
