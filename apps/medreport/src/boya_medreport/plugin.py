"""The medreport app's entry point: registers its hub tab and its ``boya medreport`` commands.

Kept import-light (no torch, no gradio at import) so ``boya plugins`` stays fast.
"""

from boya import hookimpl
from boya.apps import App


@hookimpl
def register_apps(register):
    from . import ui

    register(App(name="medreport", title="Medical reports", description="Dictation audio → transcript → structured findings → HL7 v2 report, delivered over MLLP", build_ui=ui.build_ui))


@hookimpl
def register_commands(cli):
    from .cli import medreport

    cli.add_command(medreport)
