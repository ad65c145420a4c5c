"""Greedy decoding of the extraction T5 in plain torch, from the weights ``transformers`` trains.

Training keeps transformers' ``T5ForConditionalGeneration`` (``recipe.py``); inference does not
import transformers, because importing it costs ~8 s of CPU on a 2-core box — more than the
whole model-load budget of the app — for a 2-layer model whose forward pass is a few matrix
products. The state dict keys and numerics are transformers' own (RMS layer norm, relative
position buckets shared by the layers of a stack, no attention scaling, decoder output scaled by
d_model**-0.5 when embeddings are tied), checked token for token against ``generate`` in the tests.
"""

import math

import torch
from boya.errors import BoyaError


def expected_keys(config: dict) -> set[str]:
    """The weight names a checkpoint of ``config`` holds, as saved by ``model.save`` (no copies of tied embeddings)."""
    attention = ("q", "k", "v", "o")
    keys = {"shared.weight", "encoder.final_layer_norm.weight", "decoder.final_layer_norm.weight"}
    if not config.get("tie_word_embeddings", True):
        keys.add("lm_head.weight")
    for stack, layers, parts in (
        ("encoder", config["num_layers"], ("SelfAttention",)),
        (
            "decoder",
            config.get("num_decoder_layers") or config["num_layers"],
            ("SelfAttention", "EncDecAttention"),
        ),
    ):
        keys.add(f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight")
        for i in range(layers):
            for j, part in enumerate(parts):
                keys |= {f"{stack}.block.{i}.layer.{j}.{part}.{n}.weight" for n in attention}
                keys.add(f"{stack}.block.{i}.layer.{j}.layer_norm.weight")
            ff = f"{stack}.block.{i}.layer.{len(parts)}"
            keys |= {
                f"{ff}.DenseReluDense.wi.weight",
                f"{ff}.DenseReluDense.wo.weight",
                f"{ff}.layer_norm.weight",
            }
    return keys


def relative_buckets(
    relative: torch.Tensor, bidirectional: bool, num_buckets: int, max_distance: int
) -> torch.Tensor:
    """T5's bucket of each (key - query) distance: exact for small ones, logarithmic up to ``max_distance``."""
    buckets = torch.zeros_like(relative)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative > 0).long() * num_buckets
        relative = relative.abs()
    else:
        relative = -torch.clamp(relative, max=0)
    max_exact = num_buckets // 2
    large = (
        max_exact
        + (
            torch.log(relative.float().clamp(min=1) / max_exact)
            / math.log(max_distance / max_exact)
            * (num_buckets - max_exact)
        ).long()
    )
    large = large.clamp(max=num_buckets - 1)
    return buckets + torch.where(relative < max_exact, relative, large)


