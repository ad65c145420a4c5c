"""The exercises tab of the hub: a student view (adaptive practice) and a teacher view (graph, worksheets, class).

Handlers are plain functions over the same :class:`~boya_exercises.engine.Engine` as the tutor protocol, so tests
call them directly. The database is the app's default (``BOYA_DATABASE_URL`` or the app's SQLite file).
"""

import tempfile
from functools import cache
from pathlib import Path

from boya.errors import BoyaError

from .answers import is_correct
from .graph import load_graph, servable_graph
from .verify import base_stem, solve_stem


@cache
def engine():
    from .engine import Engine

    return Engine()


def _title(kp: str) -> str:
    node = load_graph().nodes[kp]
    return f"{kp} {node['title']} / {node['title_zh']}"


def render_card(exercise: dict) -> str:
    """The exercise card as Markdown: KP, type, level and the question."""
    kind = exercise["type"].replace("_", " ")
    return (
        f"**{_title(exercise['kp'])}** · {kind} · level {exercise['difficulty']}/5\n\n### {exercise['stem']}"
    )


def exercises_next(student: str):
    """Serve the next exercise: card, choices (multiple choice / true-false), the exercise, and the state."""
    student = (student or "").strip()
    if not student:
        raise BoyaError("enter a student name first")
    exercise = engine().next(student)
    if exercise["type"] == "multiple_choice":
        choices = exercise["options"]
    elif exercise["type"] == "true_false":
        choices = ["true", "false"]
    else:
        choices = []
    return render_card(exercise), choices, exercise


def grade(exercise: dict, response: str) -> bool:
    """Whether ``response`` answers ``exercise``: by value for typed answers, exactly for choices."""
    if exercise["type"] in ("multiple_choice", "true_false"):
        return response == exercise["answer"]
    kind = solve_stem(base_stem(exercise)[0]).kind
    return is_correct(response, exercise["answer"], kind)


def exercises_answer(student: str, exercise: dict | None, response: str, seconds: float | None = None):
    """Grade and record an answer; returns feedback with the worked solution and the mastery per KP (0-1)."""
    if not exercise:
        raise BoyaError("ask for an exercise first")
    if response is None or not str(response).strip():
        raise BoyaError("give an answer first")
    correct = grade(exercise, str(response).strip())
    mastery = engine().answer(student.strip(), exercise["id"], correct, seconds)
    verdict = "✅ Correct!" if correct else f"❌ Not quite — the answer is **{exercise['answer']}**."
    feedback = f"{verdict}\n\n**Worked solution.** {exercise['solution']}"
    return feedback, {_title(kp): value for kp, value in mastery.items()}


def exercises_progress(student: str) -> dict:
    details = engine().details(student.strip())
    return {
        "attempts": details["attempts"],
        "mastered": details["mastered"],
        "ready_to_learn": details["zone"],
    }


