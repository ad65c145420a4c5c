"""``boya bench infer``: fp32 vs int8 vs pruned vs cached generation, side by side in one process.

The model is the core's ``text-lm`` recipe trained briefly (or ``--model``): agreement measured
on a random model's flat logits would mean nothing. Speed is process CPU time with one thread,
measured the way ``boya bench train`` does: every round calls each variant once, in a rotated
order, and figures are medians (a ratio: the median of ratios over windows of consecutive rounds,
with its min and max). On a shared machine wall time varies several-fold from run to run, and a
best-of-few CPU time still follows whichever variant ran during a quiet spell; paired medians let
the load hit both sides of a ratio alike.

The forward pass timed is one batch of 8 held-out rows of 128 tokens (batched scoring, or the
prefill of 8 prompts). On the AVX2 CPU without VNNI this was measured on, int8 pays off from about
a hundred tokens per call (one prompt of 128 tokens, eager: 1.3x); for one token per call (decoding)
per-call overhead dominates and int8 was no faster than fp32 (0.97-1.02x).

Figures: file size of each saved variant (our safetensors format, tied weights once); for int8,
relative logit error and top-1 agreement on held-out text after a save/load round trip, forward
time eager and compiled; for pruning, file size and eval-loss change; for generation, tokens per
CPU second without cache, with the dynamic cache, static cache, static + compile, at batch 1 and 8.
"""

import copy
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from ...errors import BoyaError
from ..fusion import compile_counts
from .engine import LoadedModel, compiled_forward, eager_forward, load_model
from .generate import GenerationSettings, generate_text
from .prune import prune_model
from .quantize import quantize_model
from .saved_model import WEIGHTS, save_optimized

BENCH_RECIPE = "text-lm"
FORWARD_ROUNDS = 30
"""Rounds of forward timing: every fast variant is called once per round (about 1 s of CPU per round here)."""
RATIO_WINDOW = 5
"""Consecutive rounds whose medians make one speed ratio; the reported ratio is the median over the windows."""
GENERATION_ROUNDS = 3
SPARSE_ROUNDS = 3
TORCHAO_DYNAMIC_EAGER = "int8-dynamic[torchao]/eager"
"""About 16x slower than fp32 on a CPU without VNNI (``torch._int_mm``): timed in ``SPARSE_ROUNDS`` rounds only."""


def bench_model(steps: int, cache_dir: Path) -> Path:
    """The ``text-lm`` recipe's model trained ``steps`` steps (seed 0), trained once and then reused."""
    from ... import plugins  # noqa: F401 - load the plugins first: importing boya.recipes first is circular
    from ...recipes import get_recipe
    from ..config import TrainConfig

    out = cache_dir / f"{BENCH_RECIPE}-{steps}-steps"
    if (out / "model.json").is_file() and (out / "model.safetensors").is_file():
        return out
    recipe = get_recipe(BENCH_RECIPE)
    shutil.rmtree(out, ignore_errors=True)
    config = TrainConfig(
        **{
            **recipe.defaults,
            "out_dir": str(out),
            "max_steps": steps,
            "threads": 1,
            "seed": 0,
            "progress": False,
        }
    )
    recipe.train(config)
    return out


