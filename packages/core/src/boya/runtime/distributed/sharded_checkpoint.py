"""Sharded checkpoints with ``torch.distributed.checkpoint`` (DCP) and export of the full weights to safetensors.

Layout of ``<out_dir>/checkpoints/step-00000120/`` (a directory every rank can reach):

- ``.metadata`` + ``__<rank>_0.distcp``: model and optimizer, each rank writing its own shards.
  Keys are parameter names (FQNs), so DCP reshards on load: a checkpoint written by 4 FSDP ranks
  resumes on 2, a DDP one under FSDP, and so on (what the strategies keep of a name decides);
- ``state-rank00000.pt``...: the rest of the trainer's state per rank (LR schedule, scaler, RNG,
  data position), loaded with ``torch.load(weights_only=True)``; a rank absent from the writing
  run (more ranks now) takes rank 0's;
- ``meta.json``: step, model class, strategy, process count, the run's settings.

Resharding: a checkpoint written by N processes resumes on M (``fsdp`` 2 -> 1 -> 2 is checked in the
tests), also on one process without torchrun (``--strategy single`` reads it through DCP), and a
one-process checkpoint resumes under ``ddp``/``fsdp``/``tp``/``fsdp+tp`` (every rank reads the full
tensors and keeps its shards). Not across pipeline stage counts, nor out of a TP plan that reshapes
weights (GPT-2's fused q/k/v): those are refused with what to run instead.

As for one process, everything is written under a hidden ``.tmp-`` name and renamed by rank 0 only
once every rank has finished, so a killed save leaves the previous checkpoints intact.
"""

import json
import shutil
import warnings
from pathlib import Path

import torch
import torch.distributed as dist

from ...errors import BoyaError
from ..checkpoint import META_FILE, MODEL_FILE, checkpoint_dirs
from .launch import DistEnv


def _state_file(rank: int) -> str:
    return f"state-rank{rank:05d}.pt"


def save(
    root: Path,
    step: int,
    model,
    optimizer,
    state: dict,
    meta: dict,
    keep_last: int,
    env: DistEnv,
    optimizer_key: str = "optimizer",
) -> Path:
    """Write ``step``'s sharded checkpoint; ``optimizer_key`` differs per rank when ranks hold different
    parameter groups (pipeline stages), whose ``param_groups`` DCP would otherwise merge into one."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    final = root / f"step-{step:08d}"
    tmp = root / f".tmp-{final.name}"
    if env.is_main:
        root.mkdir(parents=True, exist_ok=True)
        for leftover in root.glob(".tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    dist.barrier()
    model_state, optim_state = get_state_dict(model, optimizer)
    dcp.save({"model": model_state, optimizer_key: optim_state}, checkpoint_id=str(tmp))
    torch.save(
        {key: value for key, value in state.items() if key != "optimizer"}, tmp / _state_file(env.rank)
    )
    if env.is_main:
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
    dist.barrier()
    if env.is_main:
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        for old in checkpoint_dirs(root)[:-keep_last]:
            shutil.rmtree(old)
    dist.barrier()
    return final


def load(
    path: Path,
    model,
    optimizer,
    env: DistEnv | None,
    optimizer_key: str = "optimizer",
    strategy: str = "single",
) -> dict:
    """Load a sharded checkpoint into ``model``/``optimizer`` (resharding as needed); return the trainer's state.

    ``env=None``: one process without a process group (``--strategy single``), DCP reads whole tensors.
    A pipeline checkpoint resumes only under ``pp`` with the same stage count (its optimizer state is per stage).
    """
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.api import CheckpointException
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    if not path.is_dir():
        raise BoyaError(f"checkpoint {path} does not exist")
    if not (path / ".metadata").is_file():
        if (path / MODEL_FILE).is_file() and env is not None and strategy in ONE_PROCESS_RESUMERS:
            return _load_one_process_checkpoint(path, model, optimizer)
        kind = "a single-process checkpoint" if (path / MODEL_FILE).is_file() else "not a sharded checkpoint"
        raise BoyaError(
            f"checkpoint {path} is {kind}; --strategy {strategy} resumes only checkpoints written by "
            f"a distributed strategy (ddp, fsdp, tp and fsdp+tp also resume single-process ones)"
        )
    _check_pipeline_match(path, strategy, 1 if env is None else env.world_size)
    model_state, optim_state = get_state_dict(model, optimizer)
    loaded = {"model": model_state, optimizer_key: optim_state}
    try:
        with (
            warnings.catch_warnings()
        ):  # one process: DCP warns that it loads without a process group, as asked
            warnings.filterwarnings("ignore", message="torch.distributed is disabled")
            dcp.load(loaded, checkpoint_id=str(path), no_dist=env is None)
    except (Exception, CheckpointException) as error:  # noqa: BLE001 - CheckpointException (a BaseException) wraps each rank's failure
        saved, processes = _saved_run(path)
        failures = list(error.failures.values()) if isinstance(error, CheckpointException) else []
        cause = failures[0][0] if failures else error  # (exception, stack) of the first failing rank
        raise BoyaError(
            f"checkpoint {path} does not match this model ({type(cause).__name__}: {' '.join(str(cause).split())[:300]}); "
            f"it was written by --strategy {saved} on {processes} processes: resume it with the same model under that strategy "
            "(a TP plan that reshapes weights, as GPT-2's fused q/k/v, resumes only under tp or fsdp+tp)"
        ) from None
    set_state_dict(model, optimizer, model_state_dict=loaded["model"], optim_state_dict=loaded[optimizer_key])
    own = path / _state_file(0 if env is None else env.rank)
    file = own if own.is_file() else path / _state_file(0)
    try:
        state = torch.load(file, weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - a missing or unreadable state file is a corrupt checkpoint
        raise BoyaError(
            f"checkpoint {path} is corrupt: cannot read {file.name} ({type(error).__name__})"
        ) from None
    state["optimizer"] = optimizer.state_dict()
    return state


ONE_PROCESS_RESUMERS = ("ddp", "fsdp", "tp", "fsdp+tp")
"""Strategies that keep every parameter's name and shape (TP of the core GPT; not GPT-2's fused q/k/v view),
so a one-process checkpoint's full tensors can be sharded into them."""


