"""Loading every kind of source, the core GPT -> GPT-2 rebuild, batched inference statistics."""

import json

import pytest
import torch
from boya.errors import BoyaError
from boya.runtime.inference import Engine, GenerationSettings, generate_text, load_model
from boya.runtime.models.gpt import GPT, GPTConfig
from safetensors.torch import save_model


@pytest.fixture(scope="module")
def core_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny-gpt")
    config = GPTConfig(vocab_size=256, block_size=32, n_layer=2, n_head=2, n_embd=32)
    torch.manual_seed(0)
    model = GPT(config).eval()
    save_model(model, str(out / "model.safetensors"))
    (out / "model.json").write_text(json.dumps({"recipe": "text-lm", "seed": 0, "model": config.to_dict()}))
    return out, model


def test_core_gpt_is_rebuilt_with_the_same_logits(core_run):
    out, model = core_run
    ids = torch.randint(0, 256, (3, 32), generator=torch.Generator().manual_seed(0))
    for source in (out, out / "model.safetensors"):
        loaded = load_model(source)
        assert loaded.context_length == 32 and loaded.info["recipe"] == "text-lm"
        with torch.no_grad():
            torch.testing.assert_close(loaded.model(input_ids=ids).logits, model(ids), atol=1e-5, rtol=1e-5)


def test_engine_batches_and_latency(core_run):
    engine = Engine(load_model(core_run[0]))
    batches = [torch.randint(0, 256, (4, 16)) for _ in range(5)]
    outputs, stats = engine.infer(batches)
    assert [tuple(o.shape) for o in outputs] == [(4, 16, 256)] * 5
    assert stats.count == 5 and 0 < stats.p50_ms <= stats.p95_ms
    with pytest.raises(BoyaError, match="longer than the model's context"):
        engine.logits(torch.zeros(1, 33, dtype=torch.long))


def test_local_hugging_face_directory(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = ["<eos>", "hello", "world", "the", "model"]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<eos>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<eos>", pad_token="<eos>")
    config = GPT2Config(
        vocab_size=len(words), n_positions=16, n_embd=16, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.info["format"] == "huggingface" and loaded.context_length == 16
    assert isinstance(loaded.model.transformer.h[0].attn.c_attn, torch.nn.Linear)  # Conv1D turned into Linear
    reference = GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(input_ids=ids).logits, reference(input_ids=ids).logits)
    result = generate_text(loaded, ["hello world"], GenerationSettings(max_new_tokens=4))[0]
    assert result.stopped_by in ("eos", "length")


@pytest.mark.parametrize(
    ("source", "message"),
    [("no-such-owner/no-such-model-xyz", "nothing is downloaded"), ("./missing-dir", "does not exist")],
)
def test_unknown_sources(source, message):
    with pytest.raises(BoyaError, match=message):
        load_model(source)


def test_bad_precision_and_mismatched_card(core_run, tmp_path):
    with pytest.raises(BoyaError, match="unknown precision"):
        load_model(core_run[0], precision="fp64")
    (tmp_path / "model.safetensors").write_bytes((core_run[0] / "model.safetensors").read_bytes())
    card = json.loads((core_run[0] / "model.json").read_text())
    card["model"]["n_layer"] = 3
    (tmp_path / "model.json").write_text(json.dumps(card))
    with pytest.raises(BoyaError, match="does not match its model card"):
        load_model(tmp_path)
