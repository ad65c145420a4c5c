"""Word-problem wordings: the frames the solver can read, facts taken from template stems, and template rewording.

A wording restates a template problem as a short story ("There are 7 boxes with 8 pencils in each box…"). The
numbers and the operation are the template's; whoever writes the words (these templates, or the GPT-2 wording
model in :mod:`boya_exercises.wording_gpt2`) must produce a sentence one of ``FRAMES`` reads back, and the
solver's answer must equal the template's key, or the wording is thrown away.
"""

import re
from dataclasses import dataclass
from random import Random

import sympy

from .verify import Solved

NAMES = ("Mia", "Leo", "Ana", "Wei", "Sam", "Lin", "Omar", "Zoe", "Ravi", "Yuki", "Ben", "Chen")
ITEMS = ("apples", "pencils", "stickers", "marbles", "cards", "books", "shells", "coins", "cookies", "stamps")
THINGS = ("bike", "jacket", "game", "lamp", "backpack", "watch")
_N = r"(\d+(?:\.\d+)?)"
_NAME = r"([A-Z][a-z]+)"
_ITEM = r"([a-z]+s)"


@dataclass(frozen=True)
class Facts:
    """The operation and numbers of a template problem that a story can carry."""

    op: str
    numbers: tuple[str, ...]


# Each frame: op, the story text with {name} {item} {thing} {a} {b} {c} slots, and the regex that reads it back.
FRAMES = {
    "add": [
        "{name} has {a} {item}. {name} gets {b} more. How many {item} does {name} have now?",
        "There are {a} {item} in a box and {b} {item} on the table. How many {item} are there altogether?",
    ],
    "sub": [
        "{name} has {a} {item} and gives away {b}. How many {item} are left?",
        "A shop had {a} {item}. It sold {b} of them. How many {item} does the shop have left?",
    ],
    "mul": [
        "There are {a} boxes with {b} {item} in each box. How many {item} are there in all?",
        "{name} buys {a} packs of {item}. Each pack holds {b} {item}. How many {item} does {name} buy?",
    ],
    "div": [
        "{a} {item} are shared equally among {b} children. How many {item} does each child get?",
        "{name} puts {a} {item} into {b} equal piles. How many {item} are in each pile?",
    ],
    "rem": [
        "{a} {item} are packed into bags of {b}. How many full bags are there, and how many {item} are left over? "
        "Write the answer as quotient R remainder.",
    ],
    "pct": [
        "A school has {b} students and {a}% of them walk to school. How many students walk to school?",
        "{name} scored {a}% on a test with {b} points. How many points did {name} score?",
    ],
    "up": ["A {thing} costs ${a}. Its price goes up by {b}%. What is the new price in dollars?"],
    "down": ["A {thing} costs ${a}. It is on sale for {b}% off. What is the sale price in dollars?"],
    "unit": [
        "{name} pays ${b} for {a} {item}. How much does one of the {item} cost in dollars?",
        "{a} {item} cost ${b} in total. What is the price of one of the {item} in dollars?",
    ],
    "lin": [
        "{name} thinks of a number, multiplies it by {a} and adds {b}. The result is {c}. What is the number?",
    ],
}

_READERS = [
    ("add", rf"^{_NAME} has {_N} {_ITEM}\. \1 gets {_N} more\. How many \3 does \1 have now\?$", (2, 4)),
    ("add", rf"^There are {_N} {_ITEM} in a box and {_N} \2 on the table\. How many \2 are there altogether\?$", (1, 3)),
    ("sub", rf"^{_NAME} has {_N} {_ITEM} and gives away {_N}\. How many \3 are left\?$", (2, 4)),
    ("sub", rf"^A shop had {_N} {_ITEM}\. It sold {_N} of them\. How many \2 does the shop have left\?$", (1, 3)),
    ("mul", rf"^There are {_N} boxes with {_N} {_ITEM} in each box\. How many \3 are there in all\?$", (1, 2)),
    ("mul", rf"^{_NAME} buys {_N} packs of {_ITEM}\. Each pack holds {_N} \3\. How many \3 does \1 buy\?$", (2, 4)),
    ("div", rf"^{_N} {_ITEM} are shared equally among {_N} children\. How many \2 does each child get\?$", (1, 3)),
    ("div", rf"^{_NAME} puts {_N} {_ITEM} into {_N} equal piles\. How many \3 are in each pile\?$", (2, 4)),
    ("rem", rf"^{_N} {_ITEM} are packed into bags of {_N}\. How many full bags are there, and how many \2 are left over\? "
            r"Write the answer as quotient R remainder\.$", (1, 3)),
    ("pct", rf"^A school has {_N} students and {_N}% of them walk to school\. How many students walk to school\?$", (2, 1)),
    ("pct", rf"^{_NAME} scored {_N}% on a test with {_N} points\. How many points did \1 score\?$", (2, 3)),
    ("up", rf"^A ([a-z]+) costs \${_N}\. Its price goes up by {_N}%\. What is the new price in dollars\?$", (2, 3)),
    ("down", rf"^A ([a-z]+) costs \${_N}\. It is on sale for {_N}% off\. What is the sale price in dollars\?$", (2, 3)),
    ("unit", rf"^{_NAME} pays \${_N} for {_N} {_ITEM}\. How much does one of the \4 cost in dollars\?$", (3, 2)),
    ("unit", rf"^{_N} {_ITEM} cost \${_N} in total\. What is the price of one of the \2 in dollars\?$", (1, 3)),
    ("lin", rf"^{_NAME} thinks of a number, multiplies it by {_N} and adds {_N}\. The result is {_N}\. What is the number\?$", (2, 3, 4)),
]
_READERS = [(op, re.compile(pattern), groups) for op, pattern, groups in _READERS]


