"""The ``boya exercises`` commands: JSON outputs, worksheets, simulation bars, and one-line errors with status 2."""

import json

import pytest
from boya.cli import cli
from boya.plugins import call_each
from boya_exercises.verify import verify
from click.testing import CliRunner


@pytest.fixture(scope="module")
def run():
    if "exercises" not in cli.commands:
        call_each("register_commands", cli=cli)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, ["exercises", *args], catch_exceptions=False)

    return invoke


def test_kg_json(run):
    result = run("kg", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert len(data["nodes"]) == 471 and sum(n["servable"] for n in data["nodes"]) >= 30


def test_generate_json_lines_verify(run):
    result = run(
        "generate",
        "--kp",
        "HSA.SSE.B.3.a",
        "--type",
        "multiple_choice",
        "--difficulty",
        "4",
        "-n",
        "3",
        "--json",
        "--seed",
        "1",
    )
    assert result.exit_code == 0
    exercises = [json.loads(line) for line in result.output.splitlines()]
    assert len(exercises) == 3 and all(verify(e).ok for e in exercises)


@pytest.mark.parametrize(
    "args",
    [
        ("generate", "--kp", "NOPE"),
        ("generate", "--kp", "K.CC.A.1"),
        ("generate", "--kp", "6.EE.A.3", "--type", "essay"),
        ("generate", "--kp", "6.EE.A.3", "--difficulty", "9"),
        ("worksheet", "--kp", "6.EE.A.3", "-o", "/no/such/dir/x.md"),
        ("kt-eval", "--train", "/no/such/file", "--test", "/no/such/file"),
    ],
)
def test_bad_input_exits_2_with_one_line(run, args):
    result = CliRunner().invoke(cli, ["exercises", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_worksheet_markdown_and_pdf(run, tmp_path):
    result = run("worksheet", "--kp", "5.NF.A.1", "-n", "6", "-o", str(tmp_path / "sheet"))
    assert result.exit_code == 0
    markdown = (tmp_path / "sheet.md").read_text()
    assert "## Answer key" in markdown and markdown.count("\n1. ") == 1 and "**6.**" in markdown
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")


def test_simulate_json_has_every_policy_and_the_bars(run):
    result = run("simulate", "--students", "6", "--items", "8", "--json")
    report = json.loads(result.output)
    assert set(report["policies"]) == {"engine", "random", "staircase", "maxinfo"}
    assert {"band_vs_random", "band_minus_staircase", "completion_minus_staircase"} <= set(report["bars"])
    for row in report["policies"].values():
        assert 0 <= row["band_share"] <= 1 and 0 <= row["completion"] <= 1
