"""Speculative decoding gives exactly the greedy tokens, whatever the drafts: counted n-grams, the drafts
themselves, the KV-cache rollback, end-of-text inside a drafted block, the token budget, the real model."""

import random
import shutil
from collections import Counter, defaultdict

import numpy as np
import pytest
import torch
from boya_medreport.asr.whisper_decode import MAX_DRAFT, GreedyDecoder
from boya_medreport.asr.whisper_draft import NgramDrafter, continuations, table_of

VOCAB = 1000
PROMPT = [990, 991, 992]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(random_tiny_whisper):
    assert random_tiny_whisper[0].config["vocab_size"] == VOCAB
    return random_tiny_whisper


def greedy(model, features, **kwargs):
    return GreedyDecoder(model).generate(
        features, PROMPT, **{"eos": VOCAB - 1, "max_new_tokens": 60, **kwargs}
    )


def test_the_table_holds_each_contexts_most_frequent_continuation():
    rng = random.Random(1)
    sequences = [[rng.randint(0, 30) for _ in range(rng.randint(0, 40))] for _ in range(200)] + [
        [50000, 3, 50000, 3, 7]
    ]
    expected = defaultdict(Counter)
    for s in sequences:
        for i in range(1, len(s)):
            for n in range(1, min(4, i) + 1):
                expected[tuple(s[i - n : i])][s[i]] += 1
    table = table_of(continuations(sequences, 4))
    assert table.keys() == expected.keys()
    for context, counts in expected.items():
        top = max(counts.values())
        assert table[context] == (min(t for t, c in counts.items() if c == top), top / sum(counts.values()))


def test_drafts_follow_the_window_first_then_the_table_and_stop_when_unlikely():
    drafter = NgramDrafter.from_sequences([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 5]], min_chance=0.3)
    assert drafter.table[(1, 2)] == (3, 2 / 3)
    session = drafter.session([9, 1, 2])
    assert session.draft(5) == [3, 4]  # 2/3 then 2/3 * 1: the chain stops where nothing follows
    assert session.draft(1) == [3]
    session.extend([5, 7, 1, 2])  # this window said "1 2 5": it wins over the table's "1 2 3"
    assert session.draft(2) == [5, 7]
    # a 1-in-3 guess
    assert NgramDrafter.from_sequences([[1, 2], [1, 3], [1, 4]], min_chance=0.5).session([1]).draft(3) == []
    with pytest.raises(ValueError, match="16 bits"):
        NgramDrafter.from_sequences([[70000, 1]])


def test_the_cache_rolls_back_to_the_last_kept_token(tiny):
    model, features = tiny
    with torch.inference_mode():
        cross = model.cross_keys_values(model.encode(features))
        tokens = torch.tensor([PROMPT + [5, 6, 7, 8]])
        expected = model.decode(tokens, model.new_cache(), cross, 0)[0]
        cache = model.new_cache()
        model.decode(tokens[:, :4], cache, cross, 0)
        block = model.decode(torch.tensor([[6, 400, 401, 402]]), cache, cross, 4)[
            0
        ]  # two of three guesses wrong
        torch.testing.assert_close(block[0], expected[4], rtol=1e-4, atol=1e-4)  # causal inside the block
        # keep "6" and restart at position 5: the stale entries of the wrong guesses are overwritten
        rest = model.decode(torch.tensor([[7, 8]]), cache, cross, 5)[0]
    torch.testing.assert_close(rest, expected[5:], rtol=1e-4, atol=1e-4)


def test_speculative_tokens_equal_greedy_with_good_and_bad_drafts(tiny):
    model, features = tiny
    expected = greedy(model, features)
    assert len(expected) == 60 and len(set(expected)) > 10
    # the answer itself: nearly every guess is right
    oracle = NgramDrafter.from_sequences([PROMPT + expected], min_chance=0.0)
    noise = NgramDrafter.from_sequences(
        [[random.Random(i).randrange(VOCAB) for _ in range(300)] for i in range(5)], min_chance=0.0
    )
    # one new token per pass
    for drafter, lowest, highest in ((oracle, 0.8, 1.0), (noise, 0.0, 0.2)):
        decoder = GreedyDecoder(model, drafter=drafter)
        assert decoder.generate(features, PROMPT, eos=VOCAB - 1, max_new_tokens=60) == expected
        stats = decoder.stats
        assert lowest <= stats["accepted"] / stats["drafted"] <= highest
        assert stats["passes"] + stats["windows"] == stats["tokens"] - stats["accepted"]
    # the fp32 head (no int8 screening) agrees as well
    fp32 = GreedyDecoder(model, int8_head=False, drafter=oracle)
    assert fp32.generate(features, PROMPT, eos=VOCAB - 1, max_new_tokens=60) == expected


