"""Quantize a loaded model in place: linear layers **and** embeddings, so the whole model shrinks.

Modes (torchao tensor subclasses, so the quantized weights save and load as plain tensors, see
:mod:`.saved_model`):

- ``int8-dynamic``: int8 weights (per output channel) and int8 activations quantized per token at
  run time. On CPU it pays off only under ``torch.compile`` (inductor fuses it into int8 GEMMs);
  in eager mode torchao's int8 matmul is slow on CPUs.
- ``int8-weight``: int8 weights, float activations: the most accurate int8 mode.
- ``fp8-dynamic``: float8 weights and activations; needs an NVIDIA GPU with compute capability 8.9+.

Embeddings always get int8 per-row weights (a looked-up row is dequantized with its own scale).
When the output layer shares its weight with the input embedding (GPT-2), the one int8 tensor
serves both, and is stored once.

On x86 CPUs a saved int8-dynamic model runs its linear layers on PyTorch's fbgemm/oneDNN kernels
(:func:`use_torch_ao_kernels`, the same int8 weights), which are fast in eager mode.
``backend="torch.ao"`` (used automatically for ``int8-dynamic`` when torchao is not installed)
quantizes with PyTorch's older, deprecated ``quantize_dynamic`` instead: linear layers only
(embeddings stay float), and such a model cannot be saved in our format.
"""

import logging

import torch
from torch import nn

from ...errors import BoyaError

MODES = {
    "int8-dynamic": "int8 weights + per-token int8 activations; fastest compiled",
    "int8-weight": "int8 weights, float activations; most accurate",
    "fp8-dynamic": "float8 weights + activations; NVIDIA GPU with compute capability 8.9+",
}
BACKENDS = ("auto", "torchao", "torch.ao")


def import_torchao():
    """Import torchao quietly (it warns about its optional CUDA kernels on CPU-only machines), or None."""
    logging.getLogger("torchao").setLevel(logging.ERROR)
    try:
        import torchao
    except ImportError:
        return None
    return torchao


