"""Turn a generated Problem into one served exercise of a given type (exercise.schema.json), verified before it leaves.

Every exercise type comes from the same (stem, key): short_answer is the stem itself, fill_blank puts '___' where
the answer goes, true_false states a claim (the key or a misconception answer), multiple_choice shows the key among
three misconception distractors. Anything :func:`boya_exercises.verify.verify` rejects is regenerated.
"""

import hashlib
import itertools
import json
from random import Random

import sympy
from boya.errors import BoyaError

from .answers import X, comparable, format_answer
from .generators import Problem, all_specs
from .kinds import DIFFICULTIES, TYPES

_TRIES = 20


def check_request(kp: str, exercise_type: str | None = None, difficulty=None) -> None:
    """Raise BoyaError for an unknown or unservable knowledge point, an unknown type or a difficulty outside 1-5."""
    if not isinstance(kp, str):
        raise BoyaError(f"knowledge point must be a string such as '6.EE.A.3', got {type(kp).__name__}")
    specs = all_specs()
    if kp not in specs:
        from .graph import load_graph

        known = load_graph().has_node(kp)
        reason = "has no exercise generator yet" if known else "is not a knowledge point of the graph"
        raise BoyaError(
            f"knowledge point {kp!r} {reason}; `boya exercises kg` lists the {len(specs)} servable ones"
        )
    if exercise_type is not None and exercise_type not in TYPES:
        raise BoyaError(f"unknown exercise type {exercise_type!r}; choose one of {', '.join(TYPES)}")
    if difficulty is not None and (
        isinstance(difficulty, bool) or not isinstance(difficulty, int) or difficulty not in DIFFICULTIES
    ):
        raise BoyaError(f"difficulty must be an integer from 1 to 5, got {difficulty!r}")


def generate(
    kp: str, exercise_type: str, difficulty: int, seed: int | None = None, *, stem_writer=None
) -> dict:
    """One verified exercise; the same (kp, type, difficulty, seed) always gives the same exercise.

    ``stem_writer(problem, rng)`` may reword the problem (the GPT-2 wording model); its stem is kept only when
    it verifies, otherwise the template's own stem is served.
    """
    from .verify import verify

    check_request(kp, exercise_type, difficulty)
    rng = Random(seed if seed is not None else Random().getrandbits(63))
    spec = all_specs()[kp]
    for _ in range(_TRIES):
        problem = spec.make(rng, difficulty)
        candidates = []
        if stem_writer is not None:
            worded = stem_writer(problem, kp, difficulty, rng)
            if worded is not None:
                candidates.append(worded)
        candidates.append(problem)
        for candidate in candidates:
            exercise = render(candidate, kp, exercise_type, difficulty, rng)
            if exercise is not None and verify(exercise).ok:
                exercise["verified"] = True
                return exercise
    raise BoyaError(
        f"could not generate a verified {exercise_type} exercise for {kp} at difficulty {difficulty}"
    )


def render(problem: Problem, kp: str, exercise_type: str, difficulty: int, rng: Random) -> dict | None:
    """The exercise dict for ``exercise_type``, or None when the problem lacks distinct wrong answers."""
    key = format_answer(problem.value, problem.kind)
    options = None
    if exercise_type == "short_answer":
        stem, answer = problem.stem, key
    elif exercise_type == "fill_blank":
        stem, answer = fill_stem(problem.stem), key
    elif exercise_type == "true_false":
        wrong = distractors(problem, rng, count=1)
        if not wrong:
            return None
        claim_true = rng.random() < 0.5
        claim = key if claim_true else wrong[0]
        stem, answer = (
            f"True or false? {problem.stem} The answer is {claim}.",
            "true" if claim_true else "false",
        )
    else:
        wrong = distractors(problem, rng)
        if len(wrong) < 3:
            return None
        options = [key, *wrong[:3]]
        rng.shuffle(options)
        stem, answer = problem.stem, key
    solution = problem.solution
    if exercise_type == "true_false":
        solution += f" The answer is {key}, so the statement is {answer}."
    exercise = {
        "id": "",
        "kp": kp,
        "type": exercise_type,
        "difficulty": difficulty,
        "stem": stem,
        "options": options,
        "answer": answer,
        "solution": solution,
        "verified": False,
    }
    exercise["id"] = exercise_id(exercise)
    return exercise


def fill_stem(stem: str) -> str:
    """Where the blank goes: '47 + 38 = ___', 'Solve for x: 3x + 5 = 20. x = ___', else 'Answer: ___'."""
    if stem.startswith("Compute ") and stem.endswith("."):
        return f"{stem[len('Compute ') : -1]} = ___"
    if (
        stem.startswith("Solve for ")
        and stem[len("Solve for ")].isalpha()
        and stem[len("Solve for ") + 1] == ":"
    ):
        return f"{stem} {stem[len('Solve for ')]} = ___"
    return f"{stem} Answer: ___"


def distractors(problem: Problem, rng: Random, count: int = 3) -> list[str]:
    """Misconception answers first (in the generator's order), then near misses; distinct by value, never the key."""
    seen, chosen = {comparable(problem.value, problem.kind)}, []
    for _rule, value in itertools.chain(problem.wrong, _near_misses(problem)):
        try:
            form = comparable(value, problem.kind)
        except (TypeError, ValueError):
            continue
        text = None if form in seen else _formattable(value, problem.kind)
        if text is None:
            continue
        seen.add(form)
        chosen.append(text)
        if len(chosen) == count:
            break
    return chosen


def _formattable(value, kind):
    try:
        if kind == "decimal":
            denominator = sympy.Rational(value).q
            while denominator % 2 == 0:
                denominator //= 2
            while denominator % 5 == 0:
                denominator //= 5
            if denominator != 1:
                return None
        if kind == "integer" and sympy.Rational(value).q != 1:
            return None
        if kind == "remainder" and (value[0] < 0 or value[1] < 0):
            return None
        return format_answer(value, kind)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _near_misses(problem: Problem):
    """Fallback wrong answers when the misconception rules collide: small, plausible offsets of the key (lazily: usually none is needed)."""
    value, kind = problem.value, problem.kind
    steps = [1, -1, 2, -2, 10, -10, 3, -3]
    if kind == "remainder":
        return (("near miss", (value[0] + step, value[1])) for step in steps if value[0] + step > 0)
    if kind == "roots":
        return (("near miss", tuple(sorted(root + step for root in value))) for step in steps)
    if kind == "factored":
        return (("near miss", value.subs(X, X + step)) for step in steps)
    if kind == "expression":
        return itertools.chain(
            (("near miss", value + step) for step in steps),
            (("near miss", value + step * X) for step in steps),
        )
    unit = sympy.Rational(1, 10) if kind == "decimal" and sympy.Rational(value).q > 1 else 1
    return (("near miss", value + step * unit) for step in steps)


def exercise_id(exercise: dict) -> str:
    """A content hash: the same id always names the same exercise."""
    content = [exercise[key] for key in ("kp", "type", "difficulty", "stem", "options", "answer")]
    return "ex-" + hashlib.sha1(json.dumps(content, ensure_ascii=False).encode()).hexdigest()[:16]
