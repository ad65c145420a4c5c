"""Step profiler: torch.profiler on a wait/warmup/active schedule, a Chrome trace and a top-ops table.

Profiling is off by default because it is costly: with shapes recorded, an active step of a tiny
model took 4-5x its normal CPU time. ``wait`` steps run untouched (skip start-up effects, e.g.
compilation), ``warmup`` steps are traced but discarded, ``active`` steps are recorded. When the
active window closes, ``trace.json`` (open it in chrome://tracing or https://ui.perfetto.dev) and
``top_ops.txt`` (ops by self CPU time) are written to the profile directory.
"""

from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile, schedule

TRACE_FILE = "trace.json"
TABLE_FILE = "top_ops.txt"


class StepProfiler:
    """Context manager; call :meth:`step` after every optimizer step."""

    def __init__(
        self, out_dir: Path, wait: int, warmup: int, active: int, device: torch.device, row_limit: int = 20
    ):
        self.out_dir = Path(out_dir)
        self.row_limit = row_limit
        self.table: str | None = None
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        self._profile = profile(
            activities=activities,
            schedule=schedule(wait=wait, warmup=warmup, active=active, repeat=1),
            on_trace_ready=self._write,
            record_shapes=True,
        )

    def __enter__(self) -> "StepProfiler":
        self._profile.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._profile.__exit__(*exc)

    def step(self) -> None:
        self._profile.step()

    def _write(self, prof) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        prof.export_chrome_trace(str(self.out_dir / TRACE_FILE))
        sort_by = (
            "self_cuda_time_total" if ProfilerActivity.CUDA in prof.activities else "self_cpu_time_total"
        )
        self.table = prof.key_averages().table(sort_by=sort_by, row_limit=self.row_limit)
        (self.out_dir / TABLE_FILE).write_text(self.table + "\n")
