"""Percentages and rates: percent of a quantity, finding the whole, percent change, unit rates."""

from sympy import Rational as Q

from ..answers import format_decimal as show
from . import KPSpec, Problem


def _percent_of(rng, d):
    percent = rng.choice(
        (
            (10, 50, 25),
            (10, 20, 25, 50, 75),
            (5, 15, 30, 40, 60),
            (12, 35, 45, 65, 80),
            (3, 7, 12.5, 17, 130),
        )[d - 1]
    )
    percent = Q(str(percent))
    whole = rng.randint(2, (10, 20, 40, 80, 200)[d - 1]) * 10
    part = percent * whole / 100
    if d >= 3 and rng.random() < 0.4:
        return Problem(
            f"{show(part)} is {show(percent)}% of what number?",
            whole,
            "decimal",
            f"{show(percent)}% of the number is {show(part)}, so 1% is {show(part / percent)} and 100% is {show(Q(whole))}.",
            (
                ("operation swap", part * percent / 100),
                ("inverted the ratio", percent / part * 100),
                ("place value", whole / 10),
            ),
        )
    return Problem(
        f"What is {show(percent)}% of {whole}?",
        part,
        "decimal",
        f"{show(percent)}% means {show(percent)}/100: {whole} × {show(percent)}/100 = {show(part)}.",
        (
            ("place value", part * 10),
            ("place value", part / 10),
            ("subtracted the percent", whole - percent),
            ("inverted the ratio", whole / percent),
        ),
    )


def _percent_change(rng, d):
    percent = Q(rng.choice(((10, 50), (10, 20, 25), (5, 15, 30, 40), (12, 35, 45), (8, 16, 22, 115))[d - 1]))
    price = rng.randint(2, (10, 20, 40, 60, 200)[d - 1]) * 5
    up = percent >= 100 or rng.random() < 0.5
    change = percent * price / 100
    value = price + change if up else price - change
    word = "increased" if up else "decreased"
    return Problem(
        f"A price of ${price} is {word} by {show(percent)}%. What is the new price in dollars?",
        value,
        "decimal",
        f"The change is {show(percent)}% of {price} = {show(change)}; {price} {'+' if up else '−'} {show(change)} = {show(value)}.",
        (
            ("gave the change only", change),
            ("wrong direction", price - change if up else price + change),
            ("added the percent as dollars", price + percent if up else price - percent),
        ),
    )


_ITEMS = ("notebooks", "pencils", "apples", "tickets", "stickers", "bottles")


def _unit_rate(rng, d):
    count = rng.randint(2, (5, 8, 12, 20, 40)[d - 1])
    unit_price = Q(rng.randint(1, (10, 40, 200, 500, 900)[d - 1]), (1, 2, 4, 20, 100)[d - 1])
    total = unit_price * count
    item = rng.choice(_ITEMS)
    return Problem(
        f"{count} {item} cost ${show(total)}. What is the cost of one {item[:-1]} in dollars?",
        unit_price,
        "decimal",
        f"Divide the total by the number of {item}: {show(total)} ÷ {count} = {show(unit_price)}.",
        (
            ("operation swap", total * count),
            ("inverted the rate", Q(count) / total),
            ("place value", unit_price * 10),
        ),
    )


SPECS = [
    KPSpec("6.RP.A.3.c", "percentages", "Percent of a quantity", "求一个数的百分之几", _percent_of),
    KPSpec("7.RP.A.3", "percentages", "Percent increase and decrease", "百分数的增加与减少", _percent_change),
    KPSpec("6.RP.A.3.b", "percentages", "Unit rates and unit prices", "单价与单位比率", _unit_rate),
]
