"""Train the same tiny GPT under each strategy and under one process; compare loss curves and time the steps.

Run under torchrun (the tests and ``boya bench distributed`` do)::

    torchrun --nproc-per-node 2 -m boya.runtime.distributed.parity --out DIR --strategies ddp,fsdp,tp,pp,fsdp+tp,tp@hf-gpt2

A strategy name may carry ``@MODEL``: ``core`` (default, the runtime's GPT) or ``hf-gpt2`` (transformers'
``GPT2LMHeadModel`` of the same size); each model gets its own one-process reference. For GPT-2 rank 0
also loads the exported ``model.safetensors`` into a fresh ``GPT2LMHeadModel`` and compares its logits.

Every run goes through :class:`boya.runtime.Trainer` with the same global batch, seed and data
(byte chunks of the bundled sample text), so the loss of step k must equal the one-process loss of
step k. Rank 0 first trains the one-process reference while the other ranks wait; the process
group is then reused by every strategy in turn (one torchrun start-up, ~20 s, for all of them).
Rank 0 writes ``DIR/parity.json``: per strategy the loss curve, its largest difference from the
reference, the largest weight difference of the exported ``model.safetensors``, the median step
time (unprofiled steps), communication time of one step from ``torch.profiler`` (with ``--profile``) and the scaling
efficiency (N-process throughput / (N x one-process throughput)). ``--resume-check`` also
interrupts each sharded run after ``steps - 1`` steps and resumes it from its DCP checkpoint, and for
``fsdp`` and ``tp`` resumes that N-process checkpoint on one process (``--strategy single``, DCP
reshards). ``--tp-helper-check`` splits a 2-layer MLP with :class:`TensorParallel` and compares its
output and gradients with the unsplit MLP.
"""

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from ...errors import BoyaError
from ..config import TrainConfig
from ..models.gpt import GPT, GPTConfig, lm_loss
from ..text_lm import TokenChunks, byte_chunks, sample_text
from ..trainer import Trainer
from .launch import init_from_torchrun, log

TINY = GPTConfig(vocab_size=256, block_size=16, n_layer=2, n_head=2, n_embd=32)
COMM_OPS = (
    "c10d",
    "gloo",
    "nccl",
    "all_reduce",
    "allreduce",
    "reduce_scatter",
    "all_gather",
    "allgather",
    "broadcast",
    "send",
    "recv",
    "barrier",
)


def tiny_data(model_config: GPTConfig = TINY, examples: int = 64) -> TokenChunks:
    return TokenChunks(byte_chunks(sample_text(), model_config.block_size)[:examples])


def build_model(name: str, model_config: GPTConfig):
    """``(model, loss_fn)``: the core GPT, or transformers' GPT-2 of the same size (dropout off, as the core's)."""
    if name == "core":
        return GPT(model_config), lm_loss
    if name != "hf-gpt2":
        raise BoyaError(f"unknown parity model {name!r}; choose core or hf-gpt2")
    from transformers import GPT2LMHeadModel

    from ..bench_train import hf_gpt2_loss

    return GPT2LMHeadModel(hf_gpt2_config(model_config)), hf_gpt2_loss


def hf_gpt2_config(model_config: GPTConfig):
    from transformers import GPT2Config

    return GPT2Config(
        n_layer=model_config.n_layer,
        n_embd=model_config.n_embd,
        n_head=model_config.n_head,
        vocab_size=model_config.vocab_size,
        n_positions=model_config.block_size,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        use_cache=False,
        bos_token_id=None,
        eos_token_id=None,
    )


