"""Avatar rigs: one JSON file per avatar, drawn identically by the browser and by :mod:`..render`.

A rig lists transform groups (each moved by a linear function of the animation
parameters), drawable parts bound to groups, and the mouth geometry for each
Rhubarb shape. The parameter names follow Live2D's standard ones so a rig author
knows them. Avatars come from plugins through the ``avatars`` hook.
"""

import json
from importlib.resources import files
from pathlib import Path

from boya.errors import BoyaError

# Every frame sends these values, in this order (the WebSocket protocol's "p" array).
PARAMS = (
    ("MouthOpenY", 0.0, 0.0, 1.0),
    ("MouthForm", 0.0, -1.0, 1.0),
    ("MouthWidth", 0.45, 0.0, 1.0),
    ("MouthRound", 0.0, 0.0, 1.0),
    ("MouthTeeth", 0.0, 0.0, 1.0),
    ("MouthTongue", 0.0, 0.0, 1.0),
    ("EyeLOpen", 1.0, 0.0, 1.0),
    ("EyeROpen", 1.0, 0.0, 1.0),
    ("EyeBallX", 0.0, -1.0, 1.0),
    ("EyeBallY", 0.0, -1.0, 1.0),
    ("BrowY", 0.0, -1.0, 1.0),
    ("AngleX", 0.0, -30.0, 30.0),
    ("AngleY", 0.0, -30.0, 30.0),
    ("AngleZ", 0.0, -30.0, 30.0),
    ("BodyAngleZ", 0.0, -10.0, 10.0),
    ("Breath", 0.0, 0.0, 1.0),
    ("Cheek", 0.0, 0.0, 1.0),
)
PARAM_NAMES = tuple(name for name, *_ in PARAMS)
DEFAULTS = {name: default for name, default, _, _ in PARAMS}
RANGES = {name: (low, high) for name, _, low, high in PARAMS}
MOUTH_PARAMS = ("MouthOpenY", "MouthWidth", "MouthRound", "MouthTeeth", "MouthTongue")
PART_TYPES = {
    "ellipse": ("cx", "cy", "rx", "ry"),
    "rect": ("x", "y", "w", "h"),
    "poly": ("points",),
    "mouth": ("cx", "cy", "w", "h"),
}
TRANSFORM_KEYS = ("tx", "ty", "rot", "sx", "sy")


def builtin_rig_paths() -> list[Path]:
    return sorted(Path(str(files(__name__))).glob("*.json"))


def validate(rig: dict, source: str) -> dict:
    """Return ``rig`` or raise a BoyaError saying what is wrong with it and where."""

    def fail(message):
        raise BoyaError(f"avatar rig {source}: {message}")

    for key in ("name", "title", "canvas", "groups", "parts", "mouth"):
        if key not in rig:
            fail(f"missing {key!r}")
    groups = rig["groups"]
    for name, group in groups.items():
        if group.get("parent") is not None and group["parent"] not in groups:
            fail(f"group {name!r} has unknown parent {group['parent']!r}")
        for key in TRANSFORM_KEYS:
            for param in group.get(key, {}):
                if param != "base" and param not in DEFAULTS:
                    fail(f"group {name!r} uses unknown parameter {param!r}")
    for k, part in enumerate(rig["parts"]):
        if part.get("type") not in PART_TYPES:
            fail(f"part {k} has type {part.get('type')!r}; use one of {sorted(PART_TYPES)}")
        if part.get("group") not in groups:
            fail(f"part {k} belongs to unknown group {part.get('group')!r}")
        missing = [key for key in PART_TYPES[part["type"]] if key not in part]
        if missing:
            fail(f"part {k} ({part['type']}) lacks {missing}")
    shapes = set(rig["mouth"])
    if shapes != set("ABCDEFGHX"):
        fail(f"mouth must define shapes A-H and X, got {sorted(shapes)}")
    for shape, values in rig["mouth"].items():
        if set(values) != set(MOUTH_PARAMS):
            fail(f"mouth shape {shape} must set exactly {MOUTH_PARAMS}")
    return rig


def load_rig(path: str | Path) -> dict:
    path = Path(path)
    try:
        rig = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BoyaError(f"cannot read avatar rig {path}: {error}") from None
    return validate(rig, str(path))


def avatars() -> dict[str, dict]:
    """Every avatar registered by plugins, by name (the built-in ones come from the anchor's own plugin)."""
    from boya import plugins

    found = {}
    for plugin_name, args in plugins.collect("avatars"):
        try:
            rig = load_rig(args[0])
        except (BoyaError, IndexError) as error:
            plugins.report_failure(plugin_name, "avatars", str(error))
            continue
        if rig["name"] in found:
            plugins.report_failure(
                plugin_name, "avatars", f"avatar name {rig['name']!r} is already registered"
            )
            continue
        found[rig["name"]] = rig
    return found


def get_avatar(name: str) -> dict:
    found = avatars()
    if name not in found:
        raise BoyaError(f"unknown avatar {name!r}; installed: {', '.join(sorted(found)) or 'none'}")
    return found[name]


def mouth_targets(rig: dict, shape: str) -> dict[str, float]:
    return rig["mouth"].get(shape, rig["mouth"]["X"])
