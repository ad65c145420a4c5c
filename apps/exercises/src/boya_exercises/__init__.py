"""Personalised maths practice: a knowledge graph, verified generated exercises, adaptive difficulty."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boya-exercises")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"
