"""``boya bench load`` against a running hub: it reports what it measured, and its write check counts real rows."""

import json

import pytest
from boya.default_plugins.load_bench import _percentile
from support import run_boya


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert _percentile(values, 0.50) == 50.0 and _percentile(values, 0.95) == 95.0
    assert _percentile([3.0], 0.95) == 3.0 and _percentile([], 0.5) is None


def test_load_is_a_bench_subcommand():
    result = run_boya("bench", "--help")
    assert result.returncode == 0 and "load" in result.stdout


@pytest.mark.slow
def test_two_users_against_a_running_hub(app_hub):
    result = run_boya("bench", "load", "--users", "2", "--seconds", "4", "--url", app_hub.url, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == 0, report["error_examples"]
    installed = set(report["apps"])
    assert installed and installed <= {"exercises", "medreport", "anchor"}
    assert (
        report["latency"]["all"]["requests"] > 0
        and report["latency"]["all"]["p95_ms"] >= report["latency"]["all"]["p50_ms"]
    )
    if "exercises" in installed:
        writes = report["writes"]
        assert writes["answers_acknowledged"] == writes["attempt_rows_added"] and writes["lost"] == 0
    assert report["bar_met"] is True
