"""Prune a loaded model in place and report its sparsity per layer.

- ``unstructured``: global magnitude pruning (``torch.nn.utils.prune.global_unstructured`` with L1)
  over the weight matrices of every linear layer and embedding, so the smallest weights of the
  whole model go first; the pruning is then made permanent (``prune.remove``).
- ``heads`` / ``channels`` (structured, GPT-2 layout): in every block, the attention heads, or the
  MLP hidden units, with the smallest L2 norm (over all the weights that feed and read them) are
  zeroed entirely, which removes exactly their contribution.

Zeros alone do not shrink a file; :mod:`.saved_model` stores sparse weights as a bitmask plus the
kept values, which does.
"""

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from ...errors import BoyaError

METHODS = ("unstructured", "heads", "channels")


def prunable_weights(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of each linear layer and embedding, a shared (tied) weight listed once."""
    seen, found = set(), []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear | nn.Embedding) and id(module.weight) not in seen:
            if type(module.weight) is not nn.Parameter:
                raise BoyaError("prune before quantizing: this model's weights are already quantized")
            seen.add(id(module.weight))
            found.append((name, module))
    return found


def prune_model(model: nn.Module, amount: float, method: str = "unstructured") -> list[dict]:
    """Zero ``amount`` (0..1) of the weights by ``method``; return :func:`sparsity_report` afterwards."""
    if not 0.0 < amount < 1.0:
        raise BoyaError(f"prune amount must be between 0 and 1 (exclusive), got {amount}")
    if method not in METHODS:
        raise BoyaError(f"unknown pruning method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "unstructured":
        targets = [(module, "weight") for _, module in prunable_weights(model)]
        torch_prune.global_unstructured(targets, pruning_method=torch_prune.L1Unstructured, amount=amount)
        for module, name in targets:
            torch_prune.remove(module, name)
    else:
        blocks = _gpt2_blocks(model)
        with torch.no_grad():
            for block in blocks:
                (_zero_heads if method == "heads" else _zero_channels)(block, amount)
    return sparsity_report(model)


def _gpt2_blocks(model: nn.Module) -> list[nn.Module]:
    blocks = [
        m for m in model.modules() if hasattr(m, "attn") and hasattr(m, "mlp") and hasattr(m.attn, "c_attn")
    ]
    if not blocks or not all(
        isinstance(b.attn.c_attn, nn.Linear) and isinstance(b.mlp.c_fc, nn.Linear) for b in blocks
    ):
        raise BoyaError(
            "structured pruning (heads, channels) supports GPT-2-style models; use --prune-method unstructured"
        )
    return blocks


def _lowest(scores: torch.Tensor, amount: float) -> torch.Tensor:
    count = min(len(scores) - 1, round(amount * len(scores)))  # always keep at least one
    return torch.argsort(scores)[:count]


def _zero_heads(block: nn.Module, amount: float) -> None:
    """Zero whole heads: their q, k, v rows (+ biases) and the output projection's columns that read them."""
    c_attn, c_proj = block.attn.c_attn, block.attn.c_proj
    n_embd = c_proj.weight.shape[0]
    n_head = block.attn.num_heads
    head_dim = n_embd // n_head
    qkv = c_attn.weight.view(3, n_head, head_dim, n_embd)
    proj = c_proj.weight.view(n_embd, n_head, head_dim)
    scores = qkv.pow(2).sum(dim=(0, 2, 3)) + proj.pow(2).sum(dim=(0, 2))
    for head in _lowest(scores, amount).tolist():
        qkv[:, head] = 0
        c_attn.bias.view(3, n_head, head_dim)[:, head] = 0
        proj[:, head] = 0


def _zero_channels(block: nn.Module, amount: float) -> None:
    """Zero MLP hidden units: their row of the first layer (+ bias) and column of the second."""
    c_fc, c_proj = block.mlp.c_fc, block.mlp.c_proj
    scores = c_fc.weight.pow(2).sum(dim=1) + c_proj.weight.pow(2).sum(dim=0)
    channels = _lowest(scores, amount)
    c_fc.weight[channels] = 0
    c_fc.bias[channels] = 0
    c_proj.weight[:, channels] = 0


def sparsity_report(model: nn.Module) -> list[dict]:
    """One row per weight matrix (``name``, ``shape``, ``zeros``, ``sparsity``), then a ``total`` row."""
    rows, zeros, numel = [], 0, 0
    for name, module in prunable_weights(model):
        weight = module.weight.detach()
        n_zero = int((weight == 0).sum())
        rows.append(
            {
                "name": f"{name}.weight",
                "shape": list(weight.shape),
                "zeros": n_zero,
                "sparsity": n_zero / weight.numel(),
            }
        )
        zeros, numel = zeros + n_zero, numel + weight.numel()
    rows.append({"name": "total", "shape": [numel], "zeros": zeros, "sparsity": zeros / max(numel, 1)})
    return rows
