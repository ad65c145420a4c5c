"""``boya bench distributed``: every strategy against one process, launched once under torchrun.

Per strategy: the largest loss difference from the one-process curve (same global batch), the
median step time, the time spent in communication ops per step (CPU time of c10d/gloo/NCCL
events in ``torch.profiler`` on rank 0) and the scaling efficiency, throughput of N processes
divided by N x the one-process throughput (on a shared 2-core CPU machine expect well under 1:
the processes compete for the same cores).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from ...errors import BoyaError


def run(nproc: int, strategies: str, steps: int, layers: int, width: int, batch_size: int) -> dict:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="boya-bench-dist-") as tmp:
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            str(nproc),
            "--master-port",
            str(port),
            "-m",
            "boya.runtime.distributed.parity",
            "--out",
            tmp,
            "--strategies",
            strategies,
            "--steps",
            str(steps),
            "--layers",
            str(layers),
            "--width",
            str(width),
            "--batch-size",
            str(batch_size),
            "--profile",
        ]
        done = subprocess.run(
            command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True
        )
        result_file = Path(tmp) / "parity.json"
        if done.returncode != 0 or not result_file.is_file():
            tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
            raise BoyaError(f"the torchrun benchmark failed (exit {done.returncode}): {tail[0]}")
        raw = json.loads(result_file.read_text())
    single = raw["single"]
    summary = {
        "processes": raw["processes"],
        "backend": raw["backend"],
        "model": raw["model"],
        "steps": steps,
        "global_batch": batch_size,
        "single_step_seconds": single["step_seconds"],
        "strategies": {},
    }
    for name, figures in raw["strategies"].items():
        if "error" in figures:
            summary["strategies"][name] = {"error": figures["error"]}
            continue
        summary["strategies"][name] = {
            "loss_max_diff": figures["loss_max_diff"],
            "step_seconds": figures["step_seconds"],
            "scaling_efficiency": figures["scaling_efficiency"],
            "comm_seconds_per_step": figures["comm_seconds_per_step"],
            "comm_fraction": figures["comm_seconds_per_step"]
            / figures["profiled_step_seconds"],  # same (profiled) step
        }
    return summary
