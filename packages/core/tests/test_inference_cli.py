"""The inference commands end to end, and their bad-input errors (one line, exit status 2)."""

import json

import pytest
import torch
from boya import plugins
from boya.cli import cli
from click.testing import CliRunner


@pytest.fixture(scope="module")
def run():
    plugins.call_each("register_commands", cli=cli)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def model_dir(tiny_run):
    return tiny_run


def _one_line_error(result, expected):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and expected in errors[0], result.output


def test_bench_infer_is_attached_to_the_bench_group(run):
    assert "infer" in cli.commands["bench"].commands


def test_optimize_then_generate_from_the_saved_directory(run, model_dir, tmp_path):
    pytest.importorskip("torchao")
    out = tmp_path / "opt"
    result = run("optimize", model_dir, "--int8", "--prune", "0.5", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["size_ratio"] < 0.3 and figures["sparsity"] == pytest.approx(0.5, abs=1e-3)
    assert figures["quantization"]["mode"] == "int8-dynamic"
    result = run("generate", out, "--prompt", "Hello", "--max-new-tokens", "5", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["tokens"] == 5


def test_generate_streams_text(run, model_dir):
    result = run("generate", model_dir, "--prompt", "Hello", "--max-new-tokens", "8")
    assert result.exit_code == 0 and result.output.startswith("Hello")


def test_directory_that_is_not_a_model(run, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    _one_line_error(run("generate", tmp_path, "--prompt", "x"), "is not a model directory")


def test_mode_the_platform_lacks(run, model_dir, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    _one_line_error(
        run("optimize", model_dir, "--quantize", "fp8-dynamic", "--out", tmp_path / "o"),
        "fp8-dynamic needs an NVIDIA GPU",
    )
    assert not (tmp_path / "o").exists()


def test_prompt_longer_than_the_context(run, model_dir):
    _one_line_error(
        run("generate", model_dir, "--prompt", "x" * 80), "exceeds the model's context of 64 tokens"
    )


def test_optimize_refuses_to_overwrite(run, model_dir, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    _one_line_error(
        run("optimize", model_dir, "--prune", "0.5", "--out", tmp_path), "is not an empty directory"
    )
    assert (tmp_path / "keep.txt").read_text() == "mine"
