"""The anchor app's entry point: registers its hub tab and its ``boya anchor`` commands.

Kept import-light (no torch, no gradio at import) so ``boya plugins`` stays fast.
"""

from boya import hookimpl
from boya.apps import App


@hookimpl
def register_apps(register):
    from . import ui

    register(App(name="anchor", title="Virtual anchor", description="Audio or script → mouth shapes and motion → a real-time avatar", build_ui=ui.build_ui))


@hookimpl
def register_commands(cli):
    from .cli import anchor

    cli.add_command(anchor)
