"""Fractions: equivalence, comparison, the four operations."""

import math

from sympy import Rational as Q

from . import KPSpec, Problem


def _frac(rng, top_den, proper=True):
    den = rng.randint(2, top_den)
    num = rng.randint(1, den - 1) if proper else rng.randint(1, 2 * den)
    return num, den


def _show(num, den) -> str:
    return f"{num}/{den}"


def _equivalent(rng, d):
    num, den = _frac(rng, (4, 6, 8, 10, 12)[d - 1])
    k = rng.randint(2, (3, 4, 5, 6, 9)[d - 1])
    value = num * k
    return Problem(
        f"Solve for n: {_show(num, den)} = n/{den * k}.",
        value,
        "integer",
        f"The denominator was multiplied by {k} ({den} × {k} = {den * k}), so the numerator is too: n = {num} × {k} = {value}.",
        (("additive scaling", num + den * k - den), ("operation swap", num + k), ("off by one", value + 1)),
    )


def _greatest(rng, d):
    top = (5, 8, 10, 12, 16)[d - 1]
    count = 4
    fractions = set()
    while len(fractions) < count:
        num, den = _frac(rng, top)
        fractions.add((num, den))
    values = {pair: Q(*pair) for pair in fractions}
    if len(set(values.values())) < count:
        return _greatest(rng, d)
    shown = sorted(fractions, key=lambda pair: (pair[1], pair[0]))
    rng.shuffle(shown)
    best = max(shown, key=lambda pair: values[pair])
    listing = ", ".join(_show(*pair) for pair in shown[:-1]) + f" or {_show(*shown[-1])}"
    biggest_den = max(shown, key=lambda pair: (pair[1], -pair[0]))
    biggest_num = max(shown, key=lambda pair: (pair[0], -pair[1]))
    smallest = min(shown, key=lambda pair: values[pair])
    return Problem(
        f"Which is the greatest: {listing}?",
        values[best],
        "fraction",
        "Write each over a common denominator and compare numerators: "
        + ", ".join(f"{_show(*pair)} = {float(values[pair]):.3f}" for pair in shown)
        + f"; the greatest is {_show(*best)}.",
        (
            ("largest denominator", values[biggest_den]),
            ("largest numerator", values[biggest_num]),
            ("smallest", values[smallest]),
        )
        + tuple(("other", values[pair]) for pair in shown),
    )


def _like_denominators(rng, d):
    den = rng.randint(3, (6, 8, 10, 12, 12)[d - 1])
    a, c = rng.randint(1, den - 1), rng.randint(1, den - 1)
    if d >= 3 and rng.random() < 0.5:
        a = rng.randint(2, den - 1)
        c = rng.randint(1, a - 1)
        value = Q(a - c, den)
        return Problem(
            f"Compute {_show(a, den)} − {_show(c, den)}.",
            value,
            "fraction",
            f"Same denominator: subtract the numerators, {a} − {c} = {a - c}, keep {den}: {value}.",
            (
                ("a/b − c/b = (a−c)/(b+b)", Q(a - c, 2 * den)),
                ("operation swap", Q(a + c, den)),
                ("sign slip", -value),
            ),
        )
    value = Q(a + c, den)
    return Problem(
        f"Compute {_show(a, den)} + {_show(c, den)}.",
        value,
        "fraction",
        f"Same denominator: add the numerators, {a} + {c} = {a + c}, keep {den}: {a + c}/{den} = {value}.",
        (
            ("a/b + c/d = (a+c)/(b+d)", Q(a + c, 2 * den)),
            ("operation swap", Q(abs(a - c), den) if a != c else Q(a * c, den * den)),
            ("added denominators only", Q(a, 2 * den)),
        ),
    )


def _times_whole(rng, d):
    num, den = _frac(rng, (5, 8, 10, 12, 12)[d - 1])
    whole = rng.randint(2, (5, 6, 9, 12, 15)[d - 1])
    value = Q(whole * num, den)
    return Problem(
        f"Compute {whole} × {_show(num, den)}.",
        value,
        "fraction",
        f"{whole} × {num}/{den} = {whole * num}/{den} = {value}.",
        (
            ("multiplied both parts", Q(num, den)),
            ("multiplied the denominator", Q(num, whole * den)),
            ("operation swap", whole + Q(num, den)),
        ),
    )


