"""The anchor app's entry point: its hub tab and routes, ``boya anchor`` commands, recipe and built-in avatars.

Kept import-light (no torch, no gradio at import) so ``boya plugins`` stays fast.
"""

from boya import hookimpl
from boya.apps import App
from boya.plugins import pm

from . import hookspecs

pm.add_hookspecs(hookspecs)


@hookimpl
def register_apps(register):
    from . import server, ui

    register(
        App(
            name="anchor",
            title="Virtual anchor",
            description="Audio or script → mouth shapes and motion → a real-time avatar",
            build_ui=ui.build_ui,
            routes=server.add_routes,
        )
    )


@hookimpl
def register_commands(cli):
    from .cli import anchor

    cli.add_command(anchor)


@hookimpl
def register_recipes(register):
    from boya.recipes import Recipe

    from .train import DEFAULTS, DESCRIPTION, train

    register(Recipe(name="anchor-visemes", description=DESCRIPTION, train=train, defaults=DEFAULTS))


@hookimpl
def avatars(register):
    from .rig import builtin_rig_paths

    for path in builtin_rig_paths():
        register(path)
