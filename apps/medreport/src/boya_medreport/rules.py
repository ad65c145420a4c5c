"""The rules engine: every report (extracted or edited) passes through it before it is shown, archived or sent.

Rules are plugins: the app registers its own through the ``report_rules`` hook
(:mod:`boya_medreport.hookspecs`), and other plugins add theirs the same way. A rule
changes the report in place and speaks through ``context.warn`` (a reviewer should
look) or ``context.alert`` (a critical result to communicate). Order matters: the
app's rules canonicalise first, so later rules see vocabulary spellings.

How hedged findings map: a finding dictated with a hedge ("may represent",
"cannot be excluded", "suspected") is reported ``present: true`` with
``"certainty": "possible"``; a critical one still raises the critical flag and alert,
because a possible pneumothorax must reach the ordering physician too. A list under one
hedge ("atelectasis, infiltrate or edema cannot be excluded") makes each item possible.

How that scores on real reports: ``../shared/tools/cxrscore.py`` counts every finding with
``present: true``, whatever its certainty, against the collection's human indexing, which
lists a finding raised only as a possibility in some reports ("probable small effusions")
and not in others ("atelectasis is suspected"). On the 100 reports of
``real-cxr-public.jsonl`` 17 findings come out hedged and 7 of them are indexed: the
mapping brings 7 true and 10 false positives (F1 0.914; leaving hedged findings out would
score 0.925), and it is kept because a finding the radiologist could not exclude must not
read as absent or vanish from the structured report.
"""

import re
from dataclasses import dataclass, field

from . import vocabulary as vocab

LATERAL_BODY_PARTS = {"knee", "shoulder", "wrist", "ankle", "lower extremity veins"}
_NEGATION_START = re.compile(
    r"^(?:there is |there are )?(?:no|without|negative for|free of|absence of)\b", re.I
)
_PSEUDO = re.compile(
    r"\bno (?:significant |interval |appreciable |further )?(?:change|increase|progression)\b|\bnot only\b|\bno longer increas(?:ing|es?)\b"
    r"|\b(?:but|however|although|though|whereas)\b",
    re.I,
)


@dataclass
class RuleContext:
    """What a rule gets besides the report: vocabulary lookups and the two ways to speak."""

    warnings: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    vocabulary: object = vocab

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def alert(self, message: str) -> None:
        if message not in self.alerts:
            self.alerts.append(message)


def parse_size_mm(value) -> float | None:
    """Largest dimension in mm: ``12`` -> 12, ``"1.2 x 0.9 cm"`` -> 12, ``"12 by 9 millimeters"`` -> 12."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).lower()
    numbers = [float(n) for n in re.findall(r"\d*\.?\d+", text)]
    if not numbers:
        return None
    factor = 10.0 if re.search(r"\b(?:cm|centimeters?|centimetres?)\b", text) else 1.0
    return round(max(numbers) * factor, 1)


def canonical_findings(report, context):
    """Observations, locations and sizes in vocabulary terms; synonyms resolved by the exam's body part; cm -> mm."""
    body_part = (report.get("exam") or {}).get("body_part")
    kept = []
    for finding in report.get("findings") or []:
        name = vocab.resolve_observation(str(finding.get("observation") or ""), body_part)
        if name is None:
            context.warn(
                f"unknown observation {finding.get('observation')!r} dropped (not in the vocabulary)"
            )
            continue
        finding["observation"] = name
        finding["present"] = bool(finding.get("present", True))
        location = finding.get("location")
        finding["location"] = vocab.resolve_location(location)
        if location and finding["location"] is None:
            context.warn(f"location {location!r} of {name} is not in the vocabulary; left empty")
        size = finding.get("size_mm")
        finding["size_mm"] = parse_size_mm(size)
        if finding["size_mm"] is not None and finding["size_mm"].is_integer():
            finding["size_mm"] = int(finding["size_mm"])
        if not finding["present"]:
            finding.pop("certainty", None)
            finding["location"] = finding["location"] if finding["location"] else None
        if body_part and body_part not in vocab.observations()[name]["body_parts"]:
            context.warn(f"{name} is unusual on a {body_part} exam; check the exam or the finding")
        kept.append(finding)
    report["findings"] = kept


