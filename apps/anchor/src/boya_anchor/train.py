"""The ``anchor-visemes`` recipe: train the causal viseme model with boya's runtime.

Data: the training sentences spoken by :data:`.corpus.TRAIN_VOICES`, each once
nearly clean and once degraded and speaker-perturbed (:mod:`.augment`: speed,
vocal-tract-length warp, reverb, channel, noise, gain), plus the training part of
Asterisk's human prompts (:mod:`.asterisk`; the held-out part is never used), each
once plain and twice perturbed, and, with ``real_speech``, the recordings of other
real speakers gathered by :mod:`.realspeech` (plain once, then perturbed). The
unseen-speaker recordings (:mod:`.speakers`) are evaluation only and never enter
the corpus. Loss per 10 ms frame, with the output delayed by the model's look-ahead: the negative log of the probability
mass on the shapes Rhubarb's rules allow for the true phone (what the score
counts), plus smaller terms for the preferred shape, the viseme and voice activity.
"""

import json
import random
from functools import partial
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

from .phones import SHAPES

WINDOW_FRAMES = 200
CMN_PRIOR_FRAMES = 100  # running band means count as if 1 s of average speech came first
# Default output delay in 10 ms frames (``lookahead``): 20 ms, all live mode allows. The 10 ms models'
# lag sweeps on human speech peaked at +10 ms; the live mouth's opening follows loudness at zero
# look-ahead anyway (live.py).
LOOKAHEAD_FRAMES = 2
MAX_LOOKAHEAD_FRAMES = 2
BATCH = 16
DEFAULTS = {
    "max_steps": 1000,
    "lr": 3e-3,
    "lr_schedule": "cosine",
    "warmup_steps": 50,
    "eval_every": 200,
    "save_every": 200,
}
DESCRIPTION = "causal log-mel → mouth shape model for the anchor's live mode (synthetic voices, augmented)"


def build_batches(items: list[dict], seed: int) -> list[dict]:
    """Cut utterances into windows of 2 s and group them into padded micro-batches of tensors."""
    import torch

    windows = []
    for item in items:
        n = len(item["mel"])
        for start in range(0, max(1, n - 50), WINDOW_FRAMES):
            windows.append({k: v[start : start + WINDOW_FRAMES] for k, v in item.items()})
    random.Random(seed).shuffle(windows)
    batches = []
    for b in range(0, len(windows) - BATCH + 1, BATCH):
        group = windows[b : b + BATCH]
        length = max(len(w["mel"]) for w in group)
        batch = {"mask": torch.zeros(BATCH, length)}
        for key in ("mel", "allowed", "shape", "viseme", "vad"):
            first = group[0][key]
            out = np.zeros((BATCH, length, *first.shape[1:]), first.dtype)
            for i, w in enumerate(group):
                out[i, : len(w[key])] = w[key]
            batch[key] = torch.from_numpy(out)
        for i, w in enumerate(group):
            batch["mask"][i, : len(w["mel"])] = 1.0
        batches.append(batch)
    return batches


def loss_fn(model, batch, lip_weight: float = 1.0):
    """Masked per-frame loss; ``lip_weight`` scales frames whose only allowed shape is A (P, B, M) or G (F, V):
    short lip closures and lip-teeth contacts that unseen speakers' mouths were most often missing."""
    import torch.nn.functional as F

    shapes, visemes, vad, _ = model(batch["mel"])
    k = model.lookahead
    # The output at frame t describes frame t - k: drop the first k outputs and the last k labels.
    if k:
        shapes, visemes, vad = shapes[:, k:], visemes[:, k:], vad[:, k:]
    labels = {
        key: batch[key][:, : batch[key].shape[1] - k] for key in ("allowed", "shape", "viseme", "vad", "mask")
    }
    mask = labels["mask"] * batch["mask"][:, k:]
    log_p = shapes.log_softmax(-1)
    set_loss = -(log_p + (labels["allowed"] + 1e-8).log()).logsumexp(-1)
    prefer = F.cross_entropy(shapes.transpose(1, 2), labels["shape"], reduction="none")
    vis = F.cross_entropy(visemes.transpose(1, 2), labels["viseme"], reduction="none")
    act = F.binary_cross_entropy_with_logits(vad, labels["vad"], reduction="none")
    per_frame = set_loss + 0.3 * prefer + 0.3 * vis + 0.2 * act
    if lip_weight != 1.0:
        allowed = labels["allowed"]
        lips_only = (allowed.sum(-1) == 1) & (
            (allowed[..., SHAPES.index("A")] + allowed[..., SHAPES.index("G")]) > 0
        )
        per_frame = per_frame * (1.0 + (lip_weight - 1.0) * lips_only)
    return (per_frame * mask).sum(), mask.sum()


