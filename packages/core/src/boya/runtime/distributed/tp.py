"""``--strategy tp`` and ``fsdp+tp``: DTensor tensor parallelism from per-model-family plans, and a small helper.

A plan maps module paths to DTensor ``ParallelStyle``s (``ColwiseParallel`` splits a Linear's outputs,
``RowwiseParallel`` its inputs and sums the partial results). Plans come from the
``register_tp_plans(register)`` hook: ``register(matches, plan)`` with ``matches(model) -> bool`` and
``plan(model) -> dict``, and optionally ``export(tensors) -> tensors`` when the plan changes parameter shapes
(the exported full weights must load into the unsharded model); the core registers the plans of its own GPT
and of transformers' GPT-2 (:mod:`.tp_hf_gpt2`) in ``boya.default_plugins.tp_plans``.
Tied weights (a head sharing the embedding matrix) are tied again after sharding when both
sides got the same sharding, as the GPT plan arranges (vocabulary-sharded embedding and head).

``fsdp+tp`` lays the processes out as a (dp, tp) mesh, neighbouring ranks in one TP group (on GPUs:
one machine, fast links), and applies FSDP across the dp dimension on top of the TP-sharded model.

For people writing their own layers, :class:`TensorParallel` is a thin layer over the same pieces::

    tp = TensorParallel(world_size=2)      # under torchrun
    fc1 = tp.split(nn.Linear(64, 256), "colwise")   # each rank: 128 output features
    fc2 = tp.split(nn.Linear(256, 64), "rowwise")   # each rank: 128 input features, outputs summed
    y = tp.all_reduce(partial_sum)                  # sum over the TP ranks (backward: identity)
"""

from pathlib import Path

import torch
from torch import nn
from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_module
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    ParallelStyle,
    RowwiseParallel,
    parallelize_module,
)

from ... import plugins
from ...errors import BoyaError
from .fsdp import apply_fsdp, mixed_precision_policy
from .launch import device_mesh, init_from_torchrun
from .process_group_strategy import ProcessGroupStrategy
from .sharded_checkpoint import export_safetensors


def registered_plans() -> list[tuple]:
    """``(matches, plan, export)`` of every registered plan (``export`` is ``None`` when shapes are unchanged)."""
    plans = []

    def register(matches, plan, export=None):
        plans.append((matches, plan, export))

    plugins.call_each("register_tp_plans", register=register)
    return plans


def plan_for(model: nn.Module) -> dict:
    return _registered_plan(model)[0]


def _registered_plan(model: nn.Module) -> tuple:
    """``(plan dict, export)`` of the first registered plan matching ``model``."""
    for matches, plan, export in registered_plans():
        if matches(model):
            return plan(model), export
    raise BoyaError(
        f"no tensor-parallel plan for {type(model).__module__}.{type(model).__qualname__}; a plugin registers one "
        "with the register_tp_plans hook, or use --strategy ddp or fsdp, which need none"
    )


class Replicated(ParallelStyle):
    """A whole module kept identical on every TP rank (LayerNorms): its parameters become replicated DTensors.

    Plain tensors in, plain tensors out; with every parameter a DTensor, the optimizer and the
    gradient clipping see one kind of tensor only.
    """

    def _apply(self, module: nn.Module, mesh) -> nn.Module:
        return distribute_module(module, mesh, input_fn=_replicate_inputs, output_fn=_local_outputs)


def _replicate_inputs(_module, args, mesh):
    return tuple(
        DTensor.from_local(arg, mesh, [Replicate()], run_check=False)
        if isinstance(arg, torch.Tensor) and not isinstance(arg, DTensor)
        else arg
        for arg in args
    )


def _local_outputs(_module, out, _mesh):
    return out.to_local() if isinstance(out, DTensor) else out


def gpt_plan(model: nn.Module) -> dict:
    """The core GPT: vocabulary-sharded embeddings and head, Megatron-style attention and MLP, replicated norms."""
    plan = {
        "wte": RowwiseParallel(input_layouts=Replicate()),
        "wpe": RowwiseParallel(input_layouts=Replicate()),
        "ln_f": Replicated(),
        "lm_head": ColwiseParallel(output_layouts=Replicate()),
    }
    for index in range(len(model.h)):
        prefix = f"h.{index}"
        plan.update(
            {
                f"{prefix}.ln1": Replicated(),
                f"{prefix}.ln2": Replicated(),
                f"{prefix}.attn.q": ColwiseParallel(),
                f"{prefix}.attn.k": ColwiseParallel(),
                f"{prefix}.attn.v": ColwiseParallel(),
                f"{prefix}.attn.o": RowwiseParallel(),
                f"{prefix}.mlp.fc1": ColwiseParallel(),
                f"{prefix}.mlp.fc2": RowwiseParallel(),
            }
        )
    return plan


