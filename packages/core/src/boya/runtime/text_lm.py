"""The core's own recipe: a small GPT-2-style, byte-level language model trained on a text file.

Bytes are the tokens (vocabulary 256), so no tokenizer has to be shipped or downloaded. The text is
cut into non-overlapping chunks of ``block_size`` bytes; the last tenth is held out for evaluation.
Without ``--data`` the bundled sample is used: docstrings of 50 Python standard-library modules
(PSF license), about 185 KB of English technical prose. The benchmarks and tests use the same model.
"""

import json
from importlib.resources import files
from pathlib import Path

import torch
from torch.utils.data import Dataset

from ..errors import BoyaError
from .config import TrainConfig
from .models.gpt import GPT, GPTConfig, lm_loss
from .trainer import Trainer

SMALL_GPT = GPTConfig(vocab_size=256, block_size=128, n_layer=4, n_head=4, n_embd=256)


def sample_text() -> bytes:
    return files("boya.runtime.models").joinpath("sample_text.txt").read_bytes()


class TokenChunks(Dataset):
    """Rows of a (n, block_size) token tensor as ``{"input_ids", "labels"}`` examples."""

    def __init__(self, tokens: torch.Tensor):
        self.tokens = tokens

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def __getitem__(self, index: int) -> dict:
        row = self.tokens[index]
        return {"input_ids": row, "labels": row}


def byte_chunks(text: bytes, block_size: int) -> torch.Tensor:
    n_chunks = len(text) // block_size
    if n_chunks < 2:
        raise BoyaError(f"the text has {len(text)} bytes; at least {2 * block_size} are needed")
    data = torch.frombuffer(bytearray(text[: n_chunks * block_size]), dtype=torch.uint8).long()
    return data.view(n_chunks, block_size)


def load_text(path: str | None) -> bytes:
    if path is None:
        return sample_text()
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise BoyaError(f"cannot read --data {path}: {error.strerror}") from None


def train_text_lm(config: TrainConfig, model_config: GPTConfig = SMALL_GPT) -> Path:
    """Train the model on ``config.data`` (or the bundled sample) and return the saved weights' path."""
    chunks = byte_chunks(load_text(config.data), model_config.block_size)
    n_eval = max(1, len(chunks) // 10)
    train_data, eval_data = TokenChunks(chunks[:-n_eval]), TokenChunks(chunks[-n_eval:])
    torch.manual_seed(config.seed)
    model = GPT(model_config)
    trainer = Trainer(model, config, loss_fn=lm_loss)
    metrics = trainer.fit(train_data, eval_data)
    card = {
        "recipe": "text-lm",
        "seed": config.seed,
        "model": model_config.to_dict(),
        "data": config.data or "bundled sample_text.txt",
        "metrics": {key: metrics[key] for key in ("step", "loss", "eval_loss") if key in metrics},
    }
    (trainer.out_dir / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    return trainer.out_dir / "model.safetensors"
