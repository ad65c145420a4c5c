"""Stem writers: turn a template problem into a word problem, with the template frames or the GPT-2 wording model.

A stem writer is ``writer(problem, kp, difficulty, rng) -> Problem | None``. Whatever it writes is only a
candidate: :func:`boya_exercises.exercise.generate` serves it only if the solver re-derives the same key from the
new stem, and falls back to the template stem otherwise.
"""

from dataclasses import replace

from boya.errors import BoyaError

from .generators import Problem
from .wording import solve_facts, tell, template_facts


def _worded(problem: Problem, stem: str) -> Problem:
    return replace(problem, stem=stem, solution=f"In numbers: {problem.stem} {problem.solution}")


def template_writer(problem: Problem, kp: str, difficulty: int, rng) -> Problem | None:
    facts = template_facts(problem.stem)
    if facts is None or solve_facts(facts) is None:
        return None
    return _worded(problem, tell(facts, rng))


def stem_writer(mode: str):
    """``none``: template stems only; ``template``: frame wordings; ``model``: the shipped GPT-2 wording model."""
    if mode == "none":
        return None
    if mode == "template":
        return template_writer
    if mode == "model":
        from .wording_gpt2 import ModelWriter

        return ModelWriter.load()
    raise BoyaError(f"unknown wording mode {mode!r}; choose none, template or model")
