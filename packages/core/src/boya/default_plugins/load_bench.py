"""``boya bench load``: N concurrent users against ``boya serve``; throughput, p50/p95 latency, errors, lost writes.

Each user is its own Gradio client session (so per-session state, such as the exercise being
answered, stays with it) and loops over the installed apps' main requests through their public
``api_name`` endpoints: exercises next + answer, medreport extraction, anchor script playback
(text -> speech -> visemes -> the stage). Without ``--url`` the command starts its own hub on a
free port with a fresh temporary database, so it can check afterwards that every answer it was
told was recorded is in the database (the exercises app's class statistics count the attempt
rows), and stops it at the end. Warm-up calls (model loading) are made first and not timed.
"""

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import click

from ..hookspecs import hookimpl

DICTATIONS = [
    "Patient name John Smith, MRN 1234567, born March 3 1950, male. CT of the chest without contrast. "
    "Findings: no pneumothorax. There is an 8 mm nodule in the right upper lobe. Impression: pulmonary nodule.",
    "This is a CT of the head for Maria Lopez, medical record number 7654321. Findings: no intracranial hemorrhage. "
    "No midline shift. Impression: normal head CT.",
    "Patient Ann Lee, MRN 5551234, female. Chest X-ray. Findings: small left pleural effusion. "
    "Impression: pleural effusion. Recommendation: follow-up in 6 weeks.",
]
SCRIPTS = [
    "Hello everyone, welcome back to the stream!",
    "Today we look at three new exercises.",
    "Thank you for watching, see you tomorrow.",
]
APP_ENDPOINTS = {
    "exercises": ("/exercises_next", "/exercises_answer", "/exercises_class_stats"),
    "medreport": ("/medreport_extract",),
    "anchor": ("/anchor_play_script",),
}


