"""Stage 4 of the pipeline: dictation text -> structured report (medreport.schema.json).

A hybrid, said plainly: the closed-form header (patient, exam) is read by patterns
(:mod:`boya_medreport.header`); the open language of findings (synonyms, negation and
its scope, hedges, locations, sizes) is read sentence by sentence by the small T5
model (:mod:`.model`) trained on generated dictations; the rules engine then
canonicalises and checks the result. Findings come from the Findings section; the
Impression adds only observations the findings did not state. A deterministic
backstop (:mod:`.lexicon`) keeps only model findings the sentence has evidence for,
decides their negation and hedging, and adds vocabulary terms the model left out
(``backstop=False`` measures the model alone).
"""

import re

from boya.errors import BoyaError

from .. import header, rules, sections
from .. import vocabulary as vocab
from . import lexicon, linearize
from .model import embedded, model_input

MAX_CHARS = 20000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean(text) -> str:
    """The dictation with control characters removed; empty or huge input is a user error."""
    if not isinstance(text, str):
        raise BoyaError("dictation must be text")
    text = _CONTROL.sub(" ", text).strip()
    if not text:
        raise BoyaError("the dictation is empty: paste or dictate the report text")
    if len(text) > MAX_CHARS:
        raise BoyaError(
            f"the dictation has {len(text)} characters; the limit is {MAX_CHARS} (one report per dictation)"
        )
    return text


def normalize_text(text: str) -> str:
    """Spoken forms (dictation commands, spoken numbers) to written text, by the app's normaliser when installed."""
    try:
        from ..normalize import normalize
    except ImportError:
        return text
    return normalize(text)


def _section_text(labelled, name) -> str | None:
    parts = [sections.strip_cue(name, s).strip().rstrip(".").strip() for sec, s in labelled if sec == name]
    text = ". ".join(p for p in parts if p)
    return text or None


def prepare(text: str) -> dict:
    """Everything before the model: sections, header fields and the model inputs (with their sections)."""
    labelled = sections.split_sections(normalize_text(clean(text)))
    patient_text = " ".join(s for sec, s in labelled if sec == "patient")
    exam_text = " ".join(s for sec, s in labelled if sec == "exam")
    if not exam_text:  # narrative: "This is a CT of the head for Maria Lopez, ..."
        exam_text = " ".join(
            re.split(r"\bfor\b", s, maxsplit=1)[0] for sec, s in labelled if sec == "patient"
        )
    exam = header.exam_fields(exam_text)
    patient = header.patient_fields(patient_text or " ".join(s for _, s in labelled))
    finding_sentences = [
        (sec, sections.strip_cue(sec, s)) for sec, s in labelled if sec in ("findings", "impression")
    ]
    return {
        "patient": patient,
        "exam": exam,
        "indication": _section_text(labelled, "indication"),
        "impression": _section_text(labelled, "impression"),
        "recommendation": _section_text(labelled, "recommendation"),
        "sentences": finding_sentences,
        "inputs": [model_input(exam["body_part"], s) for _, s in finding_sentences],
    }


def _canonical(observation: str, body_part: str | None) -> str:
    return vocab.resolve_observation(observation, body_part) or observation


def assemble(prepared: dict, outputs: list[str], backstop: bool = True) -> dict:
    """The report from the prepared parts and one model output per sentence, through the rules engine."""
    findings, from_findings = [], set()
    body_part = prepared["exam"]["body_part"]
    for (section, sentence), output in zip(prepared["sentences"], outputs, strict=True):
        stated = linearize.parse(output)
        if backstop:
            stated = lexicon.merge(stated, sentence, body_part)
        for f in stated:
            if section == "impression" and _canonical(f["observation"], body_part) in from_findings:
                continue
            finding = {
                "observation": f["observation"],
                "present": f["status"] != "absent",
                "location": f["location"],
                "size_mm": f["size"],
                "evidence": sentence,
            }
            if f["status"] == "possible":
                finding["certainty"] = "possible"
            findings.append(finding)
        if section == "findings":
            from_findings |= {_canonical(f["observation"], body_part) for f in stated}
    report = {
        "patient": prepared["patient"],
        "exam": prepared["exam"],
        "indication": prepared["indication"],
        "findings": findings,
        "impression": prepared["impression"],
        "critical": False,
        "recommendation": prepared["recommendation"],
    }
    return rules.apply(report)


def extract_many(texts: list[str], extractor=None, backstop: bool = True) -> list[dict]:
    """Reports for several dictations, with one batched model call over all their sentences."""
    extractor = extractor or embedded()
    prepared = [prepare(t) for t in texts]
    flat = [i for p in prepared for i in p["inputs"]]
    outputs, start, reports = [], 0, []
    for chunk in range(0, len(flat), 64):
        outputs += extractor.run(flat[chunk : chunk + 64])
    for p in prepared:
        reports.append(assemble(p, outputs[start : start + len(p["inputs"])], backstop))
        start += len(p["inputs"])
    return reports


def extract(text: str, extractor=None, backstop: bool = True) -> dict:
    """The structured report of one dictation."""
    return extract_many([text], extractor, backstop)[0]
