"""The ``medreport-extract`` training recipe: generated sentences -> tokenizer -> small T5, trained by ``boya.runtime``.

Data comes from :mod:`boya_medreport.dictations` (``split="train"`` phrasings only, so the
held-out phrasings stay unseen). The loss is the summed token cross-entropy with its token
count, which the runtime divides exactly over accumulated micro-batches.
"""

import json
import random
import time
from pathlib import Path

from .. import dictations
from . import linearize
from .model import EOS, PAD, build_model, model_input, save, train_tokenizer

RECIPE = "medreport-extract"
DEFAULTS = {
    "max_steps": 600,
    "lr": 2e-3,
    "lr_schedule": "cosine",
    "warmup_steps": 50,
    "eval_every": 500,
    "log_every": 50,
    "threads": 1,
}


def examples(n: int, seed: int, split: str = "train") -> list[tuple[str, str]]:
    """``n`` (model input, target) pairs, each one sentence about a random body part."""
    rng = random.Random(seed)
    parts = list(dictations.EXAMS)
    pairs = []
    for _ in range(n):
        body_part = rng.choice(parts)
        sentence, findings = dictations.finding_sentence(rng, body_part, split)
        if rng.random() < 0.1:
            sentence = sentence.rstrip(".")
        pairs.append((model_input(body_part, sentence), linearize.linearize(findings)))
    return pairs


def batches(pairs, tokenizer, batch_size: int, seed: int) -> list[dict]:
    """Micro-batches of similar-length examples (less padding), in a seeded shuffled order."""
    import torch

    enc_in = tokenizer.encode_batch([p[0] for p in pairs])
    enc_out = tokenizer.encode_batch([p[1] for p in pairs])
    rows = sorted(
        ((e.ids[:127] + [EOS], d.ids[:127] + [EOS]) for e, d in zip(enc_in, enc_out, strict=True)),
        key=lambda r: (len(r[0]), len(r[1])),
    )
    out = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        wi, wo = max(len(r[0]) for r in chunk), max(len(r[1]) for r in chunk)
        input_ids = torch.tensor([r[0] + [PAD] * (wi - len(r[0])) for r in chunk])
        labels = torch.tensor([r[1] + [-100] * (wo - len(r[1])) for r in chunk])
        out.append({"input_ids": input_ids, "attention_mask": (input_ids != PAD).long(), "labels": labels})
    random.Random(seed).shuffle(out)
    return out


def loss_fn(model, batch):
    """Summed cross-entropy over target tokens and their count (padding ignored)."""
    import torch.nn.functional as F

    labels = batch["labels"]
    decoder_input_ids = model.prepare_decoder_input_ids_from_labels(labels=labels)
    logits = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        decoder_input_ids=decoder_input_ids,
    ).logits
    loss = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)).float(), labels.reshape(-1), ignore_index=-100, reduction="sum"
    )
    return loss, (labels != -100).sum()


def train(
    config, n_examples: int = 40000, size: str = "small", vocab_size: int = 1500, batch_size: int = 48
) -> Path:
    """Train the extraction model under ``config`` and save it (with tokenizer and recipe JSON) to ``out_dir/extract``."""
    from boya.runtime import Trainer

    started = time.time()
    pairs = examples(n_examples, config.seed)
    eval_pairs = examples(500, config.seed + 1, split="heldout")
    tokenizer = train_tokenizer([text for pair in pairs for text in pair], vocab_size)
    model = build_model(tokenizer.get_vocab_size(), size)
    trainer = Trainer(model, config, loss_fn=loss_fn)
    metrics = trainer.fit(
        batches(pairs, tokenizer, batch_size, config.seed), eval_data=batches(eval_pairs, tokenizer, 100, 0)
    )
    recipe = {
        "recipe": RECIPE,
        "seed": config.seed,
        "max_steps": config.max_steps,
        "lr": config.lr,
        "lr_schedule": config.lr_schedule,
        "batch_size": batch_size,
        "examples": n_examples,
        "size": size,
        "vocab_size": tokenizer.get_vocab_size(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(time.time() - started, 1),
        "final_metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))},
    }
    out = save(trainer.model, tokenizer, Path(config.out_dir) / "extract", recipe)
    print(json.dumps(recipe))
    return out
