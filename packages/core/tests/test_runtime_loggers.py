"""The TensorBoard logger: event files read back with TensorBoard's own reader, resume, and a clear error without it."""

import importlib.util
import json
import shutil

import pytest
import torch
from boya import plugins
from boya.cli import cli
from boya.errors import BoyaError
from boya.runtime import TrainConfig, Trainer
from boya.runtime.models.gpt import GPT, GPTConfig, lm_loss
from click.testing import CliRunner

pytest.importorskip("tensorboard", reason="the tensorboard extra of boya-core is not installed")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

TINY = GPTConfig(vocab_size=256, block_size=16, n_layer=1, n_head=2, n_embd=32)


def examples(n, seed=1):
    rows = torch.randint(0, 256, (n, 16), generator=torch.Generator().manual_seed(seed))
    return [{"input_ids": row, "labels": row} for row in rows]


def trainer(out_dir, **changes):
    torch.manual_seed(0)
    config = TrainConfig(
        out_dir=str(out_dir),
        batch_size=2,
        progress=False,
        log_every=1,
        **{"max_steps": 4, "loggers": ("jsonl", "tensorboard"), **changes},
    )
    return Trainer(GPT(TINY), config, loss_fn=lm_loss)


def scalars(out_dir) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(out_dir / "tensorboard"))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_tensorboard_events_hold_the_logged_metrics(tmp_path):
    trainer(tmp_path, eval_every=2).fit(examples(6), eval_data=examples(2, seed=5))
    found = scalars(tmp_path)
    assert {"train/loss", "train/lr", "train/grad_norm", "train/tokens_per_s", "eval/loss"} <= set(found)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train_rows = [row for row in rows if row["kind"] == "train"]
    assert [step for step, _ in found["train/loss"]] == [1, 2, 3, 4]
    assert [value for _, value in found["train/loss"]] == pytest.approx(
        [row["loss"] for row in train_rows], rel=1e-6
    )
    eval_rows = [row for row in rows if row["kind"] == "eval"]
    assert [step for step, _ in found["eval/loss"]] == [row["step"] for row in eval_rows] == [2, 4]
    assert [value for _, value in found["eval/loss"]] == pytest.approx(
        [row["eval_loss"] for row in eval_rows], rel=1e-6
    )


def test_resume_hides_the_events_past_the_checkpoint(tmp_path):
    trainer(tmp_path, save_every=2).fit(examples(8))
    # as if the run had died after writing step 4's row
    shutil.rmtree(tmp_path / "checkpoints" / "step-00000004")
    first = scalars(tmp_path)["train/loss"]
    trainer(tmp_path, save_every=2, resume=True).fit(examples(8))
    resumed = scalars(tmp_path)["train/loss"]
    assert [step for step, _ in resumed] == [1, 2, 3, 4]  # each step once, not 1, 2, 3, 4, 3, 4
    assert resumed == first  # resume is bit-identical, so are its metrics


def test_tensorboard_logger_without_tensorboard_is_one_clear_error(tmp_path, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "tensorboard" else real_find_spec(name, *args),
    )
    with pytest.raises(BoyaError, match="pip install tensorboard"):
        TrainConfig(out_dir=str(tmp_path), loggers=("jsonl", "tensorboard"))
    plugins.call_each("register_commands", cli=cli)
    result = CliRunner().invoke(
        cli, ["train", "text-lm", "--logger", "tensorboard", "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 2
    assert "pip install tensorboard" in result.output and result.output.strip().count("\n") == 0
    assert not (tmp_path / "run").exists()


def test_unknown_logger_is_rejected(tmp_path):
    with pytest.raises(BoyaError, match="unknown logger 'wandb'"):
        TrainConfig(out_dir=str(tmp_path), loggers=("wandb",))
