"""Start and stop the process group from ``torchrun``'s environment; device meshes; rank-aware logging.

``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT`` in every
process, for one machine (``--nproc-per-node N``) as for several (``--nnodes M --rdzv-backend
c10d --rdzv-endpoint HOST:PORT``, the same command on each machine). The backend follows the
device: gloo on CPU, NCCL on CUDA (each process on GPU ``LOCAL_RANK``). Starting a distributed
strategy without torchrun is refused with the command to run instead.
"""

import atexit
import os
import shlex
import shutil
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ...errors import BoyaError


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands: global rank, world size, rank on its machine, device and backend."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def torchrun_command(nproc: int = 2) -> str:
    """The command that relaunches this very invocation under torchrun on ``nproc`` processes."""
    program = sys.argv[0]
    if os.path.basename(program) == "boya":
        program = shutil.which("boya") or program
    return shlex.join(["torchrun", "--nproc-per-node", str(nproc), program, *sys.argv[1:]])


def init_from_torchrun(strategy: str, device: str = "auto") -> DistEnv:
    """Join (or reuse) the default process group described by torchrun's environment variables."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise BoyaError(
            f"strategy {strategy!r} runs one process per device under torchrun; run: {torchrun_command()}"
        )
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        target = torch.device("cuda", local_rank)
    else:
        target = torch.device("cpu")
    backend = "nccl" if use_cuda else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, device_id=target if use_cuda else None)
        atexit.register(shutdown)
    return DistEnv(dist.get_rank(), dist.get_world_size(), local_rank, target, dist.get_backend())


def shutdown() -> None:
    """Leave the process group (idempotent): every rank must call it, torchrun then exits cleanly."""
    if dist.is_initialized():
        dist.destroy_process_group()


def device_mesh(env: DistEnv, shape: tuple[int, ...], names: tuple[str, ...]):
    """A ``DeviceMesh`` of ``shape`` over all ranks (row-major: the last dimension holds neighbouring ranks)."""
    from torch.distributed.device_mesh import init_device_mesh

    size = 1
    for dim in shape:
        size *= dim
    if size != env.world_size:
        raise BoyaError(
            f"a {'x'.join(map(str, shape))} mesh needs {size} processes, torchrun started {env.world_size}"
        )
    return init_device_mesh(env.device.type, shape, mesh_dim_names=names)


def log(env: DistEnv, message: str, all_ranks: bool = False) -> None:
    """Print ``message`` on rank 0 (or on every rank, prefixed with its number) to stderr."""
    if all_ranks:
        print(f"[rank {env.rank}] {message}", file=sys.stderr, flush=True)
    elif env.is_main:
        print(message, file=sys.stderr, flush=True)
