"""``boya bench gpu``: the trainer on one CUDA GPU — fp32 vs bf16 vs fp16 with dynamic loss scaling, eager vs compiled.

The CPU benchmarks (``boya bench train``) cannot show what mixed precision buys, since CPUs run
fp32 fastest. Here every variant trains the runtime's own GPT (GPT-2 small's shape by default:
12 layers, width 768, 12 heads, vocabulary 50304) from the same initial weights on the same
batches for the same steps, through :class:`Trainer` with its real precision policy (autocast,
``GradScaler`` for ``16-mixed``) and ``compile="model"`` where named. Step times are wall seconds
with the device synchronised (the trainer's step reads the loss back, which waits for the GPU);
the first ``warmup`` steps, where compilation and cuDNN/cuBLAS autotuning happen, are not timed.
Mixed-precision losses differ from fp32 by rounding, so the report gives the largest gap per
variant next to the fp32 loss curve's own scale; a diverging variant shows up there.
"""

import statistics
import tempfile
import time
from pathlib import Path

import torch

from ..errors import BoyaError
from .config import TrainConfig
from .models.gpt import GPT, GPTConfig, lm_loss
from .text_lm import byte_chunks, sample_text
from .trainer import Trainer

VARIANTS = (("32", "off"), ("bf16-mixed", "off"), ("16-mixed", "off"), ("bf16-mixed", "model"))
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense, vendor datasheets


def _peak_flops(name: str) -> float | None:
    return next((flops for key, flops in PEAK_BF16_FLOPS.items() if key in name), None)


def run(
    steps: int = 30,
    warmup: int = 5,
    batch_size: int = 16,
    block_size: int = 512,
    n_layer: int = 12,
    n_embd: int = 768,
    n_head: int = 12,
) -> dict:
    if not torch.cuda.is_available():
        raise BoyaError("boya bench gpu needs a CUDA GPU; on a CPU use `boya bench train`")
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32: TF32 would be a fourth precision
    config = GPTConfig(vocab_size=50304, block_size=block_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd)
    chunks = byte_chunks(sample_text(), block_size)
    total = warmup + steps
    rows = [chunks[k % len(chunks)] for k in range(total * batch_size)]  # examples; the trainer batches them
    batches = [{"input_ids": row, "labels": row} for row in rows]
    torch.manual_seed(0)
    initial = GPT(config).state_dict()
    params = sum(v.numel() for v in initial.values())
    name = torch.cuda.get_device_name()
    result = {
        "device": name,
        "torch": torch.__version__,
        "model": {**config.to_dict(), "parameters": params},
        "batch": f"{batch_size}x{block_size}",
        "steps_timed": steps,
        "variants": {},
    }
    curves = {}
    for precision, compile_mode in VARIANTS:
        label = {"32": "fp32"}.get(precision, precision) + ("" if compile_mode == "off" else "+compile")
        model = GPT(config)
        model.load_state_dict(initial)
        with tempfile.TemporaryDirectory(prefix="boya-bench-gpu-") as tmp:
            train_config = TrainConfig(
                out_dir=str(Path(tmp)),
                max_steps=total,
                batch_size=batch_size,
                lr=3e-4,
                warmup_steps=10,
                shuffle=False,
                device="cuda",
                precision=precision,
                compile=compile_mode,
                progress=False,
                log_every=1000,
            )
            trainer = Trainer(model, train_config, loss_fn=lm_loss)
            torch.cuda.reset_peak_memory_stats()
            times, losses, scales, skipped = [], [], [], 0
            for metrics in _timed(trainer.steps(batches), times):
                losses.append(metrics["loss"])
                skipped += bool(metrics["skipped"])
                if "loss_scale" in metrics:
                    scales.append(metrics["loss_scale"])
        step_s = statistics.median(times[warmup:total])
        tokens_per_s = batch_size * block_size / step_s
        figures = {
            "step_ms": round(step_s * 1e3, 2),
            "tokens_per_s": round(tokens_per_s),
            "first_step_s": round(times[0], 2),
            "final_loss": round(losses[-1], 4),
            "skipped_steps": skipped,
            "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2),
        }
        if scales:
            figures["loss_scale"] = {"first": scales[0], "last": scales[-1]}
        peak = _peak_flops(name)
        if peak:
            figures["mfu_vs_bf16_peak"] = round(6 * params * tokens_per_s / peak, 3)
        result["variants"][label] = figures
        curves[label] = losses
        del trainer, model
        torch.cuda.empty_cache()
    base = result["variants"]["fp32"]["step_ms"]
    for label, figures in result["variants"].items():
        figures["speedup_vs_fp32"] = round(base / figures["step_ms"], 2)
        figures["loss_max_diff_vs_fp32"] = round(
            max(abs(a - b) for a, b in zip(curves["fp32"], curves[label], strict=True)), 4
        )
    result["fp32_loss_first_last"] = [round(curves["fp32"][0], 4), round(curves["fp32"][-1], 4)]
    return result


def _timed(steps, times: list):
    """Yield each step's metrics, appending its wall time (device synchronised) to ``times``."""
    while True:
        torch.cuda.synchronize()
        start = time.perf_counter()
        try:
            metrics = next(steps)
        except StopIteration:
            return
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        yield metrics
