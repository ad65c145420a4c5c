"""Train the same tiny GPT under each strategy and under one process; compare loss curves and time the steps.

Run under torchrun (the tests and ``boya bench distributed`` do)::

    torchrun --nproc-per-node 2 -m boya.runtime.distributed.parity --out DIR --strategies ddp,fsdp,tp,pp,fsdp+tp

Every run goes through :class:`boya.runtime.Trainer` with the same global batch, seed and data
(byte chunks of the bundled sample text), so the loss of step k must equal the one-process loss of
step k. Rank 0 first trains the one-process reference while the other ranks wait; the process
group is then reused by every strategy in turn (one torchrun start-up, ~20 s, for all of them).
Rank 0 writes ``DIR/parity.json``: per strategy the loss curve, its largest difference from the
reference, the largest weight difference of the exported ``model.safetensors``, the median step
time (unprofiled steps), communication time of one step from ``torch.profiler`` (with ``--profile``) and the scaling
efficiency (N-process throughput / (N x one-process throughput)). ``--resume-check`` also
interrupts each sharded run after ``steps - 1`` steps and resumes it from its DCP checkpoint.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from ..config import TrainConfig
from ..models.gpt import GPT, GPTConfig, lm_loss
from ..text_lm import TokenChunks, byte_chunks, sample_text
from ..trainer import Trainer
from .launch import init_from_torchrun, log

TINY = GPTConfig(vocab_size=256, block_size=16, n_layer=2, n_head=2, n_embd=32)
COMM_OPS = ("c10d", "gloo", "nccl", "all_reduce", "allreduce", "reduce_scatter", "all_gather", "allgather",
            "broadcast", "send", "recv", "barrier")


def tiny_data(model_config: GPTConfig = TINY, examples: int = 64) -> TokenChunks:
    return TokenChunks(byte_chunks(sample_text(), model_config.block_size)[:examples])


def train_curve(strategy: str, out_dir: Path, steps: int, model_config: GPTConfig, batch_size: int,
                grad_accum: int, profile: bool = False, **overrides) -> dict:
    """Train from seed 0 under ``strategy``; return the loss curve, step times and (rank 0) comm time."""
    torch.manual_seed(0)
    model = GPT(model_config)
    config = TrainConfig(out_dir=str(out_dir), max_steps=steps, lr=3e-3, batch_size=batch_size, grad_accum=grad_accum,
                         strategy=strategy, seed=0, threads=1, progress=False, loggers=(), clip_grad=1.0,
                         device="cpu", **overrides)
    trainer = Trainer(model, config, loss_fn=lm_loss)
    losses, times, comm = [], [], 0.0
    profiler = None
    if profile:
        from torch.profiler import ProfilerActivity
        from torch.profiler import profile as torch_profile

        profiler = torch_profile(activities=[ProfilerActivity.CPU])
    for metrics in trainer.steps(tiny_data(model_config)):
        losses.append(metrics["loss"])
        times.append(metrics["step_time_s"])
        if profiler is not None and len(losses) == 1:
            profiler.start()  # profile step 2 only: step 1 initialises lazily, later steps are timed unprofiled
        elif profiler is not None and len(losses) == 2:
            profiler.stop()
            comm = sum(event.self_cpu_time_total for event in profiler.key_averages()
                       if any(op in event.key.lower() for op in COMM_OPS)) / 1e6
    timed = times[2:] if profile else times[1:]
    return {"losses": losses, "step_seconds": statistics.median(timed or times),
            "tokens_per_step": metrics["tokens"], "comm_seconds_per_step": comm,
            "profiled_step_seconds": times[1] if profile and len(times) > 1 else None}


def max_weight_diff(path_a: Path, path_b: Path) -> float:
    from safetensors.torch import load_file

    a, b = load_file(str(path_a)), load_file(str(path_b))
    return max(float((a[key] - b[key]).abs().max()) for key in a.keys() & b.keys())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--strategies", default="ddp,fsdp,tp,pp,fsdp+tp")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--grad-accum", type=int, default=2)
    parser.add_argument("--layers", type=int, default=TINY.n_layer)
    parser.add_argument("--width", type=int, default=TINY.n_embd)
    parser.add_argument("--profile", action="store_true", help="Measure communication time with torch.profiler.")
    parser.add_argument("--resume-check", action="store_true", help="Also stop each sharded run and resume it.")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    env = init_from_torchrun("parity")
    out = Path(args.out)
    model_config = GPTConfig(vocab_size=256, block_size=16, n_layer=args.layers, n_head=2, n_embd=args.width)
    common = {"steps": args.steps, "model_config": model_config, "batch_size": args.batch_size,
              "grad_accum": args.grad_accum}
    results = {"processes": env.world_size, "backend": env.backend, "steps": args.steps,
               "model": model_config.to_dict(), "strategies": {}}
    if env.is_main:
        reference = train_curve("single", out / "single", **common)
        results["single"] = reference
        log(env, f"single: losses {reference['losses']}")
    dist.barrier()
    for name in args.strategies.split(","):
        started = time.perf_counter()
        try:
            run = train_curve(name, out / name.replace("+", "_"), profile=args.profile, **common)
        except Exception as error:  # noqa: BLE001 - one failing strategy is reported, the others still run
            log(env, f"{name}: FAILED {type(error).__name__}: {error}", all_ranks=True)
            results["strategies"][name] = {"error": f"{type(error).__name__}: {error}"}
            continue
        if args.resume_check and name != "ddp":
            run["resumed_losses"] = _resume_check(name, out / f"{name.replace('+', '_')}-resume", common)
        if env.is_main:
            reference = results["single"]
            run["loss_max_diff"] = max(abs(a - b) for a, b in zip(run["losses"], reference["losses"], strict=True))
            run["weight_max_diff"] = max_weight_diff(out / name.replace("+", "_") / "model.safetensors",
                                                     out / "single" / "model.safetensors")
            one = reference["tokens_per_step"] / reference["step_seconds"]
            run["scaling_efficiency"] = run["tokens_per_step"] / run["step_seconds"] / (env.world_size * one)
            run["wall_seconds"] = time.perf_counter() - started
            log(env, f"{name}: loss_max_diff {run['loss_max_diff']:.2e} step {run['step_seconds']:.4f} s")
        results["strategies"][name] = run
        dist.barrier()
    if env.is_main:
        (out / "parity.json").write_text(json.dumps(results, indent=2))
    return 0


def _resume_check(name: str, out_dir: Path, common: dict) -> list[float]:
    """Train ``steps - 1`` steps (checkpoint), then resume in a fresh trainer for the last step: the full curve."""
    steps = common["steps"]
    first = train_curve(name, out_dir, **{**common, "steps": steps - 1})
    second = train_curve(name, out_dir, **{**common, "steps": steps}, resume=True)
    return first["losses"] + second["losses"]


if __name__ == "__main__":
    sys.exit(main())
