"""Load a causal language model for inference and run it in batches with latency statistics.

Three kinds of source are accepted, all offline:

- a ``boya train text-lm`` run directory (``model.json`` + ``model.safetensors``), or that
  ``model.safetensors`` file itself: the core's GPT, rebuilt as a Hugging Face GPT-2 so that
  generation (KV cache, static cache, sampling, streaming) comes from ``transformers``;
- a directory written by ``boya optimize`` (``boya_inference.json``): quantized and/or pruned
  weights, loaded back as they were saved, without quantizing again;
- a local Hugging Face directory (``config.json``), or a hub id that is already in the local cache.

GPT-2's ``Conv1D`` layers are turned into ``nn.Linear`` at load time (same numbers, weight
transposed), because torchao, pruning and the export paths all work on ``nn.Linear``.
"""

import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ...errors import BoyaError
from .tokenizer import ByteTokenizer

CORE_CARD = "model.json"
CORE_WEIGHTS = "model.safetensors"
OPTIMIZED_MANIFEST = "boya_inference.json"
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class LoadedModel:
    """A model ready for inference, with the tokenizer that goes with it and where it came from."""

    model: nn.Module
    tokenizer: object
    source: str
    context_length: int
    info: dict = field(default_factory=dict)


def load_model(
    source: str | Path,
    *,
    precision: str = "fp32",
    threads: int | None = None,
    device: str = "cpu",
    int8_kernels: str = "auto",
) -> LoadedModel:
    """Load ``source`` (see the module docstring) in eval mode on ``device``.

    ``int8_kernels`` picks what runs the linear layers of an int8-dynamic model: ``torch.ao``
    (PyTorch's fbgemm/oneDNN kernels behind one custom op that ``torch.compile`` keeps in its graph,
    the fast choice on x86 CPUs; ``auto`` picks them on CPU), or ``torchao`` (its tensor subclass
    as saved).
    """
    if threads is not None:
        torch.set_num_threads(threads)
    if precision not in PRECISIONS:
        raise BoyaError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BoyaError(f"device {device!r} asked for, but this machine has no CUDA GPU; use --device cpu")
    loaded = _load(str(source))
    if precision != "fp32":
        if loaded.info.get("quantization"):
            raise BoyaError(f"{source} holds quantized weights; load it with precision fp32, not {precision}")
        loaded.model.to(PRECISIONS[precision])
    loaded.model.to(device).eval()
    loaded.info["precision"] = precision
    if (loaded.info.get("quantization") or {}).get("mode") == "int8-dynamic":
        _choose_int8_kernels(loaded, int8_kernels, device)
    return loaded


def _choose_int8_kernels(loaded: LoadedModel, kernels: str, device: str) -> None:
    from .quantize import torch_ao_engine, use_torch_ao_kernels

    if kernels not in ("auto", "torch.ao", "torchao"):
        raise BoyaError(f"unknown int8 kernels {kernels!r}; choose auto, torch.ao or torchao")
    if kernels == "auto":
        kernels = "torch.ao" if device == "cpu" and torch_ao_engine() is not None else "torchao"
    if kernels == "torch.ao":
        if device != "cpu":
            raise BoyaError("torch.ao int8 kernels run on CPU only; use int8_kernels='torchao' on GPU")
        use_torch_ao_kernels(loaded.model)
    loaded.info["int8_kernels"] = kernels


def _load(source: str) -> LoadedModel:
    path = Path(source)
    if path.is_file() and path.suffix == ".safetensors" and (path.parent / CORE_CARD).is_file():
        return load_core_gpt(path.parent / CORE_CARD, path)
    if path.is_dir():
        if (path / OPTIMIZED_MANIFEST).is_file():
            from .saved_model import load_optimized

            return load_optimized(path)
        if (path / CORE_CARD).is_file() and (path / CORE_WEIGHTS).is_file():
            return load_core_gpt(path / CORE_CARD, path / CORE_WEIGHTS)
        if (path / "config.json").is_file():
            return _load_hf(str(path), source)
        raise BoyaError(
            f"{source} is not a model directory: expected model.json + model.safetensors (a boya train run), "
            f"{OPTIMIZED_MANIFEST} (boya optimize output) or config.json (a Hugging Face model)"
        )
    if path.exists():
        raise BoyaError(
            f"{source} is not a model: give a directory or the model.safetensors of a boya train run"
        )
    if source.count("/") <= 1 and not source.startswith((".", "/", "~")):
        return _load_hf(source, source)
    raise BoyaError(f"{source} does not exist")