def _unlike_denominators(rng, d):
    tops = (4, 6, 8, 10, 12)
    a, b = _frac(rng, tops[d - 1])
    c, e = _frac(rng, tops[d - 1])
    while e == b:
        c, e = _frac(rng, tops[d - 1])
    subtract = d >= 3 and rng.random() < 0.5 and Q(a, b) != Q(c, e)
    if subtract and Q(a, b) < Q(c, e):
        a, b, c, e = c, e, a, b
    sign, value = ("−", Q(a, b) - Q(c, e)) if subtract else ("+", Q(a, b) + Q(c, e))
    lcd = math.lcm(b, e)
    return Problem(
        f"Compute {_show(a, b)} {sign} {_show(c, e)}.",
        value,
        "fraction",
        f"Common denominator {lcd}: {a}/{b} = {a * lcd // b}/{lcd}, {c}/{e} = {c * lcd // e}/{lcd}; "
        f"{'subtract' if subtract else 'add'} the numerators: {value}.",
        (
            ("a/b + c/d = (a+c)/(b+d)", Q(a - c if subtract else a + c, b + e)),
            ("multiplied denominators only", Q(a - c if subtract else a + c, b * e)),
            ("operation swap", Q(a, b) + Q(c, e) if subtract else Q(a, b) - Q(c, e)),
        ),
    )


def _multiply(rng, d):
    tops = (4, 6, 9, 10, 12)
    a, b = _frac(rng, tops[d - 1], proper=d < 4)
    c, e = _frac(rng, tops[d - 1])
    value = Q(a, b) * Q(c, e)
    return Problem(
        f"Compute {_show(a, b)} × {_show(c, e)}.",
        value,
        "fraction",
        f"Multiply numerators and denominators: ({a} × {c})/({b} × {e}) = {a * c}/{b * e} = {value}.",
        (
            ("cross-multiplied", Q(a * e, b * c)),
            ("a/b + c/d = (a+c)/(b+d)", Q(a + c, b + e)),
            ("operation swap", Q(a, b) + Q(c, e)),
        ),
    )


def _unit_fraction_division(rng, d):
    den, whole = rng.randint(2, (4, 6, 8, 10, 12)[d - 1]), rng.randint(2, (4, 6, 8, 10, 12)[d - 1])
    if rng.random() < 0.5:
        value = Q(1, den * whole)
        return Problem(
            f"Compute 1/{den} ÷ {whole}.",
            value,
            "fraction",
            f"Sharing 1/{den} into {whole} equal parts makes each part 1/({den} × {whole}) = {value}.",
            (
                ("operation swap", Q(whole, den)),
                ("inverted the fraction", Q(den, whole)),
                ("off by one", Q(1, den * whole + 1)),
            ),
        )
    value = den * whole
    return Problem(
        f"Compute {whole} ÷ 1/{den}.",
        value,
        "fraction",
        f"Each whole holds {den} pieces of size 1/{den}: {whole} × {den} = {value}.",
        (
            ("operation swap", Q(whole, den)),
            ("inverted the fraction", Q(den, whole)),
            ("off by one", value - whole),
        ),
    )


def _divide_fractions(rng, d):
    tops = (4, 6, 8, 10, 12)
    a, b = _frac(rng, tops[d - 1], proper=d < 4)
    c, e = _frac(rng, tops[d - 1])
    value = Q(a, b) / Q(c, e)
    return Problem(
        f"Compute {_show(a, b)} ÷ {_show(c, e)}.",
        value,
        "fraction",
        f"Multiply by the reciprocal: {a}/{b} × {e}/{c} = {a * e}/{b * c} = {value}.",
        (
            ("operation swap", Q(a, b) * Q(c, e)),
            ("inverted the first fraction", Q(b, a) * Q(c, e)),
            ("divided the wrong way", Q(c, e) / Q(a, b)),
        ),
    )


SPECS = [
    KPSpec("3.NF.A.3.b", "fractions", "Equivalent fractions", "等值分数", _equivalent),
    KPSpec("4.NF.A.2", "fractions", "Compare fractions", "比较分数大小", _greatest),
    KPSpec(
        "4.NF.B.3.a",
        "fractions",
        "Add and subtract fractions with like denominators",
        "同分母分数加减",
        _like_denominators,
    ),
    KPSpec("4.NF.B.4.b", "fractions", "Multiply a fraction by a whole number", "分数乘整数", _times_whole),
    KPSpec(
        "5.NF.A.1",
        "fractions",
        "Add and subtract fractions with unlike denominators",
        "异分母分数加减",
        _unlike_denominators,
    ),
    KPSpec("5.NF.B.4", "fractions", "Multiply fractions", "分数乘法", _multiply),
    KPSpec(
        "5.NF.B.7",
        "fractions",
        "Divide unit fractions and whole numbers",
        "单位分数与整数的除法",
        _unit_fraction_division,
    ),
    KPSpec("6.NS.A.1", "fractions", "Divide fractions by fractions", "分数除以分数", _divide_fractions),
]
