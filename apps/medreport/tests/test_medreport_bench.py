"""``boya medreport bench`` reports what it measured and says why the rest is missing (never estimated)."""

import json

import torch
from boya.cli import cli
from boya.plugins import call_each
from click.testing import CliRunner

call_each("register_commands", cli=cli)


def test_bench_without_audio_reports_text_figures_and_nulls_the_audio_ones():
    threads = torch.get_num_threads()
    try:
        result = CliRunner().invoke(cli, ["medreport", "bench", "--json", "--dictations", "2", "--no-audio"])
    finally:
        torch.set_num_threads(threads)  # the bench pins one thread
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["text_seconds_per_dictation"] > 0 and figures["threads"] == 1
    for key in ("load_seconds", "seconds_per_30s_dictation", "wer_by_voice", "audio_micro_f1"):
        assert figures[key] is None
    assert figures["notes"] == ["audio path not measured (--no-audio)"]


def test_bench_with_unseen_names_says_so():
    threads = torch.get_num_threads()
    try:
        result = CliRunner().invoke(
            cli, ["medreport", "bench", "--json", "--dictations", "2", "--no-audio", "--unseen-names"]
        )
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["patient_names"] == "unseen"


def test_bench_measures_another_asr_backend_and_refuses_unknown_ones():
    import pytest

    pytest.importorskip("pocketsphinx")
    threads = torch.get_num_threads()
    try:
        result = CliRunner().invoke(
            cli, ["medreport", "bench", "--json", "--dictations", "1", "--asr", "sphinx"]
        )
        unknown = CliRunner().invoke(cli, ["medreport", "bench", "--dictations", "1", "--asr", "nope"])
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["asr_backend"] == "sphinx" and figures["notes"] == []
    assert len(figures["wer_by_voice"]) == 5 and 0 <= figures["audio_micro_f1"] <= 1
    # Whisper-only figures left out
    assert figures["seconds_per_30s_dictation"] > 0 and "asr_beam_size" not in figures
    assert unknown.exit_code == 2 and "unknown ASR backend 'nope'" in unknown.output