def _load_hf(name_or_path: str, source: str) -> LoadedModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        model = AutoModelForCausalLM.from_pretrained(name_or_path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=True)
    except (OSError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BoyaError(
            f"cannot load {source!r} as a Hugging Face causal LM from local files (nothing is downloaded): {first_line}"
        ) from None
    linear_from_conv1d(model)
    return LoadedModel(model, tokenizer, source, context_length_of(model.config), {"format": "huggingface"})


def load_core_gpt(card_file: Path, weights_file: Path) -> LoadedModel:
    """Rebuild a core ``GPT`` (``boya.runtime.models.gpt``) checkpoint as a Hugging Face GPT-2 with Linear layers."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        card = json.loads(card_file.read_text())
        model_config = card["model"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BoyaError(
            f"{card_file} is not a boya model card (a JSON object with a 'model' config)"
        ) from None
    try:
        weights = load_file(str(weights_file))
    except (SafetensorError, OSError) as error:
        raise BoyaError(f"{weights_file} is not a readable safetensors file ({error})") from None
    model = gpt2_skeleton(model_config)
    try:
        state = core_gpt_to_gpt2_state(weights, model_config["n_layer"])
        model.load_state_dict(state)
    except (KeyError, RuntimeError) as error:
        raise BoyaError(
            f"{weights_file} does not match its model card {card_file} ({str(error)[:200]})"
        ) from None
    info = {
        "format": "boya-text-lm",
        "recipe": card.get("recipe"),
        "seed": card.get("seed"),
        "metrics": card.get("metrics"),
    }
    return LoadedModel(model, ByteTokenizer(), str(weights_file.parent), model_config["block_size"], info)


def gpt2_skeleton(model_config: dict) -> nn.Module:
    """A GPT-2 (Linear layers) with the shape of a core ``GPTConfig`` dict; its weights are to be loaded."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=model_config["vocab_size"],
        n_positions=model_config["block_size"],
        n_embd=model_config["n_embd"],
        n_layer=model_config["n_layer"],
        n_head=model_config["n_head"],
        n_inner=4 * model_config["n_embd"],
        activation_function="gelu_new",  # the core GPT's GELU with the tanh approximation
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=ByteTokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = GPT2LMHeadModel(config)
    model.loss_type = "ForCausalLM"
    linear_from_conv1d(model)
    return model.eval()


def core_gpt_to_gpt2_state(weights: dict, n_layer: int) -> dict:
    """Rename the core GPT's tensors to GPT-2's; q, k and v are concatenated into ``c_attn``."""
    # tied: saved once
    embedding = weights["wte.weight"] if "wte.weight" in weights else weights["lm_head.weight"]
    state = {
        "transformer.wte.weight": embedding,
        "transformer.wpe.weight": weights["wpe.weight"],
        "transformer.ln_f.weight": weights["ln_f.weight"],
        "transformer.ln_f.bias": weights["ln_f.bias"],
    }
    for i in range(n_layer):
        src, dst = f"h.{i}.", f"transformer.h.{i}."
        for name in ("weight", "bias"):
            state[dst + f"ln_1.{name}"] = weights[src + f"ln1.{name}"]
            state[dst + f"ln_2.{name}"] = weights[src + f"ln2.{name}"]
            state[dst + f"attn.c_attn.{name}"] = torch.cat([weights[src + f"attn.{p}.{name}"] for p in "qkv"])
            state[dst + f"attn.c_proj.{name}"] = weights[src + f"attn.o.{name}"]
            state[dst + f"mlp.c_fc.{name}"] = weights[src + f"mlp.fc1.{name}"]
            state[dst + f"mlp.c_proj.{name}"] = weights[src + f"mlp.fc2.{name}"]
    state["lm_head.weight"] = embedding
    return state


def linear_from_conv1d(model: nn.Module) -> list[str]:
    """Replace transformers' ``Conv1D`` (x @ W + b, W stored in x out) by an equal ``nn.Linear``; return their names."""
    from transformers.pytorch_utils import Conv1D

    replaced = []
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                in_features, out_features = child.weight.shape
                linear = nn.Linear(
                    in_features, out_features, dtype=child.weight.dtype, device=child.weight.device
                )
                with torch.no_grad():
                    linear.weight.copy_(child.weight.t())
                    linear.bias.copy_(child.bias)
                setattr(parent, name, linear)
                replaced.append(f"{parent_name}.{name}" if parent_name else name)
    return replaced


def context_length_of(config) -> int:
    for name in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            return value
    raise BoyaError(f"cannot tell the context length of this {type(config).__name__}")


@dataclass
class LatencyStats:
    """Per-batch latencies of one :meth:`Engine.infer` call, in milliseconds."""

    count: int
    p50_ms: float
    p95_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> "LatencyStats":
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return cls(len(ms), statistics.median(ms), p95, statistics.fmean(ms))


class Engine:
    """Forward passes over batches of token ids, optionally through ``torch.compile``.

    ``compile=True`` uses inductor with weight freezing (the weights become constants inductor
    can pre-pack); the first call pays the compile time, minutes on a busy CPU.
    """

    def __init__(self, loaded: LoadedModel, *, compile: bool = False):
        self.loaded = loaded
        self.forward = compiled_forward(loaded.model) if compile else eager_forward(loaded.model)

    def logits(self, input_ids: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[-1] > self.loaded.context_length:
            raise BoyaError(
                f"input of {input_ids.shape[-1]} tokens is longer than the model's context of {self.loaded.context_length}"
            )
        with torch.inference_mode():
            return self.forward(input_ids)

    def infer(self, batches: Iterable[torch.Tensor]) -> tuple[list[torch.Tensor], LatencyStats]:
        """Logits for each batch, and the latency statistics of the calls (wall clock)."""
        outputs, seconds = [], []
        for batch in batches:
            start = time.perf_counter()
            outputs.append(self.logits(batch))
            seconds.append(time.perf_counter() - start)
        if not outputs:
            raise BoyaError("no batches to run")
        return outputs, LatencyStats.of(seconds)


class _Logits(nn.Module):
    """``input_ids -> logits`` without the cache and output objects, so compile and export see one tensor out."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, use_cache=False).logits


def eager_forward(model: nn.Module) -> nn.Module:
    return _Logits(model).eval()


def compiled_forward(model: nn.Module):
    return torch.compile(_Logits(model).eval(), options={"freezing": True})
