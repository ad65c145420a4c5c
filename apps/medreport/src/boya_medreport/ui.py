"""The medreport tab of the hub: audio or text -> editable transcript -> editable structured report
(red banner for critical results) -> HL7 + FHIR previews with downloads -> Sign and Send over MLLP
(ACK shown) -> history of archived reports.

Handlers are plain module functions (tests call them directly); every ``api_name`` starts with
``medreport_``. The form is the report: what the radiologist edits is re-run through the rules
engine before preview and before signing.
"""

import json
import tempfile

from boya.errors import BoyaError

from . import vocabulary as vocab

FINDING_COLUMNS = ["observation", "present", "certainty", "location", "size_mm"]
SEXES = ["", "female", "male", "unknown"]
LATERALITIES = ["", "left", "right", "bilateral"]
CONTRASTS = ["", "with contrast", "without contrast"]


def _blank(value):
    return None if value in ("", None) else value


def transcribe_audio(audio_path, backend: str = "whisper"):
    """Recording -> transcript text and a status line. Without the ASR stage, says so."""
    if not audio_path:
        return "", "No recording: upload a file or record one first."
    try:
        from .pipeline import transcribe
    except ImportError as error:
        return "", f"ASR not available: {error}"
    try:
        result = transcribe(audio_path, backend)
    except BoyaError as error:
        return "", f"Could not transcribe: {error}"
    except Exception as error:  # noqa: BLE001 - a missing model or engine is shown, not raised into the page
        return "", f"ASR not available: {type(error).__name__}: {error}"
    return (
        result["text"],
        f"Transcribed by {result['backend']} in {result['seconds']:.1f} s; check and correct the text, then Extract.",
    )


def _engines() -> list[str]:
    """The ASR backends the installed plugins register, Whisper first (the default)."""
    from .asr import backends

    return sorted(backends(), key=lambda name: (name != "whisper", name))


def report_to_form(report: dict) -> list:
    """The form values for a report, in the order of :func:`form_outputs`."""
    patient, exam = report.get("patient") or {}, report.get("exam") or {}
    rows = [
        [
            f["observation"],
            bool(f["present"]),
            f.get("certainty") or "",
            f.get("location") or "",
            "" if f.get("size_mm") is None else f["size_mm"],
        ]
        for f in report.get("findings") or []
    ]
    contrast = {True: "with contrast", False: "without contrast"}.get(exam.get("contrast"), "")
    return [
        patient.get("name") or "",
        patient.get("mrn") or "",
        patient.get("birth_date") or "",
        patient.get("sex") or "",
        exam.get("modality") or "",
        exam.get("body_part") or "",
        exam.get("laterality") or "",
        contrast,
        report.get("indication") or "",
        rows,
        report.get("impression") or "",
        report.get("recommendation") or "",
    ]


def form_to_report(
    name,
    mrn,
    birth_date,
    sex,
    modality,
    body_part,
    laterality,
    contrast,
    indication,
    findings,
    impression,
    recommendation,
) -> dict:
    """The edited form as a report, re-checked by the rules engine."""
    from .pipeline import recheck

    rows = findings.values.tolist() if hasattr(findings, "values") else (findings or [])
    parsed = []
    for row in rows:
        row = list(row) + [""] * (5 - len(row))
        if not str(row[0] or "").strip():
            continue
        present = (
            row[1]
            if isinstance(row[1], bool)
            else str(row[1]).strip().lower() in ("true", "yes", "1", "present", "y")
        )
        finding = {
            "observation": str(row[0]).strip(),
            "present": present,
            "location": _blank(str(row[3] or "").strip()),
            "size_mm": _blank(str(row[4]).strip() if row[4] is not None else ""),
        }
        if str(row[2] or "").strip() == "possible" and present:
            finding["certainty"] = "possible"
        parsed.append(finding)
    report = {
        "patient": {
            "name": _blank((name or "").strip()),
            "mrn": _blank("".join(ch for ch in (mrn or "") if ch.isdigit())),
            "birth_date": _blank((birth_date or "").strip()),
            "sex": _blank(sex),
        },
        "exam": {
            "modality": _blank(modality),
            "body_part": _blank(body_part),
            "laterality": _blank(laterality),
            "contrast": {"with contrast": True, "without contrast": False}.get(contrast),
        },
        "indication": _blank(indication),
        "findings": parsed,
        "impression": _blank(impression),
        "critical": False,
        "recommendation": _blank(recommendation),
    }
    return recheck(report)


