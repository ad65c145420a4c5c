"""Exercises in headless Chromium: a student answers a session of exercises in the hub; the level on the card
rises and the mastery shown beside it grows.

The test reads the exercise being served from the hub's database (the one ``app_hub`` gave it) to
know the right answer, then answers in the page as a student would: a choice or a typed answer.
"""

import re
import time

import pytest
from support import ARTIFACTS, open_browser_page

pytest.importorskip("boya_exercises")
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def pending_exercise(store, student: str) -> dict | None:
    from boya_exercises.store import Served
    from sqlalchemy import select

    with store.read() as session:
        query = (
            select(Served)
            .where(Served.student_id == student, Served.answered_at.is_(None))
            .order_by(Served.id.desc())
        )
        row = session.scalars(query).first()
        return row.exercise if row else None


def wait_for_pending(store, student: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while (exercise := pending_exercise(store, student)) is None:
        assert time.monotonic() < deadline, "no exercise was served"
        time.sleep(0.2)
    return exercise


def test_a_session_of_right_answers_raises_difficulty_and_mastery(app_hub, request):
    from boya_exercises.store import Store

    store = Store(app_hub.db)
    student = f"e2e-{request.node.name[-20:]}-{int(time.time())}"
    levels, kps, mastery = [], [], []
    with open_browser_page(request) as page:
        page.goto(app_hub.url)
        page.get_by_role("tab", name="Exercises").click()
        panel = page.get_by_role("tabpanel").filter(has_text="Practice that adapts")
        panel.get_by_label("Student", exact=True).fill(student)
        for _ in range(14):
            panel.get_by_role("button", name="Next exercise").click()
            exercise = wait_for_pending(store, student)
            card = panel.get_by_text(re.compile(r"level \d/5"))
            card.filter(has_text=f"level {exercise['difficulty']}/5").filter(
                has_text=exercise["kp"]
            ).wait_for(timeout=30_000)
            panel.get_by_text("Worked solution").wait_for(state="hidden", timeout=30_000)
            levels.append(exercise["difficulty"])
            if exercise["type"] in ("multiple_choice", "true_false"):
                panel.get_by_role("radio", name=exercise["answer"], exact=True).check()
            else:
                panel.get_by_label("Your answer", exact=True).fill(exercise["answer"])
            panel.get_by_role("button", name="Check answer").click()
            panel.get_by_text("Correct!").wait_for(timeout=30_000)
            shown = panel.locator(".block").filter(has_text="Mastery per knowledge point").last
            page.wait_for_function(
                "(el) => /\\d+%/.test(el.innerText)", arg=shown.element_handle(), timeout=30_000
            )
            kps.append(exercise["kp"])
            mastery.append(shown.inner_text())
            if len(levels) >= 4 and levels[-1] > levels[0]:
                break
        page.screenshot(path=str(ARTIFACTS / "e2e-exercises.png"), full_page=True)
    assert max(levels[1:]) > levels[0], f"difficulty never rose over {len(levels)} right answers: {levels}"
    # The label lists "KP title" then "NN%" per knowledge point (the top one also as its heading).
    percents = [int(re.search(rf"{re.escape(kps[0])}[^%]*?(\d+)%", text, re.S).group(1)) for text in mastery]
    assert percents[-1] > percents[0], f"mastery of {kps[0]} shown did not grow: {percents}"
    assert pending_exercise(store, student) is None  # every served exercise was answered and recorded
