"""Fuzzing the tutor protocol (hypothesis): any input line gets exactly one JSON object back, never an internal error.

An ``internal error`` answer means an exception the protocol did not anticipate (a bug that the
handler caught on its line), so it fails here as a crash would.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import boya_env

pytest.importorskip("boya_exercises")

OPS = ["kg", "next", "answer", "generate", "state", "nope", "", None, 3, ["next"], {"op": "kg"}]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
field_values = st.one_of(
    json_values,
    st.sampled_from(
        ["s1", "6.EE.A.3", "multiple_choice", "short_answer", 3, 0, 6, -1, "x" * 200, "", " ", True, 1e308]
    ),
)
requests = st.fixed_dictionaries(
    {"op": st.sampled_from(OPS)},
    optional={
        name: field_values
        for name in ("student", "exercise_id", "correct", "seconds", "kp", "difficulty", "type")
    },
)
lines = st.one_of(
    requests.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=80),
    st.binary(max_size=40).map(lambda raw: raw.decode("utf-8", "replace")),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from boya_exercises.engine import Engine
    from boya_exercises.store import Store

    return Engine(Store(f"sqlite:///{tmp_path_factory.mktemp('tutor') / 'fuzz.db'}"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=lines)
def test_any_line_gets_one_json_answer_and_no_internal_error(engine, line):
    from boya_exercises.tutor import handle

    response = handle(engine, line)
    assert isinstance(response, dict)
    json.dumps(response)
    assert "internal error" not in str(response.get("error", "")), (line, response)


def test_generate_with_a_list_as_kp_is_a_clear_error(engine):
    """Once answered "internal error: TypeError" (an unhashable kp reached a dict lookup)."""
    from boya_exercises.tutor import handle

    for kp in ([], ["6.EE.A.3"], {"id": "6.EE.A.3"}):
        request = {"op": "generate", "kp": kp, "difficulty": 3, "type": "short_answer"}
        response = handle(engine, json.dumps(request))
        assert "internal error" not in response["error"] and "'kp'" in response["error"], response
    assert handle(engine, json.dumps({"op": ["next"], "student": "s"}))["error"].startswith("unknown op")


# Every request kind of ../shared/schemas/tutor-protocol.md with well-typed fields; the test replaces one field at
# a time by a value of another JSON type. ``exercise_id`` is filled in with an exercise served to the student.
VALID = {
    "next": {"student": "typed"},
    "answer": {"student": "typed", "exercise_id": "", "correct": True, "seconds": 3.5},
    "generate": {"kp": "6.EE.A.3", "difficulty": 3, "type": "short_answer"},
    "state": {"student": "typed"},
}
JSON_TYPES = {
    "string": st.text(max_size=10),
    "integer": st.integers(),
    "float": st.floats(allow_nan=False),
    "boolean": st.booleans(),
    "null": st.none(),
    "list": st.lists(json_values, max_size=3),
    "object": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
}
ACCEPTED = {  # the JSON types each field accepts
    "student": {"string"},
    "exercise_id": {"string"},
    "correct": {"boolean"},
    "seconds": {"integer", "float", "null"},
    "kp": {"string"},
    "difficulty": {"integer"},
    "type": {"string"},
}
wrong_fields = st.sampled_from([(op, name) for op, fields in VALID.items() for name in fields]).flatmap(
    lambda pair: st.tuples(
        st.just(pair),
        st.one_of([JSON_TYPES[kind] for kind in JSON_TYPES if kind not in ACCEPTED[pair[1]]]),
    )
)


def test_every_field_of_every_request_kind_is_fuzzed():
    """The table above covers the protocol: each op but kg (which has no fields) and each field it names."""
    from boya_exercises.tutor import _REQUESTS

    assert {op: set(fields) for op, fields in VALID.items()} == {
        op: set(fields) for op, fields in _REQUESTS.items() if fields
    }


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=wrong_fields)
def test_a_field_of_the_wrong_type_is_named_and_nothing_is_recorded(engine, case):
    from boya_exercises.tutor import handle

    (op, name), value = case
    before = handle(engine, json.dumps({"op": "state", "student": "typed"}))["attempts"]
    request = {"op": op, **VALID[op], name: value}
    if op == "answer" and name != "exercise_id":
        served = handle(engine, json.dumps({"op": "next", "student": "typed"}))
        request["exercise_id"] = served["exercise"]["id"]
    response = handle(engine, json.dumps(request))
    assert set(response) == {"error"}, (request, response)
    assert f"field {name!r} of op {op!r} must be" in response["error"], (request, response)
    assert handle(engine, json.dumps({"op": "state", "student": "typed"}))["attempts"] == before
    if op == "answer" and name != "exercise_id":  # the exercise still takes its one answer
        fixed = dict(request, **{name: VALID["answer"][name]})
        assert handle(engine, json.dumps(fixed))["ok"] is True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    student=st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
    seconds=field_values,
    correct=field_values,
)
def test_a_served_exercise_accepts_one_answer_whatever_the_extra_fields(engine, student, seconds, correct):
    from boya_exercises.tutor import handle

    served = handle(engine, json.dumps({"op": "next", "student": student}))
    assert "exercise" in served, served
    answer = {
        "op": "answer",
        "student": student,
        "exercise_id": served["exercise"]["id"],
        "correct": correct,
        "seconds": seconds,
    }
    first = handle(engine, json.dumps(answer))
    assert "internal error" not in str(first.get("error", "")), (answer, first)
    valid = isinstance(correct, bool) and (
        seconds is None or (type(seconds) in (int, float) and 0 <= seconds <= sys.float_info.max)
    )
    assert ("ok" in first) == valid, (answer, first)
    again = handle(engine, json.dumps(dict(answer, correct=True, seconds=1)))
    assert ("ok" in again) == (not valid), (answer, again)  # answered once, never twice


@pytest.mark.slow
@settings(max_examples=3, deadline=None)
@given(
    batch=st.lists(
        lines.filter(lambda line: not any(c in line for c in "\r\n\x1c\x1d\x1e\x85\u2028\u2029\x0b\x0c")),
        min_size=20,
        max_size=40,
    )
)
def test_tutor_process_answers_every_line_in_order(tmp_path_factory, batch):
    boya = Path(sys.executable).with_name("boya")
    db = tmp_path_factory.mktemp("tutor-process") / "fuzz.db"
    stdin = "\n".join([*batch, json.dumps({"op": "state", "student": "last"})]) + "\n"
    result = subprocess.run(
        [str(boya), "exercises", "tutor", "--db", f"sqlite:///{db}"],
        input=stdin,
        capture_output=True,
        text=True,
        env=boya_env(),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(batch) + 1
    assert answers[-1] == {"mastery": {}, "attempts": 0}
    crashes = [
        (line, a)
        for line, a in zip(batch, answers[:-1], strict=True)
        if "internal error" in str(a.get("error", ""))
    ]
    assert crashes == []
