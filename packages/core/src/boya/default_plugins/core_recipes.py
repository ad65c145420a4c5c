"""Registers the core's own training recipe, ``text-lm`` (see :mod:`boya.runtime.text_lm`)."""

from ..hookspecs import hookimpl
from ..recipes import Recipe


def _train_text_lm(config):
    from ..runtime.text_lm import train_text_lm

    return train_text_lm(config)


@hookimpl
def register_recipes(register):
    register(
        Recipe(
            name="text-lm",
            description="small GPT-2-style byte-level language model on a text file (--data; default: bundled sample)",
            train=_train_text_lm,
            defaults={
                "max_steps": 300,
                "lr": 1e-3,
                "batch_size": 8,
                "warmup_steps": 20,
                "lr_schedule": "cosine",
                "eval_every": 100,
                "save_every": 100,
                "log_every": 10,
            },
        )
    )
