"""The engine, its database and the tutor protocol: adaptive serving, errors on their line, nothing lost."""

import io
import json
import subprocess
import sys
import threading

import pytest
from boya.errors import BoyaError
from boya_exercises.engine import Engine
from boya_exercises.store import Attempt, Store
from boya_exercises.tutor import handle, serve
from boya_exercises.verify import verify


@pytest.fixture
def engine(database_url):
    return Engine(Store(database_url))


def test_next_answer_state_round_trip(engine):
    exercise = engine.next("s1")
    assert verify(exercise).ok
    mastery = engine.answer("s1", exercise["id"], True, 12.5)
    assert exercise["kp"] in mastery and 0.0 <= mastery[exercise["kp"]] <= 1.0
    assert engine.state("s1")["attempts"] == 1


def test_difficulty_rises_with_hits_and_falls_after_a_miss_streak(engine):
    levels = []
    for _ in range(12):
        exercise = engine.next("strong")
        levels.append(exercise["difficulty"])
        engine.answer("strong", exercise["id"], True)
    assert max(levels[-4:]) > levels[0]
    last = None
    for _ in range(3):
        exercise = engine.next("weak")
        assert last is None or exercise["kp"] != last["kp"] or exercise["difficulty"] <= last["difficulty"]
        engine.answer("weak", exercise["id"], False)
        last = exercise


def test_answer_errors_lose_nothing(engine):
    exercise = engine.next("s2")
    with pytest.raises(BoyaError, match="not served"):
        engine.answer("s2", "ex-unknown", True)
    with pytest.raises(BoyaError, match="not served"):
        engine.answer("someone-else", exercise["id"], True)
    with pytest.raises(BoyaError, match="true or false"):
        engine.answer("s2", exercise["id"], "yes")
    engine.answer("s2", exercise["id"], False)
    with pytest.raises(BoyaError, match="already answered"):
        engine.answer("s2", exercise["id"], True)
    assert engine.state("s2")["attempts"] == 1


def test_concurrent_sessions_of_one_student_record_every_attempt(database_url):
    """Two sessions (two engines, two connections) answer for one student at once: all attempts kept, none twice."""
    engines = [Engine(Store(database_url)), Engine(Store(database_url))]
    served = [engines[i % 2].next("twin") for i in range(8)]
    errors, done = [], []

    def answer(which):
        for exercise in served:
            try:
                engines[which].answer("twin", exercise["id"], True, 1.0)
                done.append(exercise["id"])
            except BoyaError as error:
                errors.append(str(error))

    threads = [threading.Thread(target=answer, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    unique = {e["id"] for e in served}
    assert sorted(done) == sorted(unique)
    assert all("already answered" in message for message in errors)
    with engines[0].store.read() as session:
        assert session.query(Attempt).filter_by(student_id="twin").count() == len(unique)
    assert engines[1].state("twin")["attempts"] == len(unique)


def test_protocol_lines(engine):
    lines = [
        '{"op": "kg"}',
        '{"op": "next", "student": "p1"}',
        "this is not json",
        '{"op": "fly"}',
        '["op", "next"]',
        '{"op": "answer", "student": "p1", "exercise_id": "nope", "correct": true}',
        '{"op": "generate", "kp": "6.EE.A.3", "difficulty": 9, "type": "short_answer"}',
        '{"op": "generate", "kp": "NOT.A.KP", "difficulty": 2, "type": "short_answer"}',
        '{"op": "generate", "kp": "6.EE.A.3", "difficulty": 2, "type": "fill_blank"}',
        '{"op": "state", "student": "p1"}',
        '{"op": "next"}',
    ]
    out = io.StringIO()
    serve(engine, io.StringIO("\n".join(lines) + "\n"), out)
    responses = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(responses) == len(lines)
    kg, nxt, bad_json, bad_op, not_object, bad_answer, bad_level, bad_kp, generated, state, missing = (
        responses
    )
    assert {"id", "title", "level", "servable"} == set(kg["nodes"][0]) and kg["edges"]
    assert verify(nxt["exercise"]).ok
    for response in (bad_json, bad_op, not_object, bad_answer, bad_level, bad_kp, missing):
        assert set(response) == {"error"} and response["error"]
    assert generated["exercise"]["type"] == "fill_blank"
    assert state == {"mastery": {}, "attempts": 0}
    answer = handle(
        engine,
        json.dumps(
            {
                "op": "answer",
                "student": "p1",
                "exercise_id": nxt["exercise"]["id"],
                "correct": True,
                "seconds": 3,
            }
        ),
    )
    assert answer["ok"] is True and nxt["exercise"]["kp"] in answer["mastery"]


def test_tutor_command_over_pipes(tmp_path):
    url = f"sqlite:///{tmp_path / 'tutor.db'}"
    process = subprocess.Popen(
        [sys.executable, "-c", "from boya.cli import main; main()", "exercises", "tutor", "--db", url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    process.stdin.write('{"op": "next", "student": "pipe"}\n')
    process.stdin.flush()
    exercise = json.loads(process.stdout.readline())["exercise"]
    process.stdin.write("{broken\n")
    process.stdin.flush()
    assert "error" in json.loads(process.stdout.readline())
    process.stdin.write(
        json.dumps({"op": "answer", "student": "pipe", "exercise_id": exercise["id"], "correct": False})
        + "\n"
    )
    process.stdin.close()
    assert json.loads(process.stdout.readline())["ok"] is True
    assert process.wait(timeout=60) == 0
