"""What every distributed strategy shares: the data-parallel slice of a batch, sums over ranks, clipping, checkpoints.

``world_size`` here is the DATA-PARALLEL degree (the processes that see different data), which
is what the trainer's token normalisation needs: under pure ``tp`` or ``pp`` every process sees
the same batch and it is 1; ``processes`` is the number of processes torchrun started.
"""

import contextlib
from pathlib import Path

import torch
import torch.distributed as dist

from ...errors import BoyaError
from . import sharded_checkpoint
from .launch import DistEnv


class ProcessGroupStrategy:
    name = ""

    def __init__(
        self, env: DistEnv, config, dp_size: int | None = None, dp_rank: int | None = None, dp_group=None
    ):
        self.env = env
        self.config = config
        self.rank = env.rank
        self.is_main = env.is_main
        self.processes = env.world_size
        self.world_size = env.world_size if dp_size is None else dp_size
        self.dp_rank = env.rank if dp_rank is None else dp_rank
        self.dp_group = dp_group

    def shard(self, model: torch.nn.Module) -> torch.nn.Module:
        """Change ``model`` in place before the optimizer sees its parameters (FSDP/TP replace them)."""
        return model

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    def wrap_loss(self, loss_fn):
        return loss_fn

    def no_sync(self, model: torch.nn.Module, last_micro_batch: bool):
        return contextlib.nullcontext()

    def local_batch(self, batch):
        """This data-parallel rank's slice (along dim 0) of a global batch."""
        if self.world_size == 1:
            return batch
        return _slice(batch, self.dp_rank, self.world_size)

    def sum_over_ranks(self, values: torch.Tensor) -> torch.Tensor:
        if self.world_size == 1:
            return values
        reduced = values.to(self.env.device)
        dist.all_reduce(reduced, group=self.dp_group)
        return reduced.to(values.device)

    def max_over_ranks(self, value: int) -> int:
        if self.world_size == 1:
            return value
        reduced = torch.tensor(value, device=self.env.device)
        dist.all_reduce(reduced, op=dist.ReduceOp.MAX, group=self.dp_group)
        return int(reduced)

    def total_norm(self, grads: list[torch.Tensor]) -> torch.Tensor:
        """Global L2 norm of ``grads``; sharded (DTensor) norms are reduced to one plain number."""
        from torch.distributed.tensor import DTensor

        norm = torch.nn.utils.get_total_norm(grads)
        return norm.full_tensor() if isinstance(norm, DTensor) else norm

    def clip_grad_norm(self, params: list[torch.nn.Parameter], max_norm: float | None) -> torch.Tensor:
        grads = [p.grad for p in params if p.grad is not None]
        norm = self.total_norm(grads)
        if max_norm is not None:
            torch.nn.utils.clip_grads_with_norm_(params, max_norm, norm)
        return norm

    def save_checkpoint(
        self, root: Path, step: int, model, optimizer, state: dict, meta: dict, keep_last: int
    ) -> Path:
        meta = {**meta, "strategy": self.name, "processes": self.processes}
        return sharded_checkpoint.save(root, step, model, optimizer, state, meta, keep_last, self.env)

    def load_checkpoint(self, path: Path, model, optimizer) -> dict:
        return sharded_checkpoint.load(Path(path), model, optimizer, self.env, strategy=self.name)

    def save_model(self, model: torch.nn.Module, path: Path) -> Path:
        return sharded_checkpoint.export_safetensors(model, Path(path), self.env)


def _slice(batch, index: int, parts: int):
    if isinstance(batch, torch.Tensor):
        if batch.dim() == 0 or batch.shape[0] % parts:
            raise BoyaError(
                f"a batch of {batch.shape[0] if batch.dim() else 0} examples cannot be split evenly over {parts} "
                f"data-parallel processes; use a --batch-size divisible by {parts}"
            )
        size = batch.shape[0] // parts
        return batch[index * size : (index + 1) * size]
    if isinstance(batch, dict):
        return {key: _slice(value, index, parts) for key, value in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_slice(value, index, parts) for value in batch)
    return batch
