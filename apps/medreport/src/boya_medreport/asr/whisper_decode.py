"""Greedy decoding of one 30 s window with :class:`.whisper_model.Whisper`, as transformers' ``generate`` does it.

Per window: the encoder runs once, each decoder layer's cross-attention keys/values are
computed once, and the self-attention cache is allocated once; the decoder prompt
(``<|startofprev|>`` + prompt, ``<|startoftranscript|>`` ..., ``<|notimestamps|>``) is one
prefill pass, then steps until end-of-text or the token budget. The
checkpoint's ``suppress_tokens`` are masked at every step and its ``begin_suppress_tokens``
at the first one, as transformers' logits processors do.

Each step is *speculative* when a drafter (:mod:`.whisper_draft`) is given: the decoded
token plus up to ``MAX_DRAFT`` guessed next tokens go through the decoder in one pass (a
step reads ~70 MB of weights and keys/values whatever its length, so a block of a few
tokens costs little more than one), the model's own pick at each position is computed,
and the guesses are kept while they equal those picks; the first pick that differs is
kept too. The self-attention cache is rolled back to the last kept token by starting the
next pass there. The tokens are those of plain greedy decoding, one pass or many: only
the number of passes depends on the guesses.

The output projection (vocabulary x d_model, 80 MB in fp32 for tiny.en) is the largest cost
of a step. It runs on int8 weights (fbgemm, :class:`boya.runtime.inference.int8_linear.Int8DynamicLinear`),
and the pick stays exactly the fp32 argmax: with per-row weight scale ``s_r`` and the
activation quantization step ``s_x`` (7-bit, one per call: per block of rows), an int8 logit is within
``B_r = s_r / 2 * |x|_1 + s_x * |w~_r|_1`` of the fp32 one, so every token whose int8 logit
plus ``B_r`` reaches the fp32 logit of the int8 leader is re-scored in fp32 and the best wins.
"""

import threading

import torch

from .whisper_model import Whisper

SLACK = 1e-3  # absolute margin on the bound for float rounding in the int8 kernel's rescaling
MAX_DRAFT = 4  # guesses per pass at most: longer drafts were rarely all right (measured on bench dictations)


class DecodeStats(dict):
    """Counts over every window a decoder has decoded: ``windows``, decoder ``passes``, ``tokens``, and the
    guesses ``drafted`` and ``accepted``. Windows may be decoded on several threads at once, so each adds
    its counts in one step, under a lock."""

    def __init__(self):
        super().__init__(dict.fromkeys(("windows", "passes", "tokens", "drafted", "accepted"), 0))
        self._lock = threading.Lock()

    def add(self, counts: dict) -> None:
        with self._lock:
            for key, count in counts.items():
                self[key] += count


def suppression_masks(vocab: int, suppress, begin_suppress) -> tuple[torch.Tensor, torch.Tensor]:
    """Additive logit masks: the checkpoint's ``suppress`` tokens at every step, and with them its
    ``begin_suppress`` tokens at the first."""
    mask = torch.zeros(vocab)
    mask[list(suppress)] = float("-inf")
    first = mask.clone()
    first[list(begin_suppress)] = float("-inf")
    return mask, first


def prefill(model: Whisper, features: torch.Tensor, prompt: list[int], max_new_tokens: int):
    """A window's start: the cross-attention keys/values, the self-attention cache holding the prompt, and
    the last prompt token's hidden state ``(1, d_model)``; a budget past the decoder's context is refused."""
    if len(prompt) + max_new_tokens > model.max_target_positions:
        raise ValueError(
            f"{len(prompt)} prompt + {max_new_tokens} new tokens exceed the decoder's {model.max_target_positions}"
        )
    cross = model.cross_keys_values(model.encode(features))
    cache = model.new_cache()
    return cross, cache, model.decode(torch.tensor([prompt]), cache, cross, 0)[0, -1:]


def quantized_head(weight: torch.Tensor):
    """The output projection on int8 weights with one scale per vocabulary row, and that scale and
    the rounded weights (float) from which the greedy decoder bounds its error."""
    from boya.runtime.inference.int8_linear import Int8DynamicLinear

    scale = (torch.linalg.vector_norm(weight, float("inf"), dim=1) / 127).clamp(min=1e-12)
    steps = (weight / scale[:, None]).round_()  # in [-127, 127] by the choice of scale
    return Int8DynamicLinear(steps.to(torch.int8), scale, None), scale, steps


class GreedyDecoder:
    """Greedy token ids of a window; ``int8_head=False`` computes every fp32 logit instead.

    ``drafter`` (a :class:`.whisper_draft.NgramDrafter`) turns on speculative steps;
    ``stats`` counts passes, tokens, guessed and accepted tokens over every window decoded.
    """

    def __init__(self, model: Whisper, *, int8_head: bool = True, drafter=None):
        self.model, self.drafter = model, drafter
        self.weight = model.model.decoder.embed_tokens.weight  # tied output projection, after any LoRA merge
        self.head = None
        if int8_head:
            self.head, scale, steps = quantized_head(self.weight)
            self.half_scale = scale / 2
            self.quantized_l1 = steps.abs_().sum(dim=1) * scale
        self.stats = DecodeStats()

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
        mask, first_mask = suppression_masks(self.weight.shape[0], suppress, begin_suppress)
        cross, cache, hidden = prefill(model, features, prompt, max_new_tokens)
        tokens = [next(self.picks(hidden, first_mask))]
        drafts = self.drafter.session(prompt + tokens) if self.drafter else None
        position = len(prompt)  # where the last picked token goes: the cache holds everything before it
        counts = dict.fromkeys(self.stats, 0)
        while tokens[-1] != eos and len(tokens) < max_new_tokens:
            guesses = drafts.draft(min(MAX_DRAFT, max_new_tokens - len(tokens) - 1)) if drafts else []
            hidden = model.decode(torch.tensor([tokens[-1:] + guesses]), cache, cross, position)[0]
            new = []
            for pick in self.picks(hidden, mask):
                new.append(pick)
                if pick == eos or len(new) > len(guesses) or pick != guesses[len(new) - 1]:
                    break
            tokens += new
            # the last token and the accepted guesses are cached; the rest is overwritten
            position += len(new)
            if drafts:
                drafts.extend(new)
            counts["passes"] += 1
            counts["drafted"] += len(guesses)
            counts["accepted"] += len(new) - 1
        counts["windows"], counts["tokens"] = 1, len(tokens)
        self.stats.add(counts)
        return tokens

    def picks(self, hidden: torch.Tensor, mask: torch.Tensor):
        """``argmax(hidden[i] @ weight.T + mask)`` for each row ``i`` in turn (lazily: a caller stops at the
        first rejected guess), through the int8 head when there is one."""
        if self.head is None:
            yield from torch.argmax(hidden @ self.weight.T + mask, dim=1).tolist()
            return
        approx = self.head(hidden) + mask  # all rows in one pass over the int8 weights
        # the kernel quantizes the whole block with one step, set by its largest magnitudes
        x_step = (max(float(hidden.max()), 0.0) - min(float(hidden.min()), 0.0)) / 127
        activation_bound = self.quantized_l1 * x_step + SLACK  # the part of B_r the rows share
        for row, h in zip(approx, hidden, strict=True):
            yield self._settle(row, h, activation_bound)

    def pick(self, hidden: torch.Tensor, mask: torch.Tensor) -> int:
        """``argmax(hidden @ weight.T + mask)`` of one hidden state."""
        return next(self.picks(hidden[None], mask))

    def _settle(self, approx: torch.Tensor, hidden: torch.Tensor, activation_bound: torch.Tensor) -> int:
        """The exact fp32 argmax, from the int8 logits ``approx`` of ``hidden`` (masked) and their error bound."""
        leader = int(torch.argmax(approx))
        floor = float(self.weight[leader] @ hidden)
        reach = torch.add(approx, activation_bound).add_(self.half_scale, alpha=float(hidden.abs().sum()))
        rivals = torch.nonzero(reach >= floor).flatten()  # ascending ids: ties go to the lowest, as argmax
        return int(rivals[torch.argmax(self.weight[rivals] @ hidden)])