def banner_html(report: dict) -> str:
    if not report.get("critical"):
        return ""
    items = "".join(f"<li>{a}</li>" for a in report.get("alerts") or [])
    return (
        f"<div id='medreport-critical' style='background:#b00020;color:white;padding:12px;border-radius:6px;font-weight:600'>"
        f"CRITICAL RESULT: communicate to the ordering physician<ul>{items}</ul></div>"
    )


def warnings_markdown(report: dict) -> str:
    warnings = report.get("warnings") or []
    return "" if not warnings else "**Review:**\n" + "\n".join(f"- {w}" for w in warnings)


def extract_text(text: str):
    """Transcript -> (report JSON, form values..., banner, warnings)."""
    from .pipeline import report_from_text

    try:
        report = report_from_text(text)
    except BoyaError as error:
        return [json.dumps({"error": str(error)}), *report_to_form({}), "", f"**Error:** {error}"]
    return [
        json.dumps(report, indent=2),
        *report_to_form(report),
        banner_html(report),
        warnings_markdown(report),
    ]


def _write(content: str, suffix: str) -> str:
    handle = tempfile.NamedTemporaryFile("wb", suffix=suffix, prefix="medreport-", delete=False)
    with handle:
        handle.write(content.encode("utf-8"))
    return handle.name


def preview(*form):
    """Edited form -> (HL7 text, FHIR JSON, HL7 file, FHIR file, HTML file, banner, warnings, status)."""
    from . import render
    from .pipeline import documents

    report = form_to_report(*form)
    try:
        docs = documents(report)
    except BoyaError as error:
        return [
            "",
            "",
            None,
            None,
            None,
            banner_html(report),
            warnings_markdown(report),
            f"Cannot build the messages: {error}",
        ]
    status = (
        "HL7 valid (hl7apy STRICT, own checks, python-hl7)"
        if not docs["hl7_problems"]
        else "HL7 problems: " + "; ".join(docs["hl7_problems"])
    )
    hl7_text = docs["hl7"].replace("\r", "\n")
    return [
        hl7_text,
        docs["fhir"],
        _write(docs["hl7"], ".hl7"),
        _write(docs["fhir"], ".json"),
        _write(render.render_html(report), ".html"),
        banner_html(report),
        warnings_markdown(report),
        status,
    ]


def sign_and_send(*args):
    """Archive (new report or new version), sign, then send over MLLP; returns (status, report id, history rows)."""
    from .archive import Archive
    from .pipeline import send

    *form, dictation, author, host, port, report_id, db_url = args
    report = form_to_report(*form)
    try:
        archive = Archive(db_url or None)
        if report_id:
            archive.edit(int(report_id), report, author or None, dictation)
        else:
            report_id = archive.create(report, dictation, author or None)
        archive.sign(int(report_id), author or None)
        row = send(
            archive,
            int(report_id),
            (host or "127.0.0.1").strip(),
            int(port),
            timeout=5,
            attempts=2,
            backoff=0.2,
        )
    except (BoyaError, ValueError) as error:
        return f"Not sent: {error}", report_id, history(db_url)
    if row["status"] == "acknowledged":
        status = f"Report {report_id} signed and sent as {row['control_id']}: ACK AA (accepted)."
    elif row["status"] == "rejected":
        status = f"Report {report_id} signed; receiver answered {row['ack_code']}: {row['ack_text']}. Kept in the outbox, correct and resend."
    else:
        status = f"Report {report_id} signed and archived; not delivered ({row['last_error']}). It stays in the outbox for retry."
    return status, report_id, history(db_url)


def history(db_url=None) -> list[list]:
    from .archive import Archive

    try:
        rows = Archive(db_url or None).history(50)
    except BoyaError:
        return []
    return [
        [
            r["id"],
            r["created"],
            r["status"],
            r["version"],
            r["patient"] or "",
            r["mrn"] or "",
            r["exam"] or "",
            "yes" if r["critical"] else "",
        ]
        for r in rows
    ]


def new_report():
    """Forget the archived id so the next Sign and Send creates a new report."""
    return None, "New report: the next Sign and Send archives a new report."


