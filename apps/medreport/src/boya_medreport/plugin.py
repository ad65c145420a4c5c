"""The medreport app's entry point: its hub tab, ``boya medreport`` commands, training recipe,
report rules and ASR backends, all through hooks (the app uses its own hook specs for its defaults).

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
            name="medreport",
            title="Medical reports",
            description="Dictation audio → transcript → structured findings → HL7 v2 report, delivered over MLLP",
            build_ui=ui.build_ui,
        )
    )


@hookimpl
def register_commands(cli):
    from .cli import medreport

    cli.add_command(medreport)


@hookimpl
def register_recipes(register):
    from boya.recipes import Recipe

    from .asr import adapt
    from .extract import recipe

    register(
        Recipe(
            name=recipe.RECIPE,
            description="Dictation sentence -> structured findings: small T5 on generated dictations",
            train=recipe.train,
            defaults=recipe.DEFAULTS,
        )
    )
    register(
        Recipe(
            name=adapt.RECIPE,
            description="Whisper tiny.en decoder LoRA for spoken dictation, on synthetic multi-voice speech",
            train=adapt.train,
            defaults=adapt.DEFAULTS,
        )
    )


@hookimpl
def report_rules(register):
    from .rules import BUILTIN_RULES

    for name, rule in BUILTIN_RULES:
        register(name, rule)


@hookimpl
def asr_backends(register):
    from .asr import register_builtin_backends

    register_builtin_backends(register)