def train_curve(
    strategy: str,
    out_dir: Path,
    steps: int,
    model_config: GPTConfig,
    batch_size: int,
    grad_accum: int,
    profile: bool = False,
    model: str = "core",
    **overrides,
) -> dict:
    """Train ``model`` from seed 0 under ``strategy``; return the loss curve, step times and (rank 0) comm time."""
    torch.manual_seed(0)
    network, loss_fn = build_model(model, model_config)
    config = TrainConfig(
        out_dir=str(out_dir),
        max_steps=steps,
        lr=3e-3,
        batch_size=batch_size,
        grad_accum=grad_accum,
        strategy=strategy,
        seed=0,
        threads=1,
        progress=False,
        loggers=(),
        clip_grad=1.0,
        device="cpu",
        **overrides,
    )
    trainer = Trainer(network, config, loss_fn=loss_fn)
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
            comm = (
                sum(
                    event.self_cpu_time_total
                    for event in profiler.key_averages()
                    if any(op in event.key.lower() for op in COMM_OPS)
                )
                / 1e6
            )
    timed = times[2:] if profile else times[1:]
    return {
        "losses": losses,
        "step_seconds": statistics.median(timed or times),
        "tokens_per_step": metrics["tokens"],
        "comm_seconds_per_step": comm,
        "profiled_step_seconds": times[1] if profile and len(times) > 1 else None,
    }


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
    parser.add_argument(
        "--profile", action="store_true", help="Measure communication time with torch.profiler."
    )
    parser.add_argument(
        "--resume-check", action="store_true", help="Also stop each sharded run and resume it."
    )
    parser.add_argument(
        "--tp-helper-check", action="store_true", help="Also check TensorParallel on a 2-layer MLP."
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    env = init_from_torchrun("parity")
    out = Path(args.out)
    model_config = GPTConfig(vocab_size=256, block_size=16, n_layer=args.layers, n_head=2, n_embd=args.width)
    common = {
        "steps": args.steps,
        "model_config": model_config,
        "batch_size": args.batch_size,
        "grad_accum": args.grad_accum,
    }
    results = {
        "processes": env.world_size,
        "backend": env.backend,
        "steps": args.steps,
        "model": model_config.to_dict(),
        "strategies": {},
    }
    runs = [(spec, *spec.partition("@")[::2]) for spec in args.strategies.split(",")]
    references = {}
    if env.is_main:
        for model in dict.fromkeys(["core", *(model or "core" for _, _, model in runs)]):
            references[model] = train_curve("single", out / f"single-{model}", model=model, **common)
            log(env, f"single {model}: losses {references[model]['losses']}")
        results["single"] = references["core"]
        results["single_by_model"] = references
    dist.barrier()
    if args.tp_helper_check:
        results["tp_helper"] = tp_helper_check()
    for spec, name, model in runs:
        model = model or "core"
        run_dir = out / spec.replace("+", "_").replace("@", "-")
        started = time.perf_counter()
        try:
            run = train_curve(name, run_dir, profile=args.profile, model=model, **common)
        except Exception as error:  # noqa: BLE001 - one failing strategy is reported, the others still run
            log(env, f"{spec}: FAILED {type(error).__name__}: {error}", all_ranks=True)
            results["strategies"][spec] = {"error": f"{type(error).__name__}: {error}"}
            continue
        if args.resume_check and name != "ddp":
            run.update(_resume_check(name, model, out / f"{run_dir.name}-resume", common, env))
        if env.is_main:
            reference = references[model]
            run["loss_max_diff"] = max(
                abs(a - b) for a, b in zip(run["losses"], reference["losses"], strict=True)
            )
            run["weight_max_diff"] = max_weight_diff(
                run_dir / "model.safetensors", out / f"single-{model}" / "model.safetensors"
            )
            if model == "hf-gpt2":
                run["hf_reload"] = hf_reload_check(
                    run_dir / "model.safetensors", out / f"single-{model}" / "model.safetensors", model_config
                )
            one = reference["tokens_per_step"] / reference["step_seconds"]
            run["scaling_efficiency"] = run["tokens_per_step"] / run["step_seconds"] / (env.world_size * one)
            run["wall_seconds"] = time.perf_counter() - started
            log(env, f"{spec}: loss_max_diff {run['loss_max_diff']:.2e} step {run['step_seconds']:.4f} s")
        results["strategies"][spec] = run
        dist.barrier()
    if env.is_main:
        (out / "parity.json").write_text(json.dumps(results, indent=2))
    return 0


RESHARDS_TO_ONE = ("fsdp", "tp")
"""Strategies whose checkpoints the resume check also moves between N processes and one (core GPT)."""


def _resume_check(name: str, model: str, out_dir: Path, common: dict, env) -> dict:
    """Train ``steps - 1`` steps (checkpoint), then resume in a fresh trainer for the last step: the full curve.

    For ``RESHARDS_TO_ONE`` the checkpoint also moves between world sizes (:func:`_reshard_check`); a TP run of
    GPT-2, whose plan reshapes the fused q/k/v weights, records the error that resuming it on one process gives.
    """
    steps = common["steps"]
    first = train_curve(name, out_dir, model=model, **{**common, "steps": steps - 1})
    checkpoint = out_dir / "checkpoints" / f"step-{steps - 1:08d}"
    kept = out_dir.with_name(f"{out_dir.name}-step{steps - 1}")
    if env.is_main:
        shutil.copytree(checkpoint, kept)  # the resumed run below may rotate it away
    dist.barrier()
    second = train_curve(name, out_dir, model=model, **{**common, "steps": steps}, resume=True)
    found = {"resumed_losses": first["losses"] + second["losses"]}
    if name in RESHARDS_TO_ONE and model == "core":
        found.update(_reshard_check(name, out_dir, kept, first["losses"], common, env))
    elif (
        name in ("tp", "fsdp+tp") and env.is_main
    ):  # a reshaping plan (GPT-2's q/k/v view): refused, with advice
        try:
            train_curve(
                "single", out_dir.with_name(f"{out_dir.name}-on-one"), model=model, **common, resume=str(kept)
            )
        except BoyaError as error:
            found["resume_on_one_error"] = str(error)
    dist.barrier()
    return found


def _reshard_check(
    name: str, out_dir: Path, kept: Path, first_losses: list[float], common: dict, env
) -> dict:
    """N -> 1: rank 0 alone resumes the N-process checkpoint ``kept``. 1 -> N: rank 0 alone trains ``steps - 1``
    steps, then all ranks resume its one-process checkpoint under ``name``. Both give full loss curves."""
    steps = common["steps"]
    found = {}
    one = out_dir.with_name(f"{out_dir.name}-from-one")
    if env.is_main:
        alone = train_curve("single", out_dir.with_name(f"{out_dir.name}-on-one"), **common, resume=str(kept))
        found["resumed_on_one_losses"] = first_losses + alone["losses"]
        before = train_curve("single", one, **{**common, "steps": steps - 1})
    dist.barrier()
    after = train_curve(
        name,
        out_dir.with_name(f"{out_dir.name}-one-to-n"),
        **common,
        resume=str(one / "checkpoints" / f"step-{steps - 1:08d}"),
    )
    if env.is_main:
        found["resumed_from_one_losses"] = before["losses"] + after["losses"]
    return found


def hf_reload_check(exported: Path, reference: Path, model_config: GPTConfig) -> dict:
    """Load the exported weights with ``GPT2LMHeadModel.from_pretrained`` (beside a ``config.json``, as a user
    would) and compare its logits with the one-process run's export loaded the same way."""
    import tempfile

    from transformers import GPT2LMHeadModel

    tokens = tiny_data(model_config, examples=4)[:]["input_ids"]
    logits, problems = [], {}
    for file in (exported, reference):
        with tempfile.TemporaryDirectory(prefix="boya-gpt2-") as tmp:
            hf_gpt2_config(model_config).save_pretrained(tmp)
            shutil.copy(file, Path(tmp) / "model.safetensors")
            model, info = GPT2LMHeadModel.from_pretrained(tmp, output_loading_info=True)
        problems[file] = sorted(f"{kind}: {key}" for kind, keys in info.items() for key in keys)
        with torch.no_grad():
            logits.append(model.eval()(input_ids=tokens).logits)
    return {
        "loading_problems": problems[exported],
        "logits_max_diff": float((logits[0] - logits[1]).abs().max()),
    }


def tp_helper_check(width: int = 8, hidden: int = 16) -> dict:
    """A user's 2-layer MLP split with :class:`TensorParallel` (colwise then rowwise) vs the same MLP unsplit,
    and a hand-written row-parallel layer summed with ``tp.all_reduce``: largest output and gradient differences."""
    from torch import nn

    from .tp import TensorParallel

    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, width))
    x = torch.randn(4, width)
    expected = mlp(x)
    expected.pow(2).sum().backward()
    full_grads = {name: p.grad.clone() for name, p in mlp.named_parameters()}

    tp = TensorParallel(world_size=dist.get_world_size())
    split = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, width))
    split.load_state_dict(mlp.state_dict())
    tp.split(split[0], "colwise")
    tp.split(split[2], "rowwise")
    got = split(x)
    got.pow(2).sum().backward()
    grad_diff = max(
        float((p.grad.full_tensor() - full_grads[name]).abs().max()) for name, p in split.named_parameters()
    )

    rank, size = dist.get_rank(), dist.get_world_size()
    rows = slice(rank * hidden // size, (rank + 1) * hidden // size)
    weight = mlp[2].weight.detach()[:, rows].clone().requires_grad_()
    hand = tp.all_reduce(torch.relu(mlp[0](x))[:, rows] @ weight.T) + mlp[2].bias
    hand.pow(2).sum().backward()
    return {
        "output_max_diff": float((got - expected).abs().max()),
        "grad_max_diff": grad_diff,
        "all_reduce_output_max_diff": float((hand - expected).abs().max()),
        "all_reduce_grad_max_diff": float((weight.grad - full_grads["2.weight"][:, rows]).abs().max()),
    }


if __name__ == "__main__":
    sys.exit(main())