def _load_one_process_checkpoint(path: Path, model, optimizer) -> dict:
    """Resume a ``--strategy single`` checkpoint on N processes: every rank reads the full weights and optimizer
    state and keeps its shards. The optimizer state's parameter numbers are mapped to names by position, as
    the trainer builds the optimizer from ``model.parameters()`` in the same order on one process and on N."""
    from safetensors.torch import load_file
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

    from ..checkpoint import STATE_FILE

    try:
        weights = load_file(str(path / MODEL_FILE))
        state = torch.load(path / STATE_FILE, weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - a missing or unreadable file is a corrupt checkpoint
        raise BoyaError(
            f"checkpoint {path} is corrupt or incomplete ({type(error).__name__}: {error})"
        ) from None
    for group in _tied_groups(model):  # a tied matrix is stored once, under one of its names
        stored = next((weights[name] for name in group if name in weights), None)
        if stored is not None:
            weights.update({name: stored for name in group})
    names = {id(param): name for name, param in model.named_parameters()}
    order = [names[id(param)] for group in optimizer.param_groups for param in group["params"]]
    saved = state["optimizer"]
    try:
        optim_state = {
            "state": {order[index]: value for index, value in saved["state"].items()},
            "param_groups": [
                {**group, "params": [order[index] for index in group["params"]]}
                for group in saved["param_groups"]
            ],
        }
        set_state_dict(
            model,
            optimizer,
            model_state_dict=weights,
            optim_state_dict=optim_state,
            options=StateDictOptions(full_state_dict=True),
        )
    except (KeyError, IndexError, RuntimeError, ValueError) as error:
        raise BoyaError(
            f"checkpoint {path} does not match this model ({type(error).__name__}: {str(error)[:300]})"
        ) from None
    state["optimizer"] = optimizer.state_dict()
    return state


def _tied_groups(model: torch.nn.Module) -> list[list[str]]:
    names: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), []).append(name)
    return [group for group in names.values() if len(group) > 1]


def _saved_run(path: Path) -> tuple[str | None, int | None]:
    """Strategy and process count that wrote the checkpoint (``None`` when its ``meta.json`` is unreadable)."""
    try:
        meta = json.loads((path / META_FILE).read_text())
    except (OSError, ValueError):
        return None, None
    return meta.get("strategy"), meta.get("processes")


def _check_pipeline_match(path: Path, strategy: str, processes: int) -> None:
    """Pipeline stages hold different parameters and optimizer groups: no resharding into or out of ``pp``."""
    saved, saved_processes = _saved_run(path)
    if saved is None:
        return  # DCP's own check names what is missing
    if saved == "pp" and (strategy != "pp" or saved_processes != processes):
        raise BoyaError(
            f"checkpoint {path} holds {saved_processes} pipeline stages: resume it with --strategy pp under "
            f"torchrun --nproc-per-node {saved_processes}, or start a new run from its exported model.safetensors"
        )
    if strategy == "pp" and saved != "pp":
        raise BoyaError(
            f"checkpoint {path} was written by --strategy {saved}; a pipeline run resumes only pp "
            f"checkpoints: resume it with --strategy {saved} (any world size), or ddp/fsdp"
        )


def full_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """All of ``model``'s weights, unsharded, on CPU, on rank 0 (other ranks get ``{}``); a collective."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def tied_aliases(model: torch.nn.Module) -> set[str]:
    """Names of parameters that are another parameter under a second name (a tied head): saved once."""
    seen, aliases = set(), set()
    for name, param in model.named_parameters(remove_duplicate=False):
        if id(param) in seen:
            aliases.add(name)
        seen.add(id(param))
    return aliases


def write_safetensors(tensors: dict[str, torch.Tensor], path: Path) -> Path:
    from safetensors.torch import save_file

    tmp = path.with_name(f".tmp-{path.name}")
    save_file({key: value.detach().contiguous().clone() for key, value in tensors.items()}, str(tmp))
    tmp.replace(path)
    return path


def export_safetensors(model: torch.nn.Module, path: Path, env: DistEnv, convert=None) -> Path:
    """Write the full (unsharded) weights to ``path`` as safetensors, loadable by one process.

    ``convert(tensors) -> tensors`` maps a layout the sharding changed back to the model's own (a TP plan's ``export``)."""
    tensors = full_state_dict(model)
    if env.is_main:
        aliases = tied_aliases(model)
        tensors = {key: value for key, value in tensors.items() if key not in aliases}
        write_safetensors(convert(tensors) if convert is not None else tensors, path)
    dist.barrier()
    return path