def resolve_backend(mode: str, backend: str = "auto", device: str = "cpu") -> str:
    """Check that ``mode`` can run here with ``backend``; return the backend to use or raise a BoyaError."""
    if mode not in MODES:
        raise BoyaError(f"unknown quantization mode {mode!r}; choose one of {', '.join(MODES)}")
    if backend not in BACKENDS:
        raise BoyaError(f"unknown quantization backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if mode == "fp8-dynamic":
        capability = torch.cuda.get_device_capability() if torch.cuda.is_available() else None
        if not device.startswith("cuda") or capability is None or capability < (8, 9):
            where = f"GPU compute capability {capability[0]}.{capability[1]}" if capability else "no CUDA GPU"
            raise BoyaError(
                f"fp8-dynamic needs an NVIDIA GPU with compute capability 8.9+ (here: {where}); use int8-dynamic or int8-weight"
            )
    if backend == "torch.ao" or (backend == "auto" and import_torchao() is None):
        if mode != "int8-dynamic":
            raise BoyaError(f"{mode} needs torchao: pip install 'boya-core[inference]'")
        if torch_ao_engine() is None or device != "cpu":
            raise BoyaError(
                "torch.ao dynamic quantization needs a CPU quantized engine (x86/fbgemm), none here; install torchao"
            )
        return "torch.ao"
    if import_torchao() is None:
        raise BoyaError("torchao is not installed: pip install 'boya-core[inference]'")
    return "torchao"


def quantize_model(model: nn.Module, mode: str = "int8-dynamic", *, backend: str = "auto") -> dict:
    """Quantize ``model`` in place; return what was done (mode, backend, number of layers and embeddings)."""
    device = str(next(model.parameters()).device)
    backend = resolve_backend(mode, backend, device)
    if backend == "torch.ao":
        return _quantize_torch_ao(model)
    return _quantize_torchao(model, mode)


def _torchao_config(mode: str):
    from torchao.quantization import (
        Float8DynamicActivationFloat8WeightConfig,
        Int8DynamicActivationInt8WeightConfig,
        Int8WeightOnlyConfig,
        PerRow,
    )
    from torchao.utils import should_reduce_range

    if mode == "int8-dynamic":
        # without VNNI, the CPU's u8 x s8 multiply-add can overflow: torchao then uses 7-bit ranges
        return Int8DynamicActivationInt8WeightConfig(reduce_range=should_reduce_range(torch.device("cpu")))
    if mode == "int8-weight":
        return Int8WeightOnlyConfig()
    return Float8DynamicActivationFloat8WeightConfig(granularity=PerRow())


def _quantize_torchao(model: nn.Module, mode: str) -> dict:
    import_torchao()
    from torchao.quantization import PerRow, quantize_
    from torchao.quantization.quantize_.workflows.int8.int8_tensor import Int8Tensor

    input_embedding, output_layer = model.get_input_embeddings(), model.get_output_embeddings()
    tied = output_layer is not None and output_layer.weight is input_embedding.weight
    share_output = tied and mode != "fp8-dynamic"  # an fp8 tensor cannot serve embedding lookups
    linear = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    skip = {id(output_layer)} if tied and not share_output else set()
    quantize_(
        model,
        _torchao_config(mode),
        filter_fn=lambda module, fqn: isinstance(module, nn.Linear) and id(module) not in skip,
    )
    embeddings = 0
    for module in model.modules():
        if not isinstance(module, nn.Embedding):
            continue
        if module is input_embedding and share_output:
            # the int8 output weight, per row = per token: one tensor for both
            module.weight = output_layer.weight
        else:
            weight = Int8Tensor.from_hp(module.weight.detach(), granularity=PerRow())
            module.weight = nn.Parameter(weight, requires_grad=False)
        embeddings += 1
    return {
        "mode": mode,
        "backend": "torchao",
        "linear_layers": len(linear) - len(skip),
        "embeddings": embeddings,
        "tied": tied,
    }


def _quantize_torch_ao(model: nn.Module) -> dict:
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    linear = sum(isinstance(module, nn.Linear) for module in model.modules())
    quantize_dynamic(model, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True)
    return {
        "mode": "int8-dynamic",
        "backend": "torch.ao",
        "linear_layers": linear,
        "embeddings": 0,
        "tied": False,
    }


def torch_ao_engine() -> str | None:
    """The CPU quantized engine PyTorch's dynamic int8 kernels would use here, or None."""
    engines = torch.backends.quantized.supported_engines
    return next((engine for engine in ("x86", "fbgemm", "onednn") if engine in engines), None)


def use_torch_ao_kernels(model: nn.Module) -> int:
    """Run int8-dynamic linear layers on PyTorch's own dynamic int8 kernels (fbgemm/oneDNN); return how many.

    The int8 weights and per-channel scales are reused as they are (nothing is quantized again);
    activations are quantized per batch at run time with the 7-bit range that is safe without
    VNNI. On x86 CPUs, in eager mode, these kernels were 1.3-1.6x faster than fp32 where
    torchao's int8 matmul (``torch._int_mm``) was about 20x slower (a CPU without VNNI).
    Embeddings keep their torchao int8 weights. The layers are :class:`.int8_linear.Int8DynamicLinear`,
    whose kernel call ``torch.compile`` keeps inside one graph (no break per layer).
    """
    from .int8_linear import Int8DynamicLinear

    engine = torch_ao_engine()
    if engine is None:
        raise BoyaError(
            "this PyTorch build has no x86/fbgemm/oneDNN quantized engine for torch.ao int8 kernels"
        )
    torch.backends.quantized.engine = engine
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            weight = getattr(child, "weight", None)
            if not isinstance(child, nn.Linear) or getattr(weight, "act_quant_kwargs", None) is None:
                continue
            setattr(parent, name, Int8DynamicLinear(weight.qdata, weight.scale, child.bias))
            replaced += 1
    return replaced
