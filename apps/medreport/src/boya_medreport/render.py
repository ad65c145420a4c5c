"""Stage 6c: a readable HTML rendering of a structured report (every value escaped), for review and printing."""

from html import escape


def _finding_row(f: dict) -> str:
    status = "present" if f["present"] else "absent"
    if f.get("certainty") == "possible":
        status = "possible"
    size = f"{f['size_mm']:g} mm" if f.get("size_mm") is not None else ""
    return (
        f"<tr class='{status}'><td>{escape(f['observation'])}</td><td>{status}</td>"
        f"<td>{escape(f.get('location') or '')}</td><td>{escape(size)}</td></tr>"
    )


def render_html(report: dict, title: str = "Radiology report") -> str:
    """A standalone HTML page: patient, exam, critical banner, findings table, impression, warnings."""
    patient, exam = report.get("patient") or {}, report.get("exam") or {}
    exam_text = " ".join(
        str(v) for v in (exam.get("modality"), exam.get("laterality"), exam.get("body_part")) if v
    )
    if exam.get("contrast") is not None:
        exam_text += " with contrast" if exam["contrast"] else " without contrast"
    banner = ""
    if report.get("critical"):
        alerts = (
            "".join(f"<li>{escape(a)}</li>" for a in report.get("alerts") or []) or "<li>critical result</li>"
        )
        banner = f"<div class='critical' style='background:#b00020;color:#fff;padding:8px;font-weight:bold'>CRITICAL RESULT<ul>{alerts}</ul></div>"
    rows = (
        "".join(_finding_row(f) for f in report.get("findings") or [])
        or "<tr><td colspan='4'>no findings stated</td></tr>"
    )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in report.get("warnings") or [])
    fields = [
        ("Patient", patient.get("name")),
        ("MRN", patient.get("mrn")),
        ("Date of birth", patient.get("birth_date")),
        ("Sex", patient.get("sex")),
        ("Exam", exam_text),
        ("Indication", report.get("indication")),
    ]
    header = "".join(f"<tr><th>{k}</th><td>{escape(str(v or '—'))}</td></tr>" for k, v in fields)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1>{banner}<table>{header}</table>"
        f"<h2>Findings</h2><table><tr><th>Observation</th><th>Status</th><th>Location</th><th>Size</th></tr>{rows}</table>"
        f"<h2>Impression</h2><p>{escape(report.get('impression') or '—')}</p>"
        f"<h2>Recommendation</h2><p>{escape(report.get('recommendation') or '—')}</p>"
        + (f"<h2>Review</h2><ul>{warnings}</ul>" if warnings else "")
        + "</body></html>"
    )
