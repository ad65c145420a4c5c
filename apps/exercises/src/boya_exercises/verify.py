"""Re-solve an exercise from its text alone and check that its key, options and claim are right.

The solver knows nothing of the generator's parameters: it reads the stem through a small grammar of question
forms (``Compute …``, ``Solve for x: … = …``, ``Round … to the nearest …``, percent and rate questions, and the word
problems of :mod:`boya_exercises.wording`), solves with sympy and compares. Anything it cannot read is unverifiable
and therefore rejected — that is how generated wordings from the language model are kept honest.
"""

import math
import re
from dataclasses import dataclass
from typing import Any

import sympy
from boya.errors import BoyaError

from .answers import (
    X,
    comparable,
    expand_polynomial,
    factor_over_integers,
    parse_math,
    read_answer,
    same_answer,
)


@dataclass(frozen=True)
class Solved:
    """What the stem asks for: its value and the kind of answer it expects."""

    value: Any
    kind: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


_NUMBER = r"-?\d+(?:\.\d+)?"
_PLACES = {
    "ten": 10,
    "hundred": 100,
    "thousand": 1000,
    "ten thousand": 10000,
    "whole number": 1,
    "tenth": sympy.Rational(1, 10),
    "hundredth": sympy.Rational(1, 100),
}


def _number_kind(text: str, value) -> str:
    if re.search(r"\d\.\d", text):
        return "decimal"
    if re.search(r"\d\s*/\s*\d", text) or sympy.Rational(value).q != 1:
        return "fraction"
    return "integer"


def _compute(m):
    value = parse_math(m["expr"])
    if not value.is_Rational:
        raise BoyaError("not a number")
    return Solved(value, _number_kind(m["expr"], value))


def _solve_for(m):
    """Linear or quadratic in the unknown (after clearing denominators); exactly the rational solutions, or an error."""
    var = sympy.Symbol(m["var"])
    difference = parse_math(m["lhs"]) - parse_math(m["rhs"])
    if difference.is_polynomial(var):  # the usual case: no need for sympy.together, the slowest step
        numerator, denominator = difference, sympy.Integer(1)
    else:
        numerator, denominator = sympy.fraction(sympy.together(difference))
    if numerator.free_symbols != {var} or not denominator.free_symbols <= {var}:
        raise BoyaError("the equation must contain exactly the unknown it asks for")
    coefficients = sympy.Poly(numerator, var).all_coeffs()
    if len(coefficients) == 2:
        solutions = [-coefficients[1] / coefficients[0]]
    elif len(coefficients) == 3:
        a, b, c = coefficients
        root = sympy.sqrt(b * b - 4 * a * c)
        if not root.is_Rational:
            raise BoyaError("no rational solution")
        solutions = sorted({(-b - root) / (2 * a), (-b + root) / (2 * a)})
    else:
        raise BoyaError("only linear and quadratic equations are solved")
    solutions = [x for x in solutions if x.is_Rational and denominator.subs(var, x) != 0]
    if not solutions:
        raise BoyaError("no rational solution")
    if len(coefficients) == 3:
        return Solved(tuple(solutions), "roots")
    return Solved(solutions[0], _number_kind(m["lhs"] + m["rhs"], solutions[0]))


def _round(m):
    number, unit = sympy.Rational(m["number"]), _PLACES[m["place"]]
    return Solved(
        sympy.floor(number / unit + sympy.Rational(1, 2)) * unit,
        "decimal" if "." in m["number"] else "integer",
    )


def _percent_of(m):
    return Solved(sympy.Rational(m["percent"]) * sympy.Rational(m["whole"]) / 100, "decimal")


def _whole_from_part(m):
    return Solved(sympy.Rational(m["part"]) * 100 / sympy.Rational(m["percent"]), "decimal")


