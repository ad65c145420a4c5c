"""``boya optimize``, ``boya generate``, ``boya export`` and ``boya bench infer`` (see :mod:`boya.runtime.inference`).

Import-light: torch and transformers are imported inside the commands.
"""

import json
import sys

import click

from ..errors import BoyaError
from ..hookspecs import hookimpl


@click.command()
@click.argument("model")
@click.option("--int8", "int8", is_flag=True, help="Quantize to int8 (same as --quantize int8-dynamic).")
@click.option("--quantize", "quant_mode", help="int8-dynamic, int8-weight or fp8-dynamic (GPU).")
@click.option("--prune", "prune_amount", type=float, help="Fraction of weights to zero, e.g. 0.5.")
@click.option(
    "--prune-method",
    default="unstructured",
    show_default=True,
    help="unstructured (global magnitude), heads or channels.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="New directory for the optimized model.",
)
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def optimize(model, int8, quant_mode, prune_amount, prune_method, out_dir, threads, as_json):
    """Prune and/or quantize MODEL, save it to --out and compare it with the original.

    Prints the weight file size before and after and how often the optimized model's top
    prediction agrees with the original's on held-out text (after loading it back from --out).
    """
    from ..runtime.inference.benchmark import agreement, eval_batches, eval_loss
    from ..runtime.inference.engine import load_model
    from ..runtime.inference.prune import prune_model
    from ..runtime.inference.quantize import quantize_model, resolve_backend
    from ..runtime.inference.saved_model import WEIGHTS, save_optimized

    if int8 and quant_mode and quant_mode != "int8-dynamic":
        raise BoyaError("give either --int8 or --quantize MODE, not both")
    quant_mode = quant_mode or ("int8-dynamic" if int8 else None)
    if quant_mode is None and prune_amount is None:
        raise BoyaError("nothing to do: give --int8, --quantize MODE and/or --prune FRACTION")
    if quant_mode:
        resolve_backend(quant_mode, "torchao")  # fail before any work when the mode cannot run here
    loaded = load_model(model, threads=threads)
    if loaded.info.get("quantization"):
        raise BoyaError(f"{model} is already quantized; optimize the original model")
    batches = eval_batches(loaded, n_batches=2)
    import torch

    from ..runtime.inference.engine import eager_forward

    with torch.inference_mode():
        reference = [eager_forward(loaded.model)(b) for b in batches]
    base_loss = eval_loss(loaded.model, batches)
    details = {"quantization": None, "pruning": None}
    if prune_amount is not None:
        report = prune_model(loaded.model, prune_amount, prune_method)
        details["pruning"] = {"method": prune_method, "amount": prune_amount, "layers": report}
    if quant_mode:
        details["quantization"] = quantize_model(loaded.model, quant_mode, backend="torchao")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="boya-optimize-") as tmp:
        original = load_model(model, threads=threads)
        before = (save_optimized(original, Path(tmp) / "fp32", details={}) / WEIGHTS).stat().st_size
    saved = save_optimized(loaded, out_dir, details=details)
    after = (saved / WEIGHTS).stat().st_size
    reloaded = load_model(saved)
    result = {
        "out": str(saved),
        "bytes_before": before,
        "bytes_after": after,
        "size_ratio": after / before,
        **agreement(reloaded.model, reference, batches),
        "eval_loss_before": base_loss,
        "eval_loss_after": eval_loss(reloaded.model, batches),
        "quantization": details["quantization"],
        "sparsity": details["pruning"]["layers"][-1]["sparsity"] if details["pruning"] else 0.0,
    }
    if as_json:
        click.echo(json.dumps(result))
        return
    if details["pruning"]:
        for row in details["pruning"]["layers"]:
            click.echo(
                f"  {row['name']:<40} {'x'.join(map(str, row['shape'])):>12}  sparsity {row['sparsity']:.3f}"
            )
    click.echo(f"saved {saved}")
    click.echo(f"weights: {before / 1e6:.2f} MB -> {after / 1e6:.2f} MB ({result['size_ratio']:.3f}x)")
    click.echo(
        f"agreement with the original on held-out text: top-1 {result['top1_agreement']:.4f}, "
        f"relative logit error {result['rel_logit_error']:.4f}, eval loss {base_loss:.4f} -> {result['eval_loss_after']:.4f}"
    )


@click.command()
@click.argument("model")
@click.option("--prompt", "prompts", multiple=True, required=True, help="Prompt text; repeat for a batch.")
@click.option("--max-new-tokens", type=int, default=64, show_default=True)
@click.option("--temperature", type=float, default=0.0, show_default=True, help="0 is greedy decoding.")
@click.option("--top-k", type=int)
@click.option("--top-p", type=float)
@click.option("--stop", multiple=True, help="Stop once the text contains this string (repeatable).")
@click.option("--max-time", type=float, help="Stop after this many seconds.")
@click.option("--cache", default="dynamic", show_default=True, help="dynamic, static or off.")
@click.option("--compile", "compile_", is_flag=True, help="Compile decoding (implies --cache static).")
@click.option("--seed", type=int)
@click.option("--threads", type=int, default=1, show_default=True)
@click.option(
    "--stream/--no-stream", default=True, show_default=True, help="Print text as it comes (one prompt)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per prompt.")