def deduplicate(report, context):
    """One finding per (observation, present), keeping the first statement and filling its gaps from later ones."""
    seen: dict = {}
    out = []
    for finding in report["findings"]:
        key = (finding["observation"], finding["present"])
        if key in seen:
            first = seen[key]
            for attr in ("location", "size_mm"):
                if first.get(attr) is None and finding.get(attr) is not None:
                    first[attr] = finding[attr]
            continue
        seen[key] = finding
        out.append(finding)
    for name in {
        f["observation"]
        for f in out
        if (f["observation"], True) in seen and (f["observation"], False) in seen
    }:
        context.warn(f"{name} is stated both present and absent; check the dictation")
    report["findings"] = out


def negation_scope(report, context):
    """Flags a finding reported present although its sentence opens with a negation that plainly covers it."""
    for finding in report["findings"]:
        evidence = finding.get("evidence") or ""
        if finding["present"] and _NEGATION_START.search(evidence) and not _PSEUDO.search(evidence):
            context.warn(
                f"{finding['observation']} is reported present but its sentence is negated: {evidence!r}"
            )


def laterality(report, context):
    """Exam side vs finding sides, and a side where the exam has none."""
    exam = report.get("exam") or {}
    side, body_part = exam.get("laterality"), exam.get("body_part")
    if body_part in LATERAL_BODY_PARTS and side is None:
        context.warn(f"a {body_part} exam needs a laterality (left, right or bilateral)")
    if body_part and body_part not in LATERAL_BODY_PARTS and side is not None:
        context.warn(f"laterality {side!r} given for a {body_part} exam, which has none")
    if side in ("left", "right"):
        other = "right" if side == "left" else "left"
        for finding in report["findings"]:
            if (
                finding["present"]
                and (finding.get("location") or "").startswith(other + " ")
                and body_part in LATERAL_BODY_PARTS
            ):
                context.warn(
                    f"{finding['observation']} in the {finding['location']} on a {side} {body_part} exam: laterality mismatch"
                )


def required_fields(report, context):
    """Fields an HL7 result needs before it can be signed."""
    patient, exam = report.get("patient") or {}, report.get("exam") or {}
    missing = [
        f"patient {k.replace('_', ' ')}" for k in ("name", "mrn", "birth_date", "sex") if not patient.get(k)
    ]
    missing += [f"exam {k.replace('_', ' ')}" for k in ("modality", "body_part") if not exam.get(k)]
    if missing:
        context.warn("missing before signing: " + ", ".join(missing))


def critical(report, context):
    """``critical`` from the vocabulary (any present finding marked critical) and one alert per critical finding."""
    flagged = [f for f in report["findings"] if f["present"] and vocab.is_critical(f["observation"])]
    report["critical"] = bool(flagged)
    for finding in flagged:
        where = f" in the {finding['location']}" if finding.get("location") else ""
        hedge = " (possible)" if finding.get("certainty") == "possible" else ""
        context.alert(
            f"CRITICAL RESULT: {finding['observation']}{where}{hedge}: communicate to the ordering physician and document it"
        )


BUILTIN_RULES = [
    ("canonical_findings", canonical_findings),
    ("deduplicate", deduplicate),
    ("negation_scope", negation_scope),
    ("laterality", laterality),
    ("required_fields", required_fields),
    ("critical", critical),
]


def registered_rules() -> list[tuple[str, object]]:
    """Every rule registered through ``report_rules``: the app's own (:data:`BUILTIN_RULES`) first, so
    other plugins' rules see canonical spellings, then the others in the order pluggy calls them."""
    from boya import plugins

    found = [
        (plugin, args)
        for plugin, args in plugins.collect("report_rules")
        if len(args) == 2 and callable(args[1])
    ]
    own = [args for plugin, args in found if plugin == "medreport"]
    return own + [args for plugin, args in found if plugin != "medreport"]


def apply(report: dict, rules=None) -> dict:
    """Run the rules on ``report`` (in place) and attach ``warnings`` and ``alerts``; returns the report."""
    context = RuleContext()
    report.setdefault("findings", [])
    for name, rule in rules if rules is not None else registered_rules():
        try:
            rule(report, context)
        except Exception as error:  # noqa: BLE001 - a broken third-party rule is named, never fatal
            context.warn(f"rule {name!r} failed: {type(error).__name__}: {error}")
    for finding in report["findings"]:
        finding.pop("evidence", None)
    report["warnings"], report["alerts"] = context.warnings, context.alerts
    return report
