"""Fault injection: ``kill -9`` of ``boya train`` mid-run, then ``--resume``, ends with the same weights bit for bit."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import boya_env

pytestmark = pytest.mark.slow

MAX_STEPS = 6


def train_args(text: Path, out: Path, *extra: str) -> list[str]:
    boya = Path(sys.executable).with_name("boya")
    return [
        str(boya),
        "train",
        "text-lm",
        "--data",
        str(text),
        "--out",
        str(out),
        "--max-steps",
        str(MAX_STEPS),
        "--batch-size",
        "2",
        "--save-every",
        "2",
        "--eval-every",
        "0",
        "--threads",
        "1",
        "--no-progress",
        *extra,
    ]


def weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


def test_killed_training_resumes_bit_identically(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("Boya trains small language models on plain text, and resumes them exactly. " * 40)
    straight = subprocess.Popen(
        train_args(text, tmp_path / "straight"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=boya_env(),
    )
    victim = subprocess.Popen(
        train_args(text, tmp_path / "killed"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=boya_env(),
    )
    checkpoints = tmp_path / "killed" / "checkpoints"
    deadline = time.monotonic() + 300
    while not (checkpoints / "step-00000002").exists():  # one checkpoint written, the next steps under way
        assert victim.poll() is None, "training ended before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint at step 2 within 300 s"
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed" / "model.safetensors").exists()

    resumed = subprocess.run(
        train_args(text, tmp_path / "killed", "--resume"),
        capture_output=True,
        text=True,
        env=boya_env(),
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert straight.wait(timeout=600) == 0, straight.stderr.read()

    expected, got = (
        weights(tmp_path / "straight" / "model.safetensors"),
        weights(tmp_path / "killed" / "model.safetensors"),
    )
    assert expected.keys() == got.keys()
    different = [name for name in expected if not (expected[name] == got[name]).all()]
    assert different == [], f"weights differ after resume: {different[:5]}"
    assert (tmp_path / "killed" / "checkpoints" / f"step-{MAX_STEPS:08d}").is_dir()
