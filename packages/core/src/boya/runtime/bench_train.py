"""``boya bench train``: what the trainer costs against a plain loop, and what compiling buys.

One process, one model (by default issue 3's "small GPT-2 built from a config": transformers'
``GPT2LMHeadModel(GPT2Config(n_layer=4, n_embd=256, n_head=4, vocab_size=8192))``; ``core`` selects the
runtime's own GPT of the same size), batch 8 x 128 from the bundled text, one seed, the same batches in
the same order for every variant:

- ``plain``: a hand-written PyTorch loop (forward, mean cross-entropy, backward, clip, AdamW);
- ``trainer``: :class:`Trainer` with ``compile="off"`` (all its per-step work: token-exact loss,
  non-finite check, scheduler, hooks, JSONL logging), driven through ``Trainer.steps``;
- ``compiled``: the same with ``compile="model"`` (forward and loss compiled as one graph);
- ``accelerate``: HF Accelerate's loop (``prepare``/``backward``/``clip_grad_norm_``), if installed.

Every variant uses AdamW at ``LR`` after ``WARMUP_STEPS`` of linear warm-up (the trainer's schedule,
rebuilt with ``LambdaLR`` for the other loops). With 1e-3 and no warm-up the loss spiked near step 50,
and a spike amplifies the compiled run's float reordering (last bits) into a loss gap of several
units, which then says nothing about compilation. Losses of plain, trainer and accelerate must agree
to 1e-5 (``loss_max_diff``); the compiled run's gap is reported on its own (``compiled_loss_max_diff``):
inductor fuses and reorders float operations, so a small difference is expected.

The variants take turns step by step (the starting variant rotates), so a load change on a shared
machine hits all of them alike; each repeat yields one ratio, the median is reported with its range.
Step time is process CPU time with a fixed thread count (wall time on a shared 2-core box varied 4x
between identical steps); wall-time ratios are reported beside. Peak RSS is per variant: the kernel's
high-water mark is reset (``/proc/self/clear_refs``) before each of its steps; since one process holds
every variant's model, ``step_rss_growth_mb`` (peak during a step minus RSS before it) is the part
that tells the variants apart.
"""

import copy
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import BoyaError
from .config import TrainConfig
from .models.gpt import GPT, IGNORE_INDEX, GPTConfig, lm_loss
from .text_lm import byte_chunks, sample_text
from .trainer import Trainer

LR = 3e-4
WARMUP_STEPS = 10
CLIP = 1.0
MODELS = ("hf-gpt2", "core")
BENCH_GPT = GPTConfig(vocab_size=8192, block_size=128, n_layer=4, n_head=4, n_embd=256)
"""The "small GPT-2" of the measurements behind issue 3 (5 M parameters plus embeddings); the bundled
text's bytes are its tokens, so only the first 256 ids of the 8192-token vocabulary occur."""


