"""The directory ``boya optimize`` writes, and loading it back exactly as it was saved.

Layout of ``DIR``:

- ``model.safetensors``: every tensor of the model, stored once (tied weights once). Quantized
  weights are torchao tensors flattened into their plain parts (``qdata`` int8, ``scale``...),
  with torchao's description of each in the safetensors header, so loading rebuilds the
  quantized tensors without quantizing again. A tensor that is mostly zeros (pruned) is stored
  as ``NAME::mask`` (one bit per element, packed in uint8) + ``NAME::values`` (the non-zeros,
  copied so no larger buffer is saved with them) whenever that is smaller than dense;
- ``config.json`` (+ the tokenizer files of a Hugging Face model): the architecture;
- ``boya_inference.json``: what was done (quantization, pruning, sparsity per layer), which
  tensors are bitmask-encoded, which weights are tied, and where the model came from.

No pickle anywhere: safetensors and JSON only.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import BoyaError
from .engine import OPTIMIZED_MANIFEST, LoadedModel, context_length_of, linear_from_conv1d
from .int8_linear import Int8DynamicLinear
from .quantize import import_torchao
from .tokenizer import ByteTokenizer

WEIGHTS = "model.safetensors"
FORMAT_VERSION = 1


def save_optimized(loaded: LoadedModel, out_dir: str | Path, *, details: dict) -> Path:
    """Write ``loaded`` to the new or empty directory ``out_dir``; ``details`` goes into the manifest."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BoyaError(f"{out} already exists and is not an empty directory; choose a new --out")
    model = loaded.model
    if any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules()):
        raise BoyaError("models quantized with the torch.ao backend cannot be saved; quantize with torchao")
    if any(isinstance(m, Int8DynamicLinear) for m in model.modules()):
        raise BoyaError(
            "this int8 model runs on fbgemm kernels and cannot be saved again; save the torchao-quantized model"
        )
    state, tied = _state_without_aliases(model)
    metadata = {}
    if any(_is_subclass(t) for t in state.values()):
        import_torchao()
        from torchao.prototype.safetensors.safetensors_support import flatten_tensor_state_dict

        state, metadata = flatten_tensor_state_dict(state)
    tensors, sparse = encode_sparse({name: t.detach().cpu().contiguous() for name, t in state.items()})
    manifest = {
        "format": "boya-inference",
        "version": FORMAT_VERSION,
        "architecture": type(model).__name__,
        "linear_from_conv1d": True,
        "tokenizer": "bytes" if isinstance(loaded.tokenizer, ByteTokenizer) else "huggingface",
        "tied": tied,
        "sparse_tensors": sparse,
        "source": loaded.source,
        "source_info": {k: v for k, v in loaded.info.items() if k not in ("quantization", "pruning")},
        **details,
    }
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        save_file(tensors, str(tmp / WEIGHTS), metadata=metadata or None)
        model.config.save_pretrained(tmp)
        if manifest["tokenizer"] == "huggingface":
            loaded.tokenizer.save_pretrained(tmp)
        (tmp / OPTIMIZED_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def load_optimized(directory: str | Path) -> LoadedModel:
    """Rebuild the model ``save_optimized`` wrote: same tensors, quantized ones as quantized tensors."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM

    directory = Path(directory)
    try:
        manifest = json.loads((directory / OPTIMIZED_MANIFEST).read_text())
    except (OSError, ValueError):
        raise BoyaError(f"{directory / OPTIMIZED_MANIFEST} is not readable JSON") from None
    if manifest.get("format") != "boya-inference" or manifest.get("version") != FORMAT_VERSION:
        raise BoyaError(
            f"{directory} was written by another version of boya optimize (format {manifest.get('version')})"
        )
    try:
        with safe_open(str(directory / WEIGHTS), framework="pt") as stored:
            metadata = stored.metadata() or {}
        tensors = load_file(str(directory / WEIGHTS))
    except (SafetensorError, OSError) as error:
        raise BoyaError(f"{directory / WEIGHTS} is not a readable safetensors file ({error})") from None
    state = decode_sparse(tensors, manifest["sparse_tensors"])
    if "tensor_names" in metadata:  # written by torchao's flatten: quantized tensors to rebuild
        if import_torchao() is None:
            raise BoyaError(
                f"{directory} holds torchao-quantized weights: pip install 'boya-core[inference]'"
            )
        from torchao.prototype.safetensors.safetensors_support import unflatten_tensor_state_dict

        state, leftover = unflatten_tensor_state_dict(state, metadata)
        state.update(leftover)
    config = AutoConfig.from_pretrained(directory, local_files_only=True)
    model = AutoModelForCausalLM.from_config(config)
    if manifest["linear_from_conv1d"]:
        linear_from_conv1d(model)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    missing = sorted(set(missing) - set(manifest["tied"]))
    if missing or unexpected:
        raise BoyaError(
            f"{directory / WEIGHTS} does not match its config.json: {', '.join((missing + unexpected)[:5])}"
        )
    for alias, target in manifest["tied"].items():
        _set_parameter(model, alias, model.get_parameter(target))
    if manifest["tokenizer"] == "bytes":
        tokenizer = ByteTokenizer()
    else:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    info = {"format": "boya-inference", **{k: manifest.get(k) for k in ("quantization", "pruning", "source")}}
    return LoadedModel(model.eval(), tokenizer, str(directory), context_length_of(config), info)


def _is_subclass(tensor: torch.Tensor) -> bool:
    return type(tensor) not in (torch.Tensor, nn.Parameter)


def _state_without_aliases(model: nn.Module) -> tuple[dict, dict]:
    """The state dict with each shared tensor once, and ``{alias name: kept name}`` for the others."""
    first_name, tied = {}, {}
    for name, param in model.named_parameters(remove_duplicate=False):
        if id(param) in first_name:
            tied[name] = first_name[id(param)]
        else:
            first_name[id(param)] = name
    state = {name: tensor for name, tensor in model.state_dict().items() if name not in tied}
    return state, tied


def _set_parameter(model: nn.Module, name: str, param: nn.Parameter) -> None:
    module_name, _, attribute = name.rpartition(".")
    setattr(model.get_submodule(module_name), attribute, param)


def encode_sparse(tensors: dict[str, torch.Tensor], min_numel: int = 1024) -> tuple[dict, dict]:
    """Replace each tensor that a bitmask + its non-zero values stores in fewer bytes than dense."""
    out, sparse = {}, {}
    for name, tensor in tensors.items():
        nonzero = tensor != 0
        n_kept = int(nonzero.sum())
        dense_bytes = tensor.numel() * tensor.element_size()
        sparse_bytes = (tensor.numel() + 7) // 8 + n_kept * tensor.element_size()
        if tensor.numel() < min_numel or sparse_bytes >= dense_bytes:
            out[name] = tensor
            continue
        out[f"{name}::mask"] = torch.from_numpy(np.packbits(nonzero.numpy().ravel()))
        out[f"{name}::values"] = tensor[nonzero].clone()
        sparse[name] = {"shape": list(tensor.shape)}
    return out, sparse


def decode_sparse(tensors: dict[str, torch.Tensor], sparse: dict) -> dict[str, torch.Tensor]:
    """Inverse of :func:`encode_sparse`: dense tensors with the zeros back in place."""
    out = {name: t for name, t in tensors.items() if not name.endswith(("::mask", "::values"))}
    for name, spec in sparse.items():
        shape = spec["shape"]
        numel = int(np.prod(shape)) if shape else 1
        mask = torch.from_numpy(np.unpackbits(tensors[f"{name}::mask"].numpy(), count=numel).astype(bool))
        values = tensors[f"{name}::values"]
        dense = torch.zeros(numel, dtype=values.dtype)
        dense[mask] = values
        out[name] = dense.view(shape)
    return out
