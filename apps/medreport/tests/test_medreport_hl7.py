import hl7 as python_hl7
import pytest
from boya.errors import BoyaError
from boya_medreport import fhir, hl7


def sample_report(**changes):
    report = {
        "patient": {
            "name": "Mary Ann Van Dijk",
            "mrn": "00412345",
            "birth_date": "1961-09-26",
            "sex": "female",
        },
        "exam": {"modality": "CT", "body_part": "chest", "laterality": None, "contrast": True},
        "indication": "chest pain | rule out PE ^ & ~ \\ with\x07bell\nand newline",
        "findings": [
            {
                "observation": "pneumothorax",
                "present": True,
                "location": "right pleural space",
                "size_mm": None,
            },
            {
                "observation": "pulmonary nodule",
                "present": True,
                "location": "left upper lobe",
                "size_mm": 12,
            },
            {"observation": "pleural effusion", "present": False, "location": None, "size_mm": None},
        ],
        "impression": "Pneumothorax; 12 mm nodule.",
        "critical": True,
        "recommendation": "follow-up CT in 3 months",
    }
    report.update(changes)
    return report


def test_oru_is_valid_three_ways_and_round_trips():
    er7 = hl7.build_oru(sample_report(), "BMR00000001V001")
    assert hl7.validate(er7) == []
    back = hl7.read_oru(er7)
    assert back["patient"] == {
        "mrn": "00412345",
        "name": "Mary Ann Van Dijk",
        "birth_date": "1961-09-26",
        "sex": "female",
    }
    assert [
        (f["observation"], f["present"], f["location"], f["size_mm"], f["abnormal_flag"])
        for f in back["findings"]
    ] == [
        ("pneumothorax", True, "right pleural space", None, "AA"),
        ("pulmonary nodule", True, "left upper lobe", 12.0, "A"),
        ("pleural effusion", False, None, None, "N"),
    ]
    assert back["narrative"]["indication"] == "chest pain | rule out PE ^ & ~ \\ with bell and newline"
    parsed = python_hl7.parse(er7)
    assert str(parsed.segment("PID")(3)(1)(1)) == "00412345"
    size = [s for s in parsed.segments("OBX") if str(s(3)(1)(1)) == "SIZE"][0]
    assert str(size(6)(1)(1)) == "mm" and str(size(6)(1)(3)) == "UCUM"


def test_free_text_cannot_break_the_message_structure():
    er7 = hl7.build_oru(sample_report(impression="a|b\rMSH|^~\\&|EVIL"), "X1")
    assert [s[0] for s in hl7.segments(er7)].count("MSH") == 1
    assert hl7.validate(er7) == []


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (
            lambda s: s.replace("|SIZE^Largest dimension^L|2|12|", "|SIZE^Largest dimension^L|2|twelve|"),
            "is not a number",
        ),
        (lambda s: s.replace("^HL70136|||AA|||F|", "^HL70136|||AA|||Q|"), "table 0085"),
        (lambda s: s.replace("^HL70136|||AA|", "^HL70136|||ZZ|"), "table 0078"),
        (lambda s: s.replace("|CE|PNEUMOTHORAX", "|XX|PNEUMOTHORAX"), "table 0125"),
        (lambda s: s.replace("00412345^^^RADIOLOGY^MR", ""), "PID-3 is empty"),
    ],
)
def test_own_checks_catch_what_hl7apy_misses(mutate, expected):
    er7 = hl7.build_oru(sample_report(), "X2")
    assert any(expected in p for p in hl7.validate(mutate(er7)))


def test_obx_before_obr_is_caught():
    segs = hl7.build_oru(sample_report(), "X3").split("\r")
    obr = next(i for i, s in enumerate(segs) if s.startswith("OBR"))
    moved = segs[:obr] + [segs[obr + 1], segs[obr]] + segs[obr + 2 :]
    assert any("segment order" in p for p in hl7.validate("\r".join(moved)))


def test_missing_identity_is_a_user_error():
    with pytest.raises(BoyaError, match="name and MRN"):
        hl7.build_oru(
            sample_report(patient={"name": None, "mrn": None, "birth_date": None, "sex": None}), "X4"
        )


def test_fhir_bundle_validates_and_carries_findings():
    bundle = fhir.read_bundle(fhir.build_bundle(sample_report(), identifier="X5"))
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Observation", "Observation", "Observation", "DiagnosticReport"]
    nodule = bundle["entry"][2]["resource"]
    assert (
        nodule["component"][0]["valueQuantity"]["value"] == 12
        and nodule["bodySite"]["text"] == "left upper lobe"
    )
    assert bundle["entry"][1]["resource"]["interpretation"][0]["coding"][0]["code"] == "AA"
    assert fhir.check_bindings(
        {"entry": [{"resource": {"resourceType": "DiagnosticReport", "status": "done"}}]}
    )
