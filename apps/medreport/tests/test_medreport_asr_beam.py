"""Beams where the next word is uncertain: the batched lookahead with its reordered KV cache gives what
decoding every beam from scratch gives; greedy decoding opens one exactly where a rival word comes within
the margin, and drafts still change only the speed; word classes; refusals."""

import random

import pytest
import torch
from boya_medreport.asr import whisper_decode
from boya_medreport.asr.whisper_beam import lookahead
from boya_medreport.asr.whisper_decode import GreedyDecoder, quantized_head, word_classes
from boya_medreport.asr.whisper_draft import NgramDrafter

VOCAB = 1000
PROMPT = [990, 991, 992]
EOS = VOCAB - 1

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def scratch_lookahead(model, head, cross, context, width, steps, eos, budget, rescored=False):
    """The lookahead without a cache: every step decodes each beam's whole sequence anew (one head call
    over all beams, as the int8 activations are quantized per call). ``rescored``: the first step's
    8 best int8 logits replaced by fp32 ones, as the decoder hands them over."""

    def hidden_of(beams):
        sequences = [torch.tensor([PROMPT + context + b]) for b in beams]
        return torch.cat([model.decode(s, model.new_cache(), cross, 0)[:, -1] for s in sequences])

    def log_probs(beams):
        return torch.log_softmax(head(hidden_of(beams)), dim=-1)

    hidden = hidden_of([[]])[0]
    first = head(hidden[None])[0]
    if rescored:
        leaders = torch.topk(first, 8).indices
        first[leaders] = model.model.decoder.embed_tokens.weight[leaders] @ hidden
    first = torch.log_softmax(first, dim=-1)
    ranked = sorted(range(VOCAB), key=lambda t: -float(first[t]))
    if ranked[0] == eos:
        return [eos], True
    beams = [([t], float(first[t])) for t in ranked if t != eos][:width]
    for _ in range(steps):
        if len(beams[0][0]) >= budget:
            break
        totals = log_probs([b for b, _ in beams]) + torch.tensor([s for _, s in beams])[:, None]
        candidates = sorted(
            ((float(totals[r, t]), beams[r][0] + [t]) for r in range(len(beams)) for t in range(VOCAB)),
            key=lambda c: -c[0],
        )[: 2 * width]
        if candidates[0][1][-1] == eos:
            return candidates[0][1], True
        beams = [(sequence, score) for score, sequence in candidates if sequence[-1] != eos][:width]
    return beams[0][0], False


@pytest.mark.parametrize("width", [2, 3])
def test_the_batched_lookahead_equals_decoding_each_beam_from_scratch(random_tiny_whisper, width):
    model, features = random_tiny_whisper
    head = quantized_head(model.model.decoder.embed_tokens.weight)[0]
    context = [5, 6, 7]
    with torch.inference_mode():
        cross = model.cross_keys_values(model.encode(features))
        # a token of the best beam as end-of-text, one where the beams end after a step or more
        best = scratch_lookahead(model, head, cross, context, width, 4, EOS, 50)[0]
        ending = next(
            t
            for t in best[1:]
            if (run := scratch_lookahead(model, head, cross, context, width, 4, t, 50))[1] and len(run[0]) > 1
        )
        for eos, budget in ((EOS, 50), (EOS, 3), (ending, 50)):
            cache = model.new_cache(width)
            hidden = model.decode(torch.tensor([PROMPT + context]), cache[:, :, :1], cross, 0)[:, -1]
            got = lookahead(model, head, cache, cross, len(PROMPT + context), head(hidden)[0], width=width,
                            steps=4, eos=eos, mask=torch.zeros(VOCAB), budget=budget)  # fmt: skip
            tokens, ended = scratch_lookahead(model, head, cross, context, width, 4, eos, budget)
            assert got == tokens
            assert ended == (eos == ending) and len(tokens) > 1  # an end after a step, not at the start
            if not ended:  # steps + 1 tokens unless the budget is smaller; row 0 holds the context and
                # the best beam's tokens but its last
                assert len(tokens) == min(budget, 5)
                fresh = model.new_cache()
                model.decode(torch.tensor([PROMPT + context + tokens[:-1]]), fresh, cross, 0)
                end = len(PROMPT + context + tokens) - 1
                torch.testing.assert_close(
                    cache[:, :, :1, :, :end], fresh[:, :, :, :, :end], rtol=1e-4, atol=1e-4
                )


def decode(model, features, beam_size=3, drafter=None, budget=40, classes=None):
    classes = torch.arange(VOCAB) if classes is None else classes  # every token its own word
    decoder = GreedyDecoder(model, beam_size=beam_size, word_classes=classes, drafter=drafter)
    return decoder.generate(features, PROMPT, eos=EOS, max_new_tokens=budget), decoder.stats


