"""``boya bench fusion``: kernels launched by one training step (forward + backward), eager vs inductor.

Two models, same size (4 layers, d=256, 4 heads, vocabulary 8192, batch 8 x 128), random init, built
by :func:`boya.runtime.bench_train.build_model`:

- ``hf-gpt2`` (default, issue 3's "small GPT-2 built from a config"): transformers'
  ``GPT2LMHeadModel``, whose fused ``c_attn`` projection needs 12 GEMMs per layer in a training step;
- ``core``: the runtime's own GPT (:mod:`boya.runtime.models.gpt`), with separate ``q``/``k``/``v``
  projections so that tensor parallelism can shard them. That is 18 GEMMs per layer, which no fusion
  removes (GEMMs stay library calls), so its launch reduction is lower.

The loss is computed outside the model in both cases (no graph break). See
:func:`boya.runtime.fusion.fusion_report` for what is counted.
"""

import torch

from .bench_train import BENCH_GPT, build_model
from .fusion import fusion_report
from .text_lm import byte_chunks, sample_text


def run(model_name: str = "hf-gpt2", threads: int = 1) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rows = byte_chunks(sample_text(), BENCH_GPT.block_size)[:8]
    batch = {"input_ids": rows, "labels": rows}
    model, _, loss_fn, described = build_model(model_name)
    return {
        "model": model_name,
        "model_description": f"{described}, train step fwd+bwd, batch 8x{BENCH_GPT.block_size}",
        **fusion_report(model, loss_fn, batch),
    }
