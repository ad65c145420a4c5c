"""``--strategy pp``: pipeline parallelism with ``torch.distributed.pipelining``: one stage per process.

The model's blocks are cut into consecutive stages (equal block counts, or ``pp_split`` block
indices); the first stage also holds the embeddings, the last the final norm and head. A stage
keeps the full model's parameter names, so DCP checkpoints and the exported safetensors use the
same keys as a one-process run. Each optimizer step's batch is split into ``pp_microbatches``
micro-batches that flow through the stages under a GPipe (all forwards, then all backwards) or
1F1B (alternating, fewer activations alive) schedule; forward and backward happen inside the
schedule, so the strategy supplies the step's loss function (only the core GPT's ``lm_loss``
has a pipeline form so far). A head tied to the embedding lives on two stages: its two copies get
the sum of both gradients (one all-reduce per step) and so stay equal.
"""

import contextlib

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ...errors import BoyaError
from ..models.gpt import GPT, IGNORE_INDEX, lm_loss
from . import sharded_checkpoint
from .process_group_strategy import ProcessGroupStrategy


class GPTStage(nn.Module):
    """Blocks ``blocks`` of a core GPT, with the embeddings on the first stage and the head on the last."""

    def __init__(self, model: GPT, blocks: range, first: bool, last: bool):
        super().__init__()
        self.first, self.last = first, last
        if first:
            self.wte, self.wpe, self.drop = model.wte, model.wpe, model.drop
        self.h = nn.ModuleDict({str(index): model.h[index] for index in blocks})
        if last:
            self.ln_f, self.lm_head = model.ln_f, model.lm_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.first:
            x = self.drop(self.wte(x) + self.wpe(torch.arange(x.shape[1], device=x.device)))
        for block in self.h.values():
            x = block(x)
        return self.lm_head(self.ln_f(x)) if self.last else x


def stage_boundaries(n_blocks: int, stages: int, split: tuple[int, ...] | None) -> list[range]:
    """Block ranges of each stage: from ``split`` (start indices of stages 2..n) or as equal as possible."""
    if split is None:
        if n_blocks < stages:
            raise BoyaError(f"the model has {n_blocks} blocks: too few for {stages} pipeline stages")
        split = tuple(round(n_blocks * index / stages) for index in range(1, stages))
    starts = [0, *split, n_blocks]
    if len(split) != stages - 1 or any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
        raise BoyaError(
            f"pp_split {tuple(split)} must give {stages - 1} increasing block indices inside 1..{n_blocks - 1}"
        )
    return [range(a, b) for a, b in zip(starts, starts[1:], strict=False)]