def build_ui():
    import gradio as gr

    observations = sorted(vocab.observations())
    with gr.Blocks() as blocks:
        gr.Markdown(
            "## Medical reports\nDictate, upload or paste a radiology dictation; review the structured report; sign and send it as HL7."
        )
        report_id = gr.State(None)
        with gr.Row():
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Recording")
            with gr.Column():
                engine = gr.Dropdown(_engines(), value="whisper", label="ASR engine")
                transcribe_button = gr.Button("Transcribe")
                asr_status = gr.Markdown()
        transcript = gr.Textbox(
            label="Transcript / dictation text (editable)", lines=6, elem_id="medreport-transcript"
        )
        extract_button = gr.Button("Extract report", variant="primary")
        banner = gr.HTML(elem_id="medreport-banner")
        warnings = gr.Markdown()
        with gr.Row():
            name = gr.Textbox(label="Patient name")
            mrn = gr.Textbox(label="MRN")
            birth = gr.Textbox(label="Birth date (YYYY-MM-DD)")
            sex = gr.Dropdown(SEXES, label="Sex", value="")
        with gr.Row():
            modality = gr.Dropdown(["", *vocab.vocabulary()["modalities"]], label="Modality", value="")
            body_part = gr.Dropdown(["", *vocab.body_parts()], label="Body part", value="")
            laterality = gr.Dropdown(LATERALITIES, label="Laterality", value="")
            contrast = gr.Dropdown(CONTRASTS, label="Contrast", value="")
        indication = gr.Textbox(label="Indication")
        findings = gr.Dataframe(
            headers=FINDING_COLUMNS,
            datatype=["str", "bool", "str", "str", "str"],
            column_count=(5, "fixed"),
            row_count=(1, "dynamic"),
            interactive=True,
            label=f"Findings (observation: one of {len(observations)} vocabulary terms)",
        )
        impression = gr.Textbox(label="Impression")
        recommendation = gr.Textbox(label="Recommendation")
        report_json = gr.Code(label="Structured report (JSON)", language="json")
        form = [
            name,
            mrn,
            birth,
            sex,
            modality,
            body_part,
            laterality,
            contrast,
            indication,
            findings,
            impression,
            recommendation,
        ]

        preview_button = gr.Button("Preview HL7 + FHIR")
        preview_status = gr.Markdown()
        with gr.Row():
            hl7_text = gr.Code(label="HL7 v2.5 ORU^R01")
            fhir_text = gr.Code(label="FHIR R5 bundle", language="json")
        with gr.Row():
            hl7_file = gr.File(label="HL7 download")
            fhir_file = gr.File(label="FHIR download")
            html_file = gr.File(label="Readable report (HTML)")
        with gr.Row():
            author = gr.Textbox(label="Signed by", value="")
            host = gr.Textbox(label="MLLP host", value="127.0.0.1")
            port = gr.Number(label="MLLP port", value=2575, precision=0)
            db_url = gr.Textbox(label="Archive database URL (blank: default)", value="")
        with gr.Row():
            send_button = gr.Button("Sign and Send", variant="stop")
            new_button = gr.Button("New report")
        send_status = gr.Markdown(elem_id="medreport-send-status")
        history_table = gr.Dataframe(
            headers=["id", "created", "status", "version", "patient", "MRN", "exam", "critical"],
            label="Archived reports",
            interactive=False,
        )
        refresh = gr.Button("Refresh history")

        transcribe_button.click(
            transcribe_audio, [audio, engine], [transcript, asr_status], api_name="medreport_transcribe"
        )
        extract_button.click(
            extract_text, [transcript], [report_json, *form, banner, warnings], api_name="medreport_extract"
        )
        preview_button.click(
            preview,
            form,
            [hl7_text, fhir_text, hl7_file, fhir_file, html_file, banner, warnings, preview_status],
            api_name="medreport_preview",
        )
        send_button.click(
            sign_and_send,
            [*form, transcript, author, host, port, report_id, db_url],
            [send_status, report_id, history_table],
            api_name="medreport_sign_send",
        )
        new_button.click(new_report, None, [report_id, send_status], api_name="medreport_new")
        refresh.click(history, [db_url], [history_table], api_name="medreport_history")
    return blocks
