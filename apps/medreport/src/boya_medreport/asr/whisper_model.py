"""Our own Whisper in plain torch: loads a transformers-format checkpoint without importing transformers.

Importing ``transformers``' Whisper costs ~9 s of CPU, more than the whole warm pipeline; the
network itself is small. This module is that network, with transformers' parameter names
(``model.decoder.layers.0.self_attn.q_proj`` ...), so a checkpoint's ``model.safetensors``
loads as is and the LoRA merge of :mod:`.whisper` finds its layers:

- encoder: two GELU convolutions (the second halves time: 3000 frames -> 1500), plus
  sinusoidal positions, then pre-LayerNorm self-attention + MLP blocks and a final LayerNorm;
- decoder: token + learned position embeddings, pre-LayerNorm blocks of causal self-attention,
  cross-attention over the encoder states and MLP, a final LayerNorm, and the output
  projection tied to the token embedding.

Only the decoder step with caches is here (:meth:`Whisper.decode`); the greedy loop and the
fast output projection are :mod:`.whisper_decode`. Weights load from safetensors only: a
``pytorch_model.bin`` is a pickle, which we never load.
"""

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from boya.errors import BoyaError
from torch import nn

WEIGHTS = "model.safetensors"
# transformers' WhisperConfig defaults (tiny), for keys a saved config.json leaves out
CONFIG_DEFAULTS = {
    "vocab_size": 51865, "num_mel_bins": 80, "d_model": 384, "encoder_layers": 4, "decoder_layers": 4,
    "encoder_attention_heads": 6, "decoder_attention_heads": 6, "encoder_ffn_dim": 1536,
    "decoder_ffn_dim": 1536, "max_source_positions": 1500, "max_target_positions": 448, "scale_embedding": False,
}  # fmt: skip


class Linear(nn.Linear):
    """A linear layer left uninitialised: its weights are loaded next (random init of Whisper cost ~0.5 s)."""

    def reset_parameters(self):
        pass


class HalfLinear(nn.Module):
    """A linear layer on fp16 weights, fp32 in and out: fbgemm's fp16 GEMM, which accumulates in fp32.

    A decoder pass multiplies 1-5 rows by every weight once, so its time goes to reading the
    weights: half the bytes made the decoder ~11% faster on one thread (~15% on two), with the
    bench's transcripts unchanged. Whisper's weights are released in fp16 (the embedded
    tiny.en's are), so only an adapter's merged deltas are rounded. The encoder does not use it: its
    products have 1500 rows, where the arithmetic, not the reading, is the cost (see :meth:`Whisper.encode`).
    """

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.out_features = linear.out_features
        bias = None if linear.bias is None else linear.bias.detach()
        self.packed = torch.ops.quantized.linear_prepack_fp16(linear.weight.detach(), bias)

    def forward(self, x):
        flat = x.reshape(-1, x.shape[-1]).contiguous()
        return torch.ops.quantized.linear_dynamic_fp16(flat, self.packed).reshape(
            *x.shape[:-1], self.out_features
        )


class Conv1d(nn.Conv1d):
    """A convolution left uninitialised, as :class:`Linear`."""

    def reset_parameters(self):
        pass


