"""``--strategy ddp``: every process holds the whole model; ``DistributedDataParallel`` averages gradients.

During gradient accumulation the all-reduce is skipped (``no_sync``) on every micro-batch but the
last, so a window of K micro-batches costs one all-reduce, not K.
"""

import contextlib

import torch

from .process_group_strategy import ProcessGroupStrategy


class DDPStrategy(ProcessGroupStrategy):
    name = "ddp"

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.env.local_rank] if self.env.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def no_sync(self, model: torch.nn.Module, last_micro_batch: bool):
        return contextlib.nullcontext() if last_micro_batch else model.no_sync()
