"""``boya bench train``: what the trainer costs against a plain loop, and what compiling buys.

One process, one model config (the small GPT-2 of issue 3's measurements: 4 layers, d=256, 4 heads,
vocabulary 8192, batch 8 x 128 from the bundled text), one seed, the same batches in the same order for every variant:

- ``plain``: a hand-written PyTorch loop (forward, mean cross-entropy, backward, clip, AdamW);
- ``trainer``: :class:`Trainer` with ``compile="off"`` (all its per-step work: token-exact loss,
  non-finite check, scheduler, hooks, JSONL logging), driven through ``Trainer.steps``;
- ``compiled``: the same with ``compile="model"`` (forward and loss compiled as one graph);
- ``accelerate``: HF Accelerate's loop (``prepare``/``backward``/``clip_grad_norm_``), if installed.

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

from .config import TrainConfig
from .models.gpt import GPT, GPTConfig, lm_loss
from .text_lm import byte_chunks, sample_text
from .trainer import Trainer

LR = 1e-3
CLIP = 1.0
BENCH_GPT = GPTConfig(vocab_size=8192, block_size=128, n_layer=4, n_head=4, n_embd=256)
"""The "small GPT-2" of the measurements behind issue 3 (5 M parameters plus embeddings); the bundled
text's bytes are its tokens, so only the first 256 ids of the 8192-token vocabulary occur."""


def _batches(n: int, batch_size: int, block_size: int) -> list[dict]:
    chunks = byte_chunks(sample_text(), block_size)
    rows = [chunks[i * batch_size : (i + 1) * batch_size] for i in range(n)]
    return [{"input_ids": row, "labels": row} for row in rows]


def _mean_lm_loss(model: torch.nn.Module, batch: dict) -> torch.Tensor:
    """The textbook loss; a function of its own so the logits are freed before backward, as in ``lm_loss``."""
    logits = model(batch["input_ids"])
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), batch["labels"][:, 1:].reshape(-1))


class PlainLoop:
    def __init__(self, model: torch.nn.Module, batches: list[dict]):
        self.model, self.batches, self.step = model, batches, 0
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)  # as TrainConfig's default

    def __next__(self) -> float:
        batch = self.batches[self.step]
        self.step += 1
        loss = _mean_lm_loss(self.model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), CLIP)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()


class AccelerateLoop(PlainLoop):
    def __init__(self, model: torch.nn.Module, batches: list[dict]):
        from accelerate import Accelerator

        super().__init__(model, batches)
        self.accelerator = Accelerator(cpu=True)
        self.model, self.optimizer = self.accelerator.prepare(self.model, self.optimizer)

    def __next__(self) -> float:
        batch = self.batches[self.step]
        self.step += 1
        loss = _mean_lm_loss(self.model, batch)
        self.accelerator.backward(loss)
        self.accelerator.clip_grad_norm_(self.model.parameters(), CLIP)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()


class TrainerLoop:
    def __init__(self, model: torch.nn.Module, batches: list[dict], out_dir: Path, compile_mode: str, threads: int):
        config = TrainConfig(out_dir=str(out_dir), max_steps=len(batches), lr=LR, clip_grad=CLIP, shuffle=False,
                             compile=compile_mode, threads=threads, progress=False, log_every=10)
        self.steps = Trainer(model, config, loss_fn=lm_loss).steps(batches)

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


def run(steps: int = 10, repeats: int = 5, warmup: int = 3, threads: int = 1, compile_on: bool = True) -> dict:
    """Run the benchmark and return its figures (see the module docstring)."""
    import importlib.util

    torch.set_num_threads(threads)
    total = warmup + steps * repeats
    batches = _batches(total, batch_size=8, block_size=BENCH_GPT.block_size)
    torch.manual_seed(0)
    base = GPT(BENCH_GPT)
    tmp = tempfile.TemporaryDirectory(prefix="boya-bench-")
    loops = {
        "plain": PlainLoop(copy.deepcopy(base), batches),
        "trainer": TrainerLoop(copy.deepcopy(base), batches, Path(tmp.name) / "off", "off", threads),
    }
    if compile_on:
        loops["compiled"] = TrainerLoop(copy.deepcopy(base), batches, Path(tmp.name) / "model", "model", threads)
    has_accelerate = importlib.util.find_spec("accelerate") is not None
    if has_accelerate:
        loops["accelerate"] = AccelerateLoop(copy.deepcopy(base), batches)
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
            out.append(statistics.median(times[numerator][window]) / statistics.median(times[denominator][window]))
        return out

    def summary(values: list[float]) -> dict:
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    result = {
        "model": f"GPT n_layer={BENCH_GPT.n_layer} n_embd={BENCH_GPT.n_embd} vocab={BENCH_GPT.vocab_size} batch 8x{BENCH_GPT.block_size}",
        "threads": threads,
        "steps_timed": steps * repeats,
        "warmup_steps": warmup,
        "step_cpu_s": {name: statistics.median(cpu[name][warmup:]) for name in names},
        "overhead": statistics.median(ratios("trainer", "plain", cpu)) - 1,
        "overhead_cpu_ratio": summary(ratios("trainer", "plain", cpu)),
        "overhead_wall_ratio": summary(ratios("trainer", "plain", wall)),
        "loss_max_diff": max(abs(a - b) for name in names if name != "compiled"
                             for a, b in zip(losses["plain"], losses[name], strict=True)),
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
        result["compiled_loss_max_diff_at"] = {"step": worst + 1, "plain": losses["plain"][worst],
                                               "compiled": losses["compiled"][worst]}
    if has_accelerate:
        result["accelerate_overhead"] = statistics.median(ratios("accelerate", "plain", cpu)) - 1
    return result
