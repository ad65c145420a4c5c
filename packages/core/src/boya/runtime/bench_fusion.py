"""``boya bench fusion``: kernels launched by one training step (forward + backward), eager vs inductor.

Two models, same size (4 layers, d=256, 4 heads, vocabulary 8192, batch 8 x 128), random init:

- ``core``: the runtime's own GPT (:mod:`boya.runtime.models.gpt`), with separate ``q``/``k``/``v``
  projections so that tensor parallelism can shard them. That is 18 GEMMs per layer in a training
  step, which no fusion removes (GEMMs stay library calls), so its launch reduction is lower;
- ``hf-gpt2``: transformers' ``GPT2LMHeadModel`` built from a ``GPT2Config``, whose
  fused ``c_attn`` projection needs 12 GEMMs per layer.

The loss is computed outside the model in both cases (no graph break). See
:func:`boya.runtime.fusion.fusion_report` for what is counted.
"""

import torch
import torch.nn.functional as F

from .bench_train import BENCH_GPT
from .fusion import fusion_report
from .models.gpt import GPT, lm_loss
from .text_lm import byte_chunks, sample_text

MODELS = ("core", "hf-gpt2")


def _hf_gpt2_loss(model, batch):
    logits = model(input_ids=batch["input_ids"]).logits
    labels = batch["labels"][:, 1:]
    loss_sum = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="sum")
    return loss_sum, labels.numel()


def run(model_name: str = "core", threads: int = 1) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rows = byte_chunks(sample_text(), BENCH_GPT.block_size)[:8]
    batch = {"input_ids": rows, "labels": rows}
    if model_name == "core":
        model, loss_fn = GPT(BENCH_GPT), lm_loss
        described = f"boya GPT n_layer={BENCH_GPT.n_layer} n_embd={BENCH_GPT.n_embd} vocab={BENCH_GPT.vocab_size}"
    else:
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(n_layer=4, n_embd=256, n_head=4, vocab_size=8192, n_positions=BENCH_GPT.block_size,
                            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, use_cache=False)
        model, loss_fn = GPT2LMHeadModel(config), _hf_gpt2_loss
        described = "transformers GPT2LMHeadModel n_layer=4 n_embd=256 vocab=8192"
    return {"model": f"{described}, train step fwd+bwd, batch 8x{BENCH_GPT.block_size}", **fusion_report(model, loss_fn, batch)}
