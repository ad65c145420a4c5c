"""``boya.runtime``: the training runtime every Boya app trains its models with.

Quick start::

    from boya.runtime import Trainer, TrainConfig

    def loss_fn(model, batch):
        # return the loss SUMMED over real tokens and the number of real tokens
        logits = model(batch["input_ids"])
        loss_sum = F.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=-100, reduction="sum")
        return loss_sum, (batch["labels"] != -100).sum()

    config = TrainConfig(out_dir="runs/x", max_steps=500, lr=3e-4, batch_size=16, grad_accum=2,
                         precision="32", compile="off", clip_grad=1.0, seed=0, threads=1,
                         eval_every=100, save_every=100, log_every=10)
    trainer = Trainer(model, config, loss_fn=loss_fn)       # optimizer=..., scheduler=... optional
    metrics = trainer.fit(train_data, eval_data=None, collate_fn=None)
    # out_dir/model.safetensors, out_dir/metrics.jsonl, out_dir/checkpoints/step-*/

Data. ``train_data`` and ``eval_data`` are map-style sequences (``len`` + ``[i]``: a list, a
``torch.utils.data.Dataset``). With ``batch_size=None`` each item is one micro-batch (anything
``loss_fn`` accepts, tensors are moved to the device); with ``batch_size=N`` items are examples,
grouped N at a time by ``collate_fn`` (default ``torch.utils.data.default_collate``). The visiting
order is a seeded permutation per epoch, and its position (epoch, cursor) is checkpointed, so a
resumed run continues with the very next micro-batch.

Loss. ``loss_fn(model, batch) -> (loss_sum, n_tokens)``. The trainer divides the loss summed over
the ``grad_accum`` micro-batches of a step by their total token count, so accumulation equals the
full batch even with ragged padding. A loss that is already a mean works too: return ``(mean, 1)``
(then every micro-batch weighs the same).

What ``fit`` does for you: precision (``32``, ``bf16-mixed``, ``16-mixed`` with GradScaler,
``bf16-true``, ``auto``; warns when the hardware makes a mode slower), ``compile`` (``off``,
``model``, ``regions``), gradient clipping, LR warm-up + constant/linear/cosine schedule, skipping
steps whose gradients are inf/nan, evaluation every ``eval_every`` steps with early stopping
(``early_stopping_patience``), atomic checkpoints (``save_every``, ``keep_last``) and exact resume
(``resume=True`` or a checkpoint path), one progress bar, metrics through the plugin hooks
(``on_train_start``, ``on_step_end``, ``on_eval_end``, ``on_checkpoint_saved``, ``on_train_end``;
the built-in loggers write ``metrics.jsonl``/``metrics.csv``), and the profiler (``profile=(wait,
warmup, active)``). Files are written only under ``out_dir``; starting a fresh run in a directory
that already holds checkpoints is refused (pass ``resume``), so nothing is overwritten.

``trainer.steps(train_data, ...)`` is ``fit`` as a generator yielding each step's metrics (the
benchmark interleaves runs with it). After ``fit``: ``trainer.model`` (the trained, uncompiled
module), ``trainer.metrics``, ``trainer.step``; ``trainer.evaluate(data)`` and
``trainer.save_model(path)`` work at any time. To load weights saved by a recipe:
``boya.runtime.load_weights(path, model)`` (names mismatched keys on error).

Distributed training plugs in through ``boya.runtime.strategy``: the trainer asks its strategy to
wrap the model, to skip gradient sync on non-final micro-batches and to sum token counts over
ranks: ``single`` here, and under torchrun ``ddp``, ``fsdp``, ``tp``, ``pp``, ``fsdp+tp``
(``boya.runtime.distributed``; ``boya train RECIPE --strategy fsdp`` under ``torchrun``).

Errors a user can fix (unknown precision, missing/corrupt checkpoint, checkpoint of another
model...) raise :class:`boya.errors.BoyaError`.

Recipes: a plugin registers ``boya.recipes.Recipe(name, description, train)`` through the
``register_recipes`` hook, where ``train(config: TrainConfig) -> Path`` builds model and data, runs
a ``Trainer`` and returns the path of what it saved; ``boya train NAME --max-steps N --out DIR
[--precision P] [--compile MODE] [--resume] [--threads N] [--profile W,WU,A]`` runs it.

Also here: ``boya.runtime.models.gpt`` (the core's small GPT-2-style model and ``lm_loss``),
``boya.runtime.fusion.fusion_report`` (kernel launches eager vs compiled), ``boya.runtime.precision``.

Importing this package is cheap: the names below load torch on first use.
"""

import importlib

_EXPORTS = {
    "TrainConfig": "config",
    "Trainer": "trainer",
    "PrecisionPolicy": "precision",
    "resolve_precision": "precision",
    "compile_for_training": "fusion",
    "fusion_report": "fusion",
    "load_checkpoint": "checkpoint",
    "load_weights": "checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
