"""Template generators, one module per family of knowledge points; each KP maps (rng, difficulty) to a Problem.

A generator computes the key from its own parameters (with sympy) and proposes wrong answers from named
misconception rules. It never decides what gets served: :mod:`boya_exercises.exercise` renders the Problem as
one of four exercise types and :mod:`boya_exercises.verify` re-solves the rendered stem before anything leaves.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from random import Random
from typing import Any


@dataclass(frozen=True)
class Problem:
    """A question in its short-answer form, its key and the misconception answers a student might give."""

    stem: str
    value: Any
    kind: str
    solution: str
    wrong: tuple[tuple[str, Any], ...] = field(default=())


@dataclass(frozen=True)
class KPSpec:
    """A servable knowledge point: its CCSSM code, family, titles (English, Chinese) and template."""

    code: str
    family: str
    title_en: str
    title_zh: str
    make: Callable[[Random, int], Problem]


@cache
def all_specs() -> dict[str, KPSpec]:
    """Every servable knowledge point by code: the app's families, then those plugins register (cached)."""
    from boya import plugins

    from . import decimals, equations, expressions, fractions, negatives, percents, quadratics, whole_numbers

    specs = {}
    for module in (
        whole_numbers,
        fractions,
        decimals,
        percents,
        negatives,
        expressions,
        equations,
        quadratics,
    ):
        for spec in module.SPECS:
            specs[spec.code] = spec
    if hasattr(plugins.pm.hook, "register_kp_generators"):
        for plugin_name, args in plugins.collect("register_kp_generators"):
            spec = args[0] if len(args) == 1 else None
            if not isinstance(spec, KPSpec):
                plugins.report_failure(plugin_name, "register_kp_generators", "register() takes one KPSpec")
                continue
            specs.setdefault(spec.code, spec)
    return specs
