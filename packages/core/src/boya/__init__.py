"""Boya: AIGC applications on one PyTorch runtime, extended through pluggy hooks."""

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boya-core")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

# torchao (the int8 backend) warns at import about CUDA-only extensions and enum registrations
# whenever transformers imports it; on a CPU machine those lines are noise in every command.
logging.getLogger("torchao").setLevel(logging.ERROR)
logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)

from .hookspecs import hookimpl  # noqa: E402  - the decorator plugins import as ``boya.hookimpl``

__all__ = ["__version__", "hookimpl"]