def generate(
    model,
    prompts,
    max_new_tokens,
    temperature,
    top_k,
    top_p,
    stop,
    max_time,
    cache,
    compile_,
    seed,
    threads,
    stream,
    as_json,
):
    """Continue each --prompt with MODEL (a boya train run, a boya optimize directory or a Hugging Face model)."""
    from ..runtime.inference.engine import load_model
    from ..runtime.inference.generate import GenerationSettings, generate_text, stream_text

    settings = GenerationSettings(
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        stop=tuple(stop),
        max_time=max_time,
        cache="static" if compile_ else cache,
        compile=compile_,
        seed=seed,
    )
    loaded = load_model(model, threads=threads)
    if stream and not as_json and len(prompts) == 1:
        pieces = stream_text(loaded, prompts[0], settings)
        click.echo(prompts[0], nl=False)
        for piece in pieces:
            click.echo(piece, nl=False)
            sys.stdout.flush()
        click.echo()
        return
    for prompt, result in zip(prompts, generate_text(loaded, list(prompts), settings), strict=True):
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "prompt": prompt,
                        "text": result.text,
                        "tokens": len(result.tokens),
                        "stopped_by": result.stopped_by,
                    }
                )
            )
        else:
            click.echo(prompt + result.text)


@click.command()
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["onnx", "pt2"]), default="onnx", show_default=True)
@click.option(
    "--out", "out_path", required=True, type=click.Path(dir_okay=False), help="File to write (.onnx or .pt2)."
)
@click.option("--json", "as_json", is_flag=True)
def export(model, fmt, out_path, as_json):
    """Export MODEL (input_ids -> logits) to ONNX or torch.export, and check it against PyTorch."""
    from pathlib import Path

    from ..runtime.inference.engine import load_model
    from ..runtime.inference.export import export_onnx, export_program

    if Path(out_path).exists():
        raise BoyaError(f"{out_path} already exists; choose a new --out")
    loaded = load_model(model, threads=1)
    result = (export_onnx if fmt == "onnx" else export_program)(loaded, out_path)
    row = {
        "out": str(result.path),
        "format": result.format,
        "bytes": result.size_bytes,
        "max_abs_diff": result.max_abs_diff,
        "max_abs_logit": result.max_abs_logit,
    }
    if as_json:
        click.echo(json.dumps(row))
    else:
        click.echo(
            f"wrote {result.path} ({result.size_bytes / 1e6:.2f} MB); parity with PyTorch: max |diff| "
            f"{result.max_abs_diff:.2e} on logits up to {result.max_abs_logit:.2f}"
        )


@click.command(name="infer")
@click.option("--model", help="Model to measure [default: the text-lm recipe trained --steps steps, cached].")
@click.option(
    "--steps", type=int, default=300, show_default=True, help="Training steps of the default model."
)
@click.option(
    "--no-compile", is_flag=True, help="Skip the torch.compile variants (minutes of compile time on CPU)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench_infer(model, steps, no_compile, as_json):
    """fp32 vs int8 vs pruned sizes, speed and agreement, and KV-cache generation speed, side by side."""
    from ..runtime.inference.benchmark import run_benchmark

    figures = run_benchmark(
        model, steps=steps, compile=not no_compile, log=lambda line: click.echo(line, err=True)
    )
    if as_json:
        click.echo(json.dumps(figures))
        return
    bars = [
        ("int8 file / fp32 file", figures["int8_size_ratio"], "<= 0.30"),
        ("int8 speedup (best mode of each)", figures["int8_speedup"], ">= 1.3"),
        ("int8 top-1 agreement", figures["int8_top1_agreement"], ">= 0.98"),
        ("50%-pruned file / fp32 file", figures["prune50_size_ratio"], "<= 0.6"),
        ("80%-pruned file / fp32 file", figures["prune80_size_ratio"], ""),
        ("KV cache tokens/s vs none, batch 1", figures["kv_cache_speedup_bs1"], ">= 3"),
        ("KV cache tokens/s vs none, batch 8", figures["kv_cache_speedup_bs8"], ""),
    ]
    for label, value, bar in bars:
        click.echo(f"{label:<38} {value:8.3f}  {bar}")


@hookimpl(trylast=True)
def register_commands(cli):
    """``trylast``: the ``bench`` group of :mod:`boya.default_plugins.bench` exists by then; if it is missing, make one."""
    cli.add_command(optimize)
    cli.add_command(generate)
    cli.add_command(export)
    bench = cli.commands.get("bench")
    if bench is None:
        bench = click.Group(name="bench", help="Benchmarks: ratios measured side by side in one run.")
        cli.add_command(bench)
    bench.add_command(bench_infer)
