"""Meta-test: every hook spec (the core's and the apps') has a section in docs/plugins.md."""

import re
from pathlib import Path

from boya.plugins import pm

DOCS = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text(encoding="utf-8")


def test_every_hook_has_a_documentation_section():
    documented = set(re.findall(r"^### (\w+)\(", DOCS, re.M))
    hooks = {
        name for name in dir(pm.hook) if not name.startswith("_") and getattr(pm.hook, name).spec is not None
    }
    missing = sorted(hooks - documented)
    assert not missing, f"hooks without a '### name(...)' section in docs/plugins.md: {missing}"
