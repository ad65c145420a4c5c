"""A real-time virtual anchor: speech to mouth shapes and motion, rendered in the browser and OBS."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boya-anchor")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"
