"""The profiler's trace, and ``boya train`` from the command line (recipes, bad input)."""

import json

import pytest
import torch
from boya import plugins
from boya.cli import cli
from boya.runtime import TrainConfig, Trainer
from boya.runtime.models.gpt import GPT, GPTConfig, lm_loss
from click.testing import CliRunner


def test_profiler_writes_trace_and_top_ops(tmp_path):
    rows = torch.randint(0, 256, (4, 16), generator=torch.Generator().manual_seed(0))
    data = [{"input_ids": row, "labels": row} for row in rows]
    torch.manual_seed(0)
    config = TrainConfig(out_dir=str(tmp_path), max_steps=4, batch_size=2, profile=(1, 1, 2), progress=False)
    trainer = Trainer(
        GPT(GPTConfig(vocab_size=256, block_size=16, n_layer=2, n_head=2, n_embd=32)), config, lm_loss
    )
    trainer.fit(data)
    trace = json.loads((tmp_path / "profile" / "trace.json").read_text())
    assert any(event.get("name", "").startswith("aten::") for event in trace["traceEvents"])
    assert "aten::" in (tmp_path / "profile" / "top_ops.txt").read_text()
    assert trainer.profile_table and "Self CPU" in trainer.profile_table


@pytest.fixture(scope="module")
def boya():
    plugins.call_each("register_commands", cli=cli)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_train_list_shows_the_core_recipe(boya):
    result = boya("train", "--list")
    assert result.exit_code == 0 and "text-lm" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "no-such-recipe"], "unknown recipe 'no-such-recipe'"),
        (["train", "text-lm", "--precision", "fp8"], "unknown precision 'fp8'"),
        (["train", "text-lm", "--compile", "always"], "unknown compile 'always'"),
        (["train", "text-lm", "--profile", "1,2"], "--profile takes WAIT,WARMUP,ACTIVE"),
        (["train", "text-lm", "--resume", "--no-progress"], "cannot resume: no checkpoint in"),
        (["train", "text-lm", "--data", "/no/such/text.txt"], "cannot read --data /no/such/text.txt"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(boya, tmp_path, args, message):
    result = boya(*args, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert message in result.output and result.output.strip().count("\n") == 0
    assert not (tmp_path / "run").exists()


def test_train_text_lm_on_a_small_file_and_resume(boya, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("Boya trains small language models on plain text. " * 60)
    out = tmp_path / "run"
    common = [
        "--data",
        str(text),
        "--out",
        str(out),
        "--batch-size",
        "2",
        "--no-progress",
        "--eval-every",
        "0",
    ]
    first = boya("train", "text-lm", "--max-steps", "2", "--save-every", "1", *common)
    assert first.exit_code == 0, first.output
    card = json.loads((out / "model.json").read_text())
    assert card["recipe"] == "text-lm" and card["metrics"]["step"] == 2
    again = boya("train", "text-lm", "--max-steps", "2", *common)
    assert again.exit_code == 2 and "already holds checkpoints" in again.output
    resumed = boya("train", "text-lm", "--max-steps", "3", "--resume", "--json", *common)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.output)["path"].endswith("model.safetensors")
    assert json.loads((out / "model.json").read_text())["metrics"]["step"] == 3
