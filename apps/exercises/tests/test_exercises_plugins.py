"""The app's own hook: a plugin adds a generator for another standard, which becomes servable and verified."""

from boya import hookimpl
from boya.plugins import pm
from boya_exercises.exercise import generate
from boya_exercises.generators import KPSpec, Problem, all_specs
from boya_exercises.graph import kg_json, load_graph, servable_graph
from boya_exercises.verify import verify


def _within_five(rng, difficulty):
    a = rng.randint(0, 4)
    b = rng.randint(0, 5 - a)
    return Problem(
        f"Compute {a} + {b}.",
        a + b,
        "integer",
        f"{a} and {b} more make {a + b}.",
        (("off by one", a + b + 1),),
    )


class KindergartenPlugin:
    @hookimpl
    def register_kp_generators(self, register):
        register(KPSpec("K.OA.A.5", "whole-number arithmetic", "Add within 5", "5以内加法", _within_five))


def _clear():
    for cached in (all_specs, load_graph, servable_graph):
        cached.cache_clear()


def test_plugin_generator_is_served_and_verified():
    plugin = KindergartenPlugin()
    pm.register(plugin, name="test-kindergarten")
    _clear()
    try:
        assert "K.OA.A.5" in all_specs()
        assert next(n for n in kg_json()["nodes"] if n["id"] == "K.OA.A.5")["servable"]
        for exercise_type in ("short_answer", "true_false", "multiple_choice"):
            exercise = generate("K.OA.A.5", exercise_type, 1, seed=4)
            assert verify(exercise).ok
    finally:
        pm.unregister(plugin)
        _clear()
    assert "K.OA.A.5" not in all_specs()