class RequestFailed(Exception):
    """A request answered with an error, or with something that is not the app's normal answer."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_hub(db: str, folder: Path, timeout: float = 600) -> tuple[subprocess.Popen, str, Path]:
    import httpx

    port = _free_port()
    log = folder / "hub.log"
    env = dict(os.environ, BOYA_DATABASE_URL=db, BOYA_DATA_DIR=str(folder), GRADIO_ANALYTICS_ENABLED="False")
    env.pop("BOYA_AUTH", None)
    boya = Path(sys.executable).with_name("boya")
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(boya), "serve", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"the hub exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return process, url, log
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise click.ClickException(f"the hub did not answer /healthz within {timeout:.0f} s; see {log}")


def _client(url: str, auth: str | None):
    import base64

    from gradio_client import Client

    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else None
    return Client(url, verbose=False, headers=headers, download_files=False)


def _call(client, api_name: str, *args, timeout: float):
    from gradio_client.exceptions import AppError

    try:
        return client.submit(*args, api_name=api_name).result(timeout=timeout)
    except AppError as error:
        raise RequestFailed(f"{api_name}: {error}") from None
    except TimeoutError:
        raise RequestFailed(f"{api_name}: no answer within {timeout:g} s") from None
    except Exception as error:  # noqa: BLE001 - any transport failure is one counted error, with its reason
        raise RequestFailed(f"{api_name}: {type(error).__name__}: {error}") from None


class User:
    """One simulated user: its own session, cycling through the scenarios of the installed apps."""

    def __init__(self, index: int, client, scenarios: list[str], run_id: str, timeout: float):
        self.index, self.client, self.timeout = index, client, timeout
        self.scenarios, self.student = scenarios, f"load-{run_id}-{index}"
        self.samples: list[tuple[str, float, str | None]] = []  # (request, seconds, error)
        self.answers = 0

    def _timed(self, name: str, check, *args):
        started = time.perf_counter()
        try:
            result = _call(self.client, f"/{name}", *args, timeout=self.timeout)
            check(result)
        except RequestFailed as error:
            self.samples.append((name, time.perf_counter() - started, str(error)))
            return None
        self.samples.append((name, time.perf_counter() - started, None))
        return result

    def exercises(self, k: int) -> None:
        served = self._timed("exercises_next", _check_card, self.student)
        if served is None:
            return
        choices = (served[1] or {}).get("choices") or []
        choice, typed = (choices[k % len(choices)][0], "") if choices else (None, str(k % 20))
        if self._timed("exercises_answer", _check_feedback, self.student, choice, typed) is not None:
            self.answers += 1

    def medreport(self, k: int) -> None:
        self._timed("medreport_extract", _check_report, DICTATIONS[k % len(DICTATIONS)])

    def anchor(self, k: int) -> None:
        self._timed("anchor_play_script", _check_playing, SCRIPTS[k % len(SCRIPTS)], "espeak:en-us", 175)

    def run(self, start: threading.Event, deadline_box: list) -> None:
        start.wait()
        k = self.index
        while time.monotonic() < deadline_box[0]:
            getattr(self, self.scenarios[k % len(self.scenarios)])(k)
            k += 1


def _check_card(result) -> None:
    if not isinstance(result, (list, tuple)) or not str(result[0]).startswith("**"):
        raise RequestFailed(f"exercises_next: unexpected answer {str(result)[:120]!r}")


def _check_feedback(result) -> None:
    if not isinstance(result, (list, tuple)) or not (
        "Correct" in str(result[0]) or "Not quite" in str(result[0])
    ):
        raise RequestFailed(f"exercises_answer: unexpected answer {str(result)[:120]!r}")


def _check_report(result) -> None:
    report = json.loads(result[0]) if isinstance(result, (list, tuple)) and result and result[0] else {}
    if "findings" not in report:
        raise RequestFailed(f"medreport_extract: {report.get('error', str(result)[:120])}")


def _check_playing(result) -> None:
    if not str(result).startswith("playing"):
        raise RequestFailed(f"anchor_play_script: {str(result)[:160]}")


def _attempts(client, timeout: float) -> int:
    """Attempt rows in the hub's database, as the exercises app's class statistics count them."""
    table = _call(client, "/exercises_class_stats", timeout=timeout)
    headers, rows = table["headers"], table["data"]
    column = headers.index("attempts")
    return sum(int(row[column]) for row in rows)


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``q`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _summary(samples: list[tuple[str, float, str | None]], seconds: float) -> dict:
    def stats(rows):
        ok = [s for _, s, error in rows if error is None]
        return {
            "requests": len(rows),
            "errors": sum(error is not None for *_, error in rows),
            "per_s": round(len(rows) / seconds, 2),
            "p50_ms": None if not ok else round(1000 * _percentile(ok, 0.50), 1),
            "p95_ms": None if not ok else round(1000 * _percentile(ok, 0.95), 1),
        }

    by_kind = defaultdict(list)
    for row in samples:
        by_kind[row[0]].append(row)
    return {"all": stats(samples), **{kind: stats(rows) for kind, rows in sorted(by_kind.items())}}


def run(
    users: int, seconds: float, url: str | None, auth: str | None, db: str | None, timeout: float
) -> dict:
    """Start (or reach) a hub, warm it up, run the users for ``seconds``, and count the writes afterwards."""
    import httpx

    from ..errors import BoyaError

    hub = folder = None
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="boya-bench-load-"))
        hub, url, log = _start_hub(db or f"sqlite:///{folder / 'load.db'}", folder)
    finished = False
    try:
        health = httpx.get(f"{url.rstrip('/')}/healthz", timeout=10).json()
        apps = [
            name for name, state in health.get("apps", {}).items() if state == "ok" and name in APP_ENDPOINTS
        ]
        if not apps:
            raise BoyaError(f"no exercises, medreport or anchor app is served at {url}")
        run_id = f"{os.getpid()}-{int(time.time())}"
        warm = User(-1, _client(url, auth), apps, run_id, timeout)
        warm_started = time.perf_counter()
        for k, scenario in enumerate(apps):
            getattr(warm, scenario)(k)
        warmup_s = time.perf_counter() - warm_started
        if any(error for *_, error in warm.samples):
            raise BoyaError("warm-up failed: " + "; ".join(error for *_, error in warm.samples if error))
        before = _attempts(warm.client, timeout) if "exercises" in apps else None
        clients = [_client(url, auth) for _ in range(users)]
        start, deadline = threading.Event(), [0.0]
        crowd = [User(i, client, apps, run_id, timeout) for i, client in enumerate(clients)]
        threads = [threading.Thread(target=user.run, args=(start, deadline), daemon=True) for user in crowd]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        deadline[0] = began + seconds
        start.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        samples = [sample for user in crowd for sample in user.samples]
        result = {
            "url": url if hub is None else "started by this command",
            "apps": apps,
            "users": users,
            "seconds": round(elapsed, 1),
            "warmup_s": round(warmup_s, 1),
            "latency": _summary(samples, elapsed),
        }
        errors = [error for *_, error in samples if error]
        result["errors"] = len(errors)
        result["error_examples"] = sorted(set(errors))[:5]
        if before is not None:
            answered = sum(user.answers for user in crowd)
            recorded = _attempts(warm.client, timeout) - before
            result["writes"] = {
                "answers_acknowledged": answered,
                "attempt_rows_added": recorded,
                "lost": max(0, answered - recorded),
            }
        result["bar_met"] = not errors and result.get("writes", {}).get("lost", 0) == 0
        finished = True
        return result
    finally:
        if hub is not None:
            hub.terminate()
            try:
                hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                hub.kill()
            if finished:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                click.echo(f"the hub's log and database are kept in {folder}", err=True)


@click.command(name="load")
@click.option(
    "--users", default=20, show_default=True, type=click.IntRange(1, 1000), help="Concurrent users."
)
@click.option(
    "--seconds", default=60.0, show_default=True, type=click.FloatRange(1), help="How long they keep sending."
)
@click.option(
    "--url", default=None, help="A running hub (default: start one with a fresh temporary database)."
)
@click.option(
    "--auth", envvar="BOYA_AUTH", metavar="USER:PASSWORD", help="Basic credentials of the hub at --url."
)
@click.option(
    "--db",
    default=None,
    help="Database URL for the hub this command starts (default: a temporary SQLite file).",
)
@click.option(
    "--timeout",
    default=120.0,
    show_default=True,
    help="Seconds one request may take before it counts as an error.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_load(users, seconds, url, auth, db, timeout, as_json):
    """N users for S seconds against `boya serve`: throughput, p50/p95 latency, errors, lost writes."""
    result = run(users, seconds, url, auth, db, timeout)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(
        f"{result['users']} users for {result['seconds']} s against {result['url']} ({', '.join(result['apps'])}); "
        f"warm-up {result['warmup_s']} s"
    )
    click.echo(f"{'request':<20} {'requests':>9} {'per s':>7} {'p50 ms':>9} {'p95 ms':>9} {'errors':>7}")
    for kind, row in result["latency"].items():
        click.echo(
            f"{kind:<20} {row['requests']:>9} {row['per_s']:>7} {row['p50_ms']!s:>9} {row['p95_ms']!s:>9} {row['errors']:>7}"
        )
    for example in result["error_examples"]:
        click.echo(f"  error: {example}")
    if "writes" in result:
        writes = result["writes"]
        click.echo(
            f"writes: {writes['answers_acknowledged']} answers acknowledged, {writes['attempt_rows_added']} attempt rows "
            f"added, {writes['lost']} lost"
        )
    click.echo(f"bar (zero errors, no lost writes): {'met' if result['bar_met'] else 'NOT met'}")


@hookimpl
def register_commands(cli):
    """Add ``load`` to the ``boya bench`` group of :mod:`boya.default_plugins.bench`, whichever hook runs first."""
    from .bench import bench

    bench.add_command(bench_load)  # when bench's hook runs later, it brings this command along
    existing = cli.commands.get("bench")
    if isinstance(existing, click.Group) and existing is not bench:
        existing.add_command(bench_load)
