"""The stages joined: text or audio -> report -> HL7/FHIR -> archive -> outbox -> MLLP. The CLI and the UI call these."""

from boya.errors import BoyaError

from . import fhir, hl7, rules
from .archive import Archive, control_id
from .delivery import deliver


def report_from_text(text: str) -> dict:
    from .extract import extract

    return extract(text)


def transcribe(
    audio, backend: str = "whisper", model: str | None = None, beam_size: int | None = None
) -> dict:
    """``{"text", "backend", "seconds"}`` from the app's ASR stage (``beam_size``: Whisper's, None for its default)."""
    from .asr import transcribe as asr_transcribe

    return asr_transcribe(audio, backend, model=model, beam_size=beam_size)


def recheck(report: dict) -> dict:
    """Run an edited report through the rules again (canonical spellings, critical flag, warnings)."""
    report = {k: v for k, v in report.items() if k not in ("warnings", "alerts")}
    return rules.apply(report)


def documents(report: dict, message_id: str = "PREVIEW") -> dict:
    """``{"hl7", "hl7_problems", "fhir"}``: the ORU^R01 (validated) and the FHIR bundle of a report."""
    er7 = hl7.build_oru(report, message_id)
    return {
        "hl7": er7,
        "hl7_problems": hl7.validate(er7),
        "fhir": fhir.build_bundle(report, identifier=message_id),
    }


def send(
    archive: Archive,
    report_id: int,
    host: str,
    port: int,
    *,
    timeout: float = 10.0,
    attempts: int = 3,
    backoff: float = 0.5,
) -> dict:
    """Queue the current version of an archived report and deliver it; returns the outbox row (status, ACK)."""
    stored = archive.get(report_id)
    cid = control_id(report_id, stored["version"])
    er7 = hl7.build_oru(stored["report"], cid)
    problems = hl7.validate(er7)
    if problems:
        raise BoyaError("the HL7 message is not valid, not sent: " + "; ".join(problems))
    archive.enqueue(report_id, stored["version"], er7, host, port)
    return deliver(archive, cid, timeout=timeout, attempts=attempts, backoff=backoff)
