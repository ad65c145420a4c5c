"""Export a loaded model's ``input_ids -> logits`` for edge targets, and check it against eager PyTorch.

- :func:`export_program`: ``torch.export`` (an ``ExportedProgram`` saved as ``.pt2``, loadable
  with ``torch.export.load`` and no Python model code);
- :func:`export_onnx`: ONNX through the dynamo exporter (needs ``onnx``/``onnxscript``), run back
  with onnxruntime for the parity check.

Batch size and sequence length stay dynamic (up to the model's context). Parity is measured on
inputs of another shape than the one used to trace, so a shape baked in by mistake shows up.
"""

from dataclasses import dataclass
from pathlib import Path

import torch

from ...errors import BoyaError
from .engine import LoadedModel, eager_forward


@dataclass
class ExportResult:
    path: Path
    format: str
    size_bytes: int
    max_abs_diff: float  # largest |exported - eager| logit on the parity inputs
    max_abs_logit: float


def _inputs(loaded: LoadedModel, batch: int, length: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    vocab = loaded.model.get_input_embeddings().num_embeddings
    return torch.randint(0, vocab, (batch, min(length, loaded.context_length)), generator=generator)


def _dynamic_shapes(loaded: LoadedModel) -> dict:
    from torch.export import Dim

    return {
        "input_ids": {0: Dim("batch", min=1, max=1024), 1: Dim("length", min=2, max=loaded.context_length)}
    }


def _check_float(loaded: LoadedModel, what: str) -> None:
    if loaded.info.get("quantization"):
        raise BoyaError(
            f"{what} export takes a float model; export before quantizing (pruned models are fine)"
        )


def export_program(loaded: LoadedModel, out_path: str | Path) -> ExportResult:
    """``torch.export`` the model to ``out_path`` (.pt2) and compare the reloaded program with eager."""
    _check_float(loaded, "torch.export")
    module = eager_forward(loaded.model)
    with torch.no_grad():
        program = torch.export.export(
            module, (_inputs(loaded, 2, 16, 0),), dynamic_shapes=_dynamic_shapes(loaded)
        )
    out_path = Path(out_path)
    torch.export.save(program, out_path)
    check = _inputs(loaded, 3, 24, 1)
    with torch.no_grad():
        expected = module(check)
        got = torch.export.load(out_path).module()(check)
    return ExportResult(
        out_path,
        "torch.export",
        out_path.stat().st_size,
        float((got - expected).abs().max()),
        float(expected.abs().max()),
    )


def export_onnx(loaded: LoadedModel, out_path: str | Path) -> ExportResult:
    """Export to ONNX at ``out_path`` (weights inside the file) and compare onnxruntime's logits with eager."""
    _check_float(loaded, "ONNX")
    try:
        import onnxruntime
        import onnxscript  # noqa: F401 - the dynamo exporter needs it
    except ImportError:
        raise BoyaError(
            "ONNX export needs onnx, onnxscript and onnxruntime: pip install 'boya-core[inference]'"
        ) from None
    module = eager_forward(loaded.model)
    with torch.no_grad():
        program = torch.onnx.export(
            module,
            (_inputs(loaded, 2, 16, 0),),
            input_names=["input_ids"],
            output_names=["logits"],
            dynamic_shapes=_dynamic_shapes(loaded),
            dynamo=True,
            verbose=False,
        )
    out_path = Path(out_path)
    program.save(str(out_path), external_data=False)
    check = _inputs(loaded, 3, 24, 1)
    with torch.no_grad():
        expected = module(check)
    session = onnxruntime.InferenceSession(str(out_path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"input_ids": check.numpy()})
    diff = float((torch.from_numpy(got) - expected).abs().max())
    return ExportResult(out_path, "onnx", out_path.stat().st_size, diff, float(expected.abs().max()))
