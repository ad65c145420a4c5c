"""Answer kinds: how a value is written as text and read back, so keys, options and students' answers compare by value.

A kind fixes both the canonical spelling of a key ("3/4", "0.75", "23 R 4", "-2, 3") and what counts as the same
answer when a student types it ("6/8" equals "3/4" for a fraction, "(x+3)(x-2)" equals "(x - 2)(x + 3)" for a
factored form, but the expanded "x^2 + x - 6" does not).
"""

import builtins
import re
import types
from decimal import Decimal
from functools import cache
from tokenize import TokenError

import sympy
from boya.errors import BoyaError
from sympy.core.mul import _keep_coeff
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

KINDS = (
    "integer",
    "fraction",
    "decimal",
    "remainder",
    "expression",
    "factored",
    "roots",
    "symbol",
    "boolean",
)
_TRANSFORMS = standard_transformations + (implicit_multiplication_application, convert_xor)
_FRACTION_LITERAL = re.compile(r"(?<![\w.)])(\d+)\s*/\s*(\d+)(?![\w.(])")
_DECIMAL_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d+)")
_ALLOWED = re.compile(r"^[\d\s+\-*/^().,a-z|×÷−]*$")
_PLAIN_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)(?:\s*/\s*(\d*[1-9]\d*))?$")
X = sympy.Symbol("x")
_POLYNOMIALS_IN_X = sympy.ring("x", sympy.QQ)[0]
_INTEGER_POLYNOMIALS_IN_X = sympy.ring("x", sympy.ZZ)[0]


@cache
def _sympy_namespace() -> dict:
    """The names parse_expr evaluates in, built once: parse_expr rebuilds them (``from sympy import *``) on every call otherwise."""
    namespace: dict = {}
    exec("from sympy import *", namespace)  # noqa: S102 - a constant statement, the namespace parse_expr itself uses
    namespace.update(
        {name: obj for name, obj in vars(builtins).items() if isinstance(obj, types.BuiltinFunctionType)}
    )
    namespace.update(max=sympy.Max, min=sympy.Min)
    return namespace


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
    plain = _PLAIN_NUMBER.match(raw)
    if plain:  # keys, options and most typed answers: exact without the cost of tokenising and evaluating
        return sympy.Rational(plain[1]) / int(plain[2] or 1)
    try:
        return parse_expr(
            math_text(raw),
            transformations=_TRANSFORMS,
            evaluate=evaluate,
            global_dict=_sympy_namespace(),
            local_dict={"Rational": sympy.Rational, "Abs": sympy.Abs},
        )
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
    polynomial = _polynomial_text(expr)
    if polynomial is not None:
        return polynomial
    text = sympy.sstr(expr, order="lex").replace("**", "^")
    return re.sub(r"(\d)\*([a-z(])", r"\1\2", text).replace(")*(", ")(")


def _polynomial_text(expr) -> str | None:
    """'2x^2 - 8x - 11' straight from the coefficients, as sstr would print it, when ``expr`` is an expanded
    polynomial in x with integer coefficients (sstr's ordering of the terms is the slow part); else None."""
    if not all(
        _is_monomial(term) for term in sympy.Add.make_args(expr)
    ):  # products and powers print as written
        return None
    try:
        polynomial = _INTEGER_POLYNOMIALS_IN_X.from_expr(expr)
    except ValueError:
        return None
    text = ""
    for (power,), coefficient in polynomial.terms():  # highest power first
        number = "" if abs(coefficient) == 1 and power else str(abs(coefficient))
        text += f" {'-' if coefficient < 0 else '+'} {number}{'' if power == 0 else 'x' if power == 1 else f'x^{power}'}"
    if not text:
        return "0"
    return text[3:] if text[1] == "+" else "-" + text[3:]


def _is_monomial(term) -> bool:
    rest = term.as_coeff_Mul()[1]
    return rest == 1 or rest == X or (rest.is_Pow and rest.base == X and rest.exp.is_Integer)


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
        roots = tuple(
            sorted(read_answer(part, "fraction") for part in re.split(r"[,;]| and ", text) if part.strip())
        )
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


def expanded(expr):
    """The expanded form of ``expr`` as a canonical, hashable value: equal expressions give equal values.

    A polynomial in x (every key and option the generators write) becomes an element of sympy's sparse polynomial
    ring, about ten times faster than ``sympy.expand``; anything else (other letters, |x|, 1/x) is expanded as an
    expression, and never equals a polynomial in x.
    """
    expr = sympy.sympify(expr)
    try:
        return _POLYNOMIALS_IN_X.from_expr(expr)
    except ValueError:
        return sympy.expand(expr)


def expand_polynomial(expr):
    """``sympy.expand(expr)``, the same expression, several times faster for a polynomial in x (see :func:`expanded`)."""
    return expanded(expr).as_expr()


def factor_over_integers(expr):
    """``sympy.factor(expr)``, the same expression, about twice as fast for a polynomial in x with integer coefficients.

    Such a polynomial is factored in sympy's polynomial ring over the integers and rebuilt the way sympy.factor
    rebuilds it (content kept in front by ``_keep_coeff``); anything else goes to sympy.factor itself.
    """
    try:
        content, factors = _INTEGER_POLYNOMIALS_IN_X.from_expr(expr).factor_list()
    except ValueError:
        return sympy.factor(expr)
    return _keep_coeff(
        sympy.Integer(int(content)), sympy.Mul(*(factor.as_expr() ** power for factor, power in factors))
    )


def comparable(value, kind: str):
    """A hashable stand-in for ``value``: two answers of ``kind`` have the same value exactly when these are equal."""
    if kind in ("expression", "factored"):
        return expanded(value)
    if kind in ("integer", "fraction", "decimal"):
        return sympy.Rational(value)
    if kind == "roots":
        return tuple(sorted(value))
    return value


def same_answer(given, key, kind: str) -> bool:
    """Whether two values of ``kind`` are the same answer (a factored form must also be a product)."""
    if kind == "factored":
        given_expr = sympy.sympify(given)
        if not (given_expr.is_Mul or given_expr.is_Pow):
            return False
    return comparable(given, kind) == comparable(key, kind)


def is_correct(text: str, key_text: str, kind: str) -> bool:
    """Grade a student's typed answer against the key; an unreadable answer is simply wrong."""
    try:
        return same_answer(read_answer(text, kind), read_answer(key_text, kind), kind)
    except BoyaError:
        return False
