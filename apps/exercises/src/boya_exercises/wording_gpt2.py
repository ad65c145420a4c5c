"""The GPT-2 wording model: a small transformers GPT-2, trained from scratch by boya.runtime, that writes stories.

Corpus: the app's own template problems whose facts a story can carry (``wording.template_facts``), each told by
a random frame with random names and items. A line reads::

    <kp=3.OA.C.7> <op=mul> <a> 7 <b> 8 <sep> There are 7 boxes with 8 cards in each box. How many cards ... <eos>

The model learns to write the story after ``<sep>``; the loss covers the story only. At serving time its story
is a candidate: the solver must read it back and find the template's key, or the template stem is served.
Tokens keep their leading space (as GPT-2's do) and digits are single tokens, so decoding is exact.
"""

import json
import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from random import Random

from boya.errors import BoyaError

from .generators import Problem, all_specs
from .wording import FRAMES, Facts, read_word_problem, solve_facts, tell, template_facts

MODEL_DIR = "wording-gpt2"
_TOKEN = re.compile(r" ?<[^>]+>| ?\d| ?[A-Za-z]+| ?[^\sA-Za-z\d]")
SPECIALS = ["<pad>", "<eos>", "<sep>", "<a>", "<b>", "<c>"]
MAX_LEN = 96


def tokenize(text: str) -> list[str]:
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        raise BoyaError(f"cannot tokenize {text!r} exactly")
    return tokens


def prompt_text(kp: str, facts: Facts) -> str:
    slots = "".join(
        f" <{slot}> {' '.join(number)}" for slot, number in zip("abc", facts.numbers, strict=False)
    )
    return f"<kp={kp}> <op={facts.op}>{slots} <sep>"


def corpus(lines: int, seed: int) -> list[tuple[str, str]]:
    """(prompt, story) pairs from the template generators of every KP whose problems a frame can tell."""
    rng = Random(seed)
    pairs, specs = [], all_specs()
    tellable = [
        kp for kp in specs if any(template_facts(specs[kp].make(Random(i), 2).stem) for i in range(6))
    ]
    while len(pairs) < lines:
        kp = rng.choice(tellable)
        problem = specs[kp].make(rng, rng.randint(1, 5))
        facts = template_facts(problem.stem)
        if facts is None or solve_facts(facts) is None:
            continue
        pairs.append((prompt_text(kp, facts), " " + tell(facts, rng)))
    return pairs


def build_vocab(pairs) -> list[str]:
    vocab = set()
    for prompt, story in pairs:
        vocab.update(tokenize(prompt))
        vocab.update(tokenize(story))
    # every control and story token the frames could need, so a vocabulary never misses a KP or a digit
    for kp in all_specs():
        vocab.add(f"<kp={kp}>")
        vocab.add(f" <kp={kp}>")
    for op in FRAMES:
        vocab.add(f" <op={op}>")
    vocab.update(f" {d}" for d in "0123456789")
    vocab.update("0123456789.")
    return SPECIALS + sorted(vocab - set(SPECIALS))


class WordingTokenizer:
    def __init__(self, vocab: list[str]):
        self.vocab = vocab
        self.index = {token: i for i, token in enumerate(vocab)}
        self.pad, self.eos = self.index["<pad>"], self.index["<eos>"]

    def encode(self, text: str) -> list[int]:
        ids = []
        for token in tokenize(text):
            key = token if token in self.index else token.strip()
            if key not in self.index:
                raise BoyaError(f"token {token!r} is not in the wording model's vocabulary")
            ids.append(self.index[key])
        return ids

    def decode(self, ids) -> str:
        return "".join(self.vocab[i] for i in ids)


def examples(pairs, tokenizer: WordingTokenizer) -> list[dict]:
    import torch

    items = []
    for prompt, story in pairs:
        prompt_ids, story_ids = tokenizer.encode(prompt), tokenizer.encode(story) + [tokenizer.eos]
        ids = (prompt_ids + story_ids)[:MAX_LEN]
        labels = ([-100] * len(prompt_ids) + story_ids)[:MAX_LEN]
        items.append({"input_ids": torch.tensor(ids), "labels": torch.tensor(labels)})
    return items


def collate(batch, pad_id: int = 0) -> dict:
    from torch.nn.utils.rnn import pad_sequence

    return {
        "input_ids": pad_sequence([b["input_ids"] for b in batch], batch_first=True, padding_value=pad_id),
        "labels": pad_sequence([b["labels"] for b in batch], batch_first=True, padding_value=-100),
    }


