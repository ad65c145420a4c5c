"""``boya exercises tutor``: the line-oriented JSON protocol of ../schemas/tutor-protocol.md over stdin/stdout.

One request per line, exactly one JSON response per line, flushed, in order. A line that is not a JSON object,
names an unknown op, or fails (unknown KP, exercise not served…) gets ``{"error": "..."}`` and the session goes on.
"""

import json
import sys

from boya.errors import BoyaError

from .engine import Engine
from .graph import kg_json

_FIELDS = {
    "kg": (),
    "next": ("student",),
    "answer": ("student", "exercise_id", "correct"),
    "generate": ("kp", "difficulty", "type"),
    "state": ("student",),
}


def handle(engine: Engine, line: str) -> dict:
    """The response to one request line."""
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        return {"error": f"malformed JSON: {error.msg} at column {error.colno}"}
    if not isinstance(request, dict):
        return {"error": "a request must be a JSON object with an 'op'"}
    op = request.get("op")
    if op not in _FIELDS:
        return {"error": f"unknown op {op!r}; ops: {', '.join(_FIELDS)}"}
    missing = [name for name in _FIELDS[op] if name not in request]
    if missing:
        return {"error": f"op {op!r} needs {', '.join(missing)}"}
    try:
        if op == "kg":
            graph = kg_json()
            return {"nodes": [{k: node[k] for k in ("id", "title", "level", "servable")} for node in graph["nodes"]],
                    "edges": graph["edges"]}
        if op == "next":
            return {"exercise": engine.next(request["student"])}
        if op == "answer":
            mastery = engine.answer(request["student"], request["exercise_id"], request["correct"], request.get("seconds"))
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
