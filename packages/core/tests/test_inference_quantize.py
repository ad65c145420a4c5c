"""int8 quantization of a trained tiny model: close to fp32, saved smaller, loaded back as saved."""

import pytest
import torch
from boya.errors import BoyaError
from boya.runtime.inference import load_model, quantize_model, save_optimized
from boya.runtime.inference.benchmark import agreement, eval_batches
from boya.runtime.inference.saved_model import WEIGHTS

pytest.importorskip("torchao")


@pytest.fixture(scope="module")
def trained(trained_tiny_lm):
    return trained_tiny_lm


@pytest.fixture(scope="module")
def fp32(trained):
    loaded = load_model(trained, threads=1)
    return loaded, eval_batches(loaded, n_batches=2)


def _reference(loaded, batches):
    with torch.no_grad():
        return [loaded.model(input_ids=b).logits for b in batches]


@pytest.mark.parametrize(
    ("mode", "kernels"), [("int8-dynamic", "torch.ao"), ("int8-dynamic", "torchao"), ("int8-weight", "auto")]
)
def test_saved_int8_model_is_smaller_and_agrees_with_fp32(trained, fp32, tmp_path, mode, kernels):
    loaded, batches = fp32
    reference = _reference(loaded, batches)
    original = save_optimized(load_model(trained), tmp_path / "fp32", details={})
    quantized = load_model(trained)
    info = quantize_model(quantized.model, mode)
    assert info["embeddings"] == 2 and info["tied"]  # token + position embeddings, output layer shares wte
    saved = save_optimized(quantized, tmp_path / "int8", details={"quantization": info})
    ratio = (saved / WEIGHTS).stat().st_size / (original / WEIGHTS).stat().st_size
    assert ratio < 0.32  # int8 everywhere (fp32 biases and norms remain)
    reloaded = load_model(saved, int8_kernels=kernels)
    result = agreement(reloaded.model, reference, batches)
    assert result["top1_agreement"] > 0.97
    assert result["rel_logit_error"] < 0.05


def test_reload_rebuilds_quantized_tensors_without_requantizing(trained, fp32, tmp_path):
    loaded, batches = fp32
    model = load_model(trained)
    info = quantize_model(model.model, "int8-dynamic")
    saved = save_optimized(model, tmp_path / "q", details={"quantization": info})
    reloaded = load_model(saved, int8_kernels="torchao").model
    weight = reloaded.transformer.h[0].attn.c_attn.weight
    assert type(weight).__name__ == "Int8Tensor" and weight.qdata.dtype == torch.int8
    assert reloaded.lm_head.weight is reloaded.transformer.wte.weight  # tied, stored once
    assert torch.equal(weight.qdata, model.model.transformer.h[0].attn.c_attn.weight.qdata)
    with torch.no_grad():
        assert torch.equal(reloaded(input_ids=batches[0]).logits, model.model(input_ids=batches[0]).logits)


def test_torch_ao_kernels_reuse_the_saved_int8_weights(trained, fp32, tmp_path):
    model = load_model(trained)
    info = quantize_model(model.model, "int8-dynamic")
    saved = save_optimized(model, tmp_path / "q", details={"quantization": info})
    reloaded = load_model(saved, int8_kernels="torch.ao")
    layer = reloaded.model.transformer.h[0].mlp.c_fc
    assert type(layer).__name__ == "Int8DynamicLinear"
    original = model.model.transformer.h[0].mlp.c_fc.weight
    assert torch.equal(layer.weight, original.qdata)
    assert torch.equal(layer.scale, original.scale.reshape(-1).float())


def test_mode_the_platform_lacks_is_a_clear_error(trained):
    loaded = load_model(trained)
    if not torch.cuda.is_available():
        with pytest.raises(BoyaError, match="fp8-dynamic needs an NVIDIA GPU"):
            quantize_model(loaded.model, "fp8-dynamic")
    with pytest.raises(BoyaError, match="unknown quantization mode 'int3'"):
        quantize_model(loaded.model, "int3")


def test_torch_ao_backend_cannot_be_saved(trained, tmp_path):
    loaded = load_model(trained)
    info = quantize_model(loaded.model, "int8-dynamic", backend="torch.ao")
    assert info["backend"] == "torch.ao"
    with pytest.raises(BoyaError, match="cannot be saved"):
        save_optimized(loaded, tmp_path / "x", details={})
    assert not (tmp_path / "x").exists()
