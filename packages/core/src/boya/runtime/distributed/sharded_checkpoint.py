"""Sharded checkpoints with ``torch.distributed.checkpoint`` (DCP) and export of the full weights to safetensors.

Layout of ``<out_dir>/checkpoints/step-00000120/`` (a directory every rank can reach):

- ``.metadata`` + ``__<rank>_0.distcp``: model and optimizer, each rank writing its own shards.
  Keys are parameter names (FQNs), so DCP reshards on load: a checkpoint written by 4 FSDP ranks
  resumes on 2, a DDP one under FSDP, and so on (what the strategies keep of a name decides);
- ``state-rank00000.pt``...: the rest of the trainer's state per rank (LR schedule, scaler, RNG,
  data position), loaded with ``torch.load(weights_only=True)``; a rank absent from the writing
  run (more ranks now) takes rank 0's;
- ``meta.json``: step, model class, strategy, process count, the run's settings.

As for one process, everything is written under a hidden ``.tmp-`` name and renamed by rank 0 only
once every rank has finished, so a killed save leaves the previous checkpoints intact.
"""

import json
import shutil
from pathlib import Path

import torch
import torch.distributed as dist

from ...errors import BoyaError
from ..checkpoint import META_FILE, MODEL_FILE, checkpoint_dirs
from .launch import DistEnv


def _state_file(rank: int) -> str:
    return f"state-rank{rank:05d}.pt"


def save(root: Path, step: int, model, optimizer, state: dict, meta: dict, keep_last: int, env: DistEnv,
         optimizer_key: str = "optimizer") -> Path:
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
    torch.save({key: value for key, value in state.items() if key != "optimizer"}, tmp / _state_file(env.rank))
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


def load(path: Path, model, optimizer, env: DistEnv, optimizer_key: str = "optimizer") -> dict:
    """Load a sharded checkpoint into ``model``/``optimizer`` (resharding as needed); return the trainer's state."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    if not path.is_dir():
        raise BoyaError(f"checkpoint {path} does not exist")
    if not (path / ".metadata").is_file():
        kind = "a single-process checkpoint" if (path / MODEL_FILE).is_file() else "not a sharded checkpoint"
        raise BoyaError(f"checkpoint {path} is {kind}; a distributed strategy resumes only checkpoints it wrote")
    model_state, optim_state = get_state_dict(model, optimizer)
    loaded = {"model": model_state, optimizer_key: optim_state}
    try:
        dcp.load(loaded, checkpoint_id=str(path))
    except Exception as error:  # noqa: BLE001 - DCP raises CheckpointException wrapping each rank's failure
        raise BoyaError(f"checkpoint {path} does not match this model ({type(error).__name__}: {str(error)[:300]})") from None
    set_state_dict(model, optimizer, model_state_dict=loaded["model"], optim_state_dict=loaded[optimizer_key])
    own = path / _state_file(env.rank)
    file = own if own.is_file() else path / _state_file(0)
    try:
        state = torch.load(file, weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - a missing or unreadable state file is a corrupt checkpoint
        raise BoyaError(f"checkpoint {path} is corrupt: cannot read {file.name} ({type(error).__name__})") from None
    state["optimizer"] = optimizer.state_dict()
    return state


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


def export_safetensors(model: torch.nn.Module, path: Path, env: DistEnv) -> Path:
    """Write the full (unsharded) weights to ``path`` as safetensors, loadable by one process."""
    tensors = full_state_dict(model)
    if env.is_main:
        aliases = tied_aliases(model)
        write_safetensors({key: value for key, value in tensors.items() if key not in aliases}, path)
    dist.barrier()
    return path
