"""Section splitting: headings with a colon or a comma, and sentences that merely open with a heading word."""

from boya_medreport import sections
from boya_medreport.extract import prepare


def test_sections_introduced_with_a_comma_are_split():
    labelled = sections.split_sections(
        "Exam: chest x-ray. Findings, there is a small effusion. Impression, small effusion. "
        "Recommendation, follow-up radiograph."
    )
    assert labelled == [
        ("exam", "chest x-ray."),
        ("findings", "there is a small effusion."),
        ("impression", "small effusion."),
        ("recommendation", "follow-up radiograph."),
    ]


def test_dictated_comma_heading_reaches_the_findings():
    prepared = prepare(
        "Exam colon chest x-ray period findings comma no pneumothorax period impression comma normal chest period"
    )
    assert [s for s, _ in prepared["sentences"]] == ["findings", "impression"]
    assert prepared["exam"]["body_part"] == "chest"


def test_a_comma_after_patient_or_exam_words_is_not_a_heading():
    labelled = sections.split_sections(
        "Findings: Study, limited by motion. Report, dictated later. Patient, rotated. No effusion."
    )
    assert [s for s, _ in labelled] == ["findings"] * 4
