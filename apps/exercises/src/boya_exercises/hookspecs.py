"""The exercises app's own hook: plugins add exercise generators for more knowledge points."""

from boya.hookspecs import hookspec


@hookspec
def register_kp_generators(register):
    """Called when the app first lists its servable knowledge points.

    Call ``register(boya_exercises.generators.KPSpec(...))`` for each CCSSM standard the plugin can generate
    exercises for: its code (a node of the graph), family, English and Chinese titles, and
    ``make(rng, difficulty) -> Problem``. The stems it writes must be readable by ``boya_exercises.verify``
    (exercises that do not verify are never served). A code the app already serves keeps the app's generator.
    """