def _hf_logits(model: torch.nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
    return model(input_ids=input_ids).logits


def _core_logits(model: torch.nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
    return model(input_ids)


def hf_gpt2_loss(model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`lm_loss` for transformers' GPT-2: the loss is computed outside the model (no ``labels=``)."""
    logits = _hf_logits(model, batch["input_ids"])
    labels = batch["labels"][:, 1:]
    loss_sum = F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
        labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )
    return loss_sum, (labels != IGNORE_INDEX).sum()


def build_model(name: str):
    """``(model, logits_fn, loss_fn, description)`` of the benchmark model ``name`` (one of ``MODELS``), random init.

    ``hf-gpt2`` (default) is issue 3's model; its dropouts are 0 so every variant computes the same
    function, and ``loss_type = "ForCausalLM"`` is set because transformers otherwise logs a warning
    on a ``labels=`` call, which breaks the compiled graph 3 times. ``core`` is the runtime's GPT,
    whose separate ``q``/``k``/``v`` projections (for tensor parallelism) add GEMMs no fusion removes.
    """
    if name == "core":
        model = GPT(BENCH_GPT)
        described = (
            f"core: boya GPT n_layer={BENCH_GPT.n_layer} n_embd={BENCH_GPT.n_embd} n_head={BENCH_GPT.n_head} "
            f"vocab={BENCH_GPT.vocab_size}"
        )
        return model, _core_logits, lm_loss, described
    if name != "hf-gpt2":
        raise BoyaError(f"unknown benchmark model {name!r}; choose one of: {', '.join(MODELS)}")
    from transformers import GPT2Config, GPT2LMHeadModel

    # 50256 would lie outside the vocabulary
    config = GPT2Config(
        n_layer=BENCH_GPT.n_layer,
        n_embd=BENCH_GPT.n_embd,
        n_head=BENCH_GPT.n_head,
        vocab_size=BENCH_GPT.vocab_size,
        n_positions=BENCH_GPT.block_size,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        use_cache=False,
        bos_token_id=None,
        eos_token_id=None,
    )
    model = GPT2LMHeadModel(config)
    model.loss_type = "ForCausalLM"
    described = (
        f"hf-gpt2: transformers GPT2LMHeadModel n_layer={config.n_layer} n_embd={config.n_embd} "
        f"n_head={config.n_head} vocab={config.vocab_size}"
    )
    return model, _hf_logits, hf_gpt2_loss, described


def _warmup_factor(step: int) -> float:
    """The trainer's schedule for ``lr_schedule="constant"`` with ``WARMUP_STEPS`` of warm-up."""
    return min(1.0, (step + 1) / WARMUP_STEPS)


def _batches(n: int, batch_size: int, block_size: int) -> list[dict]:
    chunks = byte_chunks(sample_text(), block_size)
    rows = [chunks[i * batch_size : (i + 1) * batch_size] for i in range(n)]
    return [{"input_ids": row, "labels": row} for row in rows]


def _mean_lm_loss(model: torch.nn.Module, logits_fn, batch: dict) -> torch.Tensor:
    """The textbook loss; a function of its own so the logits are freed before backward, as in ``lm_loss``."""
    logits = logits_fn(model, batch["input_ids"])
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), batch["labels"][:, 1:].reshape(-1))


class PlainLoop:
    def __init__(self, model: torch.nn.Module, logits_fn, batches: list[dict]):
        self.model, self.logits_fn, self.batches, self.step = model, logits_fn, batches, 0
        # as TrainConfig's default
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _warmup_factor)

    def __next__(self) -> float:
        batch = self.batches[self.step]
        self.step += 1
        loss = _mean_lm_loss(self.model, self.logits_fn, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), CLIP)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()


class AccelerateLoop(PlainLoop):
    def __init__(self, model: torch.nn.Module, logits_fn, batches: list[dict]):
        from accelerate import Accelerator

        super().__init__(model, logits_fn, batches)
        self.accelerator = Accelerator(cpu=True)
        self.model, self.optimizer, self.scheduler = self.accelerator.prepare(
            self.model, self.optimizer, self.scheduler
        )

    def __next__(self) -> float:
        batch = self.batches[self.step]
        self.step += 1
        loss = _mean_lm_loss(self.model, self.logits_fn, batch)
        self.accelerator.backward(loss)
        self.accelerator.clip_grad_norm_(self.model.parameters(), CLIP)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()


