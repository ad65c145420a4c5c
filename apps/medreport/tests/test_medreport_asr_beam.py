"""Beam search: the batched beams with their reordered KV cache give what decoding every beam from scratch
gives; beams that end early, the token budget, refusals; beams attend over the window as single rows do."""

import pytest
import torch
from boya_medreport.asr.whisper_beam import BeamDecoder

VOCAB = 1000
PROMPT = [990, 991, 992]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def from_scratch(decoder, features, eos, max_new_tokens):
    """The same search without a cache: every step decodes each beam's whole sequence anew (one head
    call over all beams, as the decoder's int8 activations are quantized per call)."""
    model, width = decoder.model, decoder.beam_size
    with torch.inference_mode():
        cross = model.cross_keys_values(model.encode(features))

        def log_probs(beams):
            hidden = torch.cat(
                [model.decode(torch.tensor([PROMPT + b]), model.new_cache(), cross, 0)[:, -1] for b in beams]
            )
            return torch.log_softmax(decoder.head(hidden), dim=-1)

        first = torch.topk(log_probs([[]])[0], width)
        beams = [
            ([token], score)
            for token, score in zip(first.indices.tolist(), first.values.tolist(), strict=True)
        ]
        finished = []
        while len(finished) < width and len(beams[0][0]) < max_new_tokens:
            totals = log_probs([b for b, _ in beams]) + torch.tensor([s for _, s in beams])[:, None]
            candidates = sorted(
                (
                    (float(totals[row, token]), beams[row][0] + [token])
                    for row in range(len(beams))
                    for token in range(VOCAB)
                ),
                key=lambda c: -c[0],
            )
            beams = []
            for score, sequence in candidates[: 2 * width]:
                if sequence[-1] == eos:
                    if len(finished) < width:
                        finished.append((score / len(sequence), sequence))
                elif len(beams) < width:
                    beams.append((sequence, score))
        finished = finished or [(score / len(b), b) for b, score in beams]
        return max(finished)[1]


@pytest.mark.parametrize("width", [2, 3])
def test_batched_beams_equal_decoding_each_beam_from_scratch(random_tiny_whisper, width):
    model, features = random_tiny_whisper
    decoder = BeamDecoder(model, width)
    budget_run = decoder.generate(features, PROMPT, eos=VOCAB - 1, max_new_tokens=12)
    assert len(budget_run) == 12 and budget_run == from_scratch(decoder, features, VOCAB - 1, 12)
    # an end-of-text token the beams reach at different steps: they finish one by one
    eos = budget_run[5]
    ended = decoder.generate(features, PROMPT, eos=eos, max_new_tokens=12)
    assert ended[-1] == eos and ended == from_scratch(decoder, features, eos, 12)
    assert decoder.stats["windows"] == 2 and decoder.stats["tokens"] == 12 + len(ended)


def test_beam_search_refusals(random_tiny_whisper):
    model, features = random_tiny_whisper
    with pytest.raises(ValueError, match="at least 2 beams"):
        BeamDecoder(model, 1)
    with pytest.raises(ValueError, match="exceed the decoder"):
        BeamDecoder(model, 2).generate(features, PROMPT, eos=VOCAB - 1, max_new_tokens=446)


def test_beams_attend_over_the_window_as_single_rows_do(random_tiny_whisper):
    model, features = random_tiny_whisper
    with torch.inference_mode():
        cross = model.cross_keys_values(model.encode(features))
        rows = [[5, 6], [7, 8], [9, 10]]
        alone = [model.decode(torch.tensor([r]), model.new_cache(), cross, 0)[0] for r in rows]
        cache = model.new_cache().repeat(1, 1, len(rows), 1, 1, 1)
        together = model.decode(torch.tensor(rows), cache, cross, 0)
    for row, hidden in zip(together, alone, strict=True):
        torch.testing.assert_close(row, hidden, rtol=1e-4, atol=1e-4)
