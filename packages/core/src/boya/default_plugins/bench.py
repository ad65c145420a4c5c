"""``boya bench``: benchmarks of the runtime, printed as figures measured side by side in one run.

``boya bench train`` (trainer overhead vs a plain loop, compiled speedup, loss agreement, peak RSS)
``boya bench fusion`` (kernels launched per training step, eager vs inductor) and ``boya bench
distributed`` (each torch.distributed strategy vs one process). Other plugins
may add subcommands to the same group: ``cli.commands["bench"].add_command(...)``.
"""

import json
import os

import click

from ..hookspecs import hookimpl

BENCH_MODELS = ("hf-gpt2", "core")  # as boya.runtime.bench_train.MODELS (not imported: it imports torch)
MODEL_HELP = (
    "hf-gpt2: transformers' GPT2LMHeadModel built from a GPT2Config (issue 3's small GPT-2); "
    "core: Boya's own GPT of the same size (separate q/k/v projections for tensor parallelism)."
)


@click.group()
def bench():
    """Benchmarks of the Boya runtime (figures, not pass/fail)."""


def _echo(result: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result))
        return
    for key, value in result.items():
        click.echo(f"{key}: {json.dumps(value) if isinstance(value, dict) else value}")


@bench.command(name="train")
@click.option("--steps", default=10, show_default=True, help="Timed steps per repeat and variant.")
@click.option("--repeats", default=5, show_default=True)
@click.option(
    "--warmup", default=3, show_default=True, help="Untimed first steps (compilation happens here)."
)
@click.option("--threads", default=1, show_default=True, help="Intra-op threads for every variant.")
@click.option(
    "--no-compile", is_flag=True, help="Skip the compiled variant (saves its 35-100 s cold compile)."
)
@click.option(
    "--model",
    "model_name",
    type=click.Choice(BENCH_MODELS),
    default=BENCH_MODELS[0],
    show_default=True,
    help=MODEL_HELP,
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_train(steps, repeats, warmup, threads, no_compile, model_name, as_json):
    """Plain loop vs Trainer (compile off / on) vs Accelerate: overhead, speedup, loss agreement, peak RSS."""
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
    from ..runtime.bench_train import run

    _echo(
        run(
            steps=steps,
            repeats=repeats,
            warmup=warmup,
            threads=threads,
            compile_on=not no_compile,
            model_name=model_name,
        ),
        as_json,
    )


@bench.command(name="fusion")
@click.option(
    "--model",
    "model_name",
    type=click.Choice(BENCH_MODELS),
    default=BENCH_MODELS[0],
    show_default=True,
    help=MODEL_HELP,
)
@click.option("--threads", default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_fusion(model_name, threads, as_json):
    """Kernels one training step (fwd+bwd) of a small GPT-2 launches: eager ATen ops vs inductor."""
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
    from ..runtime.bench_fusion import run

    _echo(run(model_name, threads), as_json)


@bench.command(name="gpu")
@click.option("--steps", default=30, show_default=True, help="Timed steps per variant.")
@click.option("--warmup", default=5, show_default=True, help="Untimed first steps (compilation, autotuning).")
@click.option("--batch-size", default=16, show_default=True)
@click.option("--block-size", default=512, show_default=True)
@click.option("--layers", default=12, show_default=True, help="GPT blocks (12 x 768 is GPT-2 small's shape).")
@click.option("--width", default=768, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_gpu(steps, warmup, batch_size, block_size, layers, width, as_json):
    """The trainer on one CUDA GPU: fp32 vs bf16-mixed vs 16-mixed (dynamic loss scaling) vs compiled."""
    from ..runtime.bench_gpu import run

    _echo(
        run(
            steps=steps,
            warmup=warmup,
            batch_size=batch_size,
            block_size=block_size,
            n_layer=layers,
            n_embd=width,
            n_head=max(1, width // 64),
        ),
        as_json,
    )


@bench.command(name="distributed")
@click.option(
    "--nproc", default=2, show_default=True, help="Processes torchrun starts (CPU: gloo, GPU: NCCL)."
)
@click.option(
    "--strategies",
    default="ddp,fsdp,tp,pp,fsdp+tp,tp@hf-gpt2",
    show_default=True,
    help="Comma-separated; NAME@hf-gpt2 runs NAME on transformers' GPT-2 of the same size.",
)
@click.option(
    "--steps", default=6, show_default=True, help="Training steps per strategy (the first is not timed)."
)
@click.option("--layers", default=4, show_default=True, help="Blocks of the GPT benchmarked.")
@click.option("--width", default=128, show_default=True, help="Embedding width of the GPT benchmarked.")
@click.option("--batch-size", default=8, show_default=True, help="Global batch (sequences of 16 bytes).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_distributed(nproc, strategies, steps, layers, width, batch_size, as_json):
    """Each strategy vs one process: loss parity, step time, communication time, scaling efficiency."""
    from ..runtime.distributed.bench import run

    _echo(run(nproc, strategies, steps, layers, width, batch_size), as_json)


@hookimpl
def register_commands(cli):
    existing = cli.commands.get("bench")
    if isinstance(existing, click.Group):
        for command in bench.commands.values():
            existing.add_command(command)
    else:
        cli.add_command(bench)