def make_corpus(
    seed: int,
    copies: int = 2,
    voices_per_sentence: int = 2,
    limit: int | None = None,
    human: bool = True,
    aligned_labels: bool = False,
) -> list[dict]:
    """Synthetic speech (+ Asterisk's training prompts); ``aligned_labels``: label the synthetic speech by forced
    alignment (:func:`.corpus.realigned`) instead of the synthesizer's own phone times."""
    from .corpus import TRAIN_VOICES, featurize, human_training_items, realigned, sentences, synthesize_all

    rng = random.Random(seed)
    texts, _ = sentences()
    texts = texts[:limit] if limit else texts
    by_voice: dict[str, list[str]] = {v: [] for v in TRAIN_VOICES}
    for text in texts:
        for voice in rng.sample(TRAIN_VOICES, voices_per_sentence):
            by_voice[voice].append(text)
    utterances = [u for voice, group in by_voice.items() if group for u in synthesize_all(group, voice, rng)]
    if aligned_labels:
        utterances = [realigned(u) for u in utterances]
    nrng = np.random.default_rng(seed)
    items = []
    for u in utterances:
        items.append(featurize(u, nrng if nrng.random() < 0.3 else None))
        items += [featurize(u, nrng) for _ in range(copies - 1)]
    if human:
        items += human_training_items(nrng)
    return items


def load_or_make_corpus(
    config, sentences: int | None = None, aligned_labels: bool = False
) -> tuple[list[dict], str]:
    """(items, how the synthetic speech is labelled). ``--data tiny``: a dozen sentences (tests, smoke runs);
    ``--data X.npz``: reuse (or first write) a corpus cache, which records its labelling.

    ``sentences`` limits the synthetic part to the first N training sentences (fine-tuning needs fewer);
    ``aligned_labels``: see :func:`make_corpus`.
    """
    labels = "forced alignment" if aligned_labels else "synthesizer phone times"
    if config.data == "tiny":
        return make_corpus(
            config.seed, copies=1, limit=12, human=False, aligned_labels=aligned_labels
        ), labels
    cache = Path(config.data) if config.data else None
    if cache is not None and cache.is_file():
        with np.load(cache) as stored:
            count = int(stored["count"])
            cached = str(stored["labels"]) if "labels" in stored.files else "synthesizer phone times"
            if cached != labels:
                raise BoyaError(
                    f"corpus cache {cache} was labelled by {cached}; "
                    f"{'pass' if cached == 'forced alignment' else 'drop'} --aligned-labels or use another --corpus"
                )
            return [
                {key: stored[f"{i}/{key}"] for key in ("mel", "allowed", "shape", "viseme", "vad")}
                for i in range(count)
            ], labels
    items = make_corpus(config.seed, limit=sentences, aligned_labels=aligned_labels)
    if cache is not None:
        save_corpus(items, cache, labels)
    return items, labels


def save_corpus(items: list[dict], path: Path, labels: str = "synthesizer phone times") -> None:
    """Write a corpus cache that ``--data PATH`` (``--corpus`` in ``boya anchor train``) reads back."""
    np.savez(
        path,
        count=len(items),
        labels=labels,
        **{f"{i}/{key}": value for i, item in enumerate(items) for key, value in item.items()},
    )


def real_speech_items(folder: str, seed: int, copies: int) -> list[dict]:
    """The gathered real speakers (:mod:`.realspeech`), ``copies`` times each (one plain): appended to any corpus,
    cached or not, so one synthetic cache serves runs with and without them."""
    from .realspeech import training_items

    return training_items(folder, np.random.default_rng(seed + 1), copies)


