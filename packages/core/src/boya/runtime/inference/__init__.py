"""``boya.runtime.inference``: serve the models the runtime trained, smaller and faster.

- :mod:`.engine`: :func:`load_model` (a ``boya train`` run, a ``boya optimize`` directory, a local
  Hugging Face model or a cached hub id), :class:`Engine` (batched forward passes, p50/p95 latency);
- :mod:`.quantize`: int8 (dynamic, weight-only) for linear layers and embeddings, via torchao;
- :mod:`.int8_linear`: int8-dynamic linear layers on fbgemm kernels, one custom op (no graph breaks compiled);
- :mod:`.prune`: global magnitude and structured (heads, MLP channels) pruning, sparsity per layer;
- :mod:`.saved_model`: save/load optimized models (int8 parts, bitmask-sparse tensors) in safetensors;
- :mod:`.generate`: KV-cache generation, static cache + compile, sampling, stop strings, streaming;
- :mod:`.export`: ``torch.export`` and ONNX, each checked against the eager model.

Importing this package is cheap; the names below load torch on first use.
"""

import importlib

_EXPORTS = {
    "load_model": "engine",
    "LoadedModel": "engine",
    "Engine": "engine",
    "LatencyStats": "engine",
    "quantize_model": "quantize",
    "prune_model": "prune",
    "sparsity_report": "prune",
    "save_optimized": "saved_model",
    "load_optimized": "saved_model",
    "generate_text": "generate",
    "stream_text": "generate",
    "GenerationSettings": "generate",
    "export_program": "export",
    "export_onnx": "export",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
