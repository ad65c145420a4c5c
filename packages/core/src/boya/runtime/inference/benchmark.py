"""``boya bench infer``: fp32 vs int8 vs pruned vs cached generation, side by side in one process.

The model is the core's ``text-lm`` recipe trained briefly (or ``--model``): agreement measured
on a random model's flat logits would mean nothing. Speed is process CPU time with one thread,
variants alternated inside each repeat, best (least disturbed) repeat kept: on a shared machine
wall time varies several-fold from run to run, CPU time much less.

Figures: file size of each saved variant (our safetensors format, tied weights once); for int8,
relative logit error and top-1 agreement on held-out text after a save/load round trip, forward
time eager and compiled; for pruning, file size and eval-loss change; for generation, tokens per
CPU second without cache, with the dynamic cache, static cache, static + compile, at batch 1 and 8.
"""

import copy
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from ...errors import BoyaError
from .engine import LoadedModel, compiled_forward, eager_forward, load_model
from .generate import GenerationSettings, generate_text
from .prune import prune_model
from .quantize import quantize_model
from .saved_model import WEIGHTS, save_optimized

BENCH_RECIPE = "text-lm"


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


def cpu_seconds(
    variants: dict[str, Callable[[], object]], repeats: int = 3, calls: int = 3
) -> dict[str, float]:
    """Best-of-``repeats`` CPU seconds per call of each variant, the variants alternated in every repeat."""
    for run in variants.values():  # warm-up (and compile) outside the timing
        run()
    best = {name: float("inf") for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            start = time.process_time()
            for _ in range(calls):
                run()
            best[name] = min(best[name], (time.process_time() - start) / calls)
    return best


def bench_int8(loaded: LoadedModel, batches: list[torch.Tensor], root: Path, compile: bool, log) -> dict:
    """Each int8 mode is saved, loaded back from disk, checked against fp32 and timed beside it.

    int8-dynamic runs twice: on PyTorch's fbgemm/oneDNN kernels (the CPU default) and on torchao's
    own (eager only: its int8 matmul is about 20x slower than fp32 on a CPU without VNNI, and
    compiled it was no faster, after minutes of compiling).
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
    with torch.inference_mode():
        seconds = cpu_seconds({name: (lambda f=f: f(batch)) for name, f in forwards.items()})
    results["forward_cpu_s"] = seconds
    fp32_times = {k: v for k, v in seconds.items() if k.startswith("fp32/")}
    int8_times = {k: v for k, v in seconds.items() if not k.startswith("fp32/")}
    best_fp32, best_int8 = min(fp32_times, key=fp32_times.get), min(int8_times, key=int8_times.get)
    best_mode = best_int8.split("/")[0]
    results.update(
        best_fp32=best_fp32,
        best_int8=best_int8,
        speedup=fp32_times[best_fp32] / int8_times[best_int8],
        speedup_eager=seconds["fp32/eager"] / min(v for k, v in int8_times.items() if k.endswith("/eager")),
        best_mode_top1_agreement=results["modes"][best_mode]["top1_agreement"],
        best_mode_size_ratio=results["modes"][best_mode]["size_ratio"],
    )
    if compile:
        results["speedup_compiled"] = seconds["fp32/compiled"] / min(
            v for k, v in int8_times.items() if k.endswith("/compiled")
        )
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
        seconds = cpu_seconds(
            {name: (lambda n=name, o=options: run(n, o)) for name, options in variants.items()},
            repeats=2,
            calls=1,
        )
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
        "timing": "process CPU time, 1 thread, variants alternated, best of repeats",
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