def train(
    config,
    init: str | None = None,
    sentences: int | None = None,
    real_speech: str | None = None,
    real_copies: int = 4,
    lip_weight: float = 1.0,
    aligned_labels: bool = False,
    lookahead: int = LOOKAHEAD_FRAMES,
) -> Path:
    """Recipe entry point: build the corpus, fit with :class:`boya.runtime.Trainer`, write the model card.

    ``init``: start from these weights (a model of this recipe) instead of from scratch, keeping
    their input normalisation, so new data (e.g. human speech) is added for a fraction of the
    cost of a full run; the card records what it started from. ``real_speech``: a folder filled
    by ``boya anchor gather-speech``, its recordings ``real_copies`` times each. ``lip_weight``: see
    :func:`loss_fn`; ``aligned_labels``: see :func:`make_corpus`. ``lookahead``: output delay in 10 ms
    frames (recorded in the card, which the live engine reads); fine-tuning may change it, since the
    layers below the heads keep their meaning and the heads learn to name a frame further back.
    """
    import torch
    from boya.runtime import Trainer

    from .asterisk import HELD_OUT_PROMPTS
    from .corpus import TRAIN_VOICES
    from .model import CausalVisemeNet

    if not 0 <= lookahead <= MAX_LOOKAHEAD_FRAMES:
        raise BoyaError(
            f"look-ahead must be 0-{MAX_LOOKAHEAD_FRAMES} frames of 10 ms "
            f"(live mode allows at most 20 ms), got {lookahead}"
        )
    torch.manual_seed(config.seed)
    items, labels = load_or_make_corpus(config, sentences, aligned_labels)
    real = real_speech_items(real_speech, config.seed, real_copies) if real_speech else []
    items += real
    model = CausalVisemeNet(lookahead=lookahead, cmn_prior=CMN_PRIOR_FRAMES)
    mel = np.concatenate([item["mel"] for item in items])
    started_from = None
    if init:
        from safetensors.torch import load_model

        load_model(model, init)
        card_path = Path(init).with_suffix(".json")
        previous = json.loads(card_path.read_text()) if card_path.is_file() else {}
        started_from = {
            k: previous.get(k)
            for k in ("recipe", "seed", "max_steps", "lr", "frames", "lookahead_frames", "init")
        }
    else:
        model.mean.copy_(torch.from_numpy(mel.mean(0)))
        model.std.copy_(torch.from_numpy(mel.std(0) + 1e-3))
    batches = build_batches(items, config.seed)
    held = max(1, len(batches) // 20)
    trainer = Trainer(model, config, partial(loss_fn, lip_weight=lip_weight))
    metrics = trainer.fit(batches[held:], eval_data=batches[:held])
    out = Path(config.out_dir)
    card = {
        "recipe": "anchor-visemes",
        "seed": config.seed,
        "max_steps": config.max_steps,
        "lr": config.lr,
        "frames": int(len(mel)),
        "batches": len(batches),
        "lookahead_frames": model.lookahead,
        "cmn_prior_frames": model.cmn_prior,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_voices": list(TRAIN_VOICES),
        "sentences": sentences or "all",
        "init": started_from,
        "human_data": f"Asterisk prompts after the first {HELD_OUT_PROMPTS} (those are held out for evaluation)",
        "synthetic_labels": labels,
        "lip_weight": lip_weight,
        "real_speech": _real_speech_card(real_speech, real_copies, len(real)) if real_speech else None,
        "augmentation": "speed 0.85-1.15, vocal-tract-length warp 0.84-1.18, reverb, telephone or mic band-limit, noise, gain",
        "final": {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))},
    }
    (out / "model.json").write_text(json.dumps(card, indent=2))
    return out / "model.safetensors"


def _real_speech_card(folder: str, copies: int, items: int) -> dict:
    import csv

    from .realspeech import MANIFEST, SOURCES

    with (Path(folder) / MANIFEST).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {
        "copies": copies,
        "items": items,
        "files": len(rows),
        "speakers": sorted({r["speaker"] for r in rows}),
        "sources": {
            key: {"get": s.command, "licence": s.licence}
            for key, s in SOURCES.items()
            if any(r["source"] == key for r in rows)
        },
    }
