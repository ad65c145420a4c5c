"""The training loop: a façade over a plain PyTorch loop that keeps each step readable.

One optimizer step (``_train_step``) is: for each micro-batch of the window, forward under the
precision policy's autocast, ``backward`` of ``loss_sum / norm``; then rescale the gradients so the
window's loss is its summed loss divided by its real token count (exact with ragged padding,
where averaging per-micro-batch means was off by 11.9% in our measurement), unscale (fp16), clip,
skip the update if the gradients are not finite, step optimizer and LR schedule. Around it,
``fit`` adds evaluation, early stopping, checkpoints, resume, metrics (through the plugin hooks),
a progress bar and the profiler.
"""

import contextlib
import math
import time
import warnings
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from torch.utils.data import default_collate

from .. import plugins
from ..errors import BoyaError
from . import checkpoint
from .config import TrainConfig
from .data_order import DataOrder
from .fusion import compile_counts, compile_for_training
from .precision import resolve_device, resolve_precision
from .rng import rng_state, seed_everything, set_rng_state
from .strategy import make_strategy


class Trainer:
    """Train ``model`` with ``loss_fn(model, batch) -> (loss_sum, n_tokens)`` under ``config``.

    ``optimizer`` defaults to AdamW(lr, weight_decay); ``scheduler`` to the config's warm-up +
    constant/linear/cosine schedule, stepped once per optimizer step. Constructing a trainer sets
    the thread count, moves the model to the device (and to bf16 for ``bf16-true``), but writes
    nothing: files are only written by :meth:`fit`.
    """

    def __init__(self, model: torch.nn.Module, config: TrainConfig, loss_fn, optimizer=None, scheduler=None):
        config.validate()
        self.config = config
        self.loss_fn = loss_fn
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        self.device = resolve_device(config.device)
        self.precision = resolve_precision(config.precision, self.device)
        self.strategy = make_strategy(config.strategy, config)
        self.model = self.strategy.shard(model.to(device=self.device, dtype=self.precision.param_dtype))
        self.train_model = self.model
        self._loss_fn = loss_fn
        self.optimizer = optimizer or torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.scheduler = scheduler or torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.scaler = self.precision.grad_scaler(
            config.grad_scaler_init_scale, config.grad_scaler_growth_interval
        )
        self.out_dir = Path(config.out_dir)
        self.step = 0
        self.metrics: dict = {}
        self.best_eval_loss = math.inf
        self.evals_without_improvement = 0
        self.profile_table: str | None = None
        self._params = [p for p in self.model.parameters() if p.requires_grad]

    def _lr_factor(self, step: int) -> float:
        """Multiplier of ``lr`` for the ``step``-th update (0-based)."""
        config = self.config
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        if config.lr_schedule == "constant":
            return 1.0
        progress = (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps)
        if config.lr_schedule == "linear":
            return max(0.0, 1.0 - progress)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    @property
    def checkpoint_root(self) -> Path:
        return self.out_dir / "checkpoints"

    # ------------------------------------------------------------------ fit

    def fit(self, train_data, eval_data=None, collate_fn=None) -> dict:
        """Train until ``max_steps`` or early stopping; return the last metrics (train and eval).

        ``train_data``/``eval_data`` are map-style sequences: of micro-batches when
        ``config.batch_size`` is ``None``, else of examples that ``collate_fn`` batches.
        """
        for _ in self.steps(train_data, eval_data, collate_fn):
            pass
        return self.metrics

    def steps(self, train_data, eval_data=None, collate_fn=None):
        """``fit`` one step at a time: a generator yielding each step's metrics (benchmarks interleave runs with it).

        The final evaluation, checkpoint and model export happen when it is exhausted.
        """
        config = self.config
        self._collate = collate_fn or default_collate
        order = DataOrder(len(train_data), config.batch_size or 1, config.shuffle, config.seed)
        seed_everything(config.seed)
        if config.resume:
            self._resume(order)
        elif checkpoint.latest_checkpoint(self.checkpoint_root) is not None:
            raise BoyaError(
                f"{self.out_dir} already holds checkpoints; pass --resume to continue, or choose another --out"
            )
        self.out_dir.mkdir(parents=True, exist_ok=True)
        model, self._loss_fn = compile_for_training(
            self.model, self.loss_fn, config.compile, config.compile_cache_dir
        )
        self.train_model = self.strategy.wrap(model)
        self._loss_fn = self.strategy.wrap_loss(self._loss_fn)
        counts_before = compile_counts() if config.compile != "off" else {}
        plugins.call_each("on_train_start", trainer=self)
        stop = "max_steps"
        saved_at = self.step if config.resume else None
        try:
            with self._profiler() as profiler, self._progress() as progress:
                task = progress.add_task("train", total=config.max_steps, completed=self.step, info="")
                first_step = self.step + 1
                while self.step < config.max_steps:
                    self.metrics = self._train_step(train_data, order)
                    self.step += 1
                    if self.step == first_step and config.compile != "off":
                        self.metrics.update(
                            {key: n - counts_before[key] for key, n in compile_counts().items()}
                        )
                        progress.console.print(_compile_line(self.metrics))
                    plugins.call_each("on_step_end", trainer=self, step=self.step, metrics=self.metrics)
                    progress.update(task, completed=self.step, info=_progress_info(self.metrics))
                    if profiler is not None:
                        profiler.step()
                    if eval_data is not None and config.eval_every and self.step % config.eval_every == 0:
                        if self._evaluate_and_check(eval_data):
                            stop = "early_stopping"
                    if config.save_every and self.step % config.save_every == 0 or stop != "max_steps":
                        self.save_checkpoint(order)
                        saved_at = self.step
                    yield self.metrics
                    if stop != "max_steps":
                        break
        except KeyboardInterrupt:
            plugins.call_each("on_train_end", trainer=self, metrics={**self.metrics, "stop": "interrupted"})
            raise
        if profiler is not None:
            self.profile_table = profiler.table
        if eval_data is not None and self.metrics.get("eval_step") != self.step:
            self._evaluate_and_check(eval_data)
        if saved_at != self.step:
            self.save_checkpoint(order)
        self.save_model(self.out_dir / "model.safetensors")
        self.metrics["stop"] = stop
        plugins.call_each("on_train_end", trainer=self, metrics=self.metrics)

    def _train_step(self, data, order: DataOrder) -> dict:
        config = self.config
        self.model.train()
        start = time.perf_counter()
        loss_total = torch.zeros((), dtype=torch.float64)
        tokens = 0
        norm = None
        for micro in range(config.grad_accum):
            batch = self._batch(data, order.next_indices())
            with self.strategy.no_sync(self.train_model, last_micro_batch=micro == config.grad_accum - 1):
                with self.precision.autocast():
                    loss_sum, n_tokens = self._loss_fn(self.train_model, batch)
                n_tokens = int(n_tokens)
                if (
                    norm is None
                ):  # one divisor for the whole window (and every rank), fixed before the first backward
                    norm = self.strategy.max_over_ranks(max(n_tokens, 1)) * config.grad_accum
                loss = loss_sum.float() / norm
                (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
            loss_total += loss_sum.detach().double().cpu()
            tokens += n_tokens
        loss_total, total_tokens = self.strategy.sum_over_ranks(
            torch.stack([loss_total, torch.tensor(float(tokens), dtype=torch.float64)])
        )
        total_tokens = int(total_tokens)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        factor = norm * self.strategy.world_size / max(total_tokens, 1)
        if factor != 1.0:  # turn sum/norm into sum/(tokens in the window): exact token weighting
            torch._foreach_mul_([p.grad for p in self._params if p.grad is not None], factor)
        grad_norm = self.strategy.clip_grad_norm(self._params, config.clip_grad)
        lr = self.scheduler.get_last_lr()[0]
        if self.scaler is not None:
            scale = self.scaler.get_scale()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            skipped = self.scaler.get_scale() < scale
        else:
            skipped = not bool(torch.isfinite(grad_norm))
            if not skipped:
                self.optimizer.step()
        with (
            warnings.catch_warnings()
        ):  # a skipped step still counts: the schedule advances (torch warns about it)
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step()` before")
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - start
        metrics = {
            "step": self.step + 1,
            "loss": float(loss_total) / max(total_tokens, 1),
            "lr": lr,
            "grad_norm": float(grad_norm),
            "tokens": total_tokens,
            "tokens_per_s": total_tokens / elapsed,
            "step_time_s": elapsed,
            "skipped": skipped,
        }
        if self.scaler is not None:
            metrics["loss_scale"] = self.scaler.get_scale()
        return metrics

    def _batch(self, data, indices: list[int]):
        if self.config.batch_size is None:
            batch = data[indices[0]]
        else:
            batch = self._collate([data[i] for i in indices])
        return _to_device(self.strategy.local_batch(batch), self.device)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, eval_data) -> dict:
        """Token-weighted mean loss over ``eval_data`` (same batching rules as the training data)."""
        self.model.eval()
        total = torch.zeros((), dtype=torch.float64)
        tokens = 0
        size = self.config.batch_size or 1
        with torch.no_grad():
            for start in range(0, len(eval_data), size):
                batch = self._batch(eval_data, list(range(start, min(start + size, len(eval_data)))))
                with self.precision.autocast():
                    loss_sum, n_tokens = self._loss_fn(self.train_model, batch)
                total += loss_sum.double().cpu()
                tokens += int(n_tokens)
        self.model.train()
        total, tokens = self.strategy.sum_over_ranks(
            torch.stack([total, torch.tensor(float(tokens), dtype=torch.float64)])
        )
        return {
            "eval_loss": float(total) / max(float(tokens), 1.0),
            "eval_tokens": int(tokens),
            "eval_step": self.step,
        }

    def _evaluate_and_check(self, eval_data) -> bool:
        """Evaluate, report through ``on_eval_end``, and say whether early stopping should stop now."""
        result = self.evaluate(eval_data)
        self.metrics.update(result)
        plugins.call_each("on_eval_end", trainer=self, step=self.step, metrics=result)
        if result["eval_loss"] < self.best_eval_loss:
            self.best_eval_loss = result["eval_loss"]
            self.evals_without_improvement = 0
        else:
            self.evals_without_improvement += 1
        patience = self.config.early_stopping_patience
        return patience is not None and self.evals_without_improvement >= patience

    # ----------------------------------------------------- checkpoint/resume

    def state_dict(self, order: DataOrder) -> dict:
        """Everything but the weights that resuming bit-identically needs."""
        return {
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "rng": rng_state(),
            "data": order.state_dict(),
            "early_stopping": {"best": self.best_eval_loss, "bad_evals": self.evals_without_improvement},
        }

    def save_checkpoint(self, order: DataOrder) -> Path:
        meta = {
            "step": self.step,
            "model_class": f"{type(self.model).__module__}.{type(self.model).__qualname__}",
            "precision": self.precision.name,
            "config": self.config.to_dict(),
        }
        path = self.strategy.save_checkpoint(
            self.checkpoint_root,
            self.step,
            self.model,
            self.optimizer,
            self.state_dict(order),
            meta,
            self.config.keep_last,
        )
        plugins.call_each("on_checkpoint_saved", trainer=self, step=self.step, path=path)
        return path

    def _resume(self, order: DataOrder) -> None:
        if self.config.resume is True:
            path = checkpoint.latest_checkpoint(self.checkpoint_root)
            if path is None:
                raise BoyaError(f"cannot resume: no checkpoint in {self.checkpoint_root}")
        else:
            path = Path(self.config.resume)
        state = self.strategy.load_checkpoint(path, self.model, self.optimizer)
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            if self.scaler is not None:
                if not state["scaler"]:
                    raise BoyaError(
                        f"checkpoint {path} was not trained with 16-mixed; resume it with its own precision"
                    )
                self.scaler.load_state_dict(state["scaler"])
            order.load_state_dict(state["data"])
            set_rng_state(state["rng"])
            self.step = int(state["step"])
            self.best_eval_loss = float(state["early_stopping"]["best"])
            self.evals_without_improvement = int(state["early_stopping"]["bad_evals"])
        except (KeyError, ValueError, RuntimeError, TypeError) as error:
            raise BoyaError(
                f"checkpoint {path} does not match this run ({type(error).__name__}: {error})"
            ) from None

    def save_model(self, path: Path) -> Path:
        """Write the weights alone as safetensors, atomically (temp file + rename)."""
        return self.strategy.save_model(self.model, Path(path))

    # ------------------------------------------------------ progress/profile

    def _progress(self) -> Progress:
        return Progress(
            TextColumn("[bold]step"),
            MofNCompleteColumn(),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not (self.config.progress and self.strategy.is_main),
        )

    def _profiler(self):
        if self.config.profile is None:
            return contextlib.nullcontext()
        from .profiler import StepProfiler

        wait, warmup, active = self.config.profile
        return StepProfiler(self.out_dir / "profile", wait, warmup, active, self.device)


def _to_device(batch, device: torch.device):
    if device.type == "cpu":
        return batch
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {key: _to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device(value, device) for value in batch)
    return batch


def _progress_info(metrics: dict) -> str:
    return f"loss {metrics['loss']:.4f}  {metrics['tokens_per_s']:,.0f} tok/s"


def _compile_line(metrics: dict) -> str:
    line = (
        f"compile: {metrics['graph_breaks']} graph breaks, {metrics['recompiles']} recompiles, "
        f"{metrics['graphs']} graphs; first step {metrics['step_time_s']:.1f} s"
    )
    if metrics["graphs"] == 0:
        line += (
            " - nothing was compiled (torch skips torch.nn's own blocks in 'regions'; try --compile model)"
        )
    return line
