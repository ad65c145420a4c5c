from boya import hookimpl
from boya.plugins import pm
from boya_medreport import rules


def _report(body_part="chest", findings=(), laterality=None):
    return {
        "patient": {"name": "Ann Lee", "mrn": "1", "birth_date": "1950-01-01", "sex": "female"},
        "exam": {"modality": "CT", "body_part": body_part, "laterality": laterality, "contrast": None},
        "indication": None,
        "findings": [dict(f) for f in findings],
        "impression": None,
        "critical": False,
        "recommendation": None,
    }


def test_synonyms_resolve_by_body_part_and_sizes_become_largest_mm():
    report = rules.apply(
        _report("knee", [{"observation": "effusion", "present": True, "location": None, "size_mm": None}])
    )
    assert report["findings"][0]["observation"] == "joint effusion"
    report = rules.apply(
        _report(
            "chest",
            [
                {
                    "observation": "effusions",
                    "present": True,
                    "location": "Right Pleural Space",
                    "size_mm": "1.2 x 0.9 cm",
                },
                {"observation": "lung nodule", "present": True, "location": None, "size_mm": "6 by 15 mm"},
            ],
        )
    )
    assert [(f["observation"], f["location"], f["size_mm"]) for f in report["findings"]] == [
        ("pleural effusion", "right pleural space", 12),
        ("pulmonary nodule", None, 15),
    ]


def test_critical_is_derived_and_alerted_even_when_hedged():
    report = rules.apply(
        _report(
            findings=[
                {
                    "observation": "pneumothorax",
                    "present": True,
                    "certainty": "possible",
                    "location": None,
                    "size_mm": None,
                },
                {"observation": "pleural effusion", "present": False, "location": None, "size_mm": None},
            ]
        )
    )
    assert report["critical"] is True
    assert (
        len(report["alerts"]) == 1
        and "pneumothorax" in report["alerts"][0]
        and "possible" in report["alerts"][0]
    )
    report = rules.apply(
        _report(
            findings=[{"observation": "pneumothorax", "present": False, "location": None, "size_mm": None}]
        )
    )
    assert report["critical"] is False and report["alerts"] == []


def test_unknown_observation_is_dropped_with_a_warning_and_duplicates_merge():
    report = rules.apply(
        _report(
            findings=[
                {"observation": "unicorn horn", "present": True, "location": None, "size_mm": None},
                {"observation": "nodule", "present": True, "location": None, "size_mm": None},
                {
                    "observation": "pulmonary nodule",
                    "present": True,
                    "location": "left upper lobe",
                    "size_mm": 8,
                },
            ]
        )
    )
    assert [f["observation"] for f in report["findings"]] == ["pulmonary nodule"]
    assert report["findings"][0]["location"] == "left upper lobe" and report["findings"][0]["size_mm"] == 8
    assert any("unicorn horn" in w for w in report["warnings"])


def test_laterality_and_required_fields_and_negation_scope_are_checked():
    report = _report(
        "lower extremity veins",
        [{"observation": "DVT", "present": True, "location": "right femoral vein", "size_mm": None}],
        laterality="left",
    )
    report["patient"]["mrn"] = None
    report = rules.apply(report)
    assert any("laterality mismatch" in w for w in report["warnings"])
    assert any("patient mrn" in w for w in report["warnings"])
    negated = rules.apply(
        _report(
            findings=[
                {
                    "observation": "pneumothorax",
                    "present": True,
                    "location": None,
                    "size_mm": None,
                    "evidence": "No pneumothorax or effusion.",
                }
            ]
        )
    )
    assert any("negated" in w for w in negated["warnings"])
    assert "evidence" not in negated["findings"][0]


def test_a_plugin_rule_runs_and_a_broken_one_is_named_not_fatal():
    class ExtraRules:
        @hookimpl
        def report_rules(register):
            register(
                "nodule_followup",
                lambda report, ctx: (
                    ctx.warn("nodule: apply Fleischner criteria")
                    if any(f["observation"] == "pulmonary nodule" for f in report["findings"])
                    else None
                ),
            )
            register("broken", lambda report, ctx: 1 / 0)

    pm.register(ExtraRules, name="test-extra-rules")
    try:
        report = rules.apply(
            _report(findings=[{"observation": "nodule", "present": True, "location": None, "size_mm": None}])
        )
    finally:
        pm.unregister(name="test-extra-rules")
    assert "nodule: apply Fleischner criteria" in report["warnings"]
    assert any("rule 'broken' failed" in w for w in report["warnings"])
