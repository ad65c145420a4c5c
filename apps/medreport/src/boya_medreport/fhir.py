"""Stage 6b: the structured report as a FHIR R5 Bundle (Patient, one Observation per finding, DiagnosticReport).

Built and validated with ``fhir.resources`` (pydantic models, offline). fhir.resources
does not check value-set bindings, so :func:`check_bindings` checks the codes we use.
Findings are coded with the app's local code system (the vocabulary's names); an absent
finding is an Observation whose value is ``N`` (absent) on the HL7 yes/no code system.
"""

import json
import uuid

from boya.errors import BoyaError

LOCAL = "urn:boya:medreport:vocabulary"
YESNO = "http://terminology.hl7.org/CodeSystem/v2-0136"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
STATUSES = {
    "registered",
    "partial",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "appended",
    "cancelled",
    "entered-in-error",
    "unknown",
}
GENDERS = {"female", "male", "other", "unknown"}


def build_bundle(report: dict, *, status: str = "final", identifier: str | None = None) -> str:
    """A transaction Bundle as JSON text, validated by fhir.resources."""
    from fhir.resources.bundle import Bundle

    patient, exam = report.get("patient") or {}, report.get("exam") or {}
    ids = {"patient": str(uuid.uuid4()), "report": str(uuid.uuid4())}
    patient_resource = {
        "resourceType": "Patient",
        "id": ids["patient"],
        "identifier": [
            {
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]
                },
                "value": patient.get("mrn") or "unknown",
            }
        ],
        "gender": patient.get("sex") or "unknown",
    }
    if patient.get("name"):
        words = patient["name"].split()
        patient_resource["name"] = [{"text": patient["name"], "family": words[-1], "given": words[:-1]}]
    if patient.get("birth_date"):
        patient_resource["birthDate"] = patient["birth_date"]
    entries = [patient_resource]
    observation_refs = []
    for finding in report.get("findings") or []:
        obs_id = str(uuid.uuid4())
        observation = {
            "resourceType": "Observation",
            "id": obs_id,
            "status": status,
            "code": {
                "coding": [{"system": LOCAL, "code": finding["observation"]}],
                "text": finding["observation"],
            },
            "subject": {"reference": f"urn:uuid:{ids['patient']}"},
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": YESNO,
                        "code": "Y" if finding["present"] else "N",
                        "display": "present" if finding["present"] else "absent",
                    }
                ]
            },
        }
        if finding["present"]:
            critical = report.get("critical") and _is_critical(finding["observation"])
            observation["interpretation"] = [
                {"coding": [{"system": INTERPRETATION, "code": "AA" if critical else "A"}]}
            ]
        if finding.get("location"):
            observation["bodySite"] = {
                "coding": [{"system": LOCAL, "code": finding["location"]}],
                "text": finding["location"],
            }
        if finding.get("size_mm") is not None:
            observation["component"] = [
                {
                    "code": {"coding": [{"system": LOCAL, "code": "largest-dimension"}]},
                    "valueQuantity": {
                        "value": float(finding["size_mm"]),
                        "unit": "mm",
                        "system": "http://unitsofmeasure.org",
                        "code": "mm",
                    },
                }
            ]
        if finding.get("certainty") == "possible":
            observation["note"] = [{"text": "possible (hedged in the dictation)"}]
        entries.append(observation)
        observation_refs.append({"reference": f"urn:uuid:{obs_id}"})
    exam_text = (
        " ".join(str(v) for v in (exam.get("modality"), exam.get("laterality"), exam.get("body_part")) if v)
        or "imaging study"
    )
    diagnostic = {
        "resourceType": "DiagnosticReport",
        "id": ids["report"],
        "status": status,
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}
        ],
        "code": {"coding": [{"system": LOCAL, "code": exam_text}], "text": exam_text},
        "subject": {"reference": f"urn:uuid:{ids['patient']}"},
        "result": observation_refs,
    }
    if identifier:
        diagnostic["identifier"] = [{"system": "urn:boya:medreport:control-id", "value": identifier}]
    conclusion = "; ".join(
        v
        for v in (
            report.get("impression"),
            report.get("recommendation") and f"Recommendation: {report['recommendation']}",
        )
        if v
    )
    if conclusion:
        diagnostic["conclusion"] = conclusion
    entries.append(diagnostic)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r['id']}",
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
            for r in entries
        ],
    }
    try:
        model = Bundle.model_validate(bundle)
    except Exception as error:  # noqa: BLE001 - pydantic's ValidationError, reworded for the user
        raise BoyaError(
            f"cannot build a valid FHIR bundle from this report: {str(error).splitlines()[0]}"
        ) from None
    problems = check_bindings(bundle)
    if problems:
        raise BoyaError("FHIR bundle violates value sets: " + "; ".join(problems))
    return model.model_dump_json(indent=2)


def _is_critical(observation: str) -> bool:
    from .vocabulary import is_critical

    return is_critical(observation)


def check_bindings(bundle: dict) -> list[str]:
    """The required bindings fhir.resources does not enforce: statuses and gender."""
    problems = []
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        if (
            resource["resourceType"] in ("Observation", "DiagnosticReport")
            and resource.get("status") not in STATUSES
        ):
            problems.append(
                f"{resource['resourceType']}.status {resource.get('status')!r} not in its value set"
            )
        if resource["resourceType"] == "Patient" and resource.get("gender") not in GENDERS:
            problems.append(f"Patient.gender {resource.get('gender')!r} not in its value set")
    return problems


def read_bundle(text: str) -> dict:
    """Parse a bundle back (validation included) and return it as a dict."""
    from fhir.resources.bundle import Bundle

    return json.loads(Bundle.model_validate_json(text).model_dump_json())
