"""Where the model runs: the seam distributed training plugs into.

The trainer never talks to ``torch.distributed`` directly; it asks its strategy
to wrap the model, to skip gradient synchronisation on non-final micro-batches,
and to sum token counts over ranks (token-exact accumulation needs the global
count). :class:`SingleProcess` is the one-process answer to each question; a
DDP/FSDP strategy answers them with collectives.
"""

import contextlib

import torch


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


def make_strategy(name: str):
    if name == "single":
        return SingleProcess()
    raise ValueError(name)  # TrainConfig.validate has already rejected unknown names
