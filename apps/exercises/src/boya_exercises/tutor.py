"""``boya exercises tutor``: the line-oriented JSON protocol of ../schemas/tutor-protocol.md over stdin/stdout.

One request per line, exactly one JSON response per line, flushed, in order. A line that is not a JSON object,
names an unknown op, or fails (unknown KP, exercise not served…) gets ``{"error": "..."}`` and the session goes on.
"""

import json
import sys

from boya.errors import BoyaError

from .engine import Engine
from .graph import kg_json

_STRING = (lambda value: isinstance(value, str), "a string")
_BOOLEAN = (lambda value: isinstance(value, bool), "true or false")
_INTEGER = (lambda value: isinstance(value, int) and not isinstance(value, bool), "an integer")
_NUMBER_OR_NULL = (
    lambda value: value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)),
    "a number or null",
)

# Each op's fields as tutor-protocol.md lists them: name -> (required, (check, what the check wants)).
_REQUESTS = {
    "kg": {},
    "next": {"student": (True, _STRING)},
    "answer": {
        "student": (True, _STRING),
        "exercise_id": (True, _STRING),
        "correct": (True, _BOOLEAN),
        "seconds": (False, _NUMBER_OR_NULL),
    },
    "generate": {"kp": (True, _STRING), "difficulty": (True, _INTEGER), "type": (True, _STRING)},
    "state": {"student": (True, _STRING)},
}
_JSON_TYPES = {
    type(None): "null",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
}


def request_error(request) -> str | None:
    """What is wrong with a decoded request (not an object, unknown op, a field missing or of the wrong JSON type), or None.

    Checked here, before the engine sees it, so a list where a string belongs is answered by naming the field
    rather than failing somewhere inside (an unhashable kp once answered "internal error: TypeError").
    """
    if not isinstance(request, dict):
        return "a request must be a JSON object with an 'op'"
    op = request.get("op")
    if not isinstance(op, str) or op not in _REQUESTS:
        return f"unknown op {op!r}; ops: {', '.join(_REQUESTS)}"
    missing = [name for name, (required, _) in _REQUESTS[op].items() if required and name not in request]
    if missing:
        return f"op {op!r} needs {', '.join(missing)}"
    for name, (_, (check, wanted)) in _REQUESTS[op].items():
        if name in request and not check(request[name]):
            return f"field {name!r} of op {op!r} must be {wanted}, got {_JSON_TYPES[type(request[name])]}"
    return None


def handle(engine: Engine, line: str) -> dict:
    """The response to one request line."""
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        return {"error": f"malformed JSON: {error.msg} at column {error.colno}"}
    error = request_error(request)
    if error:
        return {"error": error}
    op = request["op"]
    try:
        if op == "kg":
            graph = kg_json()
            return {
                "nodes": [
                    {k: node[k] for k in ("id", "title", "level", "servable")} for node in graph["nodes"]
                ],
                "edges": graph["edges"],
            }
        if op == "next":
            return {"exercise": engine.next(request["student"])}
        if op == "answer":
            mastery = engine.answer(
                request["student"], request["exercise_id"], request["correct"], request.get("seconds")
            )
            return {"ok": True, "mastery": mastery}
        if op == "generate":
            return {"exercise": engine.generate(request["kp"], request["difficulty"], request["type"])}
        return engine.state(request["student"])
    except BoyaError as error:
        return {"error": str(error)}
    except Exception as error:  # noqa: BLE001 - a bug must not end the student's session; it is reported on its line
        return {"error": f"internal error: {type(error).__name__}: {error}"}


def serve(engine: Engine, stdin=None, stdout=None) -> None:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    for line in stdin:
        stdout.write(json.dumps(handle(engine, line), ensure_ascii=False) + "\n")
        stdout.flush()
