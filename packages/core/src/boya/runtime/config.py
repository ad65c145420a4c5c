"""``TrainConfig``: every setting of a training run in one dataclass (no torch import here).

The same object is what ``boya train`` fills from its options, what a recipe
receives, and what a checkpoint records beside the weights, so that a run can be
read back and resumed with the settings it was started with.
"""

import dataclasses
import importlib.util
from dataclasses import dataclass

from ..errors import BoyaError

PRECISIONS = ("32", "bf16-mixed", "16-mixed", "bf16-true", "auto")
COMPILE_MODES = ("off", "model", "regions")
LR_SCHEDULES = ("constant", "linear", "cosine")
STRATEGIES = ("single", "ddp", "fsdp", "tp", "pp", "fsdp+tp")
PIPELINE_SCHEDULES = ("gpipe", "1f1b")
LOGGERS = ("jsonl", "csv", "tensorboard")


@dataclass
class TrainConfig:
    """Settings of one training run. Defaults suit a small model on a shared CPU."""

    out_dir: str = "runs/boya"
    """Where checkpoints, metrics and the final model go."""
    max_steps: int = 100
    """Optimizer steps to run (each step consumes ``grad_accum`` micro-batches)."""
    lr: float = 3e-4
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    """``constant``, ``linear`` (to 0 at ``max_steps``) or ``cosine`` (to 0), after ``warmup_steps`` of linear warm-up."""
    warmup_steps: int = 0
    grad_accum: int = 1
    """Micro-batches per optimizer step; the loss is summed over the window and divided by its real token count."""
    batch_size: int | None = None
    """``None``: each item of the training data is already a micro-batch. An int: items are examples,
    grouped into micro-batches of this size by ``collate_fn`` (default ``torch.utils.data.default_collate``)."""
    shuffle: bool = True
    """Visit the training items in a seeded random order, a new order each epoch."""
    clip_grad: float | None = 1.0
    """Max global gradient norm; ``None`` disables clipping (the norm is still logged)."""
    precision: str = "32"
    """``32``, ``bf16-mixed``, ``16-mixed`` (GradScaler), ``bf16-true`` or ``auto`` (picks what is fast here)."""
    grad_scaler_init_scale: float = 65536.0
    """Initial loss scale for ``16-mixed``: torch's default 2**16 (not 8192, as some documents say)."""
    grad_scaler_growth_interval: int = 2000
    """Clean steps before the loss scale doubles (torch's default); it halves on every inf/nan step."""
    compile: str = "off"
    """``off``, ``model`` (one torch.compile of the whole model) or ``regions`` (each repeated block; faster cold start)."""
    compile_cache_dir: str | None = None
    """Inductor cache; default ``$TORCHINDUCTOR_CACHE_DIR`` or ``~/.cache/boya/inductor``: a warm cache skips most compile time."""
    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu`` or ``cuda``."""
    strategy: str = "single"
    """``single`` (one process), or under torchrun: ``ddp``, ``fsdp``, ``tp``, ``pp``, ``fsdp+tp`` (see ``boya.runtime.distributed``)."""
    tp_size: int = 0
    """Tensor-parallel degree for ``tp``/``fsdp+tp``; 0: every process for ``tp``, 2 for ``fsdp+tp``."""
    pp_schedule: str = "gpipe"
    """Pipeline schedule for ``pp``: ``gpipe`` or ``1f1b``."""
    pp_microbatches: int = 0
    """Micro-batches each pipeline step splits its batch into; 0: twice the number of stages."""
    pp_split: tuple[int, ...] | None = None
    """Block indices where pipeline stages start after the first (e.g. ``(3,)``); ``None``: equal block counts."""
    seed: int = 0
    threads: int | None = 1
    """Intra-op threads (``torch.set_num_threads``); on a shared box more threads were up to 7x slower. ``None``: leave torch's."""
    eval_every: int = 0
    """Evaluate every N steps (0: only once at the end) when evaluation data is given."""
    early_stopping_patience: int | None = None
    """Stop after this many evaluations without a lower ``eval_loss``; ``None`` never stops early."""
    log_every: int = 10
    """Steps between rows written by the metric loggers (the progress bar updates every step)."""
    loggers: tuple[str, ...] = ("jsonl",)
    """Metric loggers writing in ``out_dir``: ``jsonl`` (metrics.jsonl), ``csv`` (metrics.csv), ``tensorboard``
    (event files in ``out_dir/tensorboard``; needs ``pip install tensorboard``)."""
    save_every: int = 0
    """Checkpoint every N steps (0: only at the end)."""
    keep_last: int = 2
    """Checkpoints kept in ``out_dir/checkpoints``; older ones are deleted after a new one is complete."""
    resume: bool | str = False
    """``True``: continue from the newest checkpoint in ``out_dir``; a path: from that checkpoint directory."""
    profile: tuple[int, int, int] | None = None
    """``(wait, warmup, active)`` steps for torch.profiler: writes a Chrome trace and a top-ops table to ``out_dir/profile``."""
    progress: bool = True
    """Show one progress bar (rank 0 only) with loss and tokens/s."""
    data: str | None = None
    """Recipe-specific input (e.g. a text file); recipes document what they read."""

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise :class:`BoyaError` naming the first bad setting."""
        _choice("precision", self.precision, PRECISIONS)
        _choice("compile", self.compile, COMPILE_MODES)
        _choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _choice("strategy", self.strategy, STRATEGIES)
        _choice("pp_schedule", self.pp_schedule, PIPELINE_SCHEDULES)
        if self.tp_size < 0 or self.pp_microbatches < 0:
            raise BoyaError(
                f"tp_size and pp_microbatches must be >= 0, got {self.tp_size} and {self.pp_microbatches}"
            )
        _choice("device", self.device, ("auto", "cpu", "cuda"))
        for logger in self.loggers:
            _choice("logger", logger, LOGGERS)
        if "tensorboard" in self.loggers and importlib.util.find_spec("tensorboard") is None:
            raise BoyaError("the tensorboard logger needs the tensorboard package: pip install tensorboard")
        for name in ("max_steps", "grad_accum", "keep_last"):
            if getattr(self, name) < 1:
                raise BoyaError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.batch_size is not None and self.batch_size < 1:
            raise BoyaError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.threads is not None and self.threads < 1:
            raise BoyaError(f"threads must be at least 1, got {self.threads}")
        if self.profile is not None and (
            len(self.profile) != 3 or min(self.profile) < 0 or self.profile[2] < 1
        ):
            raise BoyaError(f"profile must be (wait, warmup, active) with active >= 1, got {self.profile}")

    def replace(self, **changes) -> "TrainConfig":
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise BoyaError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")
