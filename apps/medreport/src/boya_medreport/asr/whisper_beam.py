"""A short beam search from one decoding state: :mod:`.whisper_decode` runs it where the next word is uncertain.

Greedy decoding commits to each token's single best pick; a misheard syllable early in a name or
a term ("Paul Omana Kamura") then steers every later token. Keeping the ``width`` most probable
continuations for a few tokens and taking the best one recovers most of them. A full beam search
(session 6: every token decided this way, OpenAI Whisper's default) cost 1.4x greedy decoding's
time, since a beam moves one token a decoder pass where greedy decoding checks several drafted
tokens a pass; most of its choices were between spellings of the same word (casing, punctuation,
where a word splits into tokens), which the text stages read the same way.

The beams run through the decoder as one batch: a pass with 4 rows reads the same weights and
window keys/values as a pass with 1. Each step the self-attention cache rows follow their beams (a
gather of the positions the beams wrote). Log-probabilities come from the int8 output head
(:func:`.whisper_decode.quantized_head`, a quarter of the fp32 head's memory traffic); they are
approximate (among each step's 8 best tokens they differ from fp32 by 0.09 on average), which
session 6 measured to change nothing that matters (full beam search, 60 bench dictations: micro-F1
0.906 with fp32 log-probabilities, 0.910 with these).
"""

import torch

from .whisper_model import Whisper


@torch.inference_mode()
def lookahead(
    model: Whisper,
    head,
    cache: torch.Tensor,
    cross: list,
    position: int,
    logits: torch.Tensor,
    *,
    width: int,
    steps: int,
    eos: int,
    mask: torch.Tensor,
    budget: int,
) -> list[int]:
    """The best of ``width`` beams grown by ``steps`` decoder passes (``steps + 1`` tokens, fewer if the
    ``budget`` of tokens runs out) from a state whose next-token ``logits`` are given.

    ``cache`` (``width`` rows or more) holds the context in row 0 before ``position``; on return row 0
    holds the best beam's tokens but its last, which is not fed yet. Returns those tokens; they end
    with ``eos`` when ending was the single best continuation of a step (no beam keeps ``eos`` else).
    """
    cache[:, :, 1:width, :, :position] = cache[:, :, :1, :, :position]
    ranked = torch.topk(torch.log_softmax(logits, dim=-1), width + 1)
    if int(ranked.indices[0]) == eos:
        return [eos]
    firsts = [
        (token, value)
        for token, value in zip(ranked.indices.tolist(), ranked.values.tolist(), strict=True)
        if token != eos
    ][:width]
    beams = [[token] for token, _ in firsts]
    scores, start = torch.tensor([value for _, value in firsts]), position
    for _ in range(steps):
        if len(beams[0]) >= budget:
            break
        live = cache[:, :, : len(beams)]
        hidden = model.decode(torch.tensor([beam[-1:] for beam in beams]), live, cross, position)[:, -1]
        totals = torch.log_softmax(head(hidden) + mask, dim=-1) + scores[:, None]
        # 2 x width candidates: enough to refill the beams past one that ends; each row's own best
        # first (ranking the whole flattened table costs 4x more)
        row_values, row_tokens = torch.topk(totals, 2 * width, dim=1)
        values, picked = torch.topk(row_values.flatten(), 2 * width)
        kept, kept_scores, rows = [], [], []
        for value, index in zip(values.tolist(), picked.tolist(), strict=True):
            row, token = index // (2 * width), int(row_tokens.flatten()[index])
            if token == eos and not kept:
                return beams[row] + [token]
            if token != eos and len(kept) < width:
                kept.append(beams[row] + [token])
                kept_scores.append(value)
                rows.append(row)
        position += 1
        if rows != list(range(len(beams))):
            cache[:, :, : len(rows), :, start:position] = cache[:, :, rows, :, start:position]
        beams, scores = kept, torch.tensor(kept_scores)
    return beams[0]  # kept in score order: the best first, its cache in row 0
