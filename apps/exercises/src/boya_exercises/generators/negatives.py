"""Negative numbers: adding, subtracting, multiplying and dividing integers; absolute value."""

from . import KPSpec, Problem


def _signed(rng, top):
    value = rng.randint(1, top)
    return -value if rng.random() < 0.6 else value


def _paren(value: int) -> str:
    return f"({value})" if value < 0 else str(value)


def _add_subtract(rng, d):
    top = (10, 20, 50, 100, 500)[d - 1]
    a, b = _signed(rng, top), _signed(rng, top)
    if d >= 2 and rng.random() < 0.5:
        value = a - b
        return Problem(
            f"Compute {a} − {_paren(b)}.",
            value,
            "integer",
            f"Subtracting is adding the opposite: {a} − {_paren(b)} = {a} + {_paren(-b)} = {value}.",
            (("sign slip", a + b), ("sign slip", -value), ("dropped the signs", abs(a) - abs(b))),
        )
    value = a + b
    return Problem(
        f"Compute {a} + {_paren(b)}.",
        value,
        "integer",
        f"Opposite signs subtract the sizes and keep the sign of the larger; like signs add: {a} + {_paren(b)} = {value}.",
        (("sign slip", -value), ("dropped the signs", abs(a) + abs(b)), ("operation swap", a - b)),
    )


def _multiply_divide(rng, d):
    top = (6, 9, 12, 15, 25)[d - 1]
    a, b = _signed(rng, top), _signed(rng, top)
    if a * b > 0 and rng.random() < 0.7:
        a = -a
    if d >= 2 and rng.random() < 0.5:
        product = a * b
        return Problem(
            f"Compute {product} ÷ {_paren(b)}.",
            a,
            "integer",
            f"{_paren(b)} × {_paren(a)} = {product}; the signs {'agree' if product * b > 0 else 'differ'}, so the quotient is {a}.",
            (("sign slip", -a), ("operation swap", product - b), ("operation swap", product * b)),
        )
    value = a * b
    return Problem(
        f"Compute {_paren(a)} × {_paren(b)}.",
        value,
        "integer",
        f"{abs(a)} × {abs(b)} = {abs(value)}; {'one negative factor makes it negative' if value < 0 else 'two negatives make a positive'}: {value}.",
        (("sign slip", -value), ("operation swap", a + b), ("off by one", value + (b if value > 0 else -b))),
    )


def _absolute_value(rng, d):
    top = (10, 20, 50, 100, 200)[d - 1]
    a, b = _signed(rng, top), _signed(rng, top)
    if d == 1:
        return Problem(
            f"Compute |{a}|.",
            abs(a),
            "integer",
            f"The absolute value is the distance from 0: |{a}| = {abs(a)}.",
            (("sign slip", -abs(a)), ("off by one", abs(a) + 1), ("off by one", abs(a) - 1)),
        )
    op = "+" if d < 4 else "−"
    value = abs(a) + abs(b) if op == "+" else abs(a) - abs(b)
    return Problem(
        f"Compute |{a}| {op} |{b}|.",
        value,
        "integer",
        f"|{a}| = {abs(a)} and |{b}| = {abs(b)}, so the result is {abs(a)} {op} {abs(b)} = {value}.",
        (
            ("ignored the absolute value", a + b if op == "+" else a - b),
            ("sign slip", -value),
            ("absolute value of the result", abs(a + b if op == "+" else a - b)),
        ),
    )


SPECS = [
    KPSpec(
        "7.NS.A.1", "negative numbers", "Add and subtract integers", "有理数（整数）加减法", _add_subtract
    ),
    KPSpec(
        "7.NS.A.2",
        "negative numbers",
        "Multiply and divide integers",
        "有理数（整数）乘除法",
        _multiply_divide,
    ),
    KPSpec("6.NS.C.7.c", "negative numbers", "Absolute value", "绝对值", _absolute_value),
]
