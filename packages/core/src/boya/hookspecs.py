"""The core hook specifications.

Plugins implement these with ``@boya.hookimpl``. Hooks take keyword arguments
only. ``register_*`` hooks receive a ``register`` callback (as in ``llm``) so one
plugin can register several things. Apps add their own specs to the same
manager with ``boya.plugins.pm.add_hookspecs(module)``.

Every hook here has a section in ``docs/plugins.md``; a test fails otherwise.
"""

import pluggy

hookspec = pluggy.HookspecMarker("boya")
hookimpl = pluggy.HookimplMarker("boya")


@hookspec
def register_apps(register):
    """Called when the hub or ``boya serve`` starts, and by ``boya plugins``.

    Call ``register(boya.apps.App(...))`` for each web app the plugin provides:
    a short ``name`` (also its URL and ``api_name`` prefix), a ``title``, a one-line
    ``description``, ``build_ui`` (a function returning a ``gr.Blocks``, called once
    when the hub is built) and optionally ``routes`` (a function receiving the
    hub's FastAPI app to add extra pages or WebSockets to it).
    """


@hookspec
def register_commands(cli):
    """Called once when the ``boya`` CLI starts, with the root ``click.Group``.

    Add commands or groups with ``cli.add_command(...)``; an app adds one group
    named after itself so that its commands appear as ``boya <app> ...``.
    """


@hookspec
def register_models(register):
    """Called when a model is looked up by name (``boya generate``, ``boya optimize``, apps).

    Call ``register(name, loader)`` for each model or model backend the plugin
    provides; ``loader(**options)`` returns the loaded model object.
    """


@hookspec
def register_recipes(register):
    """Called when ``boya train`` resolves a recipe name, and by ``boya train --list``.

    Call ``register(boya.recipes.Recipe(...))`` for each training recipe: a name,
    a one-line description and the function that trains it with the runtime.
    """


@hookspec
def register_tp_plans(register):
    """Called when ``--strategy tp`` (or ``fsdp+tp``) parallelizes a model.

    Call ``register(matches, plan)``: ``matches(model) -> bool`` says whether the
    plan applies, ``plan(model) -> dict`` returns the DTensor parallelize plan
    (module path -> ``ParallelStyle``) for one model family. A plan that changes
    parameter shapes also passes ``export=`` (full state dict -> state dict in the
    model's own layout), used when the trained weights are exported.
    """


@hookspec
def on_train_start(trainer):
    """Called once before the first training step, after model and optimizer are set up (and restored on resume)."""


@hookspec
def on_step_end(trainer, step, metrics):
    """Called after every optimizer step with the 1-based ``step`` and a dict of ``metrics`` (loss, lr, tokens/s...)."""


@hookspec
def on_eval_end(trainer, step, metrics):
    """Called after each evaluation with the step it ran at and its ``metrics`` (e.g. ``eval_loss``)."""


@hookspec
def on_checkpoint_saved(trainer, step, path):
    """Called after a checkpoint has been written completely and atomically renamed to ``path``."""


@hookspec
def on_train_end(trainer, metrics):
    """Called once when training stops (max steps, early stopping or interruption) with the final ``metrics``."""