class PipelineStrategy(ProcessGroupStrategy):
    name = "pp"

    def __init__(self, env, config):
        if env.world_size < 2:
            raise BoyaError(
                "--strategy pp needs at least 2 processes (one per stage); start torchrun with --nproc-per-node 2"
            )
        super().__init__(env, config, dp_size=1, dp_rank=0, dp_group=None)
        self.stages = env.world_size
        self.last_rank = self.stages - 1
        self.microbatches = config.pp_microbatches or 2 * self.stages
        self.ends_group = dist.new_group([0, self.last_rank])  # every rank must take part in creating it
        self.micro_index = 0
        self.scale = 1.0

    def shard(self, model: nn.Module) -> nn.Module:
        if not isinstance(model, GPT):
            raise BoyaError(f"no pipeline split for {type(model).__qualname__}; use --strategy ddp or fsdp")
        ranges = stage_boundaries(len(model.h), self.stages, self.config.pp_split)
        first, last = self.rank == 0, self.rank == self.last_rank
        self.tied = model.lm_head.weight is model.wte.weight
        return GPTStage(model, ranges[self.rank], first, last)

    def wrap(self, model: nn.Module) -> nn.Module:
        from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe

        stage = PipelineStage(model, self.rank, self.stages, self.env.device)
        schedule = {"gpipe": ScheduleGPipe, "1f1b": Schedule1F1B}[self.config.pp_schedule]
        self.schedule = schedule(
            stage, n_microbatches=self.microbatches, loss_fn=self._microbatch_loss, scale_grads=False
        )
        return model

    def wrap_loss(self, loss_fn):
        if getattr(loss_fn, "__wrapped__", loss_fn) is not lm_loss and loss_fn is not lm_loss:
            raise BoyaError(
                "--strategy pp knows the pipeline form of the core GPT's lm_loss only; use ddp or fsdp"
            )
        return self._pipeline_loss

    def _microbatch_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (
            F.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                labels[:, 1:].reshape(-1),
                ignore_index=IGNORE_INDEX,
                reduction="sum",
            )
            / self.scale
        )

    def _pipeline_loss(self, model, batch: dict):
        """Run forward and backward of ``batch`` through the pipeline; return (loss sum, tokens) like ``lm_loss``."""
        input_ids, labels = batch["input_ids"], batch["labels"]
        if input_ids.shape[0] % self.microbatches:
            raise BoyaError(
                f"a batch of {input_ids.shape[0]} examples cannot be split into {self.microbatches} "
                "pipeline micro-batches; choose --batch-size a multiple of --pp-microbatches"
            )
        n_tokens = (labels[:, 1:] != IGNORE_INDEX).sum()
        training = torch.is_grad_enabled()
        window_scale = self.scale
        if (
            training and self.micro_index == 0
        ):  # the trainer's divisor for this window, fixed at its first micro-batch
            window_scale = self.scale = float(max(int(n_tokens), 1) * self.config.grad_accum)
        if not training:  # evaluation: plain sums, and the training window's divisor is left as it was
            self.scale = 1.0
        losses: list[torch.Tensor] = []
        run = self.schedule.step if training else self.schedule.eval
        try:
            if self.rank == 0:
                run(input_ids)
            elif self.rank == self.last_rank:
                run(target=labels, losses=losses)
            else:
                run()
            total = float(sum(loss.detach().double() for loss in losses)) * self.scale
        finally:
            self.scale = window_scale
        # backward already ran inside the schedule: the trainer's backward on this leaf changes no weight
        return torch.tensor(total, requires_grad=training), n_tokens

    @contextlib.contextmanager
    def _window(self, last_micro_batch: bool):
        yield
        self.micro_index = 0 if last_micro_batch else self.micro_index + 1
        if last_micro_batch and self.tied and self.rank in (0, self.last_rank):
            weight = self._tied_weight()
            dist.all_reduce(weight.grad, group=self.ends_group)

    def no_sync(self, model: nn.Module, last_micro_batch: bool):
        return self._window(last_micro_batch)

    def _tied_weight(self) -> torch.nn.Parameter:
        module = self.schedule._stage.submod
        return module.wte.weight if self.rank == 0 else module.lm_head.weight

    def sum_over_ranks(self, values: torch.Tensor) -> torch.Tensor:
        """The loss lives on the last stage: every rank takes its figures."""
        result = values.to(self.env.device).clone()
        dist.broadcast(result, src=self.last_rank)
        return result.to(values.device)

    def total_norm(self, grads: list[torch.Tensor]) -> torch.Tensor:
        if (
            self.tied and self.rank == self.last_rank and self.stages > 1
        ):  # the tied copy is counted on stage 0
            tied = self._tied_weight().grad
            grads = [g for g in grads if g is not tied]
        local = torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())
        squared = (local.double() ** 2).to(self.env.device)
        dist.all_reduce(squared)
        return squared.sqrt().float().to(local.device)

    def save_checkpoint(self, root, step: int, model, optimizer, state: dict, meta: dict, keep_last: int):
        meta = {**meta, "strategy": self.name, "processes": self.processes}
        return sharded_checkpoint.save(
            root,
            step,
            model,
            optimizer,
            state,
            meta,
            keep_last,
            self.env,
            optimizer_key=f"optimizer_stage{self.rank}",
        )

    def load_checkpoint(self, path, model, optimizer) -> dict:
        """Same stage count and split only: each stage's optimizer state is stored under its own key."""
        from pathlib import Path

        return sharded_checkpoint.load(
            Path(path),
            model,
            optimizer,
            self.env,
            optimizer_key=f"optimizer_stage{self.rank}",
            strategy=self.name,
        )

    def save_model(self, model: nn.Module, path):
        """Gather every stage's weights on rank 0 and write them as one safetensors file."""
        parts = [None] * self.stages
        local = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
        dist.gather_object(local, parts if self.is_main else None, dst=0)
        if self.is_main:
            merged = {name: tensor for part in parts for name, tensor in part.items()}
            # the same matrix as wte.weight, stored once as one process does
            if self.tied:
                merged.pop("lm_head.weight", None)
            sharded_checkpoint.write_safetensors(merged, path)
        dist.barrier()
        return path
