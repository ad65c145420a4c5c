"""Fuzzing extraction (hypothesis): arbitrary dictation lines never crash ``boya medreport extract``.

Each line gets a structured report or a one-line ``{"error": ...}`` in its place, in order. Lines
mix dictation vocabulary (section cues, record numbers, sizes, negations) with arbitrary unicode,
delimiters and control characters, so they reach the header patterns, the section splitter, the
normaliser and the model, not only the input check.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from boya.errors import BoyaError
from hypothesis import given, settings
from hypothesis import strategies as st
from support import boya_env

pytest.importorskip("boya_medreport")
pytestmark = pytest.mark.slow

CUES = [
    "Patient name",
    "MRN",
    "medical record number",
    "date of birth",
    "born",
    "female",
    "male",
    "CT",
    "MRI",
    "X-ray",
    "of the chest",
    "head",
    "with contrast",
    "without contrast",
    "Indication:",
    "Findings:",
    "Impression:",
    "Recommendation:",
    "no",
    "there is",
    "possible",
    "mm",
    "cm",
    "twelve",
    "six four four",
    "June fourth nineteen fifty nine",
    "pneumothorax",
    "nodule",
    "in the right upper lobe",
    "period",
    "new paragraph",
    "comma",
    ".",
    ",",
    "|",
    "^",
    "~",
    "\\",
    "&",
    "\x00",
    "\t",
    "天",
    "😀",
    "0",
    "9999999999",
    "-",
    "'",
]
token = st.one_of(st.sampled_from(CUES), st.text(min_size=1, max_size=12))
dictation_line = st.one_of(st.lists(token, min_size=1, max_size=25).map(" ".join), st.text(max_size=200))
REPORT_KEYS = {"patient", "exam", "indication", "findings", "impression", "critical", "recommendation"}


def check(outcome) -> None:
    if "error" in outcome:
        assert isinstance(outcome["error"], str) and "\n" not in outcome["error"]
        return
    assert REPORT_KEYS <= outcome.keys()
    assert isinstance(outcome["findings"], list) and isinstance(outcome["critical"], bool)
    json.dumps(outcome)


@pytest.fixture(scope="module")
def extractor():
    from boya_medreport.extract.model import embedded

    return embedded()


@settings(max_examples=6, deadline=None)
@given(batch=st.lists(dictation_line, min_size=1, max_size=6))
def test_any_dictation_gives_a_report_or_a_clear_error(extractor, batch):
    from boya_medreport.extract import clean, extract_many

    for line in batch:
        try:
            clean(line)
        except BoyaError as error:
            check({"error": str(error)})
            continue
        (report,) = extract_many([line], extractor)
        check(report)


@settings(max_examples=1, deadline=None)
@given(batch=st.lists(dictation_line, min_size=15, max_size=25))
def test_extract_command_answers_every_line_in_order(tmp_path_factory, batch):
    source = tmp_path_factory.mktemp("extract") / "dictations.txt"
    source.write_text(
        "\n".join(batch) + "\nPatient name Ann Lee, MRN 1234567. CT head. Findings: no hemorrhage.\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("boya")), "medreport", "extract", str(source)],
        capture_output=True,
        text=True,
        env=boya_env(),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    outcomes = [json.loads(line) for line in result.stdout.split("\n") if line]
    assert len(outcomes) == len(lines)
    for outcome in outcomes:
        check(outcome)
    assert outcomes[-1]["patient"]["mrn"] == "1234567"