def loss_fn(model, batch):
    """Next-token cross-entropy summed over story tokens, and their count."""
    import torch.nn.functional as F

    logits = model(input_ids=batch["input_ids"]).logits[:, :-1]
    labels = batch["labels"][:, 1:]
    loss = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100, reduction="sum"
    )
    return loss, (labels != -100).sum()


def model_config(vocab_size: int) -> dict:
    return {
        "vocab_size": vocab_size,
        "n_positions": MAX_LEN,
        "n_embd": 128,
        "n_layer": 4,
        "n_head": 4,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "bos_token_id": SPECIALS.index("<eos>"),
        "eos_token_id": SPECIALS.index("<eos>"),
        "pad_token_id": SPECIALS.index("<pad>"),
    }


def build_model(config: dict):
    from transformers import GPT2Config, GPT2LMHeadModel

    return GPT2LMHeadModel(GPT2Config(**config))


def train(config, lines: int = 6000) -> Path:
    """Recipe ``exercises-gpt2``: corpus → vocabulary → GPT-2 → boya.runtime.Trainer; writes wording.json beside the weights."""
    from functools import partial

    from boya.runtime import Trainer

    pairs = corpus(lines, config.seed)
    vocab = build_vocab(pairs)
    tokenizer = WordingTokenizer(vocab)
    settings = model_config(len(vocab))
    model = build_model(settings)
    held = len(pairs) // 20
    trainer = Trainer(model, config, loss_fn=loss_fn)
    metrics = trainer.fit(
        examples(pairs[held:], tokenizer),
        examples(pairs[:held], tokenizer),
        collate_fn=partial(collate, pad_id=tokenizer.pad),
    )
    out = Path(config.out_dir)
    meta = {
        "recipe": "exercises-gpt2",
        "seed": config.seed,
        "max_steps": config.max_steps,
        "corpus_lines": len(pairs),
        "model": settings,
        "vocab": vocab,
        "eval_loss": metrics.get("eval_loss"),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    (out / "wording.json").write_text(json.dumps(meta, indent=1))
    return out / "model.safetensors"


class ModelWriter:
    """A stem writer backed by the wording model: tells a template problem as a story, or returns None."""

    def __init__(self, model, tokenizer: WordingTokenizer, temperature: float = 0.8, top_k: int = 40):
        self.model, self.tokenizer = model, tokenizer
        self.temperature, self.top_k = temperature, top_k

    @classmethod
    def load(cls, folder: Path | None = None) -> "ModelWriter":
        """The shipped model (package ``models/wording-gpt2``) or one a recipe run wrote to ``folder``."""
        import torch
        from boya.runtime import load_weights

        folder = (
            Path(folder)
            if folder
            else Path(str(resources.files("boya_exercises").joinpath("models", MODEL_DIR)))
        )
        if not (folder / "wording.json").is_file() or not (folder / "model.safetensors").is_file():
            raise BoyaError(
                f"no wording model in {folder}; train one with `boya train exercises-gpt2 --out DIR`"
            )
        meta = json.loads((folder / "wording.json").read_text())
        model = build_model(meta["model"])
        load_weights(folder / "model.safetensors", model)
        model.eval()
        torch.set_num_threads(1)
        return cls(model, WordingTokenizer(meta["vocab"]))

    def write(self, kp: str, facts: Facts, seed: int) -> str:
        """Sample one story for ``facts`` (raw model text, not yet verified)."""
        import torch

        prompt = torch.tensor([self.tokenizer.encode(prompt_text(kp, facts))])
        torch.manual_seed(seed)
        with torch.no_grad():
            out = self.model.generate(
                prompt,
                do_sample=True,
                temperature=self.temperature,
                top_k=self.top_k,
                max_length=MAX_LEN,
                pad_token_id=self.tokenizer.pad,
                eos_token_id=self.tokenizer.eos,
            )
        ids = out[0, prompt.shape[1] :].tolist()
        if self.tokenizer.eos in ids:
            ids = ids[: ids.index(self.tokenizer.eos)]
        return self.tokenizer.decode(ids).strip()

    def knows(self, kp: str, facts: Facts) -> bool:
        """Whether the prompt for ``facts`` is in the model's vocabulary (a model trained before a frame existed is not)."""
        try:
            self.tokenizer.encode(prompt_text(kp, facts))
        except BoyaError:
            return False
        return True

    def __call__(self, problem: Problem, kp: str, difficulty: int, rng) -> Problem | None:
        facts = template_facts(problem.stem)
        if facts is None or solve_facts(facts) is None or not self.knows(kp, facts):
            return None
        story = self.write(kp, facts, rng.getrandbits(31))
        if read_word_problem(story) is None:
            return None
        return replace(problem, stem=story, solution=f"In numbers: {problem.stem} {problem.solution}")
