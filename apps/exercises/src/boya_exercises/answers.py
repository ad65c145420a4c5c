"""Answer kinds: how a value is written as text and read back, so keys, options and students' answers compare by value.

A kind fixes both the canonical spelling of a key ("3/4", "0.75", "23 R 4", "-2, 3") and what counts as the same
answer when a student types it ("6/8" equals "3/4" for a fraction, "(x+3)(x-2)" equals "(x - 2)(x + 3)" for a
factored form, but the expanded "x^2 + x - 6" does not).
"""

import re
from decimal import Decimal
from tokenize import TokenError

import sympy
from boya.errors import BoyaError
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

KINDS = ("integer", "fraction", "decimal", "remainder", "expression", "factored", "roots", "symbol", "boolean")
_TRANSFORMS = standard_transformations + (implicit_multiplication_application, convert_xor)
_FRACTION_LITERAL = re.compile(r"(?<![\w.)])(\d+)\s*/\s*(\d+)(?![\w.(])")
_DECIMAL_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d+)")
_ALLOWED = re.compile(r"^[\d\s+\-*/^().,a-z|×÷−]*$")
X = sympy.Symbol("x")


def math_text(text: str) -> str:
    """Normalise the typography shown to students (×, ÷, −, |a|) into sympy syntax, keeping fractions and decimals exact."""
    text = text.replace("×", "*").replace("÷", "/").replace("−", "-").replace("–", "-")
    text = re.sub(r"\|([^|]+)\|", r"Abs(\1)", text)
    text = _FRACTION_LITERAL.sub(r"Rational(\1, \2)", text)
    return _DECIMAL_LITERAL.sub(r"Rational('\1')", text)


def parse_math(text: str, *, evaluate: bool = True):
    """Parse a maths expression typed as students see it; raise BoyaError when it is not one."""
    raw = text.strip()
    if not raw or len(raw) > 200 or not _ALLOWED.match(raw.replace("Abs", "").lower()):
        raise BoyaError(f"not a maths expression: {text!r}")
    if any(len(name) > 1 for name in re.findall(r"[a-z]+", raw.replace("Abs", ""))):
        raise BoyaError(f"not a maths expression (variables are single letters): {text!r}")
    try:
        return parse_expr(math_text(raw), transformations=_TRANSFORMS, evaluate=evaluate,
                          local_dict={"Rational": sympy.Rational, "Abs": sympy.Abs})
    except (SyntaxError, TypeError, ValueError, AttributeError, sympy.SympifyError, TokenError) as error:
        raise BoyaError(f"cannot read {text!r} as maths: {error}") from None


def format_decimal(value) -> str:
    """A terminating rational as a plain decimal without trailing zeros (3/8 -> '0.375')."""
    value = sympy.Rational(value)
    text = format(Decimal(int(value.p)) / Decimal(int(value.q)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_answer(value, kind: str) -> str:
    """The canonical text of ``value`` for answer ``kind``."""
    if kind == "integer":
        return str(int(value))
    if kind == "fraction":
        value = sympy.Rational(value)
        return str(value.p) if value.q == 1 else f"{value.p}/{value.q}"
    if kind == "decimal":
        return format_decimal(value)
    if kind == "remainder":
        quotient, remainder = value
        return f"{int(quotient)} R {int(remainder)}"
    if kind in ("expression", "factored"):
        return _pretty(value)
    if kind == "roots":
        return ", ".join(format_answer(root, "fraction") for root in sorted(value))
    if kind in ("symbol", "boolean"):
        return str(value)
    raise ValueError(f"unknown answer kind {kind!r}")


def _pretty(expr) -> str:
    text = sympy.sstr(expr, order="lex").replace("**", "^")
    return re.sub(r"(\d)\*([a-z(])", r"\1\2", text).replace(")*(", ")(")


def read_answer(text: str, kind: str):
    """The value a typed answer means for ``kind``; raise BoyaError when it cannot be read."""
    text = str(text).strip()
    if kind in ("integer", "fraction", "decimal"):
        value = parse_math(text)
        if not value.is_Rational:
            raise BoyaError(f"{text!r} is not a number")
        return value
    if kind == "remainder":
        match = re.fullmatch(r"(-?\d+)\s*[Rr]\s*(\d+)", text)
        if not match:
            raise BoyaError(f"{text!r} is not written as 'quotient R remainder'")
        return int(match[1]), int(match[2])
    if kind in ("expression", "factored"):
        return parse_math(text, evaluate=kind == "expression")
    if kind == "roots":
        roots = tuple(sorted(read_answer(part, "fraction") for part in re.split(r"[,;]| and ", text) if part.strip()))
        if not roots:
            raise BoyaError(f"{text!r} lists no solutions")
        return roots
    if kind == "symbol":
        if text not in ("<", ">", "="):
            raise BoyaError(f"{text!r} is not one of <, >, =")
        return text
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise BoyaError(f"{text!r} is not true or false")
        return text.lower()
    raise ValueError(f"unknown answer kind {kind!r}")


def same_answer(given, key, kind: str) -> bool:
    """Whether two values of ``kind`` are the same answer (a factored form must also be a product)."""
    if kind == "factored":
        given_expr = sympy.sympify(given)
        return bool(given_expr.is_Mul or given_expr.is_Pow) and sympy.expand(given_expr - key) == 0
    if kind == "expression":
        return sympy.expand(sympy.sympify(given) - sympy.sympify(key)) == 0
    if kind in ("integer", "fraction", "decimal"):
        return sympy.Rational(given) == sympy.Rational(key)
    return given == key


def is_correct(text: str, key_text: str, kind: str) -> bool:
    """Grade a student's typed answer against the key; an unreadable answer is simply wrong."""
    try:
        return same_answer(read_answer(text, kind), read_answer(key_text, kind), kind)
    except BoyaError:
        return False
