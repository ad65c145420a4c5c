"""No package loads pickles: every ``torch.load`` passes ``weights_only=True``, and nothing calls ``pickle.load(s)``,
``joblib.load``, ``dill.load`` or ``numpy.load(..., allow_pickle=True)`` (read from the source, so a new call
anywhere in the monorepo fails here)."""

import ast
from pathlib import Path

from support import ROOT

SOURCES = sorted(p for folder in ("packages", "apps") for p in (ROOT / folder).glob("*/src/**/*.py"))
PICKLE_MODULES = {"pickle", "cPickle", "joblib", "dill", "cloudpickle"}


def _keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def unsafe_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{node.lineno}"
        if owner == "torch" and node.func.attr == "load":
            flag = _keyword(node, "weights_only")
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                found.append(f"{where} torch.load without weights_only=True")
        elif owner in PICKLE_MODULES and node.func.attr in ("load", "loads", "Unpickler"):
            found.append(f"{where} {owner}.{node.func.attr}")
        elif owner in ("np", "numpy") and node.func.attr == "load":
            flag = _keyword(node, "allow_pickle")
            if isinstance(flag, ast.Constant) and flag.value is True:
                found.append(f"{where} numpy.load(allow_pickle=True)")
    return found


def test_sources_were_found():
    assert any("boya/runtime" in str(p) for p in SOURCES) and len(SOURCES) > 50


def test_no_pickle_loading_anywhere():
    assert [problem for path in SOURCES for problem in unsafe_calls(path)] == []


def test_the_check_catches_unsafe_calls(tmp_path):
    sample = tmp_path / "sample_unsafe.py"
    sample.write_text(
        "import torch, pickle\ntorch.load(f)\ntorch.load(f, weights_only=False)\npickle.loads(b)\n"
        "torch.load(f, weights_only=True)\n",
        encoding="utf-8",
    )
    assert len(unsafe_calls(sample)) == 3
