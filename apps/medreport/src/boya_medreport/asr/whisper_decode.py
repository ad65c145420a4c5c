"""Greedy decoding of one 30 s window with :class:`.whisper_model.Whisper`, as transformers' ``generate`` does it.

Per window: the encoder runs once, each decoder layer's cross-attention keys/values are
computed once, and the self-attention cache is allocated once; the decoder prompt
(``<|startofprev|>`` + prompt, ``<|startoftranscript|>`` ..., ``<|notimestamps|>``) is one
prefill pass, then one token per step until end-of-text or the token budget. The
checkpoint's ``suppress_tokens`` are masked at every step and its ``begin_suppress_tokens``
at the first one, as transformers' logits processors do.

The output projection (vocabulary x d_model, 80 MB in fp32 for tiny.en) is the largest cost
of a step. It runs on int8 weights (fbgemm, :class:`boya.runtime.inference.int8_linear.Int8DynamicLinear`),
and the pick stays exactly the fp32 argmax: with per-row weight scale ``s_r`` and the
activation quantization step ``s_x`` (7-bit, per call), an int8 logit is within
``B_r = s_r / 2 * |x|_1 + s_x * |w~_r|_1`` of the fp32 one, so every token whose int8 logit
plus ``B_r`` reaches the fp32 logit of the int8 leader is re-scored in fp32 and the best wins.
"""

import torch

from .whisper_model import Whisper

SLACK = 1e-3  # absolute margin on the bound for float rounding in the int8 kernel's rescaling


class GreedyDecoder:
    """Greedy token ids of a window; ``int8_head=False`` computes every fp32 logit instead."""

    def __init__(self, model: Whisper, *, int8_head: bool = True):
        from boya.runtime.inference.int8_linear import Int8DynamicLinear

        self.model = model
        self.weight = model.model.decoder.embed_tokens.weight  # tied output projection, after any LoRA merge
        self.head = None
        if int8_head:
            scale = (torch.linalg.vector_norm(self.weight, float("inf"), dim=1) / 127).clamp(min=1e-12)
            steps = (self.weight / scale[:, None]).round_()  # in [-127, 127] by the choice of scale
            self.head = Int8DynamicLinear(steps.to(torch.int8), scale, None)
            self.half_scale = scale / 2
            self.quantized_l1 = steps.abs_().sum(dim=1) * scale

    @torch.inference_mode()
    def generate(
        self,
        features: torch.Tensor,
        prompt: list[int],
        *,
        eos: int,
        max_new_tokens: int,
        suppress: list[int] = (),
        begin_suppress: list[int] = (),
    ) -> list[int]:
        """The new token ids after ``prompt`` (ending with ``eos`` unless the budget ran out)."""
        model = self.model
        if len(prompt) + max_new_tokens > model.max_target_positions:
            raise ValueError(
                f"{len(prompt)} prompt + {max_new_tokens} new tokens exceed the decoder's {model.max_target_positions}"
            )
        mask = torch.zeros(self.weight.shape[0])
        mask[list(suppress)] = float("-inf")
        first_mask = mask.clone()
        first_mask[list(begin_suppress)] = float("-inf")
        cross = model.cross_keys_values(model.encode(features))
        cache = model.new_cache()
        hidden = model.decode(torch.tensor([prompt]), cache, cross, 0)[0, -1]
        tokens = []
        for step in range(max_new_tokens):
            token = self.pick(hidden, first_mask if step == 0 else mask)
            tokens.append(token)
            if token == eos:
                break
            hidden = model.decode(torch.tensor([[token]]), cache, cross, len(prompt) + step)[0, -1]
        return tokens

    def pick(self, hidden: torch.Tensor, mask: torch.Tensor) -> int:
        """``argmax(hidden @ weight.T + mask)``, computed through the int8 head when there is one."""
        if self.head is None:
            return int(torch.argmax(self.weight @ hidden + mask))
        approx = self.head(hidden[None])[0] + mask
        leader = int(torch.argmax(approx))
        floor = float(self.weight[leader] @ hidden)
        x_step = (max(float(hidden.max()), 0.0) - min(float(hidden.min()), 0.0)) / 127
        bound = self.half_scale * float(hidden.abs().sum()) + x_step * self.quantized_l1 + SLACK
        rivals = torch.nonzero(
            approx + bound >= floor
        ).flatten()  # ascending ids: ties go to the lowest, as argmax
        return int(rivals[torch.argmax(self.weight[rivals] @ hidden)])