class T5Greedy:
    """A T5 encoder-decoder (ReLU feed-forward, as ``medreport-extract`` trains it) that decodes greedily with a KV cache."""

    def __init__(self, state: dict[str, torch.Tensor], config: dict):
        if config.get("is_gated_act") or config.get("dense_act_fn", "relu") != "relu":
            raise BoyaError(
                "the extraction model must use T5's ReLU feed-forward (as `boya train medreport-extract` builds it)"
            )
        missing, unexpected = expected_keys(config) - state.keys(), state.keys() - expected_keys(config)
        if missing or unexpected:
            raise BoyaError(
                f"the extraction weights do not match their config (missing {sorted(missing)[:3]}, "
                f"unexpected {sorted(unexpected)[:3]})"
            )
        self.w = state
        self.heads, self.d_kv = config["num_heads"], config["d_kv"]
        self.eps = config.get("layer_norm_epsilon", 1e-6)
        self.num_buckets = config.get("relative_attention_num_buckets", 32)
        self.max_distance = config.get("relative_attention_max_distance", 128)
        self.encoder_layers = config["num_layers"]
        self.decoder_layers = config.get("num_decoder_layers") or config["num_layers"]
        tied = config.get("tie_word_embeddings", True)
        self.output_scale = config["d_model"] ** -0.5 if config.get("scale_decoder_outputs", tied) else 1.0
        self.head = state["shared.weight"] if tied else state["lm_head.weight"]

    def _norm(self, x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w[name]

    def _split(self, x):
        return x.view(x.shape[0], x.shape[1], self.heads, self.d_kv).transpose(1, 2)

    def _attend(self, q, k, v, bias, out_weight):
        weights = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(q.shape[0], q.shape[2], -1)
        return out @ out_weight.T

    def _bias(self, prefix, queries: torch.Tensor, keys: int, bidirectional: bool):
        relative = torch.arange(keys)[None, :] - queries[:, None]
        table = self.w[f"{prefix}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
        buckets = relative_buckets(relative, bidirectional, self.num_buckets, self.max_distance)
        return table[buckets].permute(2, 0, 1).unsqueeze(0)

    def _feed_forward(self, x, prefix):
        h = self._norm(x, f"{prefix}.layer_norm.weight")
        return (
            x
            + torch.relu(h @ self.w[f"{prefix}.DenseReluDense.wi.weight"].T)
            @ self.w[f"{prefix}.DenseReluDense.wo.weight"].T
        )

    def encode(self, input_ids: torch.Tensor, attention: torch.Tensor):
        """Encoder states and the additive mask of padded positions, (batch, 1, 1, length)."""
        x = self.w["shared.weight"][input_ids]
        mask = (1.0 - attention[:, None, None, :].float()) * torch.finfo(torch.float32).min
        bias = (
            self._bias("encoder", torch.arange(input_ids.shape[1]), input_ids.shape[1], bidirectional=True)
            + mask
        )
        for i in range(self.encoder_layers):
            p = f"encoder.block.{i}.layer.0"
            h = self._norm(x, f"{p}.layer_norm.weight")
            a = f"{p}.SelfAttention"
            q, k, v = (self._split(h @ self.w[f"{a}.{n}.weight"].T) for n in "qkv")
            x = x + self._attend(q, k, v, bias, self.w[f"{a}.o.weight"])
            x = self._feed_forward(x, f"encoder.block.{i}.layer.1")
        return self._norm(x, "encoder.final_layer_norm.weight"), mask

    def generate(
        self,
        input_ids: torch.Tensor,
        attention: torch.Tensor,
        *,
        start: int,
        eos: int,
        pad: int,
        max_new_tokens: int,
    ):
        """Greedy token ids (batch, steps) after ``start``; rows that ended are padded with ``pad``."""
        memory, memory_mask = self.encode(input_ids, attention)
        cross = []
        for i in range(self.decoder_layers):
            a = f"decoder.block.{i}.layer.1.EncDecAttention"
            cross.append(tuple(self._split(memory @ self.w[f"{a}.{n}.weight"].T) for n in "kv"))
        batch = input_ids.shape[0]
        cache = [[None, None] for _ in range(self.decoder_layers)]
        token = torch.full((batch,), start, dtype=torch.long)
        done = torch.zeros(batch, dtype=torch.bool)
        out = []
        for step in range(max_new_tokens):
            x = self.w["shared.weight"][token][:, None, :]
            bias = self._bias("decoder", torch.tensor([step]), step + 1, bidirectional=False)
            for i in range(self.decoder_layers):
                p = f"decoder.block.{i}.layer"
                h = self._norm(x, f"{p}.0.layer_norm.weight")
                a = f"{p}.0.SelfAttention"
                q, k, v = (self._split(h @ self.w[f"{a}.{n}.weight"].T) for n in "qkv")
                if cache[i][0] is not None:
                    k, v = torch.cat([cache[i][0], k], dim=2), torch.cat([cache[i][1], v], dim=2)
                cache[i] = [k, v]
                x = x + self._attend(q, k, v, bias, self.w[f"{a}.o.weight"])
                h = self._norm(x, f"{p}.1.layer_norm.weight")
                a = f"{p}.1.EncDecAttention"
                q = self._split(h @ self.w[f"{a}.q.weight"].T)
                x = x + self._attend(q, *cross[i], memory_mask, self.w[f"{a}.o.weight"])
                x = self._feed_forward(x, f"{p}.2")
            logits = (
                self._norm(x[:, -1], "decoder.final_layer_norm.weight") * self.output_scale
            ) @ self.head.T
            token = torch.where(done, torch.full_like(token, pad), logits.argmax(-1))
            out.append(token)
            done |= token == eos
            if done.all():
                break
        return torch.stack(out, dim=1) if out else torch.zeros((batch, 0), dtype=torch.long)
