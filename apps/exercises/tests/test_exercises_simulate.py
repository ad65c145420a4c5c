"""The simulation harness: common random numbers, and the engine's policy hitting the success band."""

from boya_exercises import simulate


def test_same_seed_same_result():
    a = simulate.run("random", students=5, items=6, seed=3)
    b = simulate.run("random", students=5, items=6, seed=3)
    a.pop("ms_per_decision"), b.pop("ms_per_decision")
    assert a == b


def test_engine_targets_the_band_better_than_random():
    engine = simulate.run("engine", students=40, items=20, seed=0)
    random = simulate.run("random", students=40, items=20, seed=0)
    assert engine["band_share"] > random["band_share"]
    assert 0.6 <= engine["success"] <= 0.85