class Attention(nn.Module):
    """Multi-head attention with Whisper's projections (the key projection has no bias)."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, d_model // heads
        self.q_proj = Linear(d_model, d_model)
        self.k_proj = Linear(d_model, d_model, bias=False)
        self.v_proj = Linear(d_model, d_model)
        self.out_proj = Linear(d_model, d_model)

    def split(self, x):
        """``(B, T, d_model)`` -> ``(B, heads, T, head_dim)``."""
        return x.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)

    def keys_values(self, x):
        return self.split(self.k_proj(x)), self.split(self.v_proj(x))

    def attend(self, x, keys, values, mask=None):
        out = F.scaled_dot_product_attention(self.split(self.q_proj(x)), keys, values, attn_mask=mask)
        return self.out_proj(out.transpose(1, 2).flatten(2))

    def self_attend(self, x):
        """Unmasked self-attention of the encoder's states.

        In bf16 (the encoder under autocast) one head at a time, with two plain products: a head's
        1500 x 1500 scores fit the L3 cache, and a layer took ~30 ms against ~45 for torch's fused CPU
        kernel, which is no faster in bf16 than in fp32 (in fp32 it is the fastest: plain products
        took 145 ms). The scores and their softmax are then bf16 too; the bench's audio F1 and
        real-speech WER did not move beyond their noise (README, session 10).
        """
        queries, (keys, values) = self.split(self.q_proj(x)), self.keys_values(x)
        if queries.dtype == torch.bfloat16:
            out, queries = torch.empty_like(queries), queries * self.head_dim**-0.5
            for head in range(self.heads):
                scores = queries[:, head] @ keys[:, head].transpose(-1, -2)
                out[:, head] = torch.softmax(scores, dim=-1) @ values[:, head]
        else:
            out = F.scaled_dot_product_attention(queries, keys, values)
        return self.out_proj(out.transpose(1, 2).flatten(2))

    def attend_encoded(self, x, keys_t, values):
        """Attention of a few decoder tokens over the encoder states, whose keys come transposed
        (``(1, heads, head_dim, frames)``) and values contiguous (see :meth:`Whisper.cross_keys_values`).

        Two plain products beat the fused kernel here, which suits long queries: over 1500
        frames it took ~0.9 ms a layer for one token, these ~0.5 ms (1 thread).

        The rows of ``x`` (beams, in a beam search) all attend over the one window: they are folded
        into a single batch of queries, since a product broadcasting ``(B, ...)`` over ``(1, ...)``
        copies the keys and values B times (~3 MB a layer, each step).
        """
        rows, length = x.shape[:2]
        queries = self.split(self.q_proj(x)) * self.head_dim**-0.5  # (B, heads, T, head_dim)
        queries = queries.transpose(0, 1).reshape(1, self.heads, rows * length, self.head_dim)
        out = torch.softmax(queries @ keys_t, dim=-1) @ values  # (1, heads, B * T, head_dim)
        return self.out_proj(
            out.reshape(self.heads, rows, length, self.head_dim).permute(1, 2, 0, 3).flatten(2)
        )


class EncoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ffn: int):
        super().__init__()
        self.self_attn = Attention(d_model, heads)
        self.self_attn_layer_norm = nn.LayerNorm(d_model)
        self.fc1, self.fc2 = Linear(d_model, ffn), Linear(ffn, d_model)
        self.final_layer_norm = nn.LayerNorm(d_model)

    def forward(self, x):
        h = self.self_attn_layer_norm(x)
        x = x + self.self_attn.self_attend(h)
        return x + self.fc2(F.gelu(self.fc1(self.final_layer_norm(x))))


class DecoderLayer(EncoderLayer):
    def __init__(self, d_model: int, heads: int, ffn: int):
        super().__init__(d_model, heads, ffn)
        self.encoder_attn = Attention(d_model, heads)
        self.encoder_attn_layer_norm = nn.LayerNorm(d_model)

    def step(self, x, self_cache, cross, offset: int, mask=None):
        """``x`` holds the tokens at ``offset``...; their keys/values are written into ``self_cache`` first.

        ``mask`` (``(T, offset + T)`` booleans, True = may attend) keeps a block of several new
        tokens causal; one new token may see every cached one and needs none.
        """
        length = offset + x.shape[1]
        h = self.self_attn_layer_norm(x)
        keys, values = self.self_attn.keys_values(h)
        self_cache[0, :, :, offset:length] = keys
        self_cache[1, :, :, offset:length] = values
        x = x + self.self_attn.attend(h, self_cache[0, :, :, :length], self_cache[1, :, :, :length], mask)
        x = x + self.encoder_attn.attend_encoded(self.encoder_attn_layer_norm(x), *cross)
        return x + self.fc2(F.gelu(self.fc1(self.final_layer_norm(x))))


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d_model = c["d_model"]
        self.conv1 = Conv1d(c["num_mel_bins"], d_model, kernel_size=3, padding=1)
        self.conv2 = Conv1d(d_model, d_model, kernel_size=3, stride=2, padding=1)
        self.embed_positions = _embedding(c["max_source_positions"], d_model)  # sinusoids, see load_whisper
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, c["encoder_attention_heads"], c["encoder_ffn_dim"])
            for _ in range(c["encoder_layers"])
        )
        self.layer_norm = nn.LayerNorm(d_model)

    def forward(self, features):
        x = F.gelu(self.conv2(F.gelu(self.conv1(features)))).transpose(1, 2)
        x = x + self.embed_positions.weight[: x.shape[1]]
        for layer in self.layers:
            x = layer(x)
        return self.layer_norm(x)


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d_model = c["d_model"]
        self.embed_scale = math.sqrt(d_model) if c.get("scale_embedding") else 1.0
        self.embed_tokens = _embedding(c["vocab_size"], d_model)
        self.embed_positions = _embedding(c["max_target_positions"], d_model)
        self.layers = nn.ModuleList(
            DecoderLayer(d_model, c["decoder_attention_heads"], c["decoder_ffn_dim"])
            for _ in range(c["decoder_layers"])
        )
        self.layer_norm = nn.LayerNorm(d_model)


class Whisper(nn.Module):
    """The encoder-decoder; parameters named as in transformers' ``WhisperForConditionalGeneration``."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        self.model = nn.Module()
        self.model.encoder, self.model.decoder = Encoder(config), Decoder(config)
        self.encoder_dtype = torch.float32  # see encode

    @property
    def max_target_positions(self) -> int:
        return self.config["max_target_positions"]

    def encode(self, features):
        """Encoder states ``(1, 1500, d_model)`` (fp32) of log-mel ``features`` ``(1, mels, 3000)``.

        With ``encoder_dtype`` bfloat16 the products run in bf16 under autocast (the layer norms and
        the residual stream stay fp32; torch's fused attention accumulates in fp32): the encoder's
        products have 1500 rows, so their time is arithmetic, and a CPU with bf16 instructions does
        twice as much of it per cycle (see :func:`native_bf16`).
        """
        if self.encoder_dtype == torch.float32:
            return self.model.encoder(features)
        with torch.autocast("cpu", dtype=self.encoder_dtype):
            return self.model.encoder(features).float()

    def cross_keys_values(self, states) -> list:
        """Each decoder layer's cross-attention keys (transposed) and values, computed once per 30 s
        window and laid out for :meth:`Attention.attend_encoded`, which reads them at every step."""
        pairs = [layer.encoder_attn.keys_values(states) for layer in self.model.decoder.layers]
        return [(keys.transpose(-1, -2).contiguous(), values.contiguous()) for keys, values in pairs]

    def halve_decoder(self):
        """Store the decoder's linear layers as :class:`HalfLinear`; after any adapter merge, which
        changes their fp32 weights. The token embedding (also the output projection) stays fp32, and
        so do the cross-attention key/value projections: they run once a window, on the encoder's
        1500 states, where fbgemm's fp16 product took twice the time of fp32's (43 vs ~20 ms)."""
        for layer in self.model.decoder.layers:
            cross = layer.encoder_attn
            linears = [(layer, "fc1"), (layer, "fc2"), (cross, "q_proj"), (cross, "out_proj")]
            linears += [(layer.self_attn, name) for name in ("q_proj", "k_proj", "v_proj", "out_proj")]
            for owner, name in linears:
                setattr(owner, name, HalfLinear(getattr(owner, name)))

    def new_cache(self, rows: int = 1):
        """Self-attention keys/values of ``rows`` sequences (beams) for a whole decoder context, allocated
        once per window."""
        decoder, c = self.model.decoder, self.config
        heads = c["decoder_attention_heads"]
        shape = (len(decoder.layers), 2, rows, heads, c["max_target_positions"], c["d_model"] // heads)
        return torch.empty(shape)

    def decode(self, tokens, cache, cross, offset: int):
        """Final hidden states ``(1, T, d_model)`` of ``tokens`` ``(1, T)`` at positions ``offset``...

        Only the cache's first ``offset`` positions are read: rolling the decoder back to an
        earlier position is starting the next call there (what follows is overwritten).
        """
        decoder = self.model.decoder
        count = tokens.shape[1]
        positions = decoder.embed_positions.weight[offset : offset + count]
        x = decoder.embed_tokens(tokens) * decoder.embed_scale + positions
        # token i of the block sees the cache and tokens 0..i of the block
        mask = torch.ones(count, offset + count, dtype=torch.bool).tril(offset) if count > 1 else None
        for i, layer in enumerate(decoder.layers):
            x = layer.step(x, cache[i], cross[i], offset, mask)
        return decoder.layer_norm(x)

    def logits(self, hidden):
        """Full fp32 logits (the output projection is the token embedding)."""
        return hidden @ self.model.decoder.embed_tokens.weight.T


def native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX); elsewhere oneDNN emulates it,
    which is slower than fp32. torch's own checks are private: a torch without them gets fp32."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def _embedding(rows: int, dim: int) -> nn.Embedding:
    """An embedding left uninitialised, as :class:`Linear` (randomly filling the vocabulary's costs ~0.2 s)."""
    return nn.Embedding(rows, dim, _weight=torch.empty(rows, dim))


