"""The generator's gold reports state only what the dictation says."""

import random

from boya_medreport import dictations
from boya_medreport.extract import prepare


def test_gold_sizes_are_said_in_the_dictation():
    rng = random.Random(5)
    for _ in range(200):
        row = dictations.dictation(rng, "heldout", spoken=False)
        for finding in row["report"]["findings"]:
            if finding["size_mm"] is not None:
                assert (
                    f"{finding['size_mm']:g}" in row["dictation"]
                    or f"{finding['size_mm'] / 10:g}" in row["dictation"]
                ), row


def test_patient_headings_keep_their_cue_for_the_header_patterns():
    text = "Patient name: Noah Okafor. MRN: 2275730528. Date of birth: 16-Jun-1962. Sex: female. Exam: CT of the head. Findings: No hemorrhage."
    assert prepare(text)["patient"] == {
        "name": "Noah Okafor",
        "mrn": "2275730528",
        "birth_date": "1962-06-16",
        "sex": "female",
    }


def test_abbreviated_names_are_dictated_in_full():
    # "St. Clair" is said "Saint Clair": "St period Clair" would end a sentence in the middle of a name
    spoken = dictations.speak(random.Random(0), "This is Emeka St. Clair, female.")
    assert spoken == "This is Emeka Saint Clair comma female period"
    assert prepare(spoken)["patient"]["name"] == "Emeka St. Clair"
