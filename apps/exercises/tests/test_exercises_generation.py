"""Generated exercises: every KP, type and difficulty verifies; distractors follow the rules; bad requests fail clearly."""

import json
from importlib import resources

import pytest
import sympy
from boya.errors import BoyaError
from boya_exercises.answers import is_correct, read_answer
from boya_exercises.exercise import TYPES, distractors, generate
from boya_exercises.generators import Problem, all_specs
from boya_exercises.verify import solve_stem, verify

SCHEMA_REQUIRED = ["id", "kp", "type", "difficulty", "stem", "options", "answer", "solution", "verified"]


def test_at_least_30_servable_kps_across_the_families():
    specs = all_specs()
    assert len(specs) >= 30
    families = {spec.family for spec in specs.values()}
    assert {
        "whole-number arithmetic",
        "fractions",
        "decimals",
        "percentages",
        "negative numbers",
        "expressions",
        "linear equations",
        "quadratics",
    } <= families
    assert all(spec.title_en and spec.title_zh for spec in specs.values())


@pytest.mark.parametrize("kp", sorted(all_specs()))
def test_every_kp_type_and_difficulty_verifies(kp):
    for exercise_type in TYPES:
        for difficulty in range(1, 6):
            exercise = generate(kp, exercise_type, difficulty, seed=difficulty * 31)
            assert list(exercise) == SCHEMA_REQUIRED
            assert exercise["verified"] is True and verify(exercise).ok
            assert (
                exercise["kp"] == kp
                and exercise["type"] == exercise_type
                and exercise["difficulty"] == difficulty
            )
            if exercise_type == "multiple_choice":
                assert (
                    len(set(exercise["options"])) == 4 and exercise["options"].count(exercise["answer"]) == 1
                )
            else:
                assert exercise["options"] is None
            if exercise_type == "fill_blank":
                assert "___" in exercise["stem"]
            if exercise_type == "true_false":
                assert exercise["answer"] in ("true", "false")


def test_same_seed_same_exercise_and_ids_are_content_hashes():
    a = generate("5.NF.A.1", "multiple_choice", 3, seed=5)
    b = generate("5.NF.A.1", "multiple_choice", 3, seed=5)
    c = generate("5.NF.A.1", "multiple_choice", 3, seed=6)
    assert a == b and a["id"] != c["id"]


def test_schema_file_matches_what_we_emit():
    schema = json.loads(
        resources.files("boya_exercises").joinpath("data", "exercise.schema.json").read_text()
    )
    assert schema["required"] == SCHEMA_REQUIRED
    assert schema["properties"]["type"]["enum"] == list(TYPES)


def test_verify_rejects_a_wrong_key_a_second_correct_option_and_a_false_claim():
    exercise = generate("5.NF.A.1", "multiple_choice", 2, seed=3)
    wrong = next(option for option in exercise["options"] if option != exercise["answer"])
    assert not verify(dict(exercise, answer=wrong)).ok
    duplicate = [exercise["answer"] if option == wrong else option for option in exercise["options"]]
    assert not verify(dict(exercise, options=duplicate)).ok
    claim = generate("7.NS.A.2", "true_false", 3, seed=1)
    flipped = "false" if claim["answer"] == "true" else "true"
    assert not verify(dict(claim, answer=flipped)).ok
    assert not verify(dict(claim, stem="True or false? Tell me a story. The answer is 3.")).ok


@pytest.mark.parametrize("kp", ["6.EE.A.3", "HSA.APR.A.1", "HSA.SSE.B.3.a", "HSA.REI.B.4.b", "7.EE.B.4.a"])
def test_verify_rejects_a_planted_wrong_key_or_a_distractor_equal_to_the_key(kp):
    """Polynomial answers compare by value (sympy's polynomial ring), so an equal answer spelled differently is caught."""
    exercise = generate(kp, "multiple_choice", 4, seed=11)
    wrong = next(option for option in exercise["options"] if option != exercise["answer"])
    assert not verify(dict(exercise, answer=wrong)).ok
    key = exercise["answer"]
    respelled = {
        "6.EE.A.3": lambda k: f"0 + {k}",
        "HSA.APR.A.1": lambda k: f"{k} + x - x",
        "HSA.SSE.B.3.a": lambda k: f"1({k})",
        "HSA.REI.B.4.b": lambda k: ", ".join(reversed(k.split(", "))),
        "7.EE.B.4.a": lambda k: f"{k}.0",
    }[kp](key)
    assert (
        respelled != key
        and verify(
            dict(
                exercise,
                answer=respelled,
                options=[respelled if o == key else o for o in exercise["options"]],
            )
        ).ok
    )
    planted = [respelled if option == wrong else option for option in exercise["options"]]
    verdict = verify(dict(exercise, options=planted))
    assert not verdict.ok and "exactly one option" in verdict.reason