class TrainerLoop:
    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn,
        batches: list[dict],
        out_dir: Path,
        compile_mode: str,
        threads: int,
    ):
        config = TrainConfig(
            out_dir=str(out_dir),
            max_steps=len(batches),
            lr=LR,
            warmup_steps=WARMUP_STEPS,
            clip_grad=CLIP,
            shuffle=False,
            compile=compile_mode,
            threads=threads,
            progress=False,
            log_every=10,
        )
        self.steps = Trainer(model, config, loss_fn=loss_fn).steps(batches)

    def __next__(self) -> float:
        return next(self.steps)["loss"]

    def finish(self) -> None:
        for _ in self.steps:
            pass


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_mb(field: str) -> float:
    """``VmHWM`` (peak resident memory) or ``VmRSS`` from ``/proc/self/status``, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(
    steps: int = 10,
    repeats: int = 5,
    warmup: int = 3,
    threads: int = 1,
    compile_on: bool = True,
    model_name: str = "hf-gpt2",
) -> dict:
    """Run the benchmark and return its figures (see the module docstring)."""
    import importlib.util

    torch.set_num_threads(threads)
    total = warmup + steps * repeats
    batches = _batches(total, batch_size=8, block_size=BENCH_GPT.block_size)
    torch.manual_seed(0)
    base, logits_fn, loss_fn, described = build_model(model_name)
    tmp = tempfile.TemporaryDirectory(prefix="boya-bench-")
    loops = {
        "plain": PlainLoop(copy.deepcopy(base), logits_fn, batches),
        "trainer": TrainerLoop(copy.deepcopy(base), loss_fn, batches, Path(tmp.name) / "off", "off", threads),
    }
    if compile_on:
        loops["compiled"] = TrainerLoop(
            copy.deepcopy(base), loss_fn, batches, Path(tmp.name) / "model", "model", threads
        )
    has_accelerate = importlib.util.find_spec("accelerate") is not None
    if has_accelerate:
        loops["accelerate"] = AccelerateLoop(copy.deepcopy(base), logits_fn, batches)
    names = list(loops)
    cpu = {name: [] for name in names}
    wall = {name: [] for name in names}
    losses = {name: [] for name in names}
    peak = dict.fromkeys(names, 0.0)
    step_growth = dict.fromkeys(names, 0.0)
    first_step_s = {}
    for step in range(total):
        for offset in range(len(names)):
            name = names[(step + offset) % len(names)]
            can_reset = _reset_peak_rss()
            rss_before = _status_mb("VmRSS")
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            losses[name].append(next(loops[name]))
            cpu[name].append(time.process_time() - cpu_start)
            wall[name].append(time.perf_counter() - wall_start)
            if can_reset:
                peak[name] = max(peak[name], _status_mb("VmHWM"))
                step_growth[name] = max(step_growth[name], _status_mb("VmHWM") - rss_before)
            if step == 0:
                first_step_s[name] = wall[name][0]
    for loop in loops.values():
        if isinstance(loop, TrainerLoop):
            loop.finish()
    tmp.cleanup()

    def ratios(numerator: str, denominator: str, times: dict) -> list[float]:
        out = []
        for r in range(repeats):
            window = slice(warmup + r * steps, warmup + (r + 1) * steps)
            out.append(
                statistics.median(times[numerator][window]) / statistics.median(times[denominator][window])
            )
        return out

    def summary(values: list[float]) -> dict:
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    result = {
        "model": model_name,
        "model_description": f"{described}, batch 8x{BENCH_GPT.block_size}",
        "lr": LR,
        "warmup_lr_steps": WARMUP_STEPS,
        "threads": threads,
        "steps_timed": steps * repeats,
        "warmup_steps": warmup,
        "step_cpu_s": {name: statistics.median(cpu[name][warmup:]) for name in names},
        "overhead": statistics.median(ratios("trainer", "plain", cpu)) - 1,
        "overhead_cpu_ratio": summary(ratios("trainer", "plain", cpu)),
        "overhead_wall_ratio": summary(ratios("trainer", "plain", wall)),
        "loss_max_diff": max(
            abs(a - b)
            for name in names
            if name != "compiled"
            for a, b in zip(losses["plain"], losses[name], strict=True)
        ),
        "peak_rss_mb": peak,
        "step_rss_growth_mb": step_growth,
        "first_step_wall_s": first_step_s,
        "accelerate": has_accelerate,
    }
    if compile_on:
        result["compiled_speedup"] = statistics.median(ratios("plain", "compiled", cpu))
        result["compiled_speedup_cpu"] = summary(ratios("plain", "compiled", cpu))
        result["compiled_speedup_wall"] = summary(ratios("plain", "compiled", wall))
        diffs = [abs(a - b) for a, b in zip(losses["plain"], losses["compiled"], strict=True)]
        worst = max(range(total), key=diffs.__getitem__)
        result["compiled_loss_max_diff"] = diffs[worst]
        result["compiled_loss_max_diff_at"] = {
            "step": worst + 1,
            "plain": losses["plain"][worst],
            "compiled": losses["compiled"][worst],
        }
    if has_accelerate:
        result["accelerate_overhead"] = statistics.median(ratios("accelerate", "plain", cpu)) - 1
    return result
