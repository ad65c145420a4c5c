"""Decimals: notation, powers of ten, rounding, the four operations."""

from sympy import Rational as Q

from ..answers import format_decimal as show
from . import KPSpec, Problem


def _decimal(rng, whole_top, places):
    return Q(rng.randint(1, whole_top * 10**places - 1), 10**places)


def _notation(rng, d):
    den = 10 if d == 1 else 100 if d <= 3 else 1000
    num = rng.randint(1, den - 1) if d < 5 else rng.randint(den + 1, 5 * den)
    value = Q(num, den)
    return Problem(
        f"Write {num}/{den} as a decimal.",
        value,
        "decimal",
        f"Dividing by {den} moves the digits {len(str(den)) - 1} place(s) right of the point: {show(value)}.",
        (("place value", value * 10), ("place value", value / 10), ("off by one", value + Q(1, den) * 10)),
    )


def _powers_of_ten(rng, d):
    number = _decimal(rng, (10, 10, 100, 100, 1000)[d - 1], (1, 2, 2, 3, 3)[d - 1])
    power = 10 ** rng.randint(1, 2 if d < 4 else 3)
    if d >= 2 and rng.random() < 0.5:
        value = number / power
        return Problem(
            f"Compute {show(number)} ÷ {power}.",
            value,
            "decimal",
            f"Dividing by {power} moves the decimal point {len(str(power)) - 1} place(s) left: {show(value)}.",
            (
                ("moved the point the wrong way", number * power),
                ("place value", value * 10),
                ("place value", value / 10),
            ),
        )
    value = number * power
    return Problem(
        f"Compute {show(number)} × {power}.",
        value,
        "decimal",
        f"Multiplying by {power} moves the decimal point {len(str(power)) - 1} place(s) right: {show(value)}.",
        (
            ("moved the point the wrong way", number / power),
            ("place value", value * 10),
            ("place value", value / 10),
        ),
    )


_NAMES = {1: "whole number", 10: "tenth", 100: "hundredth"}


def _round(rng, d):
    places = (2, 2, 3, 3, 3)[d - 1]
    number = _decimal(rng, (10, 100, 100, 1000, 1000)[d - 1], places)
    unit = rng.choice((10, 100)[: (1 if d < 3 else 2)] + ((1,) if d >= 4 else ()))
    if (number * unit).q == 1:
        number += Q(1, 10**places)
    value = Q(int((number * unit + Q(1, 2)) // 1), unit)
    down = Q(int(number * unit // 1), unit)
    return Problem(
        f"Round {show(number)} to the nearest {_NAMES[unit]}.",
        value,
        "decimal",
        f"{show(number)} lies between {show(down)} and {show(down + Q(1, unit))}; the next digit decides (5 or more rounds up): {show(value)}.",
        (
            ("truncation", down if down != value else down + Q(1, unit)),
            ("place value", value + Q(1, unit)),
            ("wrong place", Q(int((number * unit * 10 + Q(1, 2)) // 1), unit * 10)),
        ),
    )


def _four_operations(tops, places):
    def make(rng, d):
        a, b = _decimal(rng, tops[d - 1], places[d - 1]), _decimal(rng, tops[d - 1], places[d - 1] - (d % 2))
        op = rng.choice(("+", "−", "×", "÷")[: (2 if d < 3 else 4)])
        if op == "+":
            value, slip = a + b, a + b / 10
        elif op == "−":
            a, b = max(a, b), min(a, b)
            if a == b:
                a += 1
            value, slip = a - b, a - b / 10
        elif op == "×":
            value, slip = a * b, a * b * 10
        else:
            b = _decimal(rng, 20, 1)
            value = _decimal(rng, tops[d - 1] // 2 + 1, 2)
            a = value * b
            slip = value * 10
        return Problem(
            f"Compute {show(a)} {op} {show(b)}.",
            value,
            "decimal",
            f"Line up the decimal points (for × count the decimal places; for ÷ shift both numbers until the divisor is whole): "
            f"{show(a)} {op} {show(b)} = {show(value)}.",
            (("misaligned decimal point", slip), ("place value", value / 10), ("place value", value * 10)),
        )

    return make


SPECS = [
    KPSpec(
        "4.NF.C.6",
        "decimals",
        "Decimal notation for tenths and hundredths",
        "十分位与百分位的小数表示",
        _notation,
    ),
    KPSpec(
        "5.NBT.A.2", "decimals", "Multiply and divide by powers of 10", "小数乘除以10的幂", _powers_of_ten
    ),
    KPSpec("5.NBT.A.4", "decimals", "Round decimals", "小数的四舍五入", _round),
    KPSpec(
        "5.NBT.B.7",
        "decimals",
        "Add, subtract, multiply and divide decimals to hundredths",
        "小数四则运算（百分位）",
        _four_operations((10, 10, 10, 20, 50), (1, 2, 1, 2, 2)),
    ),
    KPSpec(
        "6.NS.B.3",
        "decimals",
        "Operate fluently with multi-digit decimals",
        "多位小数四则运算",
        _four_operations((50, 100, 100, 500, 1000), (2, 2, 2, 3, 3)),
    ),
]
