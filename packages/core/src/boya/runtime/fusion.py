"""Operator fusion with ``torch.compile`` (inductor): applying it, watching it, and measuring what it fused.

Three things live here:

- :func:`compile_for_training` for the trainer's ``compile`` setting: ``model`` compiles forward and
  loss as one graph, ``regions`` compiles each block of every ``nn.ModuleList`` on its own, in place
  (``nn.Module.compile()``: identical blocks share one compiled graph, so a cold start compiles one
  block instead of the whole network). Checkpoints are taken from the uncompiled module, so they are
  interchangeable between compiled and eager runs. The inductor cache directory is set first: a
  warm cache skips most of the 35-100 s cold compile measured on a 2-core CPU.
- :func:`compile_counts`: graph breaks and recompiles, which silently eat the speedup
  (transformers' GPT-2 broke its graph 3 times on a logging call); the trainer logs them at step 1.
- :func:`fusion_report`: how many kernels one training step (forward + backward) launches eagerly
  versus compiled. Eager: every ATen op that reaches a kernel below autograd, counted with a
  ``TorchDispatchMode``; views (``view``, ``t``, ``transpose``, ``detach``...) launch nothing and are
  counted apart. Compiled: the calls in inductor's generated wrapper (``run_and_get_code``), i.e.
  fused C++/Triton kernels, library GEMMs (``extern_kernels``) and ATen fallbacks (e.g. SDPA).
  Fewer launches is not the same as faster: on a CPU the GEMMs dominate, so report step time apart.
"""

import copy
import os
import re
from collections import Counter
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode


def set_inductor_cache_dir(cache_dir: str | None) -> str:
    """Point inductor's on-disk caches at ``cache_dir`` (or keep ``$TORCHINDUCTOR_CACHE_DIR``, else ``~/.cache/boya/inductor``)."""
    if cache_dir is None:
        cache_dir = os.environ.get("TORCHINDUCTOR_CACHE_DIR") or str(
            Path.home() / ".cache" / "boya" / "inductor"
        )
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache_dir
    return cache_dir


def compile_for_training(model: torch.nn.Module, loss_fn, mode: str, cache_dir: str | None = None):
    """Return ``(module to call, loss function to call)`` for the trainer's ``compile`` ``mode``.

    ``model`` compiles the loss function, through which Dynamo traces the model's forward too: one
    graph for forward + loss, so the cross-entropy over the vocabulary (a large, memory-bound op)
    is fused as well, and the model itself is untouched. ``regions`` compiles each block of the
    ``nn.ModuleList`` s in place (``nn.Module.compile()``; the model's ``state_dict`` keys do not change).
    """
    if mode == "off":
        return model, loss_fn
    set_inductor_cache_dir(cache_dir)
    blocks = [
        block for module in model.modules() if isinstance(module, torch.nn.ModuleList) for block in module
    ]
    if mode == "model" or not blocks:  # nothing repeated to compile region by region
        return model, torch.compile(loss_fn)
    for block in blocks:
        block.compile()
    return model, loss_fn


def compile_counts() -> dict:
    """Graph breaks, graphs compiled and recompiles so far in this process (Dynamo's counters).

    A recompile is a second (third...) graph for the same frame, e.g. after a shape or
    ``training`` flag change.
    """
    from torch._dynamo.convert_frame import FRAME_COMPILE_COUNTER
    from torch._dynamo.utils import counters

    return {
        "graph_breaks": sum(counters["graph_break"].values()),
        "graphs": counters["stats"]["unique_graphs"],
        "recompiles": sum(max(0, count - 1) for count in FRAME_COMPILE_COUNTER.values()),
    }


class EagerOpCounter(TorchDispatchMode):
    """Counts the ATen ops that reach kernels (below autograd), views apart."""

    def __init__(self):
        super().__init__()
        self.compute: Counter = Counter()
        self.views: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        (self.views if func.is_view else self.compute)[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))


_LAUNCH = re.compile(
    r"^(?:[\w, ]+ = )?(?P<fn>cpp_fused_\w+|triton_\w+\.run|extern_kernels\.\w+|torch\.ops\.\w+\.\w+(?:\.\w+)?)\("
)


def count_launches(wrapper_code: str) -> Counter:
    """Kernel launches in one inductor wrapper module: fused kernels, extern (GEMM) calls, ATen fallbacks."""
    launches: Counter = Counter()
    body = wrapper_code.split("def call(", 1)[-1]
    for line in body.splitlines():
        match = _LAUNCH.match(line.strip())
        if match:
            fn = match["fn"]
            kind = (
                "fused"
                if fn.startswith(("cpp_fused_", "triton_"))
                else "extern"
                if fn.startswith("extern_")
                else "fallback"
            )
            launches[kind] += 1
    return launches


def fusion_report(model: torch.nn.Module, loss_fn, batch) -> dict:
    """Kernels launched by one forward+backward of ``loss_fn(model, batch)``: eager vs inductor.

    ``model`` is left untouched (the compiled run uses a copy); compiling takes tens of seconds on a CPU.
    """
    from torch._inductor import config as inductor_config
    from torch._inductor.utils import run_and_get_code

    counter = EagerOpCounter()
    eager_model = copy.deepcopy(model)
    with counter:
        loss_sum, n_tokens = loss_fn(eager_model, batch)
        (loss_sum / n_tokens).backward()

    compiled_model, compiled_loss_fn = compile_for_training(copy.deepcopy(model), loss_fn, "model")

    def train_step():
        loss_sum, n_tokens = compiled_loss_fn(compiled_model, batch)
        (loss_sum / n_tokens).backward()

    torch._dynamo.reset()
    with inductor_config.patch(fx_graph_cache=False):  # a cache hit would skip code generation
        _, codes = run_and_get_code(train_step)
    launches = sum((count_launches(code) for code in codes), Counter())
    eager_ops = sum(counter.compute.values())
    fused = sum(launches.values())
    return {
        "eager_ops": eager_ops,
        "eager_views": sum(counter.views.values()),
        "fused_launches": fused,
        "fused_kernels": launches["fused"],
        "extern_calls": launches["extern"],
        "aten_fallbacks": launches["fallback"],
        "graphs": len(codes),
        "reduction": 1.0 - fused / eager_ops if eager_ops else 0.0,
        "eager_top_ops": dict(counter.compute.most_common(10)),
    }
