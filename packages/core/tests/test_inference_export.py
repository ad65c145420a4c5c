"""Export for edge targets: the exported program and the ONNX file give the eager model's logits."""

import pytest
from boya.errors import BoyaError
from boya.runtime.inference import export_onnx, export_program, load_model, quantize_model


@pytest.fixture(scope="module")
def loaded(tiny_run):
    """Parity does not need a trained model: a seeded tiny core GPT saved as a boya train run would be."""
    return load_model(tiny_run)


@pytest.mark.slow
def test_torch_export_parity(loaded, tmp_path):
    result = export_program(loaded, tmp_path / "model.pt2")
    assert result.path.stat().st_size == result.size_bytes > 0
    assert result.max_abs_diff < 1e-5 * max(1.0, result.max_abs_logit)


@pytest.mark.slow
def test_onnx_parity(loaded, tmp_path):
    pytest.importorskip("onnxruntime")
    result = export_onnx(loaded, tmp_path / "model.onnx")
    assert result.max_abs_diff < 1e-4 * max(1.0, result.max_abs_logit)


def test_quantized_models_are_refused(tmp_path, loaded):
    pytest.importorskip("torchao")
    quantized = load_model(loaded.source)
    quantized.info["quantization"] = quantize_model(quantized.model, "int8-weight")
    with pytest.raises(BoyaError, match="export before quantizing"):
        export_program(quantized, tmp_path / "q.pt2")
