"""The built-in metric loggers, written as plugins of the training hooks.

``metrics.jsonl`` (one JSON object per line, ``kind`` = ``train`` or ``eval``) and, when
``"csv"`` is in ``TrainConfig.loggers``, ``metrics.csv`` / ``eval_metrics.csv``, all in the run's
``out_dir``. With ``"tensorboard"`` (needs ``pip install tensorboard``), TensorBoard event files
in ``out_dir/tensorboard``: one scalar per numeric metric, tagged ``train/<name>`` or
``eval/<name>``, at the optimizer step. Training rows are written at step 1 (which carries the
compile counters), every ``log_every`` steps and at the last step. On resume, rows past the
checkpoint's step are dropped first, so a file never holds two rows for one step (TensorBoard's
own ``purge_step`` does that for its event files). Only rank 0 writes.
"""

import csv
import json
import weakref
from pathlib import Path

from ..hookspecs import hookimpl

TENSORBOARD_DIR = "tensorboard"
_tensorboard_writers = weakref.WeakKeyDictionary()  # trainer -> its open SummaryWriter


def _files(trainer) -> list[tuple[str, Path]]:
    names = {"jsonl": ["metrics.jsonl"], "csv": ["metrics.csv", "eval_metrics.csv"], "tensorboard": []}
    return [(logger, trainer.out_dir / name) for logger in trainer.config.loggers for name in names[logger]]


def _active(trainer) -> bool:
    return trainer.strategy.is_main


@hookimpl
def on_train_start(trainer):
    if not _active(trainer):
        return
    if "tensorboard" in trainer.config.loggers:
        _open_tensorboard(trainer)
    if trainer.step == 0:
        return
    for logger, path in _files(trainer):
        if path.exists():
            _truncate_after(path, logger, trainer.step)


def _open_tensorboard(trainer) -> None:
    """One writer per run; on resume, ``purge_step`` hides the events an interrupted run wrote past the checkpoint."""
    from torch.utils.tensorboard import SummaryWriter  # TrainConfig checked that tensorboard is installed

    previous = _tensorboard_writers.pop(trainer, None)
    if previous is not None:
        previous.close()
    purge_step = trainer.step + 1 if trainer.step else None
    _tensorboard_writers[trainer] = SummaryWriter(
        str(trainer.out_dir / TENSORBOARD_DIR), purge_step=purge_step
    )


def _truncate_after(path: Path, logger: str, step: int) -> None:
    lines = path.read_text().splitlines(keepends=True)
    if logger == "jsonl":
        kept = [line for line in lines if json.loads(line)["step"] <= step]
    else:
        header, rows = lines[:1], lines[1:]
        kept = header + [row for row in rows if int(row.split(",", 1)[0]) <= step]
    path.write_text("".join(kept))


@hookimpl
def on_step_end(trainer, step, metrics):
    config = trainer.config
    if _active(trainer) and (step == 1 or step % config.log_every == 0 or step == config.max_steps):
        _write(trainer, "train", metrics)


@hookimpl
def on_eval_end(trainer, step, metrics):
    if _active(trainer):
        _write(trainer, "eval", {"step": step, **metrics})


@hookimpl
def on_train_end(trainer, metrics):
    writer = _tensorboard_writers.pop(trainer, None)
    if writer is not None:
        writer.close()


def _write(trainer, kind: str, metrics: dict) -> None:
    row = {"step": metrics["step"], **{key: value for key, value in metrics.items() if key != "step"}}
    writer = _tensorboard_writers.get(trainer)
    if writer is not None:
        _write_scalars(writer, kind, row)
    for logger, path in _files(trainer):
        if logger == "jsonl":
            with path.open("a") as out:
                out.write(json.dumps({"kind": kind, **row}) + "\n")
        elif (path.name == "eval_metrics.csv") == (kind == "eval"):
            new = not path.exists()
            fields = list(row) if new else _csv_header(path)  # the first row fixes the columns
            with path.open("a", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
                if new:
                    writer.writeheader()
                writer.writerow(row)


def _csv_header(path: Path) -> list[str]:
    with path.open(newline="") as existing:
        return next(csv.reader(existing))


def _write_scalars(writer, kind: str, row: dict) -> None:
    """Every numeric metric (booleans such as ``skipped`` as 0/1) at its step, ``eval_loss`` as ``eval/loss`` so
    TensorBoard draws it beside ``train/loss``; flushed at once so a crash loses nothing written."""
    for key, value in row.items():
        if key not in ("step", "eval_step") and isinstance(value, int | float):
            name = key.removeprefix("eval_") if kind == "eval" else key
            writer.add_scalar(f"{kind}/{name}", float(value), global_step=row["step"])
    writer.flush()
