"""Fuzzing HL7 building (hypothesis): arbitrary dictated text (delimiters |^~\\&, unicode, control characters)
in any free-text field always gives a message that validates and reads back to the same text.

Control characters cannot travel in HL7 v2 text; the builder turns them into spaces, so the round
trip compares with that substitution (and, for names, with whitespace collapsed, since a name is
split into family and given names on whitespace).
"""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

hl7 = pytest.importorskip("boya_medreport.hl7")

DELIMITERS = "|^~\\&"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ESCAPE_SEQUENCE = re.compile(r"\\[EFSTR]\\")
text = st.text(
    alphabet=st.one_of(st.sampled_from(DELIMITERS + "\r\n\t\x0b\x1c\x00 "), st.characters(codec="utf-8")),
    min_size=1,
    max_size=120,
).filter(lambda s: CONTROL.sub(" ", s).strip())
name_text = st.text(
    alphabet=st.one_of(st.sampled_from(DELIMITERS + "\r\n\x0b "), st.characters(codec="utf-8")),
    min_size=1,
    max_size=48,
).filter(lambda s: CONTROL.sub(" ", s).strip())
VOCABULARY_FINDINGS = ["pneumothorax", "pulmonary nodule", "pleural effusion"]


def report_with(name="Mary Ann Van Dijk", location="left upper lobe") -> dict:
    return {
        "patient": {"name": name, "mrn": "00412345", "birth_date": "1961-09-26", "sex": "female"},
        "exam": {"modality": "CT", "body_part": "chest", "laterality": "left", "contrast": True},
        "indication": None,
        "impression": "Nodule.",
        "recommendation": None,
        "critical": False,
        "findings": [
            {"observation": "pulmonary nodule", "present": True, "location": location, "size_mm": 12}
        ],
    }


def as_sent(value: str) -> str:
    return CONTROL.sub(" ", value)


def words(value: str) -> str:
    return " ".join(as_sent(value).split())


@settings(max_examples=60, deadline=None)
@given(
    name=name_text,
    mrn=text.filter(lambda s: len(s) <= 20),
    indication=text,
    impression=text,
    recommendation=text,
    location=text,
    observation=st.sampled_from(VOCABULARY_FINDINGS),
    size=st.one_of(st.none(), st.floats(0.1, 500)),
)
def test_arbitrary_text_builds_a_valid_message_that_round_trips(
    name, mrn, indication, impression, recommendation, location, observation, size
):
    report = {
        "patient": {"name": name, "mrn": mrn, "birth_date": "1961-09-26", "sex": "female"},
        "exam": {"modality": "CT", "body_part": "chest", "laterality": "left", "contrast": True},
        "indication": indication,
        "impression": impression,
        "recommendation": recommendation,
        "critical": False,
        "findings": [{"observation": observation, "present": True, "location": location, "size_mm": size}],
    }
    er7 = hl7.build_oru(report, "FUZZ0001")
    assert hl7.validate(er7) == []
    # no stray control character; \r separates segments only
    assert not re.search(r"[\x00-\x0c\x0e-\x1f\x7f]", er7)
    back = hl7.read_oru(er7)
    assert back["control_id"] == "FUZZ0001"
    assert back["patient"]["mrn"] == as_sent(mrn)
    assert words(back["patient"]["name"]) == words(name)
    assert back["narrative"] == {
        "indication": as_sent(indication),
        "impression": as_sent(impression),
        "recommendation": as_sent(recommendation),
    }
    (finding,) = back["findings"]
    assert finding["observation"] == observation and finding["location"] == as_sent(location)
    assert finding["size_mm"] == (None if size is None else float(f"{size:g}"))


@settings(max_examples=200, deadline=None)
@given(value=text)
@example(value="^E\\")
def test_escape_round_trips(value):
    escaped = hl7.escape(value)
    # escape sequences read left to right, as a parser reads them: \S\E\E\ is "^", "E", "\";
    # removing every \E\ first would take the end of \S\ with the start of E\ (hypothesis found it)
    assert not any(d in ESCAPE_SEQUENCE.sub("", escaped) for d in DELIMITERS)
    assert hl7.unescape(escaped) == as_sent(value)


def test_one_word_name_reads_back_and_is_acknowledged(tmp_path):
    from boya_medreport import mllp

    er7 = hl7.build_oru(report_with(name="Cher"), "FUZZ0002")
    assert hl7.validate(er7) == []
    assert hl7.read_oru(er7)["patient"]["name"] == "Cher"
    assert "MSA|AA|FUZZ0002" in mllp.Receiver(tmp_path).handle_message(er7)


def test_location_without_ascii_gets_a_stable_local_code():
    er7 = hl7.build_oru(report_with(location="左上叶"), "FUZZ0003")
    assert hl7.validate(er7) == []
    assert hl7.read_oru(er7)["findings"][0]["location"] == "左上叶"
    (site,) = [seg for seg in hl7.segments(er7) if seg[0] == "OBX" and seg[3].startswith("SITE^")]
    code = site[5].split("^")[0]
    assert re.fullmatch(r"X[0-9A-F]{8}", code)
    assert code in hl7.build_oru(report_with(location="左上叶"), "FUZZ0004")  # the same place, the same code
    assert code not in hl7.build_oru(report_with(location="右下叶"), "FUZZ0005")