def sinusoids(length: int, channels: int) -> torch.Tensor:
    """Whisper's encoder positions: sines then cosines at geometric timescales from 1 to 10000."""
    increment = math.log(10000) / (channels // 2 - 1)
    inv_timescales = torch.exp(-increment * torch.arange(channels // 2))
    scaled = torch.arange(length)[:, None] * inv_timescales[None, :]
    return torch.cat([scaled.sin(), scaled.cos()], dim=1)


def load_whisper(directory: Path) -> Whisper:
    """A transformers-format Whisper directory (``config.json`` + ``model.safetensors``) as our module."""
    from safetensors.torch import load_file

    directory = Path(directory)
    weights = directory / WEIGHTS
    if not weights.is_file():
        if (directory / "pytorch_model.bin").is_file():
            raise BoyaError(
                f"{directory} holds only pytorch_model.bin, a pickle we never load; convert it to safetensors "
                f"(transformers: from_pretrained(...).save_pretrained(dir, safe_serialization=True))"
            )
        raise BoyaError(
            f"cannot load Whisper model {str(directory)!r}: no {WEIGHTS} in it (a Whisper directory holds config.json, {WEIGHTS}, tokenizer.json)"
        )
    config = read_config(directory)
    model = Whisper(config)
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    # transformers saves the encoder's fixed sinusoidal positions; a checkpoint without them gets them here
    state.setdefault(
        "model.encoder.embed_positions.weight", sinusoids(config["max_source_positions"], config["d_model"])
    )
    tied = state.pop("proj_out.weight", None)
    if tied is not None and not torch.equal(tied, state.get("model.decoder.embed_tokens.weight", tied)):
        raise BoyaError(
            f"{weights}: the output projection is not tied to the token embedding, as Whisper's is"
        )
    try:
        result = model.load_state_dict(state, strict=False, assign=True)  # no copies
    except RuntimeError as e:  # shapes that disagree with config.json
        message = str(e).split("\n\t")[1] if "\n\t" in str(e) else str(e)
        raise BoyaError(f"{weights} does not fit its config.json: {message[:300]}") from None
    missing = list(result.missing_keys)
    if missing or result.unexpected_keys:
        raise BoyaError(
            f"{weights} does not fit its config.json: {len(missing)} missing / {len(result.unexpected_keys)} "
            f"unexpected weights, e.g. {(missing + list(result.unexpected_keys))[:3]}"
        )
    return model.eval().requires_grad_(False)


def read_config(directory: Path) -> dict:
    try:
        config = json.loads((directory / "config.json").read_text())
    except (OSError, ValueError) as e:
        raise BoyaError(
            f"cannot load Whisper model {str(directory)!r}: no readable config.json ({e})"
        ) from None
    if config.get("model_type") != "whisper":
        raise BoyaError(
            f"cannot load Whisper model {str(directory)!r}: config.json has model_type {config.get('model_type')!r}"
        )
    if config.get("activation_function", "gelu") != "gelu":
        raise BoyaError(f"{directory}: activation {config['activation_function']!r} is not Whisper's gelu")
    return {**CONFIG_DEFAULTS, **config}
