"""Boya: AIGC applications on one PyTorch runtime, extended through pluggy hooks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boya-core")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from .hookspecs import hookimpl  # noqa: E402  - the decorator plugins import as ``boya.hookimpl``

__all__ = ["__version__", "hookimpl"]
