"""The model's output language: a report's findings written as one line, and read back.

One finding is ``observation ; status ; location ; size`` with ``-`` for a missing
value; findings are joined by `` | ``; a sentence that states none is ``none``::

    pulmonary nodule ; present ; right upper lobe ; 6 x 5 mm | cardiomegaly ; absent ; - ; -

``status`` is ``present``, ``absent`` or ``possible`` (hedged: "may represent",
"cannot be excluded"); sizes keep the dictated unit, the rules engine turns them
into the largest dimension in mm. Parsing is forgiving: a malformed piece is
dropped, never guessed.
"""

STATUSES = ("present", "absent", "possible")


def linearize(findings: list[dict]) -> str:
    if not findings:
        return "none"
    pieces = []
    for f in findings:
        size = f.get("size")
        size = size[2] if isinstance(size, tuple) else size
        pieces.append(f"{f['observation']} ; {f['status']} ; {f.get('location') or '-'} ; {size or '-'}")
    return " | ".join(pieces)


def parse(text: str) -> list[dict]:
    """Findings from one model output line; malformed pieces are skipped."""
    text = text.strip()
    if not text or text == "none":
        return []
    findings = []
    for piece in text.split("|"):
        parts = [part.strip() for part in piece.split(";")]
        if len(parts) != 4 or not parts[0] or parts[1] not in STATUSES:
            continue
        observation, status, location, size = parts
        findings.append({"observation": observation, "status": status,
                         "location": None if location in ("-", "") else location,
                         "size": None if size in ("-", "") else size})
    return findings
