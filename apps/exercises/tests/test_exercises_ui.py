"""The web UI's handlers, called directly (the same engine as the tutor protocol)."""

import pytest
from boya.errors import BoyaError
from boya_exercises import ui


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    monkeypatch.setenv("BOYA_DATABASE_URL", f"sqlite:///{tmp_path / 'ui.db'}")
    ui.engine.cache_clear()
    yield
    ui.engine.cache_clear()


def test_student_flow_card_answer_feedback_mastery():
    card, choices, exercise = ui.exercises_next("ana")
    assert exercise["stem"] in card and f"level {exercise['difficulty']}/5" in card
    if exercise["type"] == "multiple_choice":
        assert choices == exercise["options"]
    feedback, mastery = ui.exercises_answer("ana", exercise, exercise["answer"], 9.0)
    assert feedback.startswith("✅") and exercise["solution"] in feedback
    assert len(mastery) == 1 and 0 < next(iter(mastery.values())) < 1
    _, _, second = ui.exercises_next("ana")
    feedback, _ = ui.exercises_answer("ana", second, "definitely wrong")
    assert feedback.startswith("❌") and second["answer"] in feedback
    assert ui.exercises_progress("ana")["attempts"] == 2
    stats = ui.exercises_class_stats()
    assert sum(row[3] for row in stats) == 2


def test_typed_answers_are_graded_by_value():
    exercise = {"type": "short_answer", "stem": "Compute 1/4 + 1/4.", "answer": "1/2", "options": None}
    assert ui.grade(exercise, "2/4") and ui.grade(exercise, "0.5") and not ui.grade(exercise, "1/8")


def test_errors_are_clear():
    with pytest.raises(BoyaError):
        ui.exercises_next("  ")
    with pytest.raises(BoyaError):
        ui.exercises_answer("ana", None, "3")
    _, _, exercise = ui.exercises_next("ben")
    with pytest.raises(BoyaError):
        ui.exercises_answer("ben", exercise, "")
    with pytest.raises(BoyaError, match="not served"):
        ui.exercises_answer("carl", exercise, exercise["answer"])


def test_teacher_view_graph_and_worksheet(tmp_path):
    figure = ui.graph_figure("ana")
    assert figure.axes
    markdown, files = ui.exercises_worksheet("6.EE.A.3", 4, None)
    assert "Answer key" in markdown and sorted(f.rsplit(".", 1)[1] for f in files) == ["md", "pdf"]


def test_build_ui_prefixes_api_names():
    blocks = ui.build_ui()
    names = [dep.get("api_name") for dep in blocks.config["dependencies"] if dep.get("api_name")]
    assert names and all(name.startswith("exercises_") for name in names)
