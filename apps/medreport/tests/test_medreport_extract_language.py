"""Rules of real radiologists' language the lexicon applies to any phrasing (invented sentences, not real reports)."""

import pytest
from boya_medreport.extract import lexicon


def _read(sentence):
    return {f["observation"]: f["status"] for f in lexicon.mentions(sentence, "chest")}


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # "clear of" said without "of" is still a negation; "clear" elsewhere negates nothing
        ("The lungs are clear consolidation.", {"consolidation": "absent"}),
        ("Lungs remain clear, with a small right pleural effusion.", {"pleural effusion": "present"}),
        # nodular patterns name nodules, and "infiltrates" inside them is not a second finding
        ("Micronodular opacities in both upper lobes.", {"pulmonary nodule": "present"}),
        ("Fibronodular infiltrates in the apices, unchanged from prior.", {"pulmonary nodule": "present"}),
        ("No nodular densities.", {"pulmonary nodule": "absent"}),
        # a rib named before the fracture it shows; a negation between the two is not a fracture
        (
            "Deformity of the right 5th rib, which likely represents a healed fracture.",
            {"rib fracture": "possible"},
        ),
        ("Irregularity of the left 7th rib from an old fracture.", {"rib fracture": "present"}),
        ("The ribs are intact without acute fracture.", {}),
    ],
)
def test_real_language_rules(sentence, expected):
    assert _read(sentence) == expected


@pytest.mark.parametrize(
    "sentence, body_part, expected",
    [
        # a term with "with" inside it does not end the negation's scope, before or after the list
        (
            "No malalignment with dislocation, joint effusion or fracture.",
            "wrist",
            {"dislocation": "absent", "joint effusion": "absent", "fracture": "absent"},
        ),
        (
            "Fracture, malalignment with dislocation, and joint effusion are not identified.",
            "ankle",
            {"fracture": "absent", "dislocation": "absent", "joint effusion": "absent"},
        ),
        # "there is" opens a new clause: the negation before it stays behind
        (
            "Without pleural effusion, there is a nodule in the right middle lobe.",
            "chest",
            {"pleural effusion": "absent", "pulmonary nodule": "present"},
        ),
        ("Pleural effusion: none.", "chest", {"pleural effusion": "absent"}),
        # a hedge after a list covers the whole list
        (
            "Opacities from atelectasis, infiltrate, pulmonary edema difficult to entirely exclude.",
            "chest",
            {"atelectasis": "possible", "consolidation": "possible", "pulmonary edema": "possible"},
        ),
        ("The heart is not enlarged.", "chest", {"cardiomegaly": "absent"}),
        # a question names no finding
        ("Evaluate for fracture.", "wrist", {}),
    ],
)
def test_negation_scope(sentence, body_part, expected):
    assert {f["observation"]: f["status"] for f in lexicon.mentions(sentence, body_part)} == expected


def _placed(sentence, body_part, model=()):
    return {
        f["observation"]: (f["location"], f["size"]) for f in lexicon.merge(list(model), sentence, body_part)
    }


def test_each_finding_gets_the_location_and_size_said_of_it():
    assert _placed(
        "Hydronephrosis; nonobstructing stone in the left kidney sized 4.3 x 1.8 cm; lymphadenopathy of the hilum.",
        "abdomen and pelvis",
    ) == {
        "hydronephrosis": (None, None),
        "kidney stone": ("left kidney", "4.3 x 1.8 cm"),
        "lymphadenopathy": ("hilum", None),
    }
    assert _placed("In the left upper lobe, there is a 9 mm nodule.", "chest") == {
        "pulmonary nodule": ("left upper lobe", "9 mm")
    }


def test_model_locations_the_sentence_does_not_say_are_replaced_or_dropped():
    wrong = [
        {
            "observation": "pulmonary nodule",
            "status": "present",
            "location": "left lower lobe",
            "size": "5 mm",
        }
    ]
    assert _placed("A 1.2 x 0.9 cm nodule in the left upper lobe.", "chest", wrong) == {
        "pulmonary nodule": ("left upper lobe", "1.2 x 0.9 cm")
    }
    negated = [{"observation": "gallstones", "status": "absent", "location": "small bowel", "size": None}]
    assert _placed(
        "Without gallstones, there is a mechanical obstruction in the small bowel.",
        "abdomen and pelvis",
        negated,
    ) == {"gallstones": (None, None), "bowel obstruction": ("small bowel", None)}
    # words of the finding's own name are not its location
    assert _placed("There is a liver lesion.", "abdomen") == {"liver lesion": (None, None)}