# a greedy pass feeds each best beam
def test_beams_open_where_a_rival_word_is_within_the_margin(random_tiny_whisper, monkeypatch):
    model, features = random_tiny_whisper
    greedy = GreedyDecoder(model).generate(features, PROMPT, eos=EOS, max_new_tokens=40)
    # never within the margin: plain greedy decoding
    monkeypatch.setattr(whisper_decode, "MARGIN", float("-inf"))
    assert decode(model, features)[0] == greedy
    # every token the same word: no rival word, plain greedy decoding
    monkeypatch.setattr(whisper_decode, "MARGIN", float("inf"))
    assert decode(model, features, classes=torch.zeros(VOCAB, dtype=torch.long))[0] == greedy
    # a rival always within the margin: lookahead after lookahead, each from the last one's best beam
    tokens, stats = decode(model, features)
    head = quantized_head(model.model.decoder.embed_tokens.weight)[0]
    with torch.inference_mode():
        cross = model.cross_keys_values(model.encode(features))
        expected = []
        while len(expected) < 40 and EOS not in expected:
            expected += scratch_lookahead(model, head, cross, expected, 3, whisper_decode.LOOKAHEAD, EOS,
                                          40 - len(expected), rescored=True)[0]  # fmt: skip
    assert tokens == expected != greedy
    assert stats["lookaheads"] > 1
    assert stats["passes"] == stats["beam_passes"] + stats["lookaheads"] - 1


def test_drafts_change_only_the_speed_with_beams_on(random_tiny_whisper, monkeypatch):
    model, features = random_tiny_whisper
    monkeypatch.setattr(whisper_decode, "MARGIN", 1.0)
    plain, stats = decode(model, features, budget=60)
    assert 0 < stats["lookaheads"] < 20  # some decisions open beams, most do not
    oracle = NgramDrafter.from_sequences([PROMPT + plain], min_chance=0.0)
    noise = NgramDrafter.from_sequences(
        [[random.Random(i).randrange(VOCAB) for _ in range(300)] for i in range(5)], min_chance=0.0
    )
    for drafter in (oracle, noise):
        tokens, drafted = decode(model, features, drafter=drafter, budget=60)
        assert tokens == plain and drafted["drafted"] > 0
    assert decode(model, features, drafter=oracle, budget=60)[1]["passes"] < stats["passes"]
    for budget in (1, 2, 7):  # neither beams nor drafts overrun the budget (a beam cut short may choose
        # otherwise than a whole one: the same tokens as without drafts, not a prefix of the long run)
        tokens = decode(model, features, drafter=oracle, budget=budget)[0]
        assert len(tokens) == budget and tokens == decode(model, features, budget=budget)[0]


def test_word_classes_ignore_case_spaces_and_punctuation():
    vocabulary = {
        "ĠLopez": 0,
        "Lopez": 1,
        "lopez,": 2,
        ",": 3,
        ".": 4,
        "Ġ.": 5,
        "<|endoftext|>": 6,
        "<|notimestamps|>": 7,
        "ĠLo": 8,
    }
    classes = word_classes(vocabulary, 11).tolist()
    assert classes[0] == classes[1] == classes[2] and classes[3] == classes[4] == classes[5]
    # ids 9 and 10: past the tokenizer's names (a padded embedding), each a word of its own
    assert len({classes[0], classes[3], classes[6], classes[7], classes[8], classes[9], classes[10]}) == 7


def test_refusals(random_tiny_whisper):
    model, features = random_tiny_whisper
    with pytest.raises(ValueError, match="word classes"):
        GreedyDecoder(model, beam_size=2)
    with pytest.raises(ValueError, match="int8 head"):
        GreedyDecoder(model, beam_size=2, int8_head=False, word_classes=torch.arange(VOCAB))
    with pytest.raises(ValueError, match="exceed the decoder"):
        decode(model, features, budget=446)


def test_beams_attend_over_the_window_as_single_rows_do(random_tiny_whisper):
    model, features = random_tiny_whisper
    with torch.inference_mode():
        cross = model.cross_keys_values(model.encode(features))
        rows = [[5, 6], [7, 8], [9, 10]]
        alone = [model.decode(torch.tensor([r]), model.new_cache(), cross, 0)[0] for r in rows]
        together = model.decode(torch.tensor(rows), model.new_cache(len(rows)), cross, 0)
    for row, hidden in zip(together, alone, strict=True):
        torch.testing.assert_close(row, hidden, rtol=1e-4, atol=1e-4)
