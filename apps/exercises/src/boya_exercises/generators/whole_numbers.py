"""Whole-number arithmetic: addition and subtraction, multiplication and division, rounding, factors, order of operations."""

import math

import sympy

from . import KPSpec, Problem


def _place(value: int) -> int:
    """The place value of the leading digit (off-by-one place-value slips add or drop it)."""
    return 10 ** max(len(str(abs(int(value)))) - 1, 1)


def _add_sub(limits):
    """Addition/subtraction with numbers up to ``limits[d - 1]``; subtraction appears from difficulty 2."""

    def make(rng, d):
        top = limits[d - 1]
        a, b = rng.randint(top // 3, top), rng.randint(2, top // 2)
        if d >= 2 and rng.random() < 0.5:
            a, b = max(a, b), min(a, b)
            value = a - b
            return Problem(
                f"Compute {a} − {b}.",
                value,
                "integer",
                f"Subtract place by place, borrowing where a digit of {b} is larger: {a} − {b} = {value}.",
                (
                    ("operation swap", a + b),
                    ("off by one", value + 1),
                    ("place value", value + _place(value)),
                    ("place value", value - _place(value)),
                ),
            )
        value = a + b
        return Problem(
            f"Compute {a} + {b}.",
            value,
            "integer",
            f"Add ones, then tens, carrying a ten when a column passes 9: {a} + {b} = {value}.",
            (
                ("operation swap", abs(a - b)),
                ("off by one", value - 1),
                ("place value", value - _place(value)),
                ("place value", value + _place(value)),
            ),
        )

    return make


def _unknown_addend(rng, d):
    top = (10, 20, 50, 100, 1000)[d - 1]
    b, total = rng.randint(1, top // 2), rng.randint(top // 2, top)
    n = total - b
    if rng.random() < 0.5:
        return Problem(
            f"Solve for n: n + {b} = {total}.",
            n,
            "integer",
            f"n is what must be added to {b} to make {total}: n = {total} − {b} = {n}.",
            (("operation swap", total + b), ("off by one", n + 1), ("off by one", n - 1)),
        )
    return Problem(
        f"Solve for n: {total} − n = {b}.",
        n,
        "integer",
        f"Taking n from {total} leaves {b}, so n = {total} − {b} = {n}.",
        (("operation swap", total + b), ("off by one", n + 1), ("sign slip", b - total)),
    )


def _times_table(rng, d):
    top = (5, 9, 10, 12, 12)[d - 1]
    a, b = rng.randint(2, top), rng.randint(2, top)
    if d >= 3 and rng.random() < 0.5:
        return Problem(
            f"Compute {a * b} ÷ {a}.",
            b,
            "integer",
            f"Division undoes multiplication: {a} × {b} = {a * b}, so {a * b} ÷ {a} = {b}.",
            (
                ("operation swap", a * b - a),
                ("off by one", b + 1),
                ("off by one", b - 1),
                ("operation swap", a * b * a),
            ),
        )
    return Problem(
        f"Compute {a} × {b}.",
        a * b,
        "integer",
        f"{a} groups of {b} make {a * b}.",
        (("operation swap", a + b), ("off by one", a * (b + 1)), ("off by one", a * (b - 1))),
    )


def _unknown_factor(rng, d):
    top = (5, 9, 10, 12, 12)[d - 1]
    a, n = rng.randint(2, top), rng.randint(2, top)
    if rng.random() < 0.5:
        return Problem(
            f"Solve for n: {a} × n = {a * n}.",
            n,
            "integer",
            f"n = {a * n} ÷ {a} = {n}.",
            (("operation swap", a * n * a), ("operation swap", a * n - a), ("off by one", n + 1)),
        )
    return Problem(
        f"Solve for n: {a * n} ÷ n = {a}.",
        n,
        "integer",
        f"{a * n} split into groups of n gives {a} groups, so n = {a * n} ÷ {a} = {n}.",
        (("operation swap", a * n * a), ("operation swap", a * n - a), ("off by one", n - 1)),
    )


def _multiples_of_ten(rng, d):
    a, b = rng.randint(2, 9), rng.randint(1, 9) * (10 if d < 4 else 100)
    if d == 5:
        b *= 10
    value = a * b
    return Problem(
        f"Compute {a} × {b}.",
        value,
        "integer",
        f"{a} × {b // _zeros(b)} = {a * (b // _zeros(b))}, then write the zeros back: {value}.",
        (("place value", value // 10), ("place value", value * 10), ("operation swap", a + b)),
    )


def _zeros(b: int) -> int:
    return 10 ** (len(str(b)) - len(str(b).rstrip("0")))


def _long_multiplication(digits):
    def make(rng, d):
        da, db = digits[d - 1]
        a, b = rng.randint(10 ** (da - 1), 10**da - 1), rng.randint(max(2, 10 ** (db - 1)), 10**db - 1)
        value = a * b
        partial = a * (b % 10)
        return Problem(
            f"Compute {a} × {b}.",
            value,
            "integer",
            f"Multiply {a} by each digit of {b}, shifting one place per digit, and add: {a} × {b} = {value}.",
            (
                ("place value", value - _place(value)),
                ("place value", partial if b >= 10 else value + _place(value)),
                ("operation swap", a + b),
                ("off by one", value + a),
            ),
        )

    return make


def _remainder(rng, d):
    divisor = rng.randint(2, (5, 9, 9, 9, 9)[d - 1])
    quotient = rng.randint(2, (10, 30, 120, 500, 1100)[d - 1])
    remainder = rng.randint(1, divisor - 1)
    dividend = divisor * quotient + remainder
    return Problem(
        f"Divide {dividend} by {divisor}. Write the answer as quotient R remainder.",
        (quotient, remainder),
        "remainder",
        f"{divisor} × {quotient} = {divisor * quotient} and {dividend} − {divisor * quotient} = {remainder}, "
        f"which is less than {divisor}: {quotient} R {remainder}.",
        (
            ("off by one", (quotient - 1, remainder + divisor)),
            ("off by one", (quotient + 1, remainder)),
            ("operation swap", (remainder, quotient)),
            ("off by one", (quotient, remainder + 1)),
        ),
    )


def _two_digit_divisor(rng, d):
    divisor = rng.randint(11, (15, 25, 50, 99, 99)[d - 1])
    quotient = rng.randint(2, (9, 20, 50, 99, 300)[d - 1])
    dividend = divisor * quotient
    return Problem(
        f"Compute {dividend} ÷ {divisor}.",
        quotient,
        "integer",
        f"Estimate with multiples of {divisor}: {divisor} × {quotient} = {dividend}, so the quotient is {quotient}.",
        (
            ("place value", quotient * 10 if quotient < 10 else quotient // 10),
            ("off by one", quotient + 1),
            ("off by one", quotient - 1),
            ("operation swap", dividend - divisor),
        ),
    )


_PLACES = {10: "ten", 100: "hundred", 1000: "thousand", 10000: "ten thousand"}


def _rounding(places_by_d, digits_by_d):
    def make(rng, d):
        place = rng.choice(places_by_d[d - 1])
        number = rng.randint(10 ** (digits_by_d[d - 1] - 1), 10 ** digits_by_d[d - 1] - 1)
        if number % place == 0:
            number += rng.randint(1, place - 1)
        value = int(sympy.floor(sympy.Rational(number, place) + sympy.Rational(1, 2))) * place
        down = number // place * place
        return Problem(
            f"Round {number} to the nearest {_PLACES[place]}.",
            value,
            "integer",
            f"Look at the digit right of the {_PLACES[place]}s place: {number} lies between {down} and "
            f"{down + place}, and is nearer to {value} (halfway rounds up).",
            (
                ("truncation", down if value != down else down + place),
                ("place value", value + place),
                ("place value", value - place),
                ("wrong place", int(round(number, -len(str(place))))),
            ),
        )

    return make


def _gcf_lcm(rng, d):
    top = (12, 24, 48, 72, 100)[d - 1]
    common = rng.randint(2, max(2, top // 6))
    a, b = common * rng.randint(1, top // common), common * rng.randint(1, top // common)
    while a == b:
        b = common * rng.randint(1, top // common)
    gcd, lcm = math.gcd(a, b), math.lcm(a, b)
    if d >= 3 and rng.random() < 0.5:
        return Problem(
            f"Find the least common multiple of {a} and {b}.",
            lcm,
            "integer",
            f"LCM = {a} × {b} ÷ GCF({a}, {b}) = {a * b} ÷ {gcd} = {lcm}.",
            (("operation swap", gcd), ("operation swap", a * b), ("off by one", lcm + max(a, b))),
        )
    return Problem(
        f"Find the greatest common factor of {a} and {b}.",
        gcd,
        "integer",
        f"The factors both {a} and {b} share are those of {gcd}; the greatest is {gcd}.",
        (
            ("operation swap", lcm),
            ("off by one", gcd // 2 if gcd > 2 else gcd + 1),
            ("wrong number", min(a, b)),
        ),
    )


def _order_of_operations(rng, d):
    a, b, c = rng.randint(2, 9), rng.randint(2, 9 + 3 * d), rng.randint(2, 9 + 3 * d)
    if d <= 2:
        text, value, naive = f"{a} + {b} × {c}", a + b * c, (a + b) * c
    elif d == 3:
        text, value, naive = f"{a} × ({b} + {c})", a * (b + c), a * b + c
    else:
        e = rng.randint(1, a * (b + c) - 1)
        text, value, naive = f"{a} × ({b} + {c}) − {e}", a * (b + c) - e, a * b + c - e
        if d == 5:
            f = rng.randint(2, 5)
            text, value, naive = f"({text}) × {f}", value * f, naive * f
    return Problem(
        f"Compute {text}.",
        value,
        "integer",
        f"Brackets first, then × and ÷, then + and −: {text} = {value}.",
        (("order of operations", naive), ("off by one", value + 1), ("sign slip", -value)),
    )


def _exponents(rng, d):
    base, power = rng.randint(2, (5, 6, 9, 12, 15)[d - 1]), rng.randint(2, (2, 3, 3, 4, 4)[d - 1])
    value = base**power
    return Problem(
        f"Compute {base}^{power}.",
        value,
        "integer",
        f"{base}^{power} means {' × '.join([str(base)] * power)} = {value}.",
        (
            ("operation swap", base * power),
            ("swapped base and exponent", power**base),
            ("off by one", base ** (power - 1)),
        ),
    )


SPECS = [
    KPSpec(
        "1.OA.C.6",
        "whole-number arithmetic",
        "Add and subtract within 20",
        "20以内加减法",
        _add_sub((10, 20, 20, 20, 20)),
    ),
    KPSpec(
        "1.OA.D.8",
        "whole-number arithmetic",
        "Find the unknown in an addition or subtraction equation",
        "求加减法算式中的未知数",
        _unknown_addend,
    ),
    KPSpec(
        "2.NBT.B.5",
        "whole-number arithmetic",
        "Add and subtract within 100",
        "100以内加减法",
        _add_sub((30, 60, 100, 100, 100)),
    ),
    KPSpec(
        "3.NBT.A.2",
        "whole-number arithmetic",
        "Add and subtract within 1000",
        "1000以内加减法",
        _add_sub((200, 500, 1000, 1000, 1000)),
    ),
    KPSpec(
        "4.NBT.B.4",
        "whole-number arithmetic",
        "Add and subtract multi-digit numbers",
        "多位数加减法",
        _add_sub((2000, 10000, 50000, 200000, 999999)),
    ),
    KPSpec(
        "3.OA.C.7", "whole-number arithmetic", "Multiply and divide within 100", "表内乘除法", _times_table
    ),
    KPSpec(
        "3.OA.A.4",
        "whole-number arithmetic",
        "Find the unknown in a multiplication or division equation",
        "求乘除法算式中的未知数",
        _unknown_factor,
    ),
    KPSpec(
        "3.NBT.A.3", "whole-number arithmetic", "Multiply by multiples of 10", "整十数乘法", _multiples_of_ten
    ),
    KPSpec(
        "4.NBT.B.5",
        "whole-number arithmetic",
        "Multiply multi-digit by one-digit and two-digit numbers",
        "多位数乘一位数、两位数",
        _long_multiplication(((2, 1), (3, 1), (4, 1), (2, 2), (2, 2))),
    ),
    KPSpec(
        "5.NBT.B.5",
        "whole-number arithmetic",
        "Multiply multi-digit whole numbers",
        "多位数乘法",
        _long_multiplication(((2, 2), (3, 2), (3, 2), (3, 3), (4, 3))),
    ),
    KPSpec("4.NBT.B.6", "whole-number arithmetic", "Divide with a remainder", "有余数的除法", _remainder),
    KPSpec(
        "5.NBT.B.6",
        "whole-number arithmetic",
        "Divide by two-digit divisors",
        "除数是两位数的除法",
        _two_digit_divisor,
    ),
    KPSpec(
        "3.NBT.A.1",
        "whole-number arithmetic",
        "Round to the nearest 10 or 100",
        "四舍五入到十位或百位",
        _rounding(((10,), (10,), (10, 100), (100,), (10, 100)), (2, 3, 3, 3, 4)),
    ),
    KPSpec(
        "4.NBT.A.3",
        "whole-number arithmetic",
        "Round multi-digit numbers to any place",
        "多位数四舍五入",
        _rounding(((100,), (100, 1000), (1000,), (1000, 10000), (10000,)), (4, 4, 5, 5, 6)),
    ),
    KPSpec(
        "6.NS.B.4",
        "whole-number arithmetic",
        "Greatest common factor and least common multiple",
        "最大公因数与最小公倍数",
        _gcf_lcm,
    ),
    KPSpec(
        "5.OA.A.1",
        "expressions",
        "Evaluate expressions with brackets",
        "含括号的四则运算",
        _order_of_operations,
    ),
    KPSpec("6.EE.A.1", "expressions", "Evaluate whole-number powers", "整数的乘方", _exponents),
]
