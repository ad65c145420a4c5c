"""``--strategy fsdp``: FSDP2 (``fully_shard``) shards parameters, gradients and optimizer state over the ranks.

Each repeated block (every child of an ``nn.ModuleList``: GPT blocks, transformers' ``h``/``layers``)
becomes one FSDP unit, gathered just before it runs and freed after; the root unit holds the rest
(embeddings, final norm, tied head). The run's precision maps to ``MixedPrecisionPolicy``:
``bf16-mixed`` computes with bf16 parameters and reduces gradients in fp32, ``16-mixed`` likewise in fp16;
``32`` and ``bf16-true`` need no policy (the weights already have their dtype).
"""

import contextlib
import warnings

import torch

from ..precision import resolve_precision
from .launch import device_mesh
from .process_group_strategy import ProcessGroupStrategy


def mixed_precision_policy(precision: str, device: torch.device):
    from torch.distributed.fsdp import MixedPrecisionPolicy

    with warnings.catch_warnings():  # the trainer already warned about this precision on this hardware
        warnings.simplefilter("ignore")
        name = resolve_precision(precision, device).name
    compute = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(name)
    if compute is None:
        return MixedPrecisionPolicy()
    return MixedPrecisionPolicy(param_dtype=compute, reduce_dtype=torch.float32)


def repeated_blocks(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The children of every ``nn.ModuleList`` in ``model``: the units worth sharding one by one."""
    return [
        block for module in model.modules() if isinstance(module, torch.nn.ModuleList) for block in module
    ]


def apply_fsdp(model: torch.nn.Module, mesh, policy) -> torch.nn.Module:
    from torch.distributed.fsdp import fully_shard

    for block in repeated_blocks(model):
        fully_shard(block, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    return model


class FSDPStrategy(ProcessGroupStrategy):
    name = "fsdp"

    def __init__(self, env, config):
        super().__init__(env, config)
        self.mesh = device_mesh(env, (env.world_size,), ("dp",))

    def shard(self, model: torch.nn.Module) -> torch.nn.Module:
        return apply_fsdp(model, self.mesh, mixed_precision_policy(self.config.precision, self.env.device))

    def no_sync(self, model: torch.nn.Module, last_micro_batch: bool):
        return _gradient_sync(model, last_micro_batch)


@contextlib.contextmanager
def _gradient_sync(model, enabled: bool):
    """FSDP2's ``no_sync``: skip the reduce-scatter on non-final micro-batches (gradients stay unsharded)."""
    model.set_requires_gradient_sync(enabled)
    try:
        yield
    finally:
        model.set_requires_gradient_sync(True)
