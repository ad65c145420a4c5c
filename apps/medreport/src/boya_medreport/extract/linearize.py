"""The model's output language: the findings of one sentence written as one line, and read back.

A finding is ``observation = status``, then `` @ location`` and `` # size`` only when
given; findings are joined by `` | ``; a sentence that states none is ``none``::

    pulmonary nodule = present @ right upper lobe # 6 x 5 mm | cardiomegaly = absent

No placeholders for missing values: a small model counting ``-`` slots was the main
source of malformed output. ``status`` is ``present``, ``absent`` or ``possible``
(hedged: "may represent", "cannot be excluded"); sizes keep the dictated unit, the
rules engine turns them into the largest dimension in mm. Parsing is forgiving: a
malformed piece is dropped, never guessed.
"""

import re

STATUSES = ("present", "absent", "possible")
_PIECE = re.compile(
    r"^\s*(?P<obs>[^=@#|]+?)\s*=\s*(?P<status>present|absent|possible)\s*(?:@\s*(?P<loc>[^@#|]+?))?\s*(?:#\s*(?P<size>[^@#|]+?))?\s*$"
)


def linearize(findings: list[dict]) -> str:
    if not findings:
        return "none"
    pieces = []
    for f in findings:
        size = f.get("size")
        size = size[2] if isinstance(size, tuple) else size
        piece = f"{f['observation']} = {f['status']}"
        if f.get("location"):
            piece += f" @ {f['location']}"
        if size:
            piece += f" # {size}"
        pieces.append(piece)
    return " | ".join(pieces)


def parse(text: str) -> list[dict]:
    """Findings from one model output line; malformed pieces are skipped."""
    text = text.strip()
    if not text or text == "none":
        return []
    findings = []
    for piece in text.split("|"):
        match = _PIECE.match(piece)
        if match:
            findings.append(
                {
                    "observation": match["obs"],
                    "status": match["status"],
                    "location": match["loc"],
                    "size": match["size"],
                }
            )
    return findings
