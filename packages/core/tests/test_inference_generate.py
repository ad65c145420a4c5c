"""Generation: the KV cache (dynamic, static, compiled) changes speed, never the greedy tokens."""

import pytest
import torch
from boya.errors import BoyaError
from boya.runtime.config import TrainConfig
from boya.runtime.inference import GenerationSettings, generate_text, load_model, stream_text
from boya.runtime.models.gpt import GPTConfig
from boya.runtime.text_lm import train_text_lm


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny-lm")
    config = TrainConfig(out_dir=str(out), max_steps=30, lr=3e-3, batch_size=8, progress=False, threads=1)
    train_text_lm(config, GPTConfig(vocab_size=256, block_size=64, n_layer=2, n_head=4, n_embd=64))
    return load_model(out, threads=1)


PROMPTS = ["Return the ", "The module "]


def _tokens(loaded, prompts, **options):
    return [
        g.tokens for g in generate_text(loaded, prompts, GenerationSettings(max_new_tokens=12, **options))
    ]


def test_greedy_tokens_equal_with_and_without_cache(loaded):
    no_cache = _tokens(loaded, PROMPTS, cache="off")
    assert _tokens(loaded, PROMPTS, cache="dynamic") == no_cache
    assert _tokens(loaded, PROMPTS, cache="static") == no_cache
    assert all(len(t) == 12 for t in no_cache)


def test_batched_prompts_of_different_lengths_match_one_by_one(loaded):
    prompts = ["a", "Return the value of "]
    batched = _tokens(loaded, prompts)
    assert batched == [_tokens(loaded, [p])[0] for p in prompts]


def test_greedy_matches_a_plain_argmax_loop(loaded):
    ids = torch.tensor([list(PROMPTS[0].encode())])
    for _ in range(12):
        with torch.no_grad():
            next_id = loaded.model(input_ids=ids, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
        ids = torch.cat([ids, next_id], dim=1)
    assert _tokens(loaded, PROMPTS[:1])[0] == ids[0, len(PROMPTS[0]) :].tolist()


def test_streaming_yields_the_same_text(loaded):
    settings = GenerationSettings(max_new_tokens=12)
    pieces = list(stream_text(loaded, PROMPTS[0], settings))
    assert len(pieces) > 1
    assert "".join(pieces) == generate_text(loaded, PROMPTS[:1], settings)[0].text


def test_sampling_is_seeded_and_top_k_1_is_greedy(loaded):
    settings = GenerationSettings(max_new_tokens=12, temperature=0.9, top_k=5, top_p=0.95, seed=3)
    first = [g.tokens for g in generate_text(loaded, PROMPTS, settings)]
    assert first == [g.tokens for g in generate_text(loaded, PROMPTS, settings)]
    assert _tokens(loaded, PROMPTS, temperature=1.5, top_k=1, seed=4) == _tokens(loaded, PROMPTS)


def test_stop_string_cuts_the_text(loaded):
    free = generate_text(loaded, PROMPTS[:1], GenerationSettings(max_new_tokens=20))[0].text
    stop = free[3:5]
    result = generate_text(loaded, PROMPTS[:1], GenerationSettings(max_new_tokens=20, stop=(stop,)))[0]
    assert result.stopped_by == "stop string"
    assert result.text == free[: free.index(stop)]
    assert len(result.tokens) < 20


def test_prompt_longer_than_the_context_is_refused(loaded):
    with pytest.raises(BoyaError, match="exceeds the model's context of 64 tokens"):
        generate_text(loaded, ["x" * 60], GenerationSettings(max_new_tokens=10))
    with pytest.raises(BoyaError, match="compiled generation needs the static cache"):
        generate_text(loaded, ["x"], GenerationSettings(compile=True))


@pytest.mark.slow
def test_compiled_static_cache_gives_the_same_tokens(loaded):
    expected = _tokens(loaded, PROMPTS[:1], cache="off")
    assert _tokens(loaded, PROMPTS[:1], cache="static", compile=True) == expected
