"""The exercises app's entry point: registers its hub tab and its ``boya exercises`` commands.

Kept import-light (no torch, no gradio at import) so ``boya plugins`` stays fast.
"""

from boya import hookimpl
from boya.apps import App


@hookimpl
def register_apps(register):
    from . import ui

    register(App(name="exercises", title="Exercises", description="Knowledge graph → verified exercises → adaptive difficulty per student", build_ui=ui.build_ui))


@hookimpl
def register_commands(cli):
    from .cli import exercises

    cli.add_command(exercises)