def test_solver_reads_stems_independently_of_the_generator():
    assert solve_stem("Compute 3/4 ÷ 1/2.").value == sympy.Rational(3, 2)
    assert solve_stem("Solve for x: x^2 - 5x + 6 = 0.").value == (2, 3)
    assert solve_stem("Round 3456 to the nearest hundred.").value == 3500
    assert solve_stem("What is 15% of 80?").value == 12
    assert solve_stem("Factor x^2 + 5x + 6 completely.").kind == "factored"
    with pytest.raises(BoyaError):
        solve_stem("Solve for x: 9x + 2 = 9x + 3.")  # no solution: ill-posed, rejected
    with pytest.raises(BoyaError):
        solve_stem("Factor x^2 + 91x + 1460 completely.")  # does not factor over the integers
    with pytest.raises(BoyaError):
        solve_stem("Compute __import__('os').")


def test_fraction_misconception_distractor_is_offered():
    problem = all_specs()["5.NF.A.1"].make
    from random import Random

    rng = Random(0)
    seen = set()
    for _ in range(20):
        p = problem(rng, 1)
        seen.update(rule for rule, _ in p.wrong)
    assert "a/b + c/d = (a+c)/(b+d)" in seen


def test_distractors_are_distinct_never_the_key_and_fall_back_to_near_misses():
    problem = Problem(
        "Compute 2 + 2.", 4, "integer", "", (("dup", 4), ("dup", 4.0), ("same", 5), ("same", 5))
    )
    from random import Random

    options = distractors(problem, Random(0))
    assert len(options) == 3 and "4" not in options and len(set(options)) == 3 and options[0] == "5"


def test_grading_accepts_equivalent_answers_and_rejects_unfactored_forms():
    assert is_correct("6/8", "3/4", "fraction") and is_correct("0.75", "3/4", "fraction")
    assert is_correct("(x+3)(x-2)", "(x - 2)(x + 3)", "factored")
    assert not is_correct("x^2 + x - 6", "(x - 2)(x + 3)", "factored")
    assert is_correct("2(x + 1) - x", "x + 2", "expression") and not is_correct(
        "x + y", "x + 2", "expression"
    )
    assert is_correct("x/2 + 1/3", "(3x + 2)/6", "expression") and not is_correct("|x|", "x", "expression")
    assert is_correct("007", "7", "integer") and is_correct("-3 / 4", "-0.75", "fraction")
    assert is_correct("3, -2", "-2, 3", "roots") and not is_correct("3", "-2, 3", "roots")
    assert not is_correct("banana", "3", "integer")
    with pytest.raises(BoyaError):
        read_answer("exit()", "integer")


@pytest.mark.parametrize(
    ("kp", "exercise_type", "difficulty", "message"),
    [
        ("9.ZZ.Z.9", "short_answer", 3, "not a knowledge point"),
        ("K.CC.A.1", "short_answer", 3, "no exercise generator"),
        ("6.EE.A.3", "essay", 3, "unknown exercise type"),
        ("6.EE.A.3", "short_answer", 0, "difficulty must be"),
        ("6.EE.A.3", "short_answer", 6, "difficulty must be"),
        ("6.EE.A.3", "short_answer", "3", "difficulty must be"),
        (["6.EE.A.3"], "short_answer", 3, "must be a string"),
    ],
)
def test_bad_requests_raise_clear_errors(kp, exercise_type, difficulty, message):
    with pytest.raises(BoyaError, match=message):
        generate(kp, exercise_type, difficulty)


def test_template_word_problems_verify_and_carry_the_same_key():
    from boya_exercises.stem_writers import template_writer

    stories = 0
    for kp in ("3.OA.C.7", "4.NBT.B.6", "6.RP.A.3.b", "7.RP.A.3", "2.NBT.B.5"):
        for seed in range(5):
            exercise = generate(kp, "short_answer", 2, seed=seed, stem_writer=template_writer)
            assert verify(exercise).ok
            stories += not exercise["stem"].startswith(("Compute", "Divide", "What is", "A price of"))
    assert stories >= 20


def test_template_word_problems_cover_most_servable_kps_and_a_changed_number_is_rejected():
    import re

    from boya_exercises.stem_writers import template_writer

    worded = {}
    for kp in all_specs():
        for difficulty in (1, 3, 5):
            exercise = generate(kp, "short_answer", difficulty, seed=difficulty, stem_writer=template_writer)
            assert verify(exercise).ok
            if exercise["solution"].startswith("In numbers:"):
                worded.setdefault(kp, exercise)
    assert len(worded) >= 28, sorted(set(all_specs()) - set(worded))
    for kp in ("1.OA.D.8", "5.NF.A.1", "6.NS.A.1", "7.NS.A.1", "6.NS.B.4", "6.EE.A.2.c", "6.NS.B.3"):
        story = worded[kp]["stem"]
        changed = re.sub(r"(\d+)(\D*)$", lambda m: f"{int(m[1]) + 1}{m[2]}", story)  # the last number + 1
        assert changed != story and not verify(dict(worded[kp], stem=changed)).ok, (kp, changed)
