"""Tensor-parallel plan for transformers' ``GPT2LMHeadModel``, whose attention and MLP use ``Conv1D``.

DTensor's ``ColwiseParallel``/``RowwiseParallel`` handle ``nn.Linear`` only. ``Conv1D`` is a Linear
with its weight stored transposed, ``(in, out)``, so the styles here shard its weight themselves
and compute on the local shards, Megatron-style:

- ``mlp.c_fc`` column-parallel (weight ``Shard(1)``, bias ``Shard(0)``), ``mlp.c_proj`` row-parallel
  (weight ``Shard(0)``, bias replicated and added once after the sum over ranks);
- ``attn.c_attn`` is fused: its columns are ``[q | k | v]``, so an even column split would hand rank 0
  all of q and half of k. Its weight is viewed as ``(in, 3, embed)`` and sharded on the last dimension
  (bias ``(3, embed)``), so each rank holds the q, k and v columns of its own heads; the attention's
  ``split_size`` becomes the local width. A reshape, not a permutation: DCP stores that 3-D layout and
  :func:`hf_layout` turns the gathered full tensors back into transformers' ``(in, 3*embed)`` for export.
  (A ``_StridedShard`` placement would keep the 2-D shape, but DCP cannot save it: overlapping chunks.)
- embeddings and the tied head vocabulary-sharded, LayerNorms replicated, as in the core GPT's plan.

The sums use DTensor redistributions, so their backward passes are torch's: the input of a
column-parallel layer is replicated forward and all-reduced backward ("f"), the output of a
row-parallel layer all-reduced forward and passed through backward ("g").
"""

import torch
from torch import nn
from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
from torch.distributed.tensor.parallel import ColwiseParallel, ParallelStyle, RowwiseParallel

from ...errors import BoyaError

FUSED_QKV = 3


def is_hf_gpt2(model: nn.Module) -> bool:
    try:
        from transformers import GPT2LMHeadModel
    except ImportError:
        return False
    return isinstance(model, GPT2LMHeadModel)


def _replicated_input(x: torch.Tensor, mesh) -> torch.Tensor:
    """Megatron's "f": ``x`` unchanged forward; backward, each rank's partial input gradient summed over ranks."""
    return DTensor.from_local(x, mesh, [Replicate()], run_check=False).to_local(grad_placements=[Partial()])


def _summed_output(partial: torch.Tensor, mesh) -> torch.Tensor:
    """Megatron's "g": the ranks' partial outputs summed forward; backward, the gradient passed through."""
    return (
        DTensor.from_local(partial, mesh, [Partial()], run_check=False)
        .redistribute(mesh, [Replicate()])
        .to_local()
    )


class ColwiseConv1D(nn.Module):
    """A ``Conv1D`` whose output columns are split over the TP ranks; ``parts > 1`` splits each of ``parts``
    fused column blocks (q, k, v) separately. Output: this rank's columns, in block order."""

    def __init__(self, conv: nn.Module, mesh, parts: int = 1):
        super().__init__()
        self.mesh = mesh
        n_in, n_out = conv.weight.shape
        if parts == 1:
            weight, bias, placements = conv.weight, conv.bias, ([Shard(1)], [Shard(0)])
        else:
            weight, bias = (
                conv.weight.view(n_in, parts, n_out // parts),
                conv.bias.view(parts, n_out // parts),
            )
            placements = ([Shard(2)], [Shard(1)])
        self.weight = nn.Parameter(distribute_tensor(weight.detach(), mesh, placements[0]))
        self.bias = nn.Parameter(distribute_tensor(bias.detach(), mesh, placements[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.weight.to_local(), self.bias.to_local()
        return torch.addmm(
            bias.flatten(), _replicated_input(x, self.mesh).flatten(0, -2), weight.flatten(1)
        ).view(*x.shape[:-1], -1)


class RowwiseConv1D(nn.Module):
    """A ``Conv1D`` whose input rows are split over the TP ranks: takes this rank's input slice, returns the full sum."""

    def __init__(self, conv: nn.Module, mesh):
        super().__init__()
        self.mesh = mesh
        self.weight = nn.Parameter(distribute_tensor(conv.weight.detach(), mesh, [Shard(0)]))
        self.bias = nn.Parameter(distribute_tensor(conv.bias.detach(), mesh, [Replicate()]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        partial = x.flatten(0, -2) @ self.weight.to_local()
        return (_summed_output(partial, self.mesh) + self.bias.to_local()).view(*x.shape[:-1], -1)


class GPT2AttentionParallel(ParallelStyle):
    """A ``GPT2Attention`` split by heads: fused q/k/v column-parallel per head, output projection row-parallel."""

    def _apply(self, module: nn.Module, mesh) -> nn.Module:
        if getattr(module, "is_cross_attention", False):
            raise BoyaError("the GPT-2 tensor-parallel plan covers self-attention only, not cross-attention")
        module.c_attn = ColwiseConv1D(module.c_attn, mesh, parts=FUSED_QKV)
        module.c_proj = RowwiseConv1D(module.c_proj, mesh)
        module.split_size = module.embed_dim // mesh.size()  # q, k, v of the local heads
        return module


class GPT2MLPParallel(ParallelStyle):
    """A ``GPT2MLP``: ``c_fc`` column-parallel, ``c_proj`` row-parallel (the activation runs on local columns)."""

    def _apply(self, module: nn.Module, mesh) -> nn.Module:
        module.c_fc = ColwiseConv1D(module.c_fc, mesh)
        module.c_proj = RowwiseConv1D(module.c_proj, mesh)
        return module


def hf_gpt2_plan(model: nn.Module) -> dict:
    from .tp import Replicated

    plan = {
        "transformer.wte": RowwiseParallel(input_layouts=Replicate()),
        "transformer.wpe": RowwiseParallel(input_layouts=Replicate()),
        "transformer.ln_f": Replicated(),
        "lm_head": ColwiseParallel(output_layouts=Replicate()),
    }
    for index in range(len(model.transformer.h)):
        prefix = f"transformer.h.{index}"
        plan.update(
            {
                f"{prefix}.ln_1": Replicated(),
                f"{prefix}.ln_2": Replicated(),
                f"{prefix}.attn": GPT2AttentionParallel(),
                f"{prefix}.mlp": GPT2MLPParallel(),
            }
        )
    return plan


def hf_layout(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Full (gathered) weights of a TP-sharded GPT-2 in transformers' layout: fused q/k/v back to 2-D."""
    out = {}
    for key, value in tensors.items():
        if key.endswith(("attn.c_attn.weight", "attn.c_attn.bias")):
            value = value.flatten(-2)
        out[key] = value
    return out
