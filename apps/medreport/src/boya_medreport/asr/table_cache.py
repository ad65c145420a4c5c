"""Numpy tables derived from a model's files and our own code, built once and cached on disk by content.

Whisper's load builds two tables from its tokenizer: the word classes the beams compare
(:func:`.whisper_decode.word_classes`) and the drafter's n-gram continuations counted over
generated dictations (:func:`.whisper_draft.dictation_drafter`). Together they took ~0.6 s of a
~1.8 s load, against a 5 s bar of which ``import torch`` alone takes 2.2-2.9 s on the shared
2-core box. Both are pure functions of their inputs, so each is saved under a key hashing every
input: the tokenizer file, the source files of the code that builds it, its parameters. Changing
any of them builds a new table; an unreadable or unwritable cache costs only the time.
"""

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .embedded import cache_root


def content_key(*parts: str | Path) -> str:
    """A short hash of ``parts``: a :class:`~pathlib.Path` stands for its file's bytes, a string for itself."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.read_bytes() if isinstance(part, Path) else part.encode()
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:20]


def cached_arrays(name: str, key: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays ``build()`` returns, read from ``<cache>/tables/<name>-<key>.npz`` when an earlier call
    saved them (without pickles: only plain arrays load)."""
    path = cache_root() / "tables" / f"{name}-{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {item: saved[item] for item in saved.files}
    except (OSError, ValueError, zipfile.BadZipFile):  # not built yet, or a damaged file: build it again
        pass
    arrays = build()
    staging = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{name}-", suffix=".npz", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(staging, path)  # whole or not at all, also with two processes building at once
    except OSError:
        if staging:
            Path(staging).unlink(missing_ok=True)
    return arrays
