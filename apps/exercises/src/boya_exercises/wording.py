"""Word-problem wordings: the frames the solver can read, facts taken from template stems, and template rewording.

A wording restates a template problem as a short story ("There are 7 boxes with 8 pencils in each box…"). The
numbers and the operation are the template's; whoever writes the words (these templates, or the GPT-2 wording
model in :mod:`boya_exercises.wording_gpt2`) must produce a sentence one of ``FRAMES`` reads back, and the
solver's answer must equal the template's key, or the wording is thrown away.
"""

import math
import re
from dataclasses import dataclass
from random import Random

import sympy

from .verify import Solved

NAMES = ("Mia", "Leo", "Ana", "Wei", "Sam", "Lin", "Omar", "Zoe", "Ravi", "Yuki", "Ben", "Chen")
ITEMS = ("apples", "pencils", "stickers", "marbles", "cards", "books", "shells", "coins", "cookies", "stamps")
THINGS = ("bike", "jacket", "game", "lamp", "backpack", "watch")
_N = r"(\d+(?:\.\d+)?)"
_Z = r"(-?\d+)"
_F = r"(\d+/\d+)"
_Q = r"(\d+(?:/\d+)?)"
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
    "more": [
        "{name} had some {item}. After getting {a} more, {name} has {b} {item}. How many {item} did {name} have at first?"
    ],
    "gave": [
        "{name} had {a} {item} and gave some away. Now {name} has {b} {item}. How many {item} did {name} give away?"
    ],
    "linsub": [
        "{name} thinks of a number, multiplies it by {a} and subtracts {b}. The result is {c}. What is the number?",
    ],
    "fadd": [
        "{name} walks {a} of a mile to school and then {b} of a mile to the park. How many miles does {name} walk in all?"
    ],
    "fsub": [
        "A jug holds {a} of a litre of juice. {name} drinks {b} of a litre. How many litres of juice are left in the jug?"
    ],
    "ftimes": ["{name} runs {b} of a mile every day. How many miles does {name} run in {a} days?"],
    "fof": ["{name} has {a} of a pizza and eats {b} of it. What part of a whole pizza does {name} eat?"],
    "fdiv": ["{name} has {a} cups of rice. One serving is {b} of a cup. How many servings does {name} have?"],
    "fshare": [
        "{a} of a pound of chocolate is shared equally among {b} children. How many pounds does each child get?"
    ],
    "rise": [
        "At 6 am the temperature was {a}°C. By noon it had risen {b} degrees. What was the temperature at noon, in °C?"
    ],
    "fall": [
        "At 6 pm the temperature was {a}°C. By midnight it had fallen {b} degrees. What was the temperature at midnight, in °C?"
    ],
    "dadd": [
        "A bag of flour weighs {a} kg and a bag of rice weighs {b} kg. How many kilograms do the two bags weigh together?"
    ],
    "dsub": ["A ribbon is {a} m long. {name} cuts off {b} m. How many metres of ribbon are left?"],
    "dmul": ["A rectangle is {a} m long and {b} m wide. What is its area in square metres?"],
    "square": ["A square garden is {a} m long on each side. What is its area in square metres?"],
    "cube": ["A cube-shaped box is {a} cm long on each side. What is its volume in cubic centimetres?"],
    "gcf": [
        "{name} has {a} red {item} and {b} blue {item} and sorts all of them into identical groups, with none left over. "
        "What is the greatest number of groups {name} can make?"
    ],
    "lcm": [
        "One bus leaves the station every {a} minutes and another every {b} minutes. Both leave now. "
        "In how many minutes will they next leave together?"
    ],
    "taxi": ["A taxi ride costs ${b} plus ${a} for each mile. How many dollars does a {c}-mile ride cost?"],
}

