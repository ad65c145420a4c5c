"""Precision policy: which dtype the forward runs in, which dtype the weights live in, and loss scaling.

Modes use Lightning's names:

- ``32``: fp32 everywhere.
- ``bf16-mixed``: fp32 master weights, forward under ``torch.autocast(bfloat16)``.
- ``16-mixed``: fp32 master weights, forward under ``torch.autocast(float16)`` and a ``GradScaler``
  (dynamic loss scale, initial 65536 = torch's default, x2 after 2000 clean steps, x0.5 and the step
  skipped on inf/nan).
- ``bf16-true``: weights, gradients and optimizer state in bfloat16 (half the memory, no master copy).
- ``auto``: the fastest of these the hardware supports.

The hardware check exists because the cheap modes are not always fast: on a CPU without AMX or
AVX512-BF16, bf16 autocast ran 1.2-1.4x *slower* than fp32 (measured for issue 3), so the policy warns,
and ``auto`` keeps fp32 there. A mode the device cannot run at all is a :class:`BoyaError`.
"""

import contextlib
import warnings
from dataclasses import dataclass

import torch

from ..errors import BoyaError


@dataclass(frozen=True)
class PrecisionPolicy:
    """The resolved mode for one device."""

    name: str
    device: torch.device
    autocast_dtype: torch.dtype | None
    param_dtype: torch.dtype

    @property
    def uses_grad_scaler(self) -> bool:
        return self.autocast_dtype is torch.float16

    def autocast(self):
        """Context for the forward pass (and loss); a no-op for ``32`` and ``bf16-true``."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def grad_scaler(self, init_scale: float = 65536.0, growth_interval: int = 2000):
        """A ``GradScaler`` for ``16-mixed`` (device passed explicitly: torch's default is cuda), else ``None``."""
        if not self.uses_grad_scaler:
            return None
        return torch.amp.GradScaler(self.device.type, init_scale=init_scale, growth_interval=growth_interval)


def cpu_has_fast_bf16() -> bool:
    """AMX or AVX512-BF16: the CPU features that make bf16 matrix products faster than fp32."""
    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()


def cpu_has_fast_fp16() -> bool:
    return torch.cpu._is_amx_fp16_supported()


def cuda_supports_bf16() -> bool:
    return torch.cuda.is_bf16_supported()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise BoyaError("device 'cuda' requested but no CUDA GPU is available; use --device cpu")
    return torch.device(name)


def resolve_precision(name: str, device: torch.device) -> PrecisionPolicy:
    """Check ``name`` against ``device``: error if impossible, warn if slower than fp32, pick for ``auto``."""
    if name == "auto":
        name = _auto(device)
    if name not in ("32", "bf16-mixed", "16-mixed", "bf16-true"):
        raise BoyaError(
            f"unknown precision {name!r}; choose one of: 32, bf16-mixed, 16-mixed, bf16-true, auto"
        )
    if "bf16" in name and device.type == "cuda" and not cuda_supports_bf16():
        raise BoyaError(f"precision {name!r}: this GPU cannot compute in bfloat16; use 16-mixed or 32")
    if device.type == "cpu":
        if "bf16" in name and not cpu_has_fast_bf16():
            warnings.warn(
                f"precision {name!r} on a CPU without AMX/AVX512-BF16 is slower than fp32 "
                "(measured 1.2-1.4x); use 32 or auto for speed",
                RuntimeWarning,
                stacklevel=2,
            )
        if name == "16-mixed" and not cpu_has_fast_fp16():
            warnings.warn(
                "precision '16-mixed' on a CPU without AMX-FP16 is no faster than fp32; use 32 or auto for speed",
                RuntimeWarning,
                stacklevel=2,
            )
    autocast = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(name)
    param_dtype = torch.bfloat16 if name == "bf16-true" else torch.float32
    return PrecisionPolicy(name=name, device=device, autocast_dtype=autocast, param_dtype=param_dtype)


def _auto(device: torch.device) -> str:
    if device.type == "cuda":
        return "bf16-mixed" if cuda_supports_bf16() else "16-mixed"
    return "bf16-mixed" if torch.cpu._is_amx_tile_supported() else "32"
