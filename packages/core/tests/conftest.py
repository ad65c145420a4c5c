"""Models the inference tests share, built once per session instead of once per test module."""

import json

import pytest
import torch
from boya.runtime.config import TrainConfig
from boya.runtime.models.gpt import GPT, GPTConfig
from boya.runtime.text_lm import train_text_lm
from safetensors.torch import save_model


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A seeded, untrained tiny core GPT saved the way ``boya train`` saves a run (enough for parity and CLI checks)."""
    out = tmp_path_factory.mktemp("tiny-gpt")
    config = GPTConfig(vocab_size=256, block_size=64, n_layer=1, n_head=2, n_embd=32)
    torch.manual_seed(0)
    save_model(GPT(config), str(out / "model.safetensors"))
    (out / "model.json").write_text(json.dumps({"recipe": "text-lm", "seed": 0, "model": config.to_dict()}))
    return out


@pytest.fixture(scope="session")
def trained_tiny_lm(tmp_path_factory):
    """The core recipe's model at a tiny size, trained briefly (peaked logits, unlike a random init)."""
    out = tmp_path_factory.mktemp("tiny-lm")
    config = TrainConfig(out_dir=str(out), max_steps=60, lr=3e-3, batch_size=8, progress=False, threads=1)
    train_text_lm(config, GPTConfig(vocab_size=256, block_size=64, n_layer=2, n_head=4, n_embd=64))
    return out