def test_end_of_text_inside_a_drafted_block_and_the_token_budget(tiny):
    model, features = tiny
    plain = greedy(model, features)
    oracle = NgramDrafter.from_sequences([PROMPT + plain], min_chance=0.0)  # full drafts every pass
    # an end-of-text the model reaches mid-block (the oracle's passes each keep MAX_DRAFT + 1 tokens
    # after the first): the oracle drafts past it
    stop = (
        next(i for i, t in enumerate(plain) if i >= 9 and i % (MAX_DRAFT + 1) == 2 and plain.index(t) == i)
        + 1
    )
    eos = plain[stop - 1]
    expected = greedy(model, features, eos=eos)
    assert expected == plain[:stop]
    decoder = GreedyDecoder(model, drafter=oracle)
    assert decoder.generate(features, PROMPT, eos=eos, max_new_tokens=60) == expected
    assert decoder.stats["drafted"] > decoder.stats["accepted"]  # guesses after end-of-text were thrown away
    for budget in (1, 2, 9, 17):  # the drafts never overrun the budget
        assert (
            GreedyDecoder(model, drafter=oracle).generate(
                features, PROMPT, eos=VOCAB - 1, max_new_tokens=budget
            )
            == plain[:budget]
        )


def test_block_picks_through_the_int8_head_are_the_fp32_argmax(tiny):
    model, _ = tiny
    exact, fast = GreedyDecoder(model, int8_head=False), GreedyDecoder(model)
    torch.manual_seed(2)
    mask = torch.zeros(VOCAB)
    mask[[3, 4]] = float("-inf")
    for _ in range(20):  # rows of very different scales share the block's one activation step
        hidden = torch.randn(6, 64) * torch.logspace(-2, 1, 6)[torch.randperm(6)][:, None]
        assert list(fast.picks(hidden, mask)) == list(exact.picks(hidden, mask))


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install -y espeak-ng)"
)
def test_the_shipped_model_decodes_the_same_tokens_speculatively():
    """Greedy decoding, and the default with beams where a word is uncertain, each with and without drafts."""
    from boya_medreport.asr import RADIOLOGY_PROMPT
    from boya_medreport.asr.log_mel import log_mel
    from boya_medreport.asr.speech import synthesize
    from boya_medreport.asr.whisper import WhisperTranscriber

    transcriber = WhisperTranscriber()
    model, beams = transcriber.model, transcriber.decoder
    generation = transcriber.generation
    prompt = transcriber.previous_text_ids(RADIOLOGY_PROMPT) + generation["start"]
    pairs = [
        (GreedyDecoder(model, drafter=beams.drafter), GreedyDecoder(model)),
        (beams, GreedyDecoder(model, beam_size=beams.beam_size, word_classes=beams.word_classes)),
    ]
    clips = [("Patient John Smith comma medical record number four two oh one period", "espeak-us"),
             ("Findings colon no pneumothorax period new paragraph Impression colon normal chest period", "espeak-rp-m3"),
             ("Patient Siobhan Nakamura-Oyelaran comma born July thirtieth nineteen fifty two period", "espeak-rp-m3")]  # fmt: skip
    for text, voice in clips:
        features = log_mel(synthesize(text, voice))
        kwargs = dict(eos=generation["eos"], max_new_tokens=224, suppress=generation["suppress"], begin_suppress=generation["begin_suppress"])  # fmt: skip
        for drafted, plain in pairs:
            assert drafted.generate(features, prompt, **kwargs) == plain.generate(features, prompt, **kwargs)
    for drafted, _ in pairs:
        stats = drafted.stats
        assert stats["accepted"] > 0 and stats["passes"] < stats["tokens"]
        assert np.isfinite(stats["accepted"] / stats["drafted"])
    assert beams.stats["lookaheads"] > 0  # the unusual name opens beams (2 when written)