def eval_batches(loaded: LoadedModel, n_batches: int = 4, batch_size: int = 8) -> list[torch.Tensor]:
    """Held-out text (the last tenth of the recipe's bundled sample, which the recipe never trains on),
    in rows of the model's context or 128 tokens, whichever is shorter."""
    from ..text_lm import sample_text

    text = sample_text().decode("utf-8", errors="replace")
    held_out = text[len(text) * 9 // 10 :]
    ids = torch.tensor(loaded.tokenizer.encode(held_out))
    length = min(loaded.context_length, 128)
    needed = n_batches * batch_size * length
    if len(ids) < needed:
        raise BoyaError(f"held-out text too short for {n_batches} batches of {batch_size} x {length} tokens")
    return list(ids[:needed].view(n_batches, batch_size, length))


def saved_size(loaded: LoadedModel, details: dict, root: Path) -> tuple[int, Path]:
    out = Path(tempfile.mkdtemp(dir=root)) / "model"
    save_optimized(loaded, out, details=details)
    return (out / WEIGHTS).stat().st_size, out


def eval_loss(model, batches: list[torch.Tensor]) -> float:
    forward = eager_forward(model)
    with torch.inference_mode():
        losses = [
            F.cross_entropy(forward(b)[:, :-1].flatten(0, 1).float(), b[:, 1:].flatten()) for b in batches
        ]
    return float(torch.stack(losses).mean())


def agreement(model, reference: list[torch.Tensor], batches: list[torch.Tensor]) -> dict:
    forward = eager_forward(model)
    with torch.inference_mode():
        outputs = [forward(b) for b in batches]
    top1 = torch.cat(
        [(o.argmax(-1) == r.argmax(-1)).flatten() for o, r in zip(outputs, reference, strict=True)]
    )
    rel = max(float((o - r).abs().max() / r.abs().max()) for o, r in zip(outputs, reference, strict=True))
    return {"top1_agreement": float(top1.float().mean()), "rel_logit_error": rel}


def cpu_times(
    variants: dict[str, Callable[[], object]], rounds: int, sparse: frozenset[str] = frozenset()
) -> dict[str, list[float]]:
    """CPU seconds of every call: each round calls every variant once, in an order rotated each round, so
    that load from other processes hits all variants alike instead of whichever ran during a busy spell.

    The first call of each variant (the compile, for compiled ones) is not timed. Variants named in
    ``sparse`` (far slower than the rest: timing them every round would dominate the run) are timed in
    the first ``SPARSE_ROUNDS`` rounds only; their samples stay paired by round with the others'.
    """
    for run in variants.values():
        run()
    names = list(variants)
    samples = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            if name in sparse and r >= SPARSE_ROUNDS:
                continue
            start = time.process_time()
            variants[name]()
            samples[name].append(time.process_time() - start)
    return samples


def paired_ratio(samples: dict, numerator: str, denominator: str, window: int) -> dict:
    """``numerator``/``denominator`` time as the median of per-window ratios of medians (windows of ``window``
    consecutive rounds, timed side by side), with the smallest and largest window's ratio to show the noise."""
    a, b = samples[numerator], samples[denominator]
    window = min(window, len(a), len(b))
    ratios = [
        statistics.median(a[start : start + window]) / statistics.median(b[start : start + window])
        for start in range(0, min(len(a), len(b)) - window + 1, window)
    ]
    return {
        "median": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
        "windows": len(ratios),
    }


def bench_int8(loaded: LoadedModel, batches: list[torch.Tensor], root: Path, compile: bool, log) -> dict:
    """Each int8 mode is saved, loaded back from disk, checked against fp32 and timed beside it.

    Both fp32 and int8 compile with the same inductor options (weight freezing). What runs, measured
    on an AVX2 CPU without VNNI (torch 2.13):

    - int8-dynamic on PyTorch's fbgemm kernels (the CPU default): the only int8 GEMM here faster than
      fp32's (1.2-2x per linear layer with 1024 rows of 256-1024 features). Each layer is one custom op
      (:mod:`.int8_linear`), so compiled the model is one graph (``compiled_graph_breaks``, 0; the
      torch.ao layers broke it 15 times) and inductor fuses everything between the int8 GEMMs.
    - int8-dynamic on torchao's kernels (timed eager only): its ``torch._int_mm`` is about 25x slower
      than an fp32 GEMM on this CPU, and compiled it was no faster, after minutes of compiling.
    - int8-weight: compiled with freezing, inductor folds the dequantized weights into constants and
      runs fp32 GEMMs (as fast as fp32, no int8 kernel); eager it dequantizes on every call.
    """
    reference_forward = eager_forward(loaded.model)
    with torch.inference_mode():
        reference = [reference_forward(b) for b in batches]
    fp32_size, _ = saved_size(loaded, {"quantization": None, "pruning": None}, root)
    results = {"fp32_file_bytes": fp32_size, "modes": {}}
    forwards = {"fp32/eager": eager_forward(loaded.model)}
    if compile:
        forwards["fp32/compiled"] = compiled_forward(loaded.model)
    variants = {"int8-dynamic": ("torch.ao", "torchao"), "int8-weight": ("torchao",)}
    for mode, kernel_choices in variants.items():
        model = copy.deepcopy(loaded.model)
        info = quantize_model(model, mode)
        size, path = saved_size(
            LoadedModel(model, loaded.tokenizer, loaded.source, loaded.context_length, {}),
            {"quantization": info},
            root,
        )
        for kernels in kernel_choices:
            reloaded = load_model(path, int8_kernels=kernels).model  # what a user gets back from disk
            name = f"{mode}[{kernels}]"
            results["modes"][name] = {
                "file_bytes": size,
                "size_ratio": size / fp32_size,
                **agreement(reloaded, reference, batches),
            }
            forwards[f"{name}/eager"] = eager_forward(reloaded)
            if compile and (kernels == "torch.ao" or mode == "int8-weight"):
                forwards[f"{name}/compiled"] = compiled_forward(reloaded)
            log(
                f"{name}: file {size / fp32_size:.3f}x of fp32, top-1 agreement {results['modes'][name]['top1_agreement']:.4f}"
            )
    batch = batches[0]
    log(f"timing forward passes of batch {tuple(batch.shape)}: {', '.join(forwards)} (compiling first)...")
    breaks_before = compile_counts()["graph_breaks"]
    with torch.inference_mode():
        samples = cpu_times(
            {name: (lambda f=f: f(batch)) for name, f in forwards.items()},
            FORWARD_ROUNDS,
            sparse=frozenset({TORCHAO_DYNAMIC_EAGER}),
        )
    medians = {name: statistics.median(times) for name, times in samples.items()}
    results["forward_cpu_ms"] = {name: 1000 * t for name, t in medians.items()}
    results["forward_timed_calls"] = {name: len(times) for name, times in samples.items()}
    results["compiled_graph_breaks"] = compile_counts()["graph_breaks"] - breaks_before

    def fastest_int8(suffix: str = "") -> str:
        return min((n for n in medians if not n.startswith("fp32/") and n.endswith(suffix)), key=medians.get)

    best_fp32 = min((n for n in medians if n.startswith("fp32/")), key=medians.get)
    best_int8 = fastest_int8()
    best_mode = best_int8.split("/")[0]
    speedup = paired_ratio(samples, best_fp32, best_int8, RATIO_WINDOW)
    results.update(
        best_fp32=best_fp32,
        best_int8=best_int8,
        speedup=speedup["median"],
        speedup_windows=speedup,
        speedup_eager=paired_ratio(samples, "fp32/eager", fastest_int8("/eager"), RATIO_WINDOW)["median"],
        best_mode_top1_agreement=results["modes"][best_mode]["top1_agreement"],
        best_mode_size_ratio=results["modes"][best_mode]["size_ratio"],
    )
    if compile:
        results["speedup_compiled"] = paired_ratio(
            samples, "fp32/compiled", fastest_int8("/compiled"), RATIO_WINDOW
        )["median"]
    return results


def bench_prune(loaded: LoadedModel, batches: list[torch.Tensor], root: Path, fp32_size: int, log) -> dict:
    base_loss = eval_loss(loaded.model, batches)
    results = {"eval_loss_fp32": base_loss}
    for amount in (0.5, 0.8):
        model = copy.deepcopy(loaded.model)
        report = prune_model(model, amount)
        pruned = LoadedModel(model, loaded.tokenizer, loaded.source, loaded.context_length, {})
        size, path = saved_size(pruned, {"pruning": {"method": "unstructured", "amount": amount}}, root)
        loss = eval_loss(load_model(path).model, batches)
        key = f"prune{round(amount * 100)}"
        results[key] = {
            "file_bytes": size,
            "size_ratio": size / fp32_size,
            "sparsity": report[-1]["sparsity"],
            "eval_loss": loss,
            "loss_delta": loss - base_loss,
        }
        log(f"pruned {amount:.0%}: size {size / fp32_size:.3f}x, eval loss {base_loss:.3f} -> {loss:.3f}")
    return results


def bench_generation(loaded: LoadedModel, batches: list[torch.Tensor], compile: bool, log) -> dict:
    prompt_tokens, new_tokens = 32, 96
    new_tokens = min(new_tokens, loaded.context_length - prompt_tokens)
    rows = batches[-1][:, :prompt_tokens].tolist()
    results = {"prompt_tokens": prompt_tokens, "new_tokens": new_tokens}
    variants = {
        "no_cache": {"cache": "off"},
        "dynamic_cache": {"cache": "dynamic"},
        "static_cache": {"cache": "static"},
    }
    if compile:
        variants["static_compiled"] = {"cache": "static", "compile": True}
    for batch_size in (1, 8):
        prompts = [loaded.tokenizer.decode(row) for row in rows[:batch_size]]
        outputs = {}

        def run(name, options, prompts=prompts, outputs=outputs):
            settings = GenerationSettings(max_new_tokens=new_tokens, **options)
            outputs[name] = [g.tokens for g in generate_text(loaded, prompts, settings)]

        log(f"generation at batch {batch_size} ({', '.join(variants)})...")
        samples = cpu_times(
            {name: (lambda n=name, o=options: run(n, o)) for name, options in variants.items()},
            GENERATION_ROUNDS,
        )
        seconds = {name: statistics.median(times) for name, times in samples.items()}
        tokens = batch_size * new_tokens
        results[f"bs{batch_size}"] = {name: {"tokens_per_cpu_s": tokens / s} for name, s in seconds.items()}
        results[f"bs{batch_size}"]["same_tokens"] = all(
            out == outputs["no_cache"] for out in outputs.values()
        )
        best_cached = min(s for name, s in seconds.items() if name != "no_cache")
        results[f"kv_cache_speedup_bs{batch_size}"] = seconds["no_cache"] / best_cached
        results[f"dynamic_cache_speedup_bs{batch_size}"] = seconds["no_cache"] / seconds["dynamic_cache"]
    return results


def run_benchmark(
    model: str | None, *, steps: int = 200, compile: bool = True, cache_dir: Path | None = None, log=print
) -> dict:
    """Run every part of the benchmark and return the figures (the ``--json`` object)."""
    torch.set_num_threads(1)
    # several compiled copies of one forward would exceed dynamo's default of 8 and silently run eager
    torch._dynamo.config.recompile_limit = 64
    # int8 embeddings are tensor subclasses inductor's cache cannot hash: it logs a harmless traceback
    logging.getLogger("torch._inductor.codecache").setLevel(logging.ERROR)
    cache_dir = cache_dir or Path.home() / ".cache" / "boya" / "bench"
    if model is None:
        log(f"training the {BENCH_RECIPE} recipe for {steps} steps (cached in {cache_dir})...")
        model = str(bench_model(steps, cache_dir))
    loaded = load_model(model, threads=1)
    batches = eval_batches(loaded)
    with tempfile.TemporaryDirectory(prefix="boya-bench-") as tmp:
        root = Path(tmp)
        int8 = bench_int8(loaded, batches, root, compile, log)
        prune = bench_prune(loaded, batches, root, int8["fp32_file_bytes"], log)
    generation = bench_generation(loaded, batches, compile, log)
    return {
        "model": model,
        "model_info": loaded.info,
        "parameters": sum(p.numel() for p in loaded.model.parameters()),
        "timing": f"process CPU time, 1 thread, variants alternated in rotated order; forward: median of {FORWARD_ROUNDS} "
        f"rounds, ratios: median of per-{RATIO_WINDOW}-round ratios; generation: median of {GENERATION_ROUNDS} rounds",
        "int8_size_ratio": int8["best_mode_size_ratio"],
        "int8_speedup": int8["speedup"],
        "int8_top1_agreement": int8["best_mode_top1_agreement"],
        "prune50_size_ratio": prune["prune50"]["size_ratio"],
        "prune80_size_ratio": prune["prune80"]["size_ratio"],
        "kv_cache_speedup_bs1": generation["kv_cache_speedup_bs1"],
        "kv_cache_speedup_bs8": generation["kv_cache_speedup_bs8"],
        "int8": int8,
        "prune": prune,
        "generation": generation,
    }
