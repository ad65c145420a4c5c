"""Training recipes of the exercises app, run by ``boya train NAME`` or the app's own commands, through boya.runtime."""

import json
import random
from dataclasses import asdict
from pathlib import Path

from boya.errors import BoyaError

KT_DEFAULTS = {
    "max_steps": 1000,
    "lr": 3e-3,
    "batch_size": None,
    "lr_schedule": "cosine",
    "warmup_steps": 50,
    "eval_every": 200,
    "log_every": 50,
    "clip_grad": 1.0,
}
KT_BATCH = 32
GNN_DEFAULTS = {
    "max_steps": 400,
    "lr": 3e-3,
    "lr_schedule": "cosine",
    "warmup_steps": 20,
    "eval_every": 100,
    "log_every": 50,
}
GPT2_DEFAULTS = {
    "max_steps": 1500,
    "lr": 3e-3,
    "batch_size": 16,
    "lr_schedule": "cosine",
    "warmup_steps": 50,
    "eval_every": 500,
    "log_every": 50,
}


def train_kt(config) -> Path:
    """Knowledge tracing on ``config.data`` (ASSISTments-format file); 10% of its students are held out for eval."""
    from boya.runtime import Trainer

    from . import kt

    if not config.data:
        raise BoyaError("the exercises-kt recipe needs --data TRAIN_FILE (ASSISTments format)")
    students = kt.read_logs(config.data)
    order = list(range(len(students)))
    random.Random(config.seed).shuffle(order)
    held = max(1, len(order) // 10)
    validation = [students[i] for i in order[:held]]
    training = [students[i] for i in order[held:]]
    n_skills = max(max(skills) for skills, _ in training) + 1
    model_config = kt.KTConfig(n_skills=n_skills)
    model = kt.build_model(model_config)
    trainer = Trainer(model, config, loss_fn=kt.loss_fn)
    metrics = trainer.fit(
        kt.batches(kt.windows(training, n_skills), KT_BATCH),
        kt.batches(kt.windows(validation, n_skills), KT_BATCH),
    )
    val_auc = kt.auc(*kt.predict(model, validation, n_skills))
    out = Path(config.out_dir)
    (out / "kt.json").write_text(
        json.dumps(
            {
                "recipe": "exercises-kt",
                "seed": config.seed,
                "config": asdict(model_config),
                "train_file": str(config.data),
                "validation_auc": round(val_auc, 4),
                "eval_loss": metrics.get("eval_loss"),
            },
            indent=2,
        )
    )
    return out / "model.safetensors"


def train_wording_gpt2(config) -> Path:
    """The GPT-2 wording model on the app's own templated corpus of word problems (see wording_gpt2)."""
    from . import wording_gpt2

    return wording_gpt2.train(config)


def train_gnn(config) -> Path:
    """The graph network on simulated logs, compared with the per-KP IRT baseline (gnn.json beside the weights)."""
    from . import gnn

    gnn.train_and_evaluate(config)
    return Path(config.out_dir) / "model.safetensors"