def read_word_problem(stem: str) -> Facts | None:
    """The operation and numbers a story states, or None when no frame reads it."""
    for op, pattern, groups in _READERS:
        match = pattern.match(stem)
        if match:
            return Facts(op, tuple(match[g] for g in groups))
    return None


def solve_facts(facts: Facts) -> Solved | None:
    """The answer a story's facts imply, or None when they make no sense (negative counts, uneven shares…)."""
    values = [sympy.Rational(n) for n in facts.numbers]
    a, b = values[0], values[1]
    integers = all(v.q == 1 for v in values)
    if facts.op == "add" and integers:
        return Solved(a + b, "integer")
    if facts.op == "sub" and integers and a >= b:
        return Solved(a - b, "integer")
    if facts.op == "mul" and integers:
        return Solved(a * b, "integer")
    if facts.op == "div" and integers and b > 0 and a % b == 0:
        return Solved(a / b, "integer")
    if facts.op == "rem" and integers and b > 1:
        return Solved(divmod(int(a), int(b)), "remainder")
    if facts.op == "pct":
        return Solved(a * b / 100, "decimal")
    if facts.op in ("up", "down") and (facts.op == "up" or b <= 100):
        return Solved(a * (1 + (b if facts.op == "up" else -b) / 100), "decimal")
    if facts.op == "unit" and a.q == 1 and a > 0:
        return Solved(b / a, "decimal")
    if facts.op == "lin" and integers and a != 0:
        x = (values[2] - b) / a
        return Solved(x, "integer" if x.q == 1 else "fraction")
    return None


def solve_word_problem(stem: str) -> Solved | None:
    facts = read_word_problem(stem)
    return solve_facts(facts) if facts else None


_TEMPLATE_FACTS = [
    ("add", re.compile(r"^Compute (\d+) \+ (\d+)\.$")),
    ("sub", re.compile(r"^Compute (\d+) − (\d+)\.$")),
    ("mul", re.compile(r"^Compute (\d+) × (\d+)\.$")),
    ("div", re.compile(r"^Compute (\d+) ÷ (\d+)\.$")),
    ("rem", re.compile(r"^Divide (\d+) by (\d+)\. Write the answer as quotient R remainder\.$")),
    ("pct", re.compile(rf"^What is {_N}% of {_N}\?$")),
    ("up", re.compile(rf"^A price of \${_N} is increased by {_N}%\. What is the new price in dollars\?$")),
    ("down", re.compile(rf"^A price of \${_N} is decreased by {_N}%\. What is the new price in dollars\?$")),
    ("unit", re.compile(rf"^(\d+) {_ITEM} cost \${_N}\. What is the cost of one [a-z]+ in dollars\?$")),
    ("lin", re.compile(r"^Solve for x: (\d+)x \+ (\d+) = (\d+)\.$")),
]


def template_facts(stem: str) -> Facts | None:
    """The facts of a template stem that a story can carry (None for stems no frame fits)."""
    for op, pattern in _TEMPLATE_FACTS:
        match = pattern.match(stem)
        if match:
            numbers = tuple(g for g in match.groups() if g is not None and not g.isalpha())
            if op == "unit":
                numbers = (match[1], match[3])
            return Facts(op, numbers)
    return None


def tell(facts: Facts, rng: Random) -> str:
    """A story for ``facts`` from the template frames (the fallback when no model writes one)."""
    frame = rng.choice(FRAMES[facts.op])
    slots = dict(zip("abc", facts.numbers, strict=False))
    return frame.format(name=rng.choice(NAMES), item=rng.choice(ITEMS), thing=rng.choice(THINGS), **slots)
