"""Text generation on top of ``transformers``' ``generate``: batched prompts, KV cache, streaming.

- cache: ``dynamic`` (default: the KV cache grows as tokens come), ``static`` (preallocated to
  the model's context, fixed shapes) or ``off`` (recompute everything each step, for comparison);
- ``compile=True`` with the static cache compiles the decoding step with inductor (a long first call);
- greedy when ``temperature`` is 0, else sampling with optional ``top_k`` / ``top_p``;
- ``stop`` strings end a sequence as soon as its text contains one (the text is cut before it),
  ``max_time`` bounds the wall time;
- :func:`stream_text` yields the text piece by piece as tokens are produced (for the web UIs).

A prompt that does not leave room for ``max_new_tokens`` in the model's context is refused with
a :class:`~boya.errors.BoyaError` instead of failing deep inside the model.
"""

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from ...errors import BoyaError
from .engine import LoadedModel

CACHES = ("dynamic", "static", "off")


@dataclass
class GenerationSettings:
    max_new_tokens: int = 64
    temperature: float = 0.0
    top_k: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    max_time: float | None = None
    cache: str = "dynamic"
    compile: bool = False
    seed: int | None = None


@dataclass
class Generation:
    text: str
    tokens: list[int]
    stopped_by: str  # "stop string", "eos" or "length" (which includes max_time)


def generate_text(
    loaded: LoadedModel, prompts: list[str], settings: GenerationSettings | None = None
) -> list[Generation]:
    """Continue each prompt; prompts of different lengths are left-padded into one batch."""
    settings = settings or GenerationSettings()
    inputs = _encode(loaded, prompts, settings)
    with torch.inference_mode():
        output = loaded.model.generate(**_generate_kwargs(loaded, inputs, settings))
    return [_finish(loaded, row[inputs["input_ids"].shape[1] :].tolist(), settings) for row in output]


def stream_text(
    loaded: LoadedModel, prompt: str, settings: GenerationSettings | None = None
) -> Iterator[str]:
    """Yield the continuation of ``prompt`` as text pieces while it is being generated.

    Bad settings or a prompt too long raise here, before the first piece, not while iterating.
    """
    settings = settings or GenerationSettings()
    inputs = _encode(loaded, [prompt], settings)
    return _stream(loaded, inputs, settings)


def _stream(loaded: LoadedModel, inputs: dict, settings: GenerationSettings) -> Iterator[str]:
    streamer = _QueueStreamer()
    failure = []

    def run():
        try:
            with torch.inference_mode():
                loaded.model.generate(**_generate_kwargs(loaded, inputs, settings), streamer=streamer)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread below
            failure.append(error)
            streamer.end()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    tokens, shown = [], ""
    for token in streamer:
        tokens.append(token)
        text = _cut_at_stop(loaded.tokenizer.decode(tokens, skip_special_tokens=True), settings.stop)[0]
        if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
            continue
        if len(text) > len(shown):
            yield text[len(shown) :]
            shown = text
    thread.join()
    if failure:
        raise failure[0]


def _encode(loaded: LoadedModel, prompts: list[str], settings: GenerationSettings) -> dict:
    if not prompts:
        raise BoyaError("no prompt given")
    if settings.cache not in CACHES:
        raise BoyaError(f"unknown cache {settings.cache!r}; choose one of {', '.join(CACHES)}")
    if settings.compile and settings.cache != "static":
        raise BoyaError("compiled generation needs the static cache (cache='static')")
    if settings.max_new_tokens < 1:
        raise BoyaError("max_new_tokens must be at least 1")
    if settings.temperature < 0 or (settings.top_p is not None and not 0 < settings.top_p <= 1):
        raise BoyaError("temperature must be >= 0 and top_p in (0, 1]")
    encoded = [loaded.tokenizer.encode(prompt) for prompt in prompts]
    longest = max(len(ids) for ids in encoded)
    if min(len(ids) for ids in encoded) == 0:
        raise BoyaError("a prompt is empty; give at least one character")
    if longest + settings.max_new_tokens > loaded.context_length:
        raise BoyaError(
            f"prompt of {longest} tokens + {settings.max_new_tokens} new tokens exceeds the model's context of "
            f"{loaded.context_length} tokens; shorten the prompt or lower max_new_tokens"
        )
    pad = _pad_id(loaded)
    input_ids = torch.full((len(encoded), longest), pad, dtype=torch.long)
    attention_mask = torch.zeros((len(encoded), longest), dtype=torch.long)
    for row, ids in enumerate(encoded):
        input_ids[row, longest - len(ids) :] = torch.tensor(ids)
        attention_mask[row, longest - len(ids) :] = 1
    device = next(loaded.model.parameters()).device
    return {"input_ids": input_ids.to(device), "attention_mask": attention_mask.to(device)}


