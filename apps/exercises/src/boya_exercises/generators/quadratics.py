"""Quadratics: square roots, multiplying binomials, factoring, solving."""

from sympy import Rational as Q

from ..answers import X, expand_polynomial, factor_over_integers
from ..answers import format_answer as show
from . import KPSpec, Problem


def _poly(expr) -> str:
    return show(expand_polynomial(expr), "expression")


def _roots(rng, d):
    top = (5, 9, 12, 15, 20)[d - 1]
    r = rng.randint(1, top)
    if d >= 4 and rng.random() < 0.5:
        k = rng.randint(2, 5)
        return Problem(
            f"Solve for x: {k}x^2 = {k * r * r}.",
            (-r, r),
            "roots",
            f"Divide by {k}: x^2 = {r * r}; both {r} and −{r} square to {r * r}.",
            (
                ("positive root only", (r,)),
                ("halved instead of square root", (-Q(k * r * r, 2 * k), Q(k * r * r, 2 * k))),
                ("forgot to divide", tuple(sorted({-k * r, k * r}))),
            ),
        )
    return Problem(
        f"Solve for x: x^2 = {r * r}.",
        (-r, r),
        "roots",
        f"Both {r} and −{r} square to {r * r}.",
        (
            ("positive root only", (r,)),
            ("halved instead of square root", (-Q(r * r, 2), Q(r * r, 2))),
            ("negative root only", (-r,)),
        ),
    )


def _pick_pair(rng, d):
    top = (5, 9, 12, 15, 15)[d - 1]
    p, q = rng.randint(1, top), rng.randint(1, top)
    if d >= 2:
        p = -p if rng.random() < 0.5 else p
        q = -q if rng.random() < 0.5 else q
    return p, q


def _multiply_binomials(rng, d):
    p, q = _pick_pair(rng, d)
    a = rng.randint(2, 3) if d == 5 else 1
    expr = expand_polynomial((a * X + p) * (X + q))
    left = f"({'' if a == 1 else a}x {'+' if p >= 0 else '−'} {abs(p)})"
    right = f"(x {'+' if q >= 0 else '−'} {abs(q)})"
    return Problem(
        f"Expand and simplify {left}{right}.",
        expr,
        "expression",
        f"Multiply every term by every term (FOIL): {_poly(a * X * X)} + {_poly((a * q + p) * X)} + {p * q} → {_poly(expr)}.",
        (
            ("forgot the middle term", a * X**2 + p * q),
            ("sign slip", expand_polynomial((a * X - p) * (X + q))),
            ("added the constants", a * X**2 + (a * q + p) * X + p + q),
        ),
    )


def _factor(rng, d):
    p, q = _pick_pair(rng, d)
    a = rng.randint(2, 3) if d == 5 else 1
    key = factor_over_integers((a * X + p) * (X + q))
    return Problem(
        f"Factor {_poly(key)} completely.",
        key,
        "factored",
        f"Find two numbers whose product is {a * p * q} and whose sum is {a * q + p}, then group: {show(key, 'factored')}.",
        (
            ("sign slip", (a * X - p) * (X - q)),
            ("sign slip", (a * X + p) * (X - q)),
            ("sign slip", (a * X - p) * (X + q)),
            ("swapped the numbers", (a * X + q) * (X + p)),
        ),
    )


def _solve(rng, d):
    p, q = _pick_pair(rng, d)
    a = rng.randint(2, 3) if d == 5 else 1
    roots = tuple(sorted({Q(-p, a), Q(-q)}))
    return Problem(
        f"Solve for x: {_poly((a * X + p) * (X + q))} = 0.",
        roots,
        "roots",
        f"Factor: {show((a * X + p) * (X + q), 'factored')} = 0; a product is 0 when a factor is 0, so x = {show(roots, 'roots')}.",
        (
            ("sign slip", tuple(sorted({Q(p, a), Q(q)}))),
            ("one root only", (roots[0],)),
            ("sign slip", tuple(sorted({Q(-p, a), Q(q)}))),
        ),
    )


SPECS = [
    KPSpec("8.EE.A.2", "quadratics", "Solve x^2 = p by square roots", "用平方根解 x^2 = p", _roots),
    KPSpec(
        "HSA.APR.A.1",
        "quadratics",
        "Multiply binomials",
        "多项式乘法（两个一次二项式相乘）",
        _multiply_binomials,
    ),
    KPSpec("HSA.SSE.B.3.a", "quadratics", "Factor quadratic expressions", "因式分解二次三项式", _factor),
    KPSpec(
        "HSA.REI.B.4.b",
        "quadratics",
        "Solve quadratic equations by factoring",
        "因式分解法解一元二次方程",
        _solve,
    ),
]
