"""Algebraic expressions: evaluating at a value, expanding and collecting like terms."""

import sympy

from ..answers import X, expand_polynomial
from ..answers import format_answer as show
from . import KPSpec, Problem


def term_text(coefficient: int, variable: str = "x") -> str:
    return (
        variable if coefficient == 1 else f"−{variable}" if coefficient == -1 else f"{coefficient}{variable}"
    )


def linear_text(a: int, b: int) -> str:
    """'3x + 4' / '3x − 4' as students see it."""
    return f"{term_text(a)} {'+' if b >= 0 else '−'} {abs(b)}"


def _evaluate(rng, d):
    a, b = rng.randint(2, (5, 9, 9, 12, 15)[d - 1]), rng.randint(1, (9, 20, 30, 50, 50)[d - 1])
    x = rng.randint(1, 9) if d < 3 else rng.randint(-9, 9) or 2
    if d >= 4 and rng.random() < 0.5:
        value = a * x**2 + b
        return Problem(
            f"Evaluate {a}x^2 + {b} when x = {x}.",
            value,
            "integer",
            f"Square first: x^2 = {x * x}; then {a} × {x * x} + {b} = {value}.",
            (
                ("squared after multiplying", (a * x) ** 2 + b),
                ("doubled instead of squared", a * 2 * x + b),
                ("sign slip", -value),
            ),
        )
    b = b if d < 5 else -b
    value = a * x + b
    return Problem(
        f"Evaluate {linear_text(a, b)} when x = {x}.",
        value,
        "integer",
        f"Replace x by {x}: {a} × {sympy.Integer(x) if x >= 0 else f'({x})'} {'+' if b >= 0 else '−'} {abs(b)} = {value}.",
        (
            (
                "wrote the digits side by side",
                int(f"{a}{abs(x)}") + b if x >= 0 else -int(f"{a}{abs(x)}") + b,
            ),
            ("operation swap", a + x + b),
            ("sign slip", a * x - b),
        ),
    )


def _distribute(rng, d):
    a, b = rng.randint(2, (5, 9, 9, 12, 12)[d - 1]), rng.randint(1, (9, 9, 15, 20, 20)[d - 1])
    c = rng.randint(1, 5) if d >= 3 else 1
    b = -b if d >= 2 and rng.random() < 0.5 else b
    expr = a * (c * X + b)
    inner = linear_text(c, b)
    if d >= 4:
        e = rng.randint(1, 9)
        expr = expr + e * X
        text = f"{a}({inner}) + {term_text(e)}"
        slip = a * c * X + b + e * X
    else:
        text = f"{a}({inner})"
        slip = a * c * X + b
    value = expand_polynomial(expr)
    return Problem(
        f"Expand and simplify {text}.",
        value,
        "expression",
        f"Multiply each term inside the bracket by {a}, then collect like terms: {show(value, 'expression')}.",
        (
            ("multiplied only the first term", slip),
            ("sign slip", value - 2 * a * b),
            ("added instead of multiplied", value - a * b + a + b),
        ),
    )


def _collect(rng, d):
    a, b = rng.randint(2, (4, 6, 9, 9, 12)[d - 1]), rng.randint(1, 9)
    c, e = rng.randint(1, (3, 5, 9, 9, 12)[d - 1]), rng.randint(1, 9)
    b = -b if rng.random() < 0.5 else b
    k = rng.randint(2, 4) if d >= 3 else 1
    expr = expand_polynomial(k * (a * X + b) - (c * X + e))
    first = f"{k}({linear_text(a, b)})" if k > 1 else linear_text(a, b)
    text = f"{first} − ({linear_text(c, e)})"
    return Problem(
        f"Expand and simplify {text}.",
        expr,
        "expression",
        f"Distribute, and the minus sign changes the sign of every term in its bracket: {show(expr, 'expression')}.",
        (
            ("sign slip", expr + 2 * e),
            ("sign slip", expr + 2 * c * X),
            ("multiplied only the first term", expr - (k - 1) * b),
        ),
    )


SPECS = [
    KPSpec("6.EE.A.2.c", "expressions", "Evaluate expressions at given values", "代数式求值", _evaluate),
    KPSpec(
        "6.EE.A.3",
        "expressions",
        "Generate equivalent expressions (distributive law)",
        "用分配律化简代数式",
        _distribute,
    ),
    KPSpec(
        "7.EE.A.1",
        "expressions",
        "Expand and collect linear expressions",
        "整式的加减（去括号、合并同类项）",
        _collect,
    ),
]
