"""Precision policy: hardware checks, ``auto``, and that every mode trains."""

import math
import warnings

import pytest
import torch
from boya.errors import BoyaError
from boya.runtime import TrainConfig, Trainer, precision
from boya.runtime.models.gpt import GPT, GPTConfig, lm_loss


def test_bf16_on_a_gpu_without_bf16_is_an_error(monkeypatch):
    monkeypatch.setattr(precision, "cuda_supports_bf16", lambda: False)
    with pytest.raises(BoyaError, match="cannot compute in bfloat16"):
        precision.resolve_precision("bf16-mixed", torch.device("cuda"))
    assert precision.resolve_precision("auto", torch.device("cuda")).name == "16-mixed"


def test_bf16_on_a_cpu_without_fast_bf16_warns_and_auto_keeps_fp32(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    with pytest.warns(RuntimeWarning, match="slower than fp32"):
        policy = precision.resolve_precision("bf16-mixed", torch.device("cpu"))
    assert policy.autocast_dtype is torch.bfloat16 and policy.param_dtype is torch.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert precision.resolve_precision("auto", torch.device("cpu")).name == "32"
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert precision.resolve_precision("auto", torch.device("cpu")).name == "bf16-mixed"


def test_grad_scaler_only_for_fp16_with_explicit_device_and_init_scale():
    cpu = torch.device("cpu")
    assert precision.PrecisionPolicy("32", cpu, None, torch.float32).grad_scaler() is None
    scaler = precision.PrecisionPolicy("16-mixed", cpu, torch.float16, torch.float32).grad_scaler(
        init_scale=1024.0
    )
    assert scaler.get_scale() == 1024.0 and scaler._device == "cpu"
    assert (
        precision.PrecisionPolicy("16-mixed", cpu, torch.float16, torch.float32).grad_scaler().get_scale()
        == 65536.0
    )


@pytest.mark.parametrize("mode", ["bf16-mixed", "16-mixed", "bf16-true"])
def test_every_mode_trains(tmp_path, mode):
    rows = torch.randint(0, 256, (4, 16), generator=torch.Generator().manual_seed(0))
    data = [{"input_ids": row, "labels": row} for row in rows]
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=256, block_size=16, n_layer=2, n_head=2, n_embd=32))
    config = TrainConfig(
        out_dir=str(tmp_path), max_steps=3, batch_size=2, lr=1e-2, precision=mode, progress=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        trainer = Trainer(model, config, loss_fn=lm_loss)
    metrics = trainer.fit(data)
    assert math.isfinite(metrics["loss"]) and metrics["loss"] < 6.0
    expected = torch.bfloat16 if mode == "bf16-true" else torch.float32
    assert all(p.dtype is expected for p in model.parameters())


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="this machine has a GPU: `boya bench gpu` runs for real there"
)
def test_bench_gpu_without_a_gpu_is_one_clear_error():
    from boya import plugins
    from boya.cli import cli
    from click.testing import CliRunner

    plugins.call_each("register_commands", cli=cli)
    result = CliRunner().invoke(cli, ["bench", "gpu", "--json"])
    assert result.exit_code == 2 and "needs a CUDA GPU" in result.output and "Traceback" not in result.output