_READERS = [
    ("add", rf"^{_NAME} has {_N} {_ITEM}\. \1 gets {_N} more\. How many \3 does \1 have now\?$", (2, 4)),
    (
        "add",
        rf"^There are {_N} {_ITEM} in a box and {_N} \2 on the table\. How many \2 are there altogether\?$",
        (1, 3),
    ),
    ("sub", rf"^{_NAME} has {_N} {_ITEM} and gives away {_N}\. How many \3 are left\?$", (2, 4)),
    (
        "sub",
        rf"^A shop had {_N} {_ITEM}\. It sold {_N} of them\. How many \2 does the shop have left\?$",
        (1, 3),
    ),
    (
        "mul",
        rf"^There are {_N} boxes with {_N} {_ITEM} in each box\. How many \3 are there in all\?$",
        (1, 2),
    ),
    (
        "mul",
        rf"^{_NAME} buys {_N} packs of {_ITEM}\. Each pack holds {_N} \3\. How many \3 does \1 buy\?$",
        (2, 4),
    ),
    (
        "div",
        rf"^{_N} {_ITEM} are shared equally among {_N} children\. How many \2 does each child get\?$",
        (1, 3),
    ),
    ("div", rf"^{_NAME} puts {_N} {_ITEM} into {_N} equal piles\. How many \3 are in each pile\?$", (2, 4)),
    (
        "rem",
        rf"^{_N} {_ITEM} are packed into bags of {_N}\. How many full bags are there, and how many \2 are left over\? "
        r"Write the answer as quotient R remainder\.$",
        (1, 3),
    ),
    (
        "pct",
        rf"^A school has {_N} students and {_N}% of them walk to school\. How many students walk to school\?$",
        (2, 1),
    ),
    ("pct", rf"^{_NAME} scored {_N}% on a test with {_N} points\. How many points did \1 score\?$", (2, 3)),
    (
        "up",
        rf"^A ([a-z]+) costs \${_N}\. Its price goes up by {_N}%\. What is the new price in dollars\?$",
        (2, 3),
    ),
    (
        "down",
        rf"^A ([a-z]+) costs \${_N}\. It is on sale for {_N}% off\. What is the sale price in dollars\?$",
        (2, 3),
    ),
    (
        "unit",
        rf"^{_NAME} pays \${_N} for {_N} {_ITEM}\. How much does one of the \4 cost in dollars\?$",
        (3, 2),
    ),
    (
        "unit",
        rf"^{_N} {_ITEM} cost \${_N} in total\. What is the price of one of the \2 in dollars\?$",
        (1, 3),
    ),
    (
        "lin",
        rf"^{_NAME} thinks of a number, multiplies it by {_N} and adds {_N}\. The result is {_N}\. What is the number\?$",
        (2, 3, 4),
    ),
    (
        "more",
        rf"^{_NAME} had some {_ITEM}\. After getting {_N} more, \1 has {_N} \2\. How many \2 did \1 have at first\?$",
        (3, 4),
    ),
    (
        "gave",
        rf"^{_NAME} had {_N} {_ITEM} and gave some away\. Now \1 has {_N} \3\. How many \3 did \1 give away\?$",
        (2, 4),
    ),
    (
        "linsub",
        rf"^{_NAME} thinks of a number, multiplies it by {_N} and subtracts {_N}\. The result is {_N}\. "
        r"What is the number\?$",
        (2, 3, 4),
    ),
    (
        "fadd",
        rf"^{_NAME} walks {_F} of a mile to school and then {_F} of a mile to the park\. How many miles does \1 walk in all\?$",
        (2, 3),
    ),
    (
        "fsub",
        rf"^A jug holds {_F} of a litre of juice\. {_NAME} drinks {_F} of a litre\. How many litres of juice are left in the jug\?$",
        (1, 3),
    ),
    (
        "ftimes",
        rf"^{_NAME} runs {_F} of a mile every day\. How many miles does \1 run in {_N} days\?$",
        (3, 2),
    ),
    (
        "fof",
        rf"^{_NAME} has {_F} of a pizza and eats {_F} of it\. What part of a whole pizza does \1 eat\?$",
        (2, 3),
    ),
    (
        "fdiv",
        rf"^{_NAME} has {_Q} cups of rice\. One serving is {_F} of a cup\. How many servings does \1 have\?$",
        (2, 3),
    ),
    (
        "fshare",
        rf"^{_F} of a pound of chocolate is shared equally among {_N} children\. How many pounds does each child get\?$",
        (1, 2),
    ),
    (
        "rise",
        rf"^At 6 am the temperature was {_Z}°C\. By noon it had risen {_N} degrees\. What was the temperature at noon, in °C\?$",
        (1, 2),
    ),
    (
        "fall",
        rf"^At 6 pm the temperature was {_Z}°C\. By midnight it had fallen {_N} degrees\. "
        r"What was the temperature at midnight, in °C\?$",
        (1, 2),
    ),
    (
        "dadd",
        rf"^A bag of flour weighs {_N} kg and a bag of rice weighs {_N} kg\. How many kilograms do the two bags weigh together\?$",
        (1, 2),
    ),
    (
        "dsub",
        rf"^A ribbon is {_N} m long\. {_NAME} cuts off {_N} m\. How many metres of ribbon are left\?$",
        (1, 3),
    ),
    ("dmul", rf"^A rectangle is {_N} m long and {_N} m wide\. What is its area in square metres\?$", (1, 2)),
    ("square", rf"^A square garden is {_N} m long on each side\. What is its area in square metres\?$", (1,)),
    (
        "cube",
        rf"^A cube-shaped box is {_N} cm long on each side\. What is its volume in cubic centimetres\?$",
        (1,),
    ),
    (
        "gcf",
        rf"^{_NAME} has {_N} red {_ITEM} and {_N} blue \3 and sorts all of them into identical groups, with none left over\. "
        r"What is the greatest number of groups \1 can make\?$",
        (2, 4),
    ),
    (
        "lcm",
        rf"^One bus leaves the station every {_N} minutes and another every {_N} minutes\. Both leave now\. "
        r"In how many minutes will they next leave together\?$",
        (1, 2),
    ),
    (
        "taxi",
        rf"^A taxi ride costs \${_N} plus \${_N} for each mile\. How many dollars does a {_N}-mile ride cost\?$",
        (2, 1, 3),
    ),
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
    a, b = [*values, None][:2]  # square and cube state one number
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
    if facts.op in ("lin", "linsub") and integers and a != 0:
        x = (values[2] + (b if facts.op == "linsub" else -b)) / a
        return Solved(x, "integer" if x.q == 1 else "fraction")
    if facts.op == "more" and integers and b >= a:
        return Solved(b - a, "integer")
    if facts.op == "gave" and integers and a >= b:
        return Solved(a - b, "integer")
    if (
        facts.op in ("fadd", "fsub", "ftimes", "fof", "fdiv", "fshare")
        and (facts.op != "fsub" or a >= b)
        and b != 0
    ):
        value = {"fadd": a + b, "fsub": a - b, "ftimes": a * b, "fof": a * b, "fdiv": a / b, "fshare": a / b}[
            facts.op
        ]
        return Solved(value, "fraction")
    if facts.op in ("rise", "fall") and integers:
        return Solved(a + b if facts.op == "rise" else a - b, "integer")
    if facts.op in ("dadd", "dmul") or (facts.op == "dsub" and a >= b):
        return Solved({"dadd": a + b, "dsub": a - b, "dmul": a * b}[facts.op], "decimal")
    if facts.op in ("square", "cube") and integers:
        return Solved(a ** (2 if facts.op == "square" else 3), "integer")
    if facts.op in ("gcf", "lcm") and integers and a > 0 and b > 0:
        return Solved((math.gcd if facts.op == "gcf" else math.lcm)(int(a), int(b)), "integer")
    if facts.op == "taxi":
        return Solved(a * values[2] + b, "integer" if (a * values[2] + b).q == 1 else "decimal")
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
    ("linsub", re.compile(r"^Solve for x: (\d+)x − (\d+) = (\d+)\.$")),
    ("more", re.compile(r"^Solve for [nx]: [nx] \+ (\d+) = (\d+)\.$")),
    ("gave", re.compile(r"^Solve for n: (\d+) − n = (\d+)\.$")),
    ("div", re.compile(r"^Solve for n: (\d+) × n = (\d+)\.$"), (1, 0)),
    ("div", re.compile(r"^Solve for x: (\d+)x = (\d+)\.$"), (1, 0)),
    ("fadd", re.compile(r"^Compute (\d+/\d+) \+ (\d+/\d+)\.$")),
    ("fsub", re.compile(r"^Compute (\d+/\d+) − (\d+/\d+)\.$")),
    ("ftimes", re.compile(r"^Compute (\d+) × (\d+/\d+)\.$")),
    ("fof", re.compile(r"^Compute (\d+/\d+) × (\d+/\d+)\.$")),
    ("fdiv", re.compile(r"^Compute (\d+(?:/\d+)?) ÷ (\d+/\d+)\.$")),
    ("fshare", re.compile(r"^Compute (\d+/\d+) ÷ (\d+)\.$")),
    ("rise", re.compile(r"^Compute (-\d+) \+ (\d+)\.$")),
    ("fall", re.compile(r"^Compute (-?\d+) \+ \(-(\d+)\)\.$")),
    ("dadd", re.compile(rf"^Compute {_N} \+ {_N}\.$")),
    ("dsub", re.compile(rf"^Compute {_N} − {_N}\.$")),
    ("dmul", re.compile(r"^Compute (\d+\.\d+) × (\d+(?:\.\d+)?)\.$")),
    ("square", re.compile(r"^Compute (\d+)\^2\.$")),
    ("cube", re.compile(r"^Compute (\d+)\^3\.$")),
    ("gcf", re.compile(r"^Find the greatest common factor of (\d+) and (\d+)\.$")),
    ("lcm", re.compile(r"^Find the least common multiple of (\d+) and (\d+)\.$")),
    ("taxi", re.compile(r"^Evaluate (\d+)x \+ (\d+) when x = (\d+)\.$")),
]


def template_facts(stem: str) -> Facts | None:
    """The facts of a template stem that a story can carry (None for stems no frame fits)."""
    for op, pattern, *order in _TEMPLATE_FACTS:
        match = pattern.match(stem)
        if match:
            numbers = tuple(g for g in match.groups() if g is not None and not g.isalpha())
            if op == "unit":
                numbers = (match[1], match[3])
            if (
                order
            ):  # the story states the numbers in another order than the stem ("a × n = p": p shared among a)
                numbers = tuple(numbers[i] for i in order[0])
            return Facts(op, numbers)
    return None


def tell(facts: Facts, rng: Random) -> str:
    """A story for ``facts`` from the template frames (the fallback when no model writes one)."""
    frame = rng.choice(FRAMES[facts.op])
    slots = dict(zip("abc", facts.numbers, strict=False))
    return frame.format(name=rng.choice(NAMES), item=rng.choice(ITEMS), thing=rng.choice(THINGS), **slots)