def graph_figure(student: str | None = None):
    """The servable graph by grade level, coloured by the student's mastery (grey: not practised)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = servable_graph()
    mastery = engine().state(student.strip())["mastery"] if student and student.strip() else {}
    levels = {}
    for kp in sorted(graph, key=lambda k: (graph.nodes[k]["level"], k)):
        levels.setdefault(graph.nodes[kp]["level"], []).append(kp)
    pos = {kp: (level, -i + len(kps) / 2) for level, kps in levels.items() for i, kp in enumerate(kps)}
    colours = [plt.cm.RdYlGn(mastery[kp]) if kp in mastery else (0.85, 0.85, 0.85, 1.0) for kp in graph]
    figure, axes = plt.subplots(figsize=(12, 7))
    nx.draw_networkx_edges(graph, pos, ax=axes, alpha=0.25, arrows=True, arrowsize=8)
    nx.draw_networkx_nodes(graph, pos, ax=axes, node_color=colours, node_size=420, edgecolors="#555")
    nx.draw_networkx_labels(graph, pos, ax=axes, font_size=6)
    axes.set_xlabel("grade level (9 = high school)")
    axes.set_title(
        f"Knowledge graph — mastery of {student}" if mastery else "Knowledge graph (servable standards)"
    )
    axes.set_yticks([])
    figure.tight_layout()
    return figure


def exercises_worksheet(kp: str, count: int, difficulty: int | None):
    """Generate a worksheet; returns its Markdown and the paths of the .md and .pdf files to download."""
    from .worksheet import write

    folder = Path(tempfile.mkdtemp(prefix="boya-worksheet-"))
    paths = write(kp, int(count), folder / f"worksheet-{kp}", int(difficulty) if difficulty else None)
    return paths[0].read_text(encoding="utf-8"), [str(p) for p in paths]


def exercises_class_stats() -> list[list]:
    """Rows of (KP, title, students, attempts, success rate) over the whole class."""
    stats = engine().store.class_stats()
    return [
        [kp, load_graph().nodes[kp]["title"], row["students"], row["attempts"], round(row["success"], 3)]
        for kp, row in sorted(stats["kps"].items())
    ]


def build_ui():
    import gradio as gr

    servable = sorted(servable_graph(), key=lambda kp: (servable_graph().nodes[kp]["level"], kp))

    def _next(student):
        try:
            card, choices, exercise = exercises_next(student)
        except BoyaError as error:
            raise gr.Error(str(error)) from None
        return (
            card,
            gr.update(choices=choices, value=None, visible=bool(choices)),
            gr.update(value="", visible=not choices),
            exercise,
            "",
        )

    def _answer(student, exercise, choice, typed):
        chose = bool(exercise) and exercise["type"] in ("multiple_choice", "true_false")
        try:
            feedback, mastery = exercises_answer(student, exercise, choice if chose else typed)
        except BoyaError as error:
            raise gr.Error(str(error)) from None
        return feedback, mastery, None

    def _worksheet(kp, count, difficulty):
        try:
            return exercises_worksheet(kp, count, None if difficulty == "rising" else int(difficulty))
        except BoyaError as error:
            raise gr.Error(str(error)) from None

    with gr.Blocks() as blocks:
        gr.Markdown("## Exercises\nPractice that adapts: the next exercise aims at a 75% chance of success.")
        with gr.Tab("Student"):
            exercise_state = gr.State(None)
            with gr.Row():
                student = gr.Textbox(label="Student", value="student-1", scale=3)
                next_button = gr.Button("Next exercise", variant="primary", scale=1)
            card = gr.Markdown("Press **Next exercise** to start.")
            choice = gr.Radio(label="Your answer", choices=[], visible=False)
            typed = gr.Textbox(label="Your answer", visible=False)
            answer_button = gr.Button("Check answer")
            feedback = gr.Markdown()
            mastery = gr.Label(label="Mastery per knowledge point", num_top_classes=12)
            next_button.click(
                _next, student, [card, choice, typed, exercise_state, feedback], api_name="exercises_next"
            )
            answer_button.click(
                _answer,
                [student, exercise_state, choice, typed],
                [feedback, mastery, exercise_state],
                api_name="exercises_answer",
            )
        with gr.Tab("Teacher"):
            with gr.Row():
                who = gr.Textbox(label="Colour by student (empty: none)", value="student-1")
                draw = gr.Button("Draw graph")
            plot = gr.Plot(label="Knowledge graph")
            draw.click(graph_figure, who, plot, api_name="exercises_graph")
            gr.Markdown("### Worksheet")
            with gr.Row():
                kp = gr.Dropdown(servable, value=servable[0], label="Knowledge point")
                count = gr.Slider(1, 40, value=10, step=1, label="Exercises")
                level = gr.Dropdown(["rising", "1", "2", "3", "4", "5"], value="rising", label="Difficulty")
                make = gr.Button("Make worksheet")
            files = gr.File(label="Download (Markdown, PDF)", file_count="multiple")
            sheet = gr.Markdown()
            make.click(_worksheet, [kp, count, level], [sheet, files], api_name="exercises_worksheet")
            gr.Markdown("### Class statistics")
            refresh = gr.Button("Refresh")
            table = gr.Dataframe(
                headers=["KP", "title", "students", "attempts", "success"], interactive=False
            )
            refresh.click(exercises_class_stats, None, table, api_name="exercises_class_stats")
    return blocks
