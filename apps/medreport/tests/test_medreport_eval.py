from boya_medreport.eval import score, score_present


def _r(findings, **patient):
    return {
        "patient": {"name": "A B", "mrn": "1", "birth_date": None, "sex": "male", **patient},
        "exam": {"modality": "CT", "body_part": "chest", "laterality": None, "contrast": None},
        "critical": False,
        "findings": findings,
    }


def test_micro_f1_counts_scalars_findings_and_attributes():
    gold = _r(
        [{"observation": "pulmonary nodule", "present": True, "location": "left upper lobe", "size_mm": 12}]
    )
    assert score([gold], [gold])["micro_f1"] == 1.0
    pred = _r(
        [
            {"observation": "pulmonary nodule", "present": True, "location": None, "size_mm": 12.4},
            {"observation": "pneumothorax", "present": False, "location": None, "size_mm": None},
        ],
        name="a  b",
    )
    result = score([gold], [pred])
    # gold: 9 scalars + 1 finding + location + size = 12; pred: 9 + 2 findings + size = 12; tp: 9 + 1 + size = 11
    assert result["precision"] == round(11 / 12, 4) and result["recall"] == round(11 / 12, 4)
    assert result["findings_f1"] == round(2 * 0.5 * 1 / 1.5, 4)


def test_present_f1_ignores_negated_findings():
    preds = [
        {
            "findings": [
                {"observation": "cardiomegaly", "present": True},
                {"observation": "pneumothorax", "present": False},
            ]
        },
        {"findings": []},
    ]
    result = score_present([{"cardiomegaly"}, set()], preds)
    assert result["present_f1"] == 1.0 and result["clean_normals"] == 1.0
