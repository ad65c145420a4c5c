"""The lexicon's rules of radiology language, and the evidence gate on model findings (invented sentences)."""

import pytest
from boya_medreport.extract import extract, lexicon


def _read(sentence):
    return {f["observation"]: f["status"] for f in lexicon.mentions(sentence, "chest")}


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # one negation over a list
        (
            "No pneumothorax, pleural effusion or focal consolidation.",
            {"pneumothorax": "absent", "pleural effusion": "absent", "consolidation": "absent"},
        ),
        (
            "Negative for effusion and/or pneumothorax.",
            {"pleural effusion": "absent", "pneumothorax": "absent"},
        ),
        # hedges, before and after the term
        ("Patchy basilar opacity that may represent atelectasis.", {"atelectasis": "possible"}),
        ("Suspected right lower lobe pneumonia.", {"consolidation": "possible"}),
        ("A tiny apical pneumothorax cannot be entirely excluded.", {"pneumothorax": "possible"}),
        ("Cannot exclude a small left apical pneumothorax.", {"pneumothorax": "possible"}),
        ("Basilar atelectasis and/or infiltrate.", {"atelectasis": "possible", "consolidation": "possible"}),
        # a prefix hedge after a term qualifies the next term only
        (
            "Moderate left pleural effusion and probable adjacent atelectasis.",
            {"pleural effusion": "present", "atelectasis": "possible"},
        ),
        # pseudo-negation
        ("No change in the small right pleural effusion.", {"pleural effusion": "present"}),
        ("No longer increasing pulmonary edema.", {"pulmonary edema": "present"}),
        # as Whisper hears it
        (
            "No longer increase in subtle interstitial pulmonary edema.",
            {"pulmonary edema": "present"},
        ),
        # implicit normals are not cardiomegaly; a stated enlargement is
        ("The heart size remains borderline, at the upper limit of normal.", {}),
        ("Normal heart size and pulmonary vascularity.", {}),
        ("The cardiac silhouette is moderately enlarged.", {"cardiomegaly": "present"}),
        # redactions do not break negation scope
        ("No XXXX pneumothorax.", {"pneumothorax": "absent"}),
    ],
)
def test_rules_of_radiology_language(sentence, expected):
    assert _read(sentence) == expected


class _Inventing:
    """A model that reads every sentence as a pleural effusion plus a nodule (what a template-bound model does on new text)."""

    def run(self, inputs):
        return ["pleural effusion = present @ left pleural space | pulmonary nodule = absent"] * len(inputs)


def test_model_findings_without_evidence_in_the_sentence_are_dropped():
    report = extract(
        "Exam: chest x-ray. Findings: The lungs and XXXX are unremarkable in appearance.", _Inventing()
    )
    assert report["findings"] == []


def test_model_keeps_its_location_but_the_lexicon_decides_negation():
    report = extract("Exam: chest x-ray. Findings: There is no left pleural effusion.", _Inventing())
    assert [(f["observation"], f["present"], f["location"]) for f in report["findings"]] == [
        ("pleural effusion", False, "left pleural space")
    ]


def test_plural_spellings_match_their_singular():
    # "dilated ventricles" is the spelling; Whisper often drops the plural ("dilated ventricle sp")
    assert lexicon.mentions("No sign of dilated ventricle.", "head") == [
        {"observation": "hydrocephalus", "status": "absent", "location": None, "size": None}
    ]
