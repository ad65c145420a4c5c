"""Training recipes: named, runnable trainings that plugins register and ``boya train NAME`` runs.

A plugin implements the ``register_recipes`` hook::

    @boya.hookimpl
    def register_recipes(register):
        register(Recipe(name="medreport-extract", description="T5-style findings extractor", train=train_extractor))

where ``train(config: boya.runtime.TrainConfig) -> pathlib.Path`` builds its model and data, trains
with :class:`boya.runtime.Trainer` and returns the path of what it saved. ``defaults`` holds the
recipe's own ``TrainConfig`` values (e.g. ``{"max_steps": 2000, "lr": 1e-3}``); options given on
the command line override them. This module stays import-light (no torch).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BoyaError


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    train: Callable[..., Path]
    defaults: dict = field(default_factory=dict)


def all_recipes() -> dict[str, tuple[str, Recipe]]:
    """``{name: (plugin name, recipe)}`` for every registered recipe; a duplicate name keeps the first."""
    from . import plugins  # here, not at the top: plugin modules import this module while plugins load

    found: dict[str, tuple[str, Recipe]] = {}
    for plugin_name, args in plugins.collect("register_recipes"):
        recipe = args[0] if args else None
        if not isinstance(recipe, Recipe):
            plugins.report_failure(
                plugin_name, "register_recipes", f"registered {recipe!r}, not a boya.recipes.Recipe"
            )
            continue
        found.setdefault(recipe.name, (plugin_name, recipe))
    return found


def get_recipe(name: str) -> Recipe:
    recipes = all_recipes()
    if name not in recipes:
        known = ", ".join(sorted(recipes)) or "none installed"
        raise BoyaError(f"unknown recipe {name!r}; known recipes: {known} (see boya train --list)")
    return recipes[name][1]
