"""The extraction model: a small T5 (transformers ``T5ForConditionalGeneration`` to train, our own
:mod:`boya_medreport.extract.t5` to decode) with a byte-level BPE tokenizer trained on generated
dictations, so any text (names, ``XXXX``, typos) can be encoded offline.

Input: ``"<body part>: <one findings sentence>"`` lowercased; output: the linearised findings of
:mod:`boya_medreport.extract.linearize`. The embedded default lives in ``extract/weights/``
(safetensors + config + tokenizer + the recipe and seed that produced it).
"""

import json
from functools import cache
from importlib.resources import files
from pathlib import Path

from boya.errors import BoyaError

PAD, EOS, UNK = 0, 1, 2
SPECIAL = ["<pad>", "</s>", "<unk>"]
WEIGHTS_DIR = Path(str(files(__package__).joinpath("weights")))
SIZES = {  # named architectures: "tiny" is for tests
    "small": dict(d_model=128, d_kv=32, d_ff=384, num_layers=2, num_decoder_layers=2, num_heads=4),
    "tiny": dict(d_model=32, d_kv=8, d_ff=64, num_layers=1, num_decoder_layers=1, num_heads=4),
}


def model_input(body_part: str | None, sentence: str) -> str:
    return f"{body_part or 'unknown'}: {sentence}".lower()


def train_tokenizer(texts, vocab_size: int = 1500):
    """A byte-level BPE trained on ``texts``: every string is encodable, frequent report words are one token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def build_model(vocab_size: int, size: str = "small"):
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(
        vocab_size=vocab_size,
        dropout_rate=0.0,
        feed_forward_proj="relu",
        pad_token_id=PAD,
        eos_token_id=EOS,
        decoder_start_token_id=PAD,
        tie_word_embeddings=True,
        **SIZES[size],
    )
    return T5ForConditionalGeneration(config)


def save(model, tokenizer, out_dir, recipe: dict) -> Path:
    """Weights as fp16 safetensors (half the bytes; the model is run in fp32), config, tokenizer, recipe."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to("cpu").half().contiguous()
        for k, v in model.state_dict().items()
        if k != "lm_head.weight"
    }
    state.pop("encoder.embed_tokens.weight", None)
    state.pop("decoder.embed_tokens.weight", None)
    save_file(state, str(out / "model.safetensors"))
    (out / "config.json").write_text(model.config.to_json_string())
    tokenizer.save(str(out / "tokenizer.json"))
    (out / "recipe.json").write_text(json.dumps(recipe, indent=2) + "\n")
    return out


class Extractor:
    """A loaded model + tokenizer that turns findings sentences into linearised findings, in batches."""

    def __init__(self, directory=None):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        from .t5 import T5Greedy

        directory = Path(directory or WEIGHTS_DIR)
        if not (directory / "model.safetensors").exists():
            raise BoyaError(
                f"no extraction model in {directory}: train one with `boya train medreport-extract` "
                "or `boya medreport train --install`"
            )
        self.directory = directory
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        config = json.loads((directory / "config.json").read_text())
        state = {k: v.float() for k, v in load_file(str(directory / "model.safetensors")).items()}
        self.model = T5Greedy(state, config)
        self.recipe = (
            json.loads((directory / "recipe.json").read_text())
            if (directory / "recipe.json").exists()
            else {}
        )
        self._torch = torch

    def encode(self, texts: list[str], max_tokens: int = 128) -> list[list[int]]:
        return [enc.ids[: max_tokens - 1] + [EOS] for enc in self.tokenizer.encode_batch(texts)]

    def run(self, inputs: list[str], max_new_tokens: int = 96) -> list[str]:
        """Greedy decoding of each model input; returns the decoded output lines in order."""
        if not inputs:
            return []
        torch = self._torch
        ids = self.encode(inputs)
        width = max(map(len, ids))
        input_ids = torch.tensor([row + [PAD] * (width - len(row)) for row in ids])
        attention = (input_ids != PAD).long()
        attention[:, 0] = 1
        with torch.inference_mode():
            out = self.model.generate(
                input_ids, attention, start=PAD, eos=EOS, pad=PAD, max_new_tokens=max_new_tokens
            )
        return [self.tokenizer.decode([t for t in row.tolist() if t > UNK]).strip() for row in out]


@cache
def embedded() -> Extractor:
    """The extraction model shipped in the package, loaded once per process."""
    return Extractor()
