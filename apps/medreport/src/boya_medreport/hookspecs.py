"""Hook specifications of the medreport app (added to ``boya.plugins.pm`` by the app's plugin).

Both are ``register_*``-style: the hook receives a ``register`` callback, so one plugin
can contribute several rules or backends. The app's own rules and ASR backends are
registered through these same hooks.
"""

from boya.hookspecs import hookspec


@hookspec
def report_rules(register):
    """Called each time a report goes through the rules engine (extraction, edits in the UI, ``report``).

    Call ``register(name, rule)`` for each rule. ``rule(report, context)`` receives the
    structured report (a dict per medreport.schema.json, which it may change in place)
    and a :class:`boya_medreport.rules.RuleContext` (vocabulary lookups, ``warn(message)``,
    ``alert(message)``); it returns nothing. Rules run in registration order, the app's
    own first.
    """


@hookspec
def asr_backends(register):
    """Called when a speech recogniser is looked up by name (``transcribe --asr NAME``, the UI, ``bench``).

    Call ``register(name, load)`` for each backend; ``load(model=None)`` returns an object
    with ``transcribe(samples, prompt) -> str`` (16 kHz mono float32 samples in, text out).
    """
