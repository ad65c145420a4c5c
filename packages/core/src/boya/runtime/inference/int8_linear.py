"""An int8-dynamic linear layer on PyTorch's fbgemm/oneDNN kernels that ``torch.compile`` keeps in one graph.

``torch.ao``'s dynamic ``Linear`` calls ``quantized::linear_dynamic`` with an opaque packed-weight
object; Dynamo cannot trace that object, so a compiled GPT-2 broke its graph at every linear layer
(15 breaks, ~4 ms of guards and cache lookups per forward). Here the call is the custom op
``boya::linear_int8_dynamic``, whose arguments are plain tensors (input, int8 weight, per-channel
scales, bias) and which has a fake implementation, so Dynamo records it as one op and inductor
calls it as an extern kernel.

The packed weight (fbgemm's layout) cannot be an argument, so it lives in a cache keyed by where
the int8 weight, scales and bias are stored; :class:`Int8DynamicLinear` fills it once when built (weights
are packed once, at load time) and drops its entry when collected. An entry holds its tensors (so
their memory cannot be reused by others while it exists) and their version counters (so a weight
changed in place is not served stale). A call that misses the cache (a copy of the weight, a
changed one) still computes the right answer: it packs for that call only.
"""

import warnings
import weakref

import torch
from torch import nn

_PACKED: dict[tuple, tuple] = {}
"""``_key(weight, scale, bias) -> (their versions, packed weight, weight, scale, bias)``."""


def _key(*tensors: torch.Tensor | None) -> tuple:
    return tuple(None if t is None else (t.data_ptr(), tuple(t.shape), t.stride()) for t in tensors)


def _versions(*tensors: torch.Tensor | None) -> tuple:
    """In-place changes bump a tensor's version; tensors made under inference mode have none (and stay 0)."""
    return tuple(0 if t is None or t.is_inference() else t._version for t in tensors)


def _pack(weight: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None):
    zero_points = torch.zeros(weight.shape[0], dtype=torch.long)
    with warnings.catch_warnings():  # torch.ao's quantized tensors warn that they are deprecated
        warnings.simplefilter("ignore", UserWarning)
        qweight = torch._make_per_channel_quantized_tensor(weight, scale.double(), zero_points, 0)
        return torch.ops.quantized.linear_prepack(qweight, bias)


def _linear(x: torch.Tensor, weight: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None):
    entry = _PACKED.get(_key(weight, scale, bias))
    if entry is not None and entry[0] == _versions(weight, scale, bias):
        packed = entry[1]
    else:
        packed = _pack(weight, scale, bias)
    return torch.ops.quantized.linear_dynamic(x.contiguous(), packed, True)


@torch.library.custom_op("boya::linear_int8_dynamic", mutates_args=())
def linear_int8_dynamic(
    x: torch.Tensor, weight: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """``x @ weight.T * scale + bias`` with ``x`` quantized per batch to 7-bit unsigned (safe without VNNI)."""
    return _linear(x, weight, scale, bias)


@linear_int8_dynamic.register_fake
def _(x, weight, scale, bias):
    return x.new_empty((*x.shape[:-1], weight.shape[0]))


class Int8DynamicLinear(nn.Module):
    """A linear layer with int8 per-output-channel weights (symmetric) and float activations in and out."""

    def __init__(self, weight: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        if weight.dtype != torch.int8 or weight.dim() != 2:
            raise ValueError(f"expected a 2-D int8 weight, got {weight.dtype} {tuple(weight.shape)}")
        self.out_features, self.in_features = weight.shape
        self.register_buffer("weight", weight.contiguous())
        self.register_buffer("scale", scale.reshape(-1).float().contiguous())
        self.register_buffer("bias", None if bias is None else bias.detach().float().contiguous())
        tensors = (self.weight, self.scale, self.bias)
        key = _key(*tensors)
        _PACKED[key] = (_versions(*tensors), _pack(*tensors), *tensors)
        weakref.finalize(self, _PACKED.pop, key, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.compiler.is_compiling():
            return linear_int8_dynamic(x, self.weight, self.scale, self.bias)
        # eager: the same kernel without the custom op's dispatch (~30 us a call, felt when decoding)
        return _linear(x, self.weight, self.scale, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )
