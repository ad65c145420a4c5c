"""Decoding of one 30 s window with :class:`.whisper_model.Whisper`: greedy, with beams where a word is uncertain.

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
next pass there. Only the number of passes depends on the guesses, never the tokens.

Where the next word is *uncertain* (the best token of another word than the greedy pick,
casing, spaces and punctuation aside (:func:`word_classes`), comes within ``MARGIN`` nats
of it), a short beam search decides instead (:func:`.whisper_beam.lookahead`: ``beam_size``
beams, ``LOOKAHEAD`` passes, the best kept), then greedy decoding goes on from its end. A
full beam search (session 6) moved every token one pass at a time, 1.4x greedy decoding's
time, and spent most of its beams on spellings of one word ("Lopez" / "Lopez,"), which the
text stages read alike. Session 8, the bench's 60 held-out dictations: audio micro-F1
**0.906** (full beam search 0.910, greedy 0.896), with 8% of decisions opening beams and 30%
of decoder passes in them; 0.904 on the default 20 (0.902, 0.897); with unseen names 0.895
(0.892). Tried on the 60: 3 passes instead of 4, 0.904 for 2% fewer passes (and 0.897 on
the 20); a margin of 3 nats, the same F1 for more beam passes.

The output projection (vocabulary x d_model, 80 MB in fp32 for tiny.en) is the largest cost
of a step. It runs on int8 weights (fbgemm, :class:`boya.runtime.inference.int8_linear.Int8DynamicLinear`),
and the pick stays exactly the fp32 argmax: with per-row weight scale ``s_r`` and the
activation quantization step ``s_x`` (7-bit, one per call: per block of rows), an int8 logit is within
``B_r = s_r / 2 * |x|_1 + s_x * |w~_r|_1`` of the fp32 one, so every token whose int8 logit
plus ``B_r`` reaches the fp32 logit of the int8 leader is re-scored in fp32 and the best wins.
"""

import re
import threading
from pathlib import Path

import torch

from .table_cache import cached_arrays, content_key
from .whisper_beam import lookahead
from .whisper_model import Whisper

SLACK = 1e-3  # absolute margin on the bound for float rounding in the int8 kernel's rescaling
MAX_DRAFT = 4  # guesses per pass at most: longer drafts were rarely all right (measured on bench dictations)
MARGIN = 2.0  # nats: a rival word this close to the greedy pick opens a beam search (see the module notes)
LOOKAHEAD = 4  # decoder passes a beam search runs before the best beam is kept
CANDIDATES = 8  # the int8 head's leaders searched for a rival word


class DecodeStats(dict):
    """Counts over every window a decoder has decoded: ``windows``, decoder ``passes``, ``tokens``, and the
    guesses ``drafted`` and ``accepted``. Windows may be decoded on several threads at once, so each adds
    its counts in one step, under a lock."""

    def __init__(self):
        keys = ("windows", "passes", "tokens", "drafted", "accepted", "lookaheads", "beam_passes")
        super().__init__(dict.fromkeys(keys, 0))
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


def prefill(model: Whisper, features: torch.Tensor, prompt: list[int], max_new_tokens: int, rows: int = 1):
    """A window's start: the cross-attention keys/values, a self-attention cache of ``rows`` rows holding
    the prompt in the first, and the last prompt token's hidden state ``(1, d_model)``; a budget past the
    decoder's context is refused."""
    if len(prompt) + max_new_tokens > model.max_target_positions:
        raise ValueError(
            f"{len(prompt)} prompt + {max_new_tokens} new tokens exceed the decoder's {model.max_target_positions}"
        )
    cross = model.cross_keys_values(model.encode(features))
    cache = model.new_cache(rows)
    return cross, cache, model.decode(torch.tensor([prompt]), cache[:, :, :1], cross, 0)[0, -1:]


def quantized_head(weight: torch.Tensor):
    """The output projection on int8 weights with one scale per vocabulary row, and that scale and
    the rounded weights (float) from which the greedy decoder bounds its error."""
    from boya.runtime.inference.int8_linear import Int8DynamicLinear

    scale = (torch.linalg.vector_norm(weight, float("inf"), dim=1) / 127).clamp(min=1e-12)
    steps = (weight / scale[:, None]).round_()  # in [-127, 127] by the choice of scale
    return Int8DynamicLinear(steps.to(torch.int8), scale, None), scale, steps


def word_classes(vocabulary: dict[str, int], size: int) -> torch.Tensor:
    """A class id for each of a model's ``size`` token ids, from its byte-level BPE ``vocabulary`` (token
    -> id): tokens spelling the same letters and digits, case, spaces and punctuation aside, share one
    (" Lopez", "lopez", "Lopez," and ",", "." as the empty word); each special token (``<|...|>``) and
    each id the tokenizer does not name (a padded embedding) has its own."""
    classes = list(range(len(vocabulary), len(vocabulary) + size))  # past any word's id: one class each
    ids, not_letters = {}, re.compile(r"[^a-z0-9]")
    # in id order: the same class ids however the vocabulary is ordered
    for token, index in sorted(vocabulary.items(), key=lambda item: item[1]):
        if index < size:
            word = token if token.startswith("<|") else not_letters.sub("", token.lower())
            classes[index] = ids.setdefault(word, len(ids))
    return torch.tensor(classes)