def _percent_change(m):
    price, percent = sympy.Rational(m["price"]), sympy.Rational(m["percent"])
    sign = 1 if m["direction"] == "increased" else -1
    return Solved(price * (1 + sign * percent / 100), "decimal")


def _unit_cost(m):
    if m["item"] != m["items"][:-1]:
        raise BoyaError("the question asks about another item")
    return Solved(sympy.Rational(m["total"]) / int(m["count"]), "decimal")


def _gcf_lcm(m):
    a, b = int(m["a"]), int(m["b"])
    return Solved(math.gcd(a, b) if m["which"] == "greatest common factor" else math.lcm(a, b), "integer")


def _remainder(m):
    quotient, remainder = divmod(int(m["dividend"]), int(m["divisor"]))
    return Solved((quotient, remainder), "remainder")


def _as_decimal(m):
    return Solved(sympy.Rational(int(m["num"]), int(m["den"])), "decimal")


def _greatest(m):
    values = [parse_math(part) for part in re.split(r", | or ", m["listing"])]
    if len(values) < 2 or len(set(values)) != len(values) or not all(v.is_Rational for v in values):
        raise BoyaError("the list must hold distinct numbers")
    return Solved(max(values), "fraction")


def _evaluate(m):
    assignments = dict(re.findall(r"([a-z]) = (-?\d+)", m["assign"]))
    expr = parse_math(m["expr"])
    if {str(s) for s in expr.free_symbols} != set(assignments):
        raise BoyaError("every letter must be given a value")
    value = expr.subs({sympy.Symbol(k): int(v) for k, v in assignments.items()})
    return Solved(value, "integer" if value.q == 1 else "fraction")


def _expand(m):
    return Solved(expand_polynomial(parse_math(m["expr"])), "expression")


def _factor(m):
    expr = parse_math(m["expr"])
    if expr.free_symbols != {X}:
        raise BoyaError("only polynomials in x are factored")
    factored = factor_over_integers(expr)
    if not (factored.is_Mul or factored.is_Pow):
        raise BoyaError("the polynomial does not factor over the integers")
    return Solved(factored, "factored")


QUESTION_FORMS = [
    (re.compile(r"^Compute (?P<expr>.+)\.$"), _compute),
    (re.compile(r"^Solve for (?P<var>[a-z]): (?P<lhs>[^=]+) = (?P<rhs>[^=]+)\.$"), _solve_for),
    (
        re.compile(
            rf"^Round (?P<number>{_NUMBER}) to the nearest (?P<place>ten thousand|ten|hundred|thousand|whole number|tenth|hundredth)\.$"
        ),
        _round,
    ),
    (re.compile(rf"^What is (?P<percent>{_NUMBER})% of (?P<whole>{_NUMBER})\?$"), _percent_of),
    (re.compile(rf"^(?P<part>{_NUMBER}) is (?P<percent>{_NUMBER})% of what number\?$"), _whole_from_part),
    (
        re.compile(
            rf"^A price of \$(?P<price>{_NUMBER}) is (?P<direction>increased|decreased) by (?P<percent>{_NUMBER})%\. "
            r"What is the new price in dollars\?$"
        ),
        _percent_change,
    ),
    (
        re.compile(
            rf"^(?P<count>\d+) (?P<items>[a-z]+s) cost \$(?P<total>{_NUMBER})\. What is the cost of one (?P<item>[a-z]+) in dollars\?$"
        ),
        _unit_cost,
    ),
    (
        re.compile(
            r"^Find the (?P<which>greatest common factor|least common multiple) of (?P<a>\d+) and (?P<b>\d+)\.$"
        ),
        _gcf_lcm,
    ),
    (
        re.compile(
            r"^Divide (?P<dividend>\d+) by (?P<divisor>[1-9]\d*)\. Write the answer as quotient R remainder\.$"
        ),
        _remainder,
    ),
    (re.compile(r"^Write (?P<num>\d+)/(?P<den>[1-9]\d*) as a decimal\.$"), _as_decimal),
    (re.compile(r"^Which is the greatest: (?P<listing>[\d/, ]+ or [\d/]+)\?$"), _greatest),
    (
        re.compile(r"^Evaluate (?P<expr>.+) when (?P<assign>[a-z] = -?\d+(?: and [a-z] = -?\d+)*)\.$"),
        _evaluate,
    ),
    (re.compile(r"^Expand and simplify (?P<expr>.+)\.$"), _expand),
    (re.compile(r"^Factor (?P<expr>.+) completely\.$"), _factor),
]


