"""The int8-dynamic model on fbgemm kernels compiles to one graph and computes what eager does."""

import pytest
import torch
from boya.errors import BoyaError
from boya.runtime.fusion import compile_counts
from boya.runtime.inference import int8_linear, load_model, quantize_model, save_optimized
from boya.runtime.inference.benchmark import eval_batches
from boya.runtime.inference.engine import compiled_forward, eager_forward
from boya.runtime.inference.int8_linear import Int8DynamicLinear, linear_int8_dynamic
from boya.runtime.inference.quantize import torch_ao_engine

pytest.importorskip("torchao")
pytestmark = pytest.mark.skipif(torch_ao_engine() is None, reason="no fbgemm/oneDNN quantized engine")


@pytest.fixture(scope="module")
def int8_model(trained_tiny_lm, tmp_path_factory):
    loaded = load_model(trained_tiny_lm, threads=1)
    info = quantize_model(loaded.model, "int8-dynamic")
    saved = save_optimized(loaded, tmp_path_factory.mktemp("int8") / "q", details={"quantization": info})
    return load_model(saved, int8_kernels="torch.ao"), loaded.model


def _no_packing(*tensors):
    raise AssertionError("an int8 weight was packed again at call time")


def test_compiled_int8_model_is_one_graph_and_matches_eager(int8_model, monkeypatch):
    reloaded, _ = int8_model
    batches = eval_batches(reloaded, n_batches=2)
    eager = eager_forward(reloaded.model)
    torch._dynamo.reset()
    before = compile_counts()
    compiled = compiled_forward(reloaded.model)
    monkeypatch.setattr(int8_linear, "_pack", _no_packing)  # packed at load time, never again
    with torch.inference_mode():
        for batch in batches:
            # inductor fuses the float ops around each int8 call, so an activation now and then lands
            # one quantization step away: logits agree to ~1e-3, not bit for bit
            torch.testing.assert_close(compiled(batch), eager(batch), rtol=1e-3, atol=1e-2)
    after = compile_counts()
    assert after["graph_breaks"] == before["graph_breaks"]
    assert after["graphs"] - before["graphs"] == 1


def test_layers_use_the_saved_int8_weights_packed_once(int8_model):
    reloaded, quantized = int8_model
    layer = reloaded.model.transformer.h[0].mlp.c_fc
    assert isinstance(layer, Int8DynamicLinear)
    assert torch.equal(layer.weight, quantized.transformer.h[0].mlp.c_fc.weight.qdata)
    x = torch.randn(3, 5, layer.in_features)
    cached = layer(x)
    copy = layer.weight.clone()  # not in the packed cache: packed for this call only, same answer
    assert torch.equal(linear_int8_dynamic(x, copy, layer.scale, layer.bias), cached)
    reference = x @ (layer.weight.float() * layer.scale[:, None]).T + layer.bias
    torch.testing.assert_close(cached, reference, rtol=0.05, atol=0.05)


def test_model_on_fbgemm_kernels_cannot_be_saved_again(int8_model, tmp_path):
    reloaded, _ = int8_model
    with pytest.raises(BoyaError, match="runs on fbgemm kernels and cannot be saved again"):
        save_optimized(reloaded, tmp_path / "again", details={})
    assert not (tmp_path / "again").exists()


def test_a_weight_changed_in_place_is_not_served_stale():
    torch.manual_seed(0)
    weight, scale, bias = (
        torch.randint(-127, 128, (8, 16), dtype=torch.int8),
        torch.rand(8) / 50,
        torch.randn(8),
    )
    layer = Int8DynamicLinear(weight.clone(), scale, bias)
    x = torch.randn(4, 16)
    before = layer(x)
    layer.weight.copy_(-weight)
    torch.testing.assert_close(layer(x), Int8DynamicLinear(-weight, scale, bias)(x))
    assert not torch.allclose(layer(x), before)