def tokenizer_word_classes(tokenizer, tokenizer_file: Path, size: int) -> torch.Tensor:
    """:func:`word_classes` of a ``tokenizers`` tokenizer read from ``tokenizer_file``, cached by content
    (:mod:`.table_cache`): reading the vocabulary and classing it took ~0.25 s of every load."""

    def build():
        return {"classes": word_classes(tokenizer.get_vocab(with_added_tokens=True), size).numpy()}

    key = content_key(tokenizer_file, Path(__file__), str(size))
    return torch.from_numpy(cached_arrays("word-classes", key, build)["classes"])


class GreedyDecoder:
    """Greedy token ids of a window, with short beam searches where the next word is uncertain.

    ``beam_size`` > 1 (with ``word_classes``, see :func:`word_classes`) turns the beams on: where the
    best token of another word than the greedy pick's is within ``MARGIN`` nats of it,
    :func:`.whisper_beam.lookahead` grows ``beam_size`` beams ``LOOKAHEAD`` passes and the best is
    kept. ``int8_head=False`` computes every fp32 logit of the greedy picks instead.

    ``drafter`` (a :class:`.whisper_draft.NgramDrafter`) turns on speculative steps;
    ``stats`` counts passes (``beam_passes`` among them), tokens, guessed and accepted tokens and
    ``lookaheads`` over every window decoded.
    """

    def __init__(
        self, model: Whisper, *, int8_head: bool = True, drafter=None, beam_size: int = 1, word_classes=None
    ):
        if beam_size > 1 and (word_classes is None or not int8_head):
            raise ValueError("beams need the int8 head and the tokens' word classes")
        self.model, self.drafter = model, drafter
        self.beam_size, self.word_classes = beam_size, word_classes
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
        cross, cache, hidden = prefill(model, features, prompt, max_new_tokens, rows=self.beam_size)
        drafts = self.drafter.session(prompt) if self.drafter else None
        counts = dict.fromkeys(self.stats, 0)
        tokens: list[int] = []
        # each pass: ``hidden`` row i predicts the token after ``block[i]``, cached at ``start + i``
        block, start, block_mask = prompt[-1:], len(prompt) - 1, first_mask
        while True:
            new = []
            approx = None if self.head is None else self.head(hidden) + block_mask
            leaders = torch.topk(approx, CANDIDATES, dim=1).indices if self.beam_size > 1 else None
            for row, pick in enumerate(self.picks(hidden, block_mask, approx)):
                logits = (
                    self._uncertain(approx[row], leaders[row], hidden[row], pick)
                    if self.beam_size > 1
                    else None
                )
                if logits is not None:
                    counts["accepted"] += len(new)
                    beam = lookahead(
                        model, self.head, cache, cross, start + row + 1, logits, width=self.beam_size,
                        steps=LOOKAHEAD, eos=eos, mask=mask, budget=max_new_tokens - len(tokens) - len(new),
                    )  # fmt: skip
                    counts["lookaheads"] += 1
                    counts["beam_passes"] += len(beam) - 1
                    new += beam
                    break
                new.append(pick)
                if pick == eos or row + 1 == len(block) or pick != block[row + 1]:
                    counts["accepted"] += len(new) - 1
                    break
            tokens += new
            if drafts:
                drafts.extend(new)
            if tokens[-1] == eos or len(tokens) >= max_new_tokens:
                break
            # cached now: the block's first token, the guesses confirmed, a beam's tokens but the last
            guesses = drafts.draft(min(MAX_DRAFT, max_new_tokens - len(tokens) - 1)) if drafts else []
            block, start, block_mask = tokens[-1:] + guesses, start + len(new), mask
            hidden = model.decode(torch.tensor([block]), cache[:, :, :1], cross, start)[0]
            counts["passes"] += 1
            counts["drafted"] += len(guesses)
        counts["windows"], counts["tokens"] = 1, len(tokens)
        counts["passes"] += counts["beam_passes"]
        self.stats.add(counts)
        return tokens

    def _uncertain(self, approx: torch.Tensor, leaders: torch.Tensor, hidden: torch.Tensor, pick: int):
        """A row's logits for a beam search when a token of another word than ``pick`` (see
        :func:`word_classes`) comes within ``MARGIN`` nats of it, else None.

        The int8 logits ``approx`` depend on the rows decoded with this one (their activations share a
        quantization step), so the int8 head's ``leaders`` are re-scored in fp32: whether a beam opens,
        and how it starts, then does not depend on the drafts in the block.
        """
        exact = self.weight[leaders] @ hidden
        rivals = self.word_classes[leaders] != self.word_classes[pick]
        if not rivals.any() or float(self.weight[pick] @ hidden - exact[rivals].max()) >= MARGIN:
            return None
        return approx.index_put((leaders,), exact)

    def picks(self, hidden: torch.Tensor, mask: torch.Tensor, approx: torch.Tensor | None = None):
        """``argmax(hidden[i] @ weight.T + mask)`` for each row ``i`` in turn (lazily: a caller stops at the
        first rejected guess), through the int8 head when there is one (``approx``: its masked logits,
        when the caller has them)."""
        if self.head is None:
            yield from torch.argmax(hidden @ self.weight.T + mask, dim=1).tolist()
            return
        if approx is None:
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
