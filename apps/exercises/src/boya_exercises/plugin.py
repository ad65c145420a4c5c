"""The exercises app's entry point: registers its hub tab, its ``boya exercises`` commands and its training recipes.

Kept import-light (no torch, no gradio at import) so ``boya plugins`` stays fast.
"""

from boya import hookimpl
from boya.apps import App
from boya.plugins import pm

from . import hookspecs

pm.add_hookspecs(hookspecs)


@hookimpl
def register_apps(register):
    from . import ui

    register(
        App(
            name="exercises",
            title="Exercises",
            description="Knowledge graph → verified exercises → adaptive difficulty per student",
            build_ui=ui.build_ui,
        )
    )


@hookimpl
def register_commands(cli):
    from .cli import exercises

    cli.add_command(exercises)


@hookimpl
def register_recipes(register):
    from boya.recipes import Recipe

    from . import recipes

    register(
        Recipe(
            name="exercises-gpt2",
            description="GPT-2 wording model for word problems, trained on the app's templated corpus",
            train=recipes.train_wording_gpt2,
            defaults=recipes.GPT2_DEFAULTS,
        )
    )
    register(
        Recipe(
            name="exercises-kt",
            description="Knowledge-tracing GRU on ASSISTments-format logs (--data TRAIN.csv)",
            train=recipes.train_kt,
            defaults=recipes.KT_DEFAULTS,
        )
    )
    register(
        Recipe(
            name="exercises-gnn",
            description="Graph network predicting success on unpractised KPs (simulated logs) vs an IRT baseline",
            train=recipes.train_gnn,
            defaults=recipes.GNN_DEFAULTS,
        )
    )
