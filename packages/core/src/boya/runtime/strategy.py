"""Where the model runs: the seam distributed training plugs into.

The trainer never talks to ``torch.distributed`` directly; it asks its strategy
to wrap the model, to skip gradient synchronisation on non-final micro-batches,
and to sum token counts over ranks (token-exact accumulation needs the global
count). :class:`SingleProcess` is the one-process answer to each question; a
DDP/FSDP strategy answers them with collectives.
"""

import contextlib
from pathlib import Path

import torch

from . import checkpoint


class SingleProcess:
    """Everything on one process: no wrapping, no synchronisation."""

    rank = 0
    world_size = 1
    is_main = True

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """Return the module the training step calls (DDP/FSDP would wrap ``model`` here)."""
        return model

    def no_sync(self, model: torch.nn.Module, last_micro_batch: bool):
        """Context around one micro-batch's forward+backward; DDP skips the all-reduce unless it is the last."""
        return contextlib.nullcontext()

    def sum_over_ranks(self, values: torch.Tensor) -> torch.Tensor:
        return values

    def max_over_ranks(self, value: int) -> int:
        return value

    def shard(self, model: torch.nn.Module) -> torch.nn.Module:
        """Change ``model`` in place before the optimizer is built (FSDP and TP replace its parameters)."""
        return model

    def wrap_loss(self, loss_fn):
        """The loss function the step calls (pipeline parallelism runs forward and backward inside it)."""
        return loss_fn

    def local_batch(self, batch):
        """This process's part of a global batch (data-parallel ranks take a slice each)."""
        return batch

    def clip_grad_norm(self, params: list[torch.nn.Parameter], max_norm: float | None) -> torch.Tensor:
        """Clip to ``max_norm`` (``None``: only measure) and return the global gradient norm."""
        if max_norm is not None:
            return torch.nn.utils.clip_grad_norm_(params, max_norm)
        return torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])

    def save_checkpoint(self, root, step: int, model, optimizer, state: dict, meta: dict, keep_last: int):
        return checkpoint.save_checkpoint(root, step, model, state, meta, keep_last)

    def load_checkpoint(self, path, model, optimizer) -> dict:
        if (
            Path(path) / ".metadata"
        ).is_file():  # written by a distributed strategy: DCP gathers its shards here
            from .distributed import sharded_checkpoint

            return sharded_checkpoint.load(Path(path), model, optimizer, env=None)
        return checkpoint.load_checkpoint(path, model)

    def save_model(self, model: torch.nn.Module, path):
        from safetensors.torch import save_model

        tmp = path.with_name(f".tmp-{path.name}")
        save_model(model, str(tmp))
        tmp.replace(path)
        return path


def make_strategy(name: str, config=None):
    """``single`` here; every other name (``ddp``, ``fsdp``, ``tp``, ``pp``, ``fsdp+tp``) from ``boya.runtime.distributed``."""
    if name == "single":
        return SingleProcess()
    from .distributed import make_distributed_strategy

    return make_distributed_strategy(config)
