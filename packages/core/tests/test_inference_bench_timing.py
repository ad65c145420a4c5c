"""How ``boya bench infer`` schedules and pairs its timings (call order and arithmetic, not speed)."""

import pytest
from boya.runtime.inference.benchmark import SPARSE_ROUNDS, cpu_times, paired_ratio


def test_rounds_rotate_the_order_and_skip_the_untimed_first_call():
    calls = []
    samples = cpu_times({name: (lambda n=name: calls.append(n)) for name in "abc"}, rounds=3)
    assert calls[:3] == ["a", "b", "c"]  # the untimed warm-up / compile call
    assert calls[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert {name: len(times) for name, times in samples.items()} == {"a": 3, "b": 3, "c": 3}


def test_a_sparse_variant_is_timed_in_the_first_rounds_only():
    calls = []
    samples = cpu_times({name: (lambda n=name: calls.append(n)) for name in "ab"}, rounds=6, sparse={"b"})
    assert len(samples["a"]) == 6 and len(samples["b"]) == SPARSE_ROUNDS < 6
    assert calls.count("b") == 1 + SPARSE_ROUNDS  # the untimed first call, then the timed ones


def test_paired_ratio_is_the_median_of_window_ratios():
    samples = {
        "fp32": [2.0, 2.0, 9.0, 3.0, 3.0, 3.0, 4.0, 4.0],
        "int8": [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0],
    }
    # windows [0:3], [3:6]; the last 2 rounds are dropped
    ratio = paired_ratio(samples, "fp32", "int8", window=3)
    assert ratio == {"median": pytest.approx(1.75), "min": 1.5, "max": 2.0, "windows": 2}
    assert paired_ratio({"a": [4.0, 6.0], "b": [2.0, 2.0, 2.0]}, "a", "b", window=5)["median"] == 2.5