def is_core_gpt(model: nn.Module) -> bool:
    from ..models.gpt import GPT

    return isinstance(model, GPT)


def _tie_groups(model: nn.Module) -> list[list[str]]:
    names: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), []).append(name)
    return [group for group in names.values() if len(group) > 1]


def _retie(model: nn.Module, groups: list[list[str]]) -> None:
    for first, *others in groups:
        kept = model.get_parameter(first)
        for name in others:
            owner, _, attr = name.rpartition(".")
            module = model.get_submodule(owner)
            if getattr(getattr(module, attr), "placements", None) != kept.placements:
                raise BoyaError(f"tied weights {first} and {name} were sharded differently by the TP plan")
            setattr(module, attr, kept)


def apply_tp(model: nn.Module, tp_mesh):
    """Parallelize ``model`` in place with its registered plan; return the plan's ``export`` (or ``None``)."""
    heads = getattr(getattr(model, "config", None), "n_head", None)
    if heads is not None and heads % tp_mesh.size():
        raise BoyaError(
            f"the model has {heads} attention heads: not divisible by the TP degree {tp_mesh.size()}"
        )
    groups = _tie_groups(model)
    plan, export = _registered_plan(model)
    parallelize_module(model, tp_mesh, plan)
    _retie(model, groups)
    return export


class TPStrategy(ProcessGroupStrategy):
    """``tp``: every process one TP rank. ``fsdp+tp``: a (dp, tp) mesh, FSDP over dp."""

    def __init__(self, env, config):
        with_fsdp = config.strategy == "fsdp+tp"
        tp = config.tp_size or (min(2, env.world_size) if with_fsdp else env.world_size)
        if env.world_size % tp:
            raise BoyaError(
                f"world size {env.world_size} is not divisible by the TP degree {tp}; "
                f"start a multiple of {tp} processes or pass another --tp-size"
            )
        dp = env.world_size // tp
        if dp > 1 and not with_fsdp:
            raise BoyaError(
                f"--strategy tp uses every process for TP ({env.world_size}), not {tp}; "
                "for data parallel groups of TP ranks use --strategy fsdp+tp"
            )
        self.mesh = device_mesh(env, (dp, tp), ("dp", "tp"))
        self.name = config.strategy
        self.with_fsdp = with_fsdp
        super().__init__(
            env,
            config,
            dp_size=dp,
            dp_rank=self.mesh["dp"].get_local_rank(),
            dp_group=self.mesh["dp"].get_group(),
        )

    def shard(self, model: nn.Module) -> nn.Module:
        self.export = apply_tp(model, self.mesh["tp"])
        if self.with_fsdp:
            apply_fsdp(model, self.mesh["dp"], mixed_precision_policy(self.config.precision, self.env.device))
        return model

    def save_model(self, model: nn.Module, path):
        return export_safetensors(model, Path(path), self.env, convert=self.export)

    def no_sync(self, model: nn.Module, last_micro_batch: bool):
        if self.with_fsdp:
            from .fsdp import _gradient_sync

            return _gradient_sync(model, last_micro_batch)
        return super().no_sync(model, last_micro_batch)


class TensorParallel:
    """Split your own layers over ``world_size`` TP ranks (a thin layer over DTensor's ``parallelize_module``)."""

    def __init__(self, world_size: int | None = None, device: str = "auto"):
        env = init_from_torchrun("tensor parallel", device)
        self.world_size = world_size or env.world_size
        if env.world_size != self.world_size:
            raise BoyaError(
                f"TensorParallel(world_size={self.world_size}) needs {self.world_size} processes, "
                f"torchrun started {env.world_size}"
            )
        self.mesh = device_mesh(env, (self.world_size,), ("tp",))

    def split(self, layer: nn.Module, style: str = "colwise") -> nn.Module:
        """``colwise``: this rank computes its slice of the output features (input replicated, output local).
        ``rowwise``: this rank takes its slice of the input features; the partial outputs are summed."""
        styles = {"colwise": ColwiseParallel(), "rowwise": RowwiseParallel(input_layouts=Shard(-1))}
        if style not in styles:
            raise BoyaError(f"unknown split style {style!r}; choose colwise or rowwise")
        return parallelize_module(layer, self.mesh, styles[style])

    def all_reduce(self, x: torch.Tensor) -> torch.Tensor:
        """Sum ``x`` over the TP ranks (Megatron's "g": backward passes the gradient through unchanged)."""
        return (
            DTensor.from_local(x, self.mesh, [Partial()], run_check=False)
            .redistribute(self.mesh, [Replicate()])
            .to_local()
        )
