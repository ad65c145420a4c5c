"""Checkpoints: atomic writes, keep-last-N, and clear errors for missing, corrupt or foreign checkpoints."""

import subprocess
import sys
import textwrap

import pytest
import torch
from boya.errors import BoyaError
from boya.runtime import TrainConfig, Trainer
from boya.runtime.checkpoint import checkpoint_dirs, latest_checkpoint, load_checkpoint, save_checkpoint
from boya.runtime.models.gpt import GPT, GPTConfig, lm_loss

TINY = GPTConfig(vocab_size=256, block_size=32, n_layer=2, n_head=2, n_embd=32)


def examples(n):
    rows = torch.randint(0, 256, (n, 16), generator=torch.Generator().manual_seed(1))
    return [{"input_ids": row, "labels": row} for row in rows]


def train(out_dir, steps=2, model=None, **changes):
    torch.manual_seed(0)
    model = model or GPT(TINY)
    config = TrainConfig(
        out_dir=str(out_dir),
        max_steps=steps,
        batch_size=2,
        save_every=1,
        keep_last=2,
        progress=False,
        loggers=(),
        **changes,
    )
    return Trainer(model, config, loss_fn=lm_loss), model


def test_keep_last_and_latest(tmp_path):
    trainer, _ = train(tmp_path, steps=4)
    trainer.fit(examples(4))
    assert [path.name for path in checkpoint_dirs(tmp_path / "checkpoints")] == [
        "step-00000003",
        "step-00000004",
    ]
    assert latest_checkpoint(tmp_path / "checkpoints").name == "step-00000004"


def test_killed_write_leaves_previous_checkpoint_loadable(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, torch
        from boya.runtime import checkpoint
        model = torch.nn.Linear(4, 4)
        root = checkpoint.Path({str(tmp_path)!r})
        checkpoint.save_checkpoint(root, 1, model, {{"step": 1}}, {{}}, keep_last=2)
        real_save = torch.save
        def save_then_die(obj, path):
            real_save(obj, path)
            with open(path, "r+b") as half:
                half.truncate(10)
            os.kill(os.getpid(), signal.SIGKILL)
        checkpoint.torch.save = save_then_die
        checkpoint.save_checkpoint(root, 2, model, {{"step": 2}}, {{}}, keep_last=2)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9, result.stderr.decode()
    # the half-written one
    assert any(path.name.startswith(".tmp-step-00000002") for path in tmp_path.iterdir())
    assert latest_checkpoint(tmp_path).name == "step-00000001"
    state = load_checkpoint(latest_checkpoint(tmp_path), torch.nn.Linear(4, 4))
    assert state == {"step": 1}
    save_checkpoint(tmp_path, 2, torch.nn.Linear(4, 4), {"step": 2}, {}, keep_last=2)  # cleans the leftover
    assert sorted(path.name for path in tmp_path.iterdir()) == ["step-00000001", "step-00000002"]


def test_resume_without_checkpoint_is_an_error(tmp_path):
    trainer, _ = train(tmp_path, resume=True)
    with pytest.raises(BoyaError, match="no checkpoint"):
        trainer.fit(examples(4))
    assert not tmp_path.joinpath("checkpoints").exists()


def test_fresh_run_refuses_to_overwrite_checkpoints(tmp_path):
    trainer, _ = train(tmp_path)
    trainer.fit(examples(4))
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")}
    trainer, _ = train(tmp_path)
    with pytest.raises(BoyaError, match="already holds checkpoints"):
        trainer.fit(examples(4))
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")} == before


def test_corrupt_and_missing_checkpoint_files(tmp_path):
    trainer, _ = train(tmp_path)
    trainer.fit(examples(4))
    latest = latest_checkpoint(tmp_path / "checkpoints")
    (latest / "state.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(BoyaError, match="corrupt"):
        load_checkpoint(latest, GPT(TINY))
    (latest / "model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(BoyaError, match="not a readable safetensors"):
        load_checkpoint(latest, GPT(TINY))
    (latest / "model.safetensors").unlink()
    with pytest.raises(BoyaError, match="model.safetensors is missing"):
        load_checkpoint(latest, GPT(TINY))
    with pytest.raises(BoyaError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere", GPT(TINY))


def test_checkpoint_of_another_model_names_the_keys(tmp_path):
    trainer, _ = train(tmp_path)
    trainer.fit(examples(4))
    latest = latest_checkpoint(tmp_path / "checkpoints")
    wider = GPT(GPTConfig(**{**TINY.to_dict(), "n_embd": 64}))
    with pytest.raises(BoyaError, match=r"another model.*h\.0\.attn\.k\.bias \(32,\) vs \(64,\)"):
        load_checkpoint(latest, wider)
    deeper = GPT(GPTConfig(**{**TINY.to_dict(), "n_layer": 3}))
    with pytest.raises(BoyaError, match=r"missing h\.2\.") as error:
        load_checkpoint(latest, deeper)
    assert "more)" in str(error.value)
    resumed, _ = train(tmp_path, model=deeper, resume=True)
    with pytest.raises(BoyaError, match="another model"):
        resumed.fit(examples(4))
