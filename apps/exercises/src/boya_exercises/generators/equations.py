"""Linear equations in one variable: one step, two steps, brackets, unknowns on both sides."""

from sympy import Rational as Q

from . import KPSpec, Problem
from .expressions import linear_text


def _one_step(rng, d):
    top = (10, 20, 50, 100, 200)[d - 1]
    x, p = rng.randint(1, top), rng.randint(2, top // 2 if d > 1 else 9)
    if d >= 2 and rng.random() < 0.5:
        p = rng.randint(2, (5, 9, 12, 15, 25)[d - 1])
        return Problem(
            f"Solve for x: {p}x = {p * x}.",
            x,
            "integer",
            f"Divide both sides by {p}: x = {p * x} ÷ {p} = {x}.",
            (("operation swap", p * x - p), ("operation swap", p * x * p), ("off by one", x + 1)),
        )
    return Problem(
        f"Solve for x: x + {p} = {x + p}.",
        x,
        "integer",
        f"Subtract {p} from both sides: x = {x + p} − {p} = {x}.",
        (("operation swap", x + 2 * p), ("sign slip", -x), ("off by one", x - 1)),
    )


def _two_step(rng, d):
    x = rng.randint(1, 10) if d < 3 else rng.randint(-12, 12) or 3
    p, q = rng.randint(2, (5, 9, 9, 12, 12)[d - 1]), rng.randint(1, (10, 20, 30, 40, 50)[d - 1])
    q = -q if d >= 2 and rng.random() < 0.5 else q
    if d >= 4 and rng.random() < 0.5:
        r = p * (x + q)
        return Problem(
            f"Solve for x: {p}(x {'+' if q >= 0 else '−'} {abs(q)}) = {r}.",
            x,
            "integer",
            f"Divide both sides by {p}: x {'+' if q >= 0 else '−'} {abs(q)} = {r // p}; then x = {x}.",
            (
                ("sign slip", r // p + q),
                ("multiplied only the first term", Q(r - q, p)),
                ("operation swap", r - q),
            ),
        )
    r = p * x + q
    return Problem(
        f"Solve for x: {linear_text(p, q)} = {r}.",
        x,
        "integer",
        f"Undo the {'+' if q >= 0 else '−'} {abs(q)} first: {p}x = {r - q}; then divide by {p}: x = {x}.",
        (("sign slip", Q(r + q, p)), ("divided first", Q(r, p) - q), ("forgot to divide", r - q)),
    )


def _both_sides(rng, d):
    a, c = rng.randint(2, (6, 9, 12, 12, 15)[d - 1]), rng.randint(1, 5)
    while a == c:
        c = rng.randint(1, 5)
    b, e = rng.randint(-20, 20), rng.randint(-20, 20)
    if d < 4:
        x = rng.randint(-10, 10)
        e = (a - c) * x + b
    value = Q(e - b, a - c)
    return Problem(
        f"Solve for x: {linear_text(a, b)} = {linear_text(c, e)}.",
        value,
        "fraction",
        f"Collect x on one side and numbers on the other: {a - c}x = {e - b}, so x = {value}.",
        (("sign slip", Q(e + b, a - c)), ("sign slip", Q(e - b, a + c)), ("sign slip", -value)),
    )


SPECS = [
    KPSpec(
        "6.EE.B.7",
        "linear equations",
        "Solve x + p = q and px = q",
        "解一步方程 x + p = q、px = q",
        _one_step,
    ),
    KPSpec(
        "7.EE.B.4.a",
        "linear equations",
        "Solve px + q = r and p(x + q) = r",
        "解两步方程 px + q = r",
        _two_step,
    ),
    KPSpec(
        "8.EE.C.7.b",
        "linear equations",
        "Solve linear equations with the unknown on both sides",
        "解两边含未知数的一元一次方程",
        _both_sides,
    ),
]