def solve_stem(stem: str) -> Solved:
    """Solve a short-answer stem; raise BoyaError when no question form reads it or it has no proper answer."""
    from .wording import solve_word_problem

    for pattern, solver in QUESTION_FORMS:
        match = pattern.match(stem)
        if match:
            try:
                return solver(match)
            except (
                ValueError,
                TypeError,
                ZeroDivisionError,
                NotImplementedError,
                sympy.PolynomialError,
            ) as error:
                raise BoyaError(f"cannot solve {stem!r}: {error}") from None
    solved = solve_word_problem(stem)
    if solved is None:
        raise BoyaError(f"no question form reads {stem!r}")
    return solved


def base_stem(exercise: dict) -> tuple[str, str | None]:
    """The short-answer stem behind a rendered exercise, and the claim of a true/false one."""
    stem, kind = exercise["stem"], exercise["type"]
    if kind == "fill_blank":
        if stem.endswith(" Answer: ___"):
            return stem[: -len(" Answer: ___")], None
        match = re.match(r"^(Solve for ([a-z]): .+\.) \2 = ___$", stem)
        if match:
            return match[1], None
        if stem.endswith(" = ___") and stem.count("___") == 1:
            return f"Compute {stem[: -len(' = ___')]}.", None
        raise BoyaError("a fill-in-the-blank stem must end with its blank")
    if kind == "true_false":
        match = re.match(r"^True or false\? (.+[.?]) The answer is (.+)\.$", stem)
        if not match:
            raise BoyaError("a true/false stem must state 'The answer is …'")
        return match[1], match[2]
    return stem, None


def verify(exercise: dict) -> Verdict:
    """Whether the exercise's answer (and options, or true/false label) is what solving its stem gives."""
    try:
        stem, claim = base_stem(exercise)
        solved = solve_stem(stem)
        kind = solved.kind
        if exercise["type"] == "true_false":
            truth = same_answer(read_answer(claim, kind), solved.value, kind)
            if exercise["answer"] != ("true" if truth else "false"):
                return Verdict(False, f"the claim {claim!r} is {str(truth).lower()}")
            return Verdict(True)
        key = read_answer(exercise["answer"], kind)
        if not same_answer(key, solved.value, kind):
            return Verdict(False, f"key {exercise['answer']!r} differs from the solver's answer")
        if exercise["type"] == "multiple_choice":
            return _check_options(exercise, solved)
        if exercise.get("options") is not None:
            return Verdict(False, "only multiple_choice exercises have options")
        return Verdict(True)
    except BoyaError as error:
        return Verdict(False, str(error))


def _check_options(exercise: dict, solved: Solved) -> Verdict:
    options = exercise.get("options") or []
    if len(options) != 4 or len(set(options)) != 4:
        return Verdict(False, "multiple choice needs 4 distinct options")
    values = [read_answer(option, solved.kind) for option in options]
    forms, key = [comparable(value, solved.kind) for value in values], comparable(solved.value, solved.kind)
    correct = [
        option
        for option, value, form in zip(options, values, forms, strict=True)
        if form == key and same_answer(value, solved.value, solved.kind)
    ]
    if correct != [exercise["answer"]]:
        return Verdict(False, f"exactly one option must equal the key; correct options: {correct}")
    if len(set(forms)) != len(forms):
        return Verdict(False, "two options have the same value")
    return Verdict(True)