def _pad_id(loaded: LoadedModel) -> int:
    tokenizer = loaded.tokenizer
    for candidate in (getattr(tokenizer, "pad_token_id", None), getattr(tokenizer, "eos_token_id", None)):
        if candidate is not None:
            return candidate
    return 0


def _generate_kwargs(loaded: LoadedModel, inputs: dict, settings: GenerationSettings) -> dict:
    from transformers import CompileConfig, GenerationConfig, StoppingCriteriaList

    sample = settings.temperature > 0
    config = GenerationConfig(
        max_new_tokens=settings.max_new_tokens,
        do_sample=sample,
        temperature=settings.temperature if sample else None,
        top_k=settings.top_k if sample else None,
        top_p=settings.top_p if sample else None,
        use_cache=settings.cache != "off",
        cache_implementation="static" if settings.cache == "static" else None,
        max_time=settings.max_time,
        pad_token_id=_pad_id(loaded),
        eos_token_id=getattr(loaded.tokenizer, "eos_token_id", None),
    )
    if settings.compile:
        compile_config = CompileConfig(fullgraph=False)
        compile_config._compile_all_devices = True  # transformers compiles on CUDA only unless told otherwise
        config.compile_config = compile_config
    else:
        config.disable_compile = True
    if settings.seed is not None:
        torch.manual_seed(settings.seed)
    kwargs = {**inputs, "generation_config": config}
    if settings.stop:
        kwargs["stopping_criteria"] = StoppingCriteriaList(
            [_StopStrings(loaded.tokenizer, settings.stop, inputs["input_ids"].shape[1])]
        )
    return kwargs


def _cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    cuts = [text.index(s) for s in stop if s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def _finish(loaded: LoadedModel, tokens: list[int], settings: GenerationSettings) -> Generation:
    eos = getattr(loaded.tokenizer, "eos_token_id", None)
    stopped_by = "length"
    if eos is not None and eos in tokens:
        tokens = tokens[: tokens.index(eos)]
        stopped_by = "eos"
    text, cut = _cut_at_stop(loaded.tokenizer.decode(tokens, skip_special_tokens=True), settings.stop)
    if cut:
        stopped_by = "stop string"
    return Generation(text=text, tokens=tokens, stopped_by=stopped_by)


class _StopStrings:
    """A stopping criterion: a row is done once its generated text contains a stop string."""

    def __init__(self, tokenizer, stop: tuple[str, ...], prompt_length: int):
        self.tokenizer, self.stop, self.prompt_length = tokenizer, stop, prompt_length

    def __call__(self, input_ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
        texts = [
            self.tokenizer.decode(row[self.prompt_length :].tolist(), skip_special_tokens=True)
            for row in input_ids
        ]
        return torch.tensor([any(s in text for s in self.stop) for text in texts], device=input_ids.device)


class _QueueStreamer:
    """Receives tokens from ``generate`` (its ``streamer`` protocol) and hands them to an iterator."""

    _END = object()

    def __init__(self):
        self.queue: queue.Queue = queue.Queue()
        self.prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:  # the first call carries the prompt
            self.prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self.queue.put(token)

    def end(self) -> None:
        self.queue.put(self._END)

    def __iter__(self):
        while (token := self.queue.get()) is not self._END:
            yield token
