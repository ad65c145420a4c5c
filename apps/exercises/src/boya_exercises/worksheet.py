"""Printable worksheets: N verified exercises of one knowledge point, as Markdown or PDF, answer key at the end."""

from pathlib import Path

from boya.errors import BoyaError

from .exercise import TYPES, check_request, generate
from .graph import load_graph


def build(kp: str, count: int, difficulty: int | None = None, types=TYPES, seed: int = 0) -> list[dict]:
    """``count`` exercises cycling through ``types``; difficulty fixed, or rising from 1 to 5 across the sheet."""
    check_request(kp, None, difficulty)
    if not 1 <= count <= 200:
        raise BoyaError("a worksheet holds 1 to 200 exercises")
    for exercise_type in types:
        check_request(kp, exercise_type)
    sheet = []
    for i in range(count):
        level = difficulty or 1 + (4 * i) // max(count - 1, 1)
        sheet.append(generate(kp, types[i % len(types)], level, seed=seed * 10007 + i))
    return sheet


def _title(kp: str) -> str:
    node = load_graph().nodes[kp]
    return f"{kp} — {node['title']}"


def to_markdown(kp: str, sheet: list[dict]) -> str:
    lines = [f"# Worksheet: {_title(kp)}", "", "Name: ____________________   Date: __________", ""]
    for number, exercise in enumerate(sheet, 1):
        lines.append(f"**{number}.** {exercise['stem']}")
        for letter, option in zip("ABCD", exercise["options"] or [], strict=False):
            lines.append(f"   - {letter}) {option}")
        if exercise["type"] == "true_false":
            lines.append("   - true / false")
        lines.append("")
    lines += ["---", "", "## Answer key", ""]
    for number, exercise in enumerate(sheet, 1):
        lines.append(f"{number}. **{_shown_answer(exercise)}** — {exercise['solution']}")
    return "\n".join(lines) + "\n"


def _shown_answer(exercise: dict) -> str:
    if exercise["options"]:
        return f"{'ABCD'[exercise['options'].index(exercise['answer'])]}) {exercise['answer']}"
    return exercise["answer"]


def to_pdf(kp: str, sheet: list[dict], path: Path) -> Path:
    """Write the sheet as PDF (fpdf2, DejaVu Sans from matplotlib's data for ×, ÷ and −); answer key on a new page."""
    import matplotlib
    from fpdf import FPDF

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(font))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", size=15)
    pdf.multi_cell(0, 9, f"Worksheet: {_title(kp)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=11)
    pdf.multi_cell(0, 8, "Name: ____________________   Date: __________", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for number, exercise in enumerate(sheet, 1):
        pdf.multi_cell(0, 7, f"{number}. {exercise['stem']}", new_x="LMARGIN", new_y="NEXT")
        if exercise["options"]:
            choices = "     ".join(
                f"{letter}) {option}" for letter, option in zip("ABCD", exercise["options"], strict=True)
            )
            pdf.multi_cell(0, 7, f"     {choices}", new_x="LMARGIN", new_y="NEXT")
        if exercise["type"] == "true_false":
            pdf.multi_cell(0, 7, "     true / false", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
    pdf.add_page()
    pdf.set_font("DejaVu", size=14)
    pdf.multi_cell(0, 9, "Answer key", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    for number, exercise in enumerate(sheet, 1):
        pdf.multi_cell(
            0,
            6,
            f"{number}. {_shown_answer(exercise)} — {exercise['solution']}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(1)
    path = Path(path)
    pdf.output(str(path))
    return path


def write(kp: str, count: int, out: Path, difficulty: int | None = None, seed: int = 0) -> list[Path]:
    """Write ``out`` (.md or .pdf); any other suffix writes both ``out.md`` and ``out.pdf``."""
    out = Path(out)
    if not out.parent.is_dir():
        raise BoyaError(f"folder {out.parent} does not exist")
    sheet = build(kp, count, difficulty, seed=seed)
    targets = [out] if out.suffix in (".md", ".pdf") else [out.with_suffix(".md"), out.with_suffix(".pdf")]
    for target in targets:
        if target.suffix == ".md":
            target.write_text(to_markdown(kp, sheet), encoding="utf-8")
        else:
            to_pdf(kp, sheet, target)
    return targets
