"""Checkpoints: one directory per step, written atomically, the newest ``keep_last`` kept.

Layout of ``<out_dir>/checkpoints/step-00000120/``:

- ``model.safetensors``: the weights (tied weights stored once), readable without pickle;
- ``state.pt``: optimizer, LR scheduler, GradScaler, RNG states (torch, CUDA, numpy, python), step
  and data position, loaded with ``torch.load(weights_only=True)`` (no arbitrary pickle);
- ``meta.json``: step, model class and the run's settings, for people and tools.

A checkpoint is first written to a hidden ``.tmp-*`` directory, flushed to disk, and only then
renamed to its final name: a write killed midway leaves the previous checkpoints untouched and
no half-written ``step-*`` directory. Resume needs every piece: restoring the weights alone,
or the weights and optimizer without the scheduler or RNG, does not continue the same run.
"""

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_model, save_model

from ..errors import BoyaError

MODEL_FILE = "model.safetensors"
STATE_FILE = "state.pt"
META_FILE = "meta.json"


def checkpoint_dirs(root: Path) -> list[Path]:
    """Complete checkpoints under ``root``, oldest first."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.is_dir() and path.name.startswith("step-"))


def latest_checkpoint(root: Path) -> Path | None:
    found = checkpoint_dirs(root)
    return found[-1] if found else None


def save_checkpoint(
    root: Path, step: int, model: torch.nn.Module, state: dict, meta: dict, keep_last: int
) -> Path:
    """Write ``step``'s checkpoint atomically under ``root`` and delete all but the newest ``keep_last``."""
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(".tmp-*"):  # from a write that was killed: never complete, safe to drop
        shutil.rmtree(leftover, ignore_errors=True)
    final = root / f"step-{step:08d}"
    tmp = root / f".tmp-{final.name}-{os.getpid()}"
    tmp.mkdir()
    try:
        save_model(model, str(tmp / MODEL_FILE))
        torch.save(state, tmp / STATE_FILE)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        for file in tmp.iterdir():
            _fsync(file)
        if final.exists():
            old = root / f".tmp-old-{final.name}-{os.getpid()}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old)
        else:
            tmp.rename(final)
        _fsync(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in checkpoint_dirs(root)[:-keep_last]:
        shutil.rmtree(old)
    return final


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_checkpoint(path: Path, model: torch.nn.Module) -> dict:
    """Load the weights of checkpoint ``path`` into ``model`` and return its training state.

    Raises :class:`BoyaError` when the directory or a file is missing or corrupt, or when the
    checkpoint belongs to another model (the mismatched parameter names are listed).
    """
    path = Path(path)
    if not path.is_dir():
        raise BoyaError(f"checkpoint {path} does not exist")
    for name in (MODEL_FILE, STATE_FILE):
        if not (path / name).is_file():
            raise BoyaError(f"checkpoint {path} is incomplete: {name} is missing")
    load_weights(path / MODEL_FILE, model)
    try:
        return torch.load(path / STATE_FILE, weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - any unreadable state file is the user's corrupt checkpoint
        raise BoyaError(
            f"checkpoint {path} is corrupt: cannot read {STATE_FILE} ({type(error).__name__})"
        ) from None


def load_weights(file: Path, model: torch.nn.Module) -> None:
    """Load a safetensors file into ``model``, naming missing, unexpected and reshaped parameters on mismatch."""
    try:
        with safe_open(str(file), framework="pt") as stored:
            shapes = {key: tuple(stored.get_slice(key).get_shape()) for key in stored.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise BoyaError(f"{file} is not a readable safetensors file ({error})") from None
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    reshaped = [
        f"{key} {shapes[key]} vs {expected[key]}"
        for key in shapes
        if key in expected and shapes[key] != expected[key]
    ]
    unexpected = [key for key in shapes if key not in expected]
    if reshaped or unexpected:
        raise BoyaError(_mismatch(file, model, reshaped=reshaped, unexpected=unexpected))
    missing, _ = load_model(model, str(file), strict=False)
    if missing:
        raise BoyaError(_mismatch(file, model, missing=sorted(missing)))


def _mismatch(file: Path, model: torch.nn.Module, **problems: list[str]) -> str:
    parts = [f"{kind} {_names(keys)}" for kind, keys in problems.items() if keys]
    return f"{file} was saved from another model than this {type(model).__name__}: " + "; ".join(parts)


def _names(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")
