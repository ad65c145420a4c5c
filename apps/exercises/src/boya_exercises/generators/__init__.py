"""Template generators, one module per family of knowledge points; each KP maps (rng, difficulty) to a Problem.

A generator computes the key from its own parameters (with sympy) and proposes wrong answers from named
misconception rules. It never decides what gets served: :mod:`boya_exercises.exercise` renders the Problem as
one of four exercise types and :mod:`boya_exercises.verify` re-solves the rendered stem before anything leaves.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
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


def all_specs() -> dict[str, KPSpec]:
    """Every servable knowledge point by code, in curriculum order of the family modules."""
    from . import decimals, equations, expressions, fractions, negatives, percents, quadratics, whole_numbers

    specs = {}
    for module in (whole_numbers, fractions, decimals, percents, negatives, expressions, equations, quadratics):
        for spec in module.SPECS:
            specs[spec.code] = spec
    return specs
