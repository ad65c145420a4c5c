"""The built-in metric loggers, written as plugins of the training hooks.

``metrics.jsonl`` (one JSON object per line, ``kind`` = ``train`` or ``eval``) and, when
``"csv"`` is in ``TrainConfig.loggers``, ``metrics.csv`` / ``eval_metrics.csv``, all in the run's
``out_dir``. Training rows are written at step 1 (which carries the compile counters), every
``log_every`` steps and at the last step. On resume, rows past the checkpoint's step are dropped
first, so a file never holds two rows for one step. Only rank 0 writes.
"""

import csv
import json
from pathlib import Path

from ..hookspecs import hookimpl


def _files(trainer) -> list[tuple[str, Path]]:
    names = {"jsonl": ["metrics.jsonl"], "csv": ["metrics.csv", "eval_metrics.csv"]}
    return [(logger, trainer.out_dir / name) for logger in trainer.config.loggers for name in names[logger]]


def _active(trainer) -> bool:
    return trainer.strategy.is_main


@hookimpl
def on_train_start(trainer):
    if not _active(trainer) or trainer.step == 0:
        return
    for logger, path in _files(trainer):
        if path.exists():
            _truncate_after(path, logger, trainer.step)


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


def _write(trainer, kind: str, metrics: dict) -> None:
    row = {"step": metrics["step"], **{key: value for key, value in metrics.items() if key != "step"}}
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
