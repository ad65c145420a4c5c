"""Helpers for cross-package tests: plugins installed by hand, running the CLI and the hub in subprocesses."""

import contextlib
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"


def example_plugin_source() -> str:
    """The ~20-line example plugin, taken from docs/plugins.md so the docs cannot drift from what works."""
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = text.split("## A complete example plugin", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def write_dist(site: Path, dist: str, module: str, source: str, entry_name: str) -> None:
    """Install a one-module distribution by hand (module + dist-info), as pip would, into ``site``."""
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[boya]\n{entry_name} = {module}\n", encoding="utf-8")


BROKEN_PLUGINS = {
    "boya-broken-import": (
        "boya_broken_import",
        "broken_import",
        "raise RuntimeError('deliberately broken at import')\n",
    ),
    "boya-broken-ui": (
        "boya_broken_ui",
        "broken_ui",
        """
        from boya import hookimpl
        from boya.apps import App

        def build_ui():
            raise RuntimeError("deliberately broken UI")

        @hookimpl
        def register_apps(register):
            register(App(name="brokenui", title="Broken UI", description="always fails", build_ui=build_ui))
        """,
    ),
    "boya-misspelled": (
        "boya_misspelled",
        "misspelled",
        """
        from boya import hookimpl

        @hookimpl
        def register_comands(cli):
            pass
        """,
    ),
}


def boya_env(site: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", **extra)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


def run_boya(*args: str, site: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    boya = Path(sys.executable).with_name("boya")
    return subprocess.run(
        [str(boya), *args], capture_output=True, text=True, env=boya_env(site, **env), timeout=120
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    """Return once ``process`` accepts connections on ``port``; fail with its stderr if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else "exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port} after {timeout} s")


def start_receiver(folder: Path) -> tuple[subprocess.Popen, int]:
    """``boya medreport listen`` on a free port in a subprocess (output piped), once it accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("boya")),
            "medreport",
            "listen",
            "--port",
            str(port),
            "--dir",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=boya_env(),
    )
    wait_for_port(port, process)
    return process, port


def start_hub(
    *apps: str,
    site: Path | None = None,
    boya: Path | None = None,
    env: dict | None = None,
    timeout: float = 120,
):
    """Start ``boya serve`` on a free port in a subprocess; return it and its URL once /healthz answers."""
    port = free_port()
    boya = boya or Path(sys.executable).with_name("boya")
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"hub-{port}.log", "w")
    process = subprocess.Popen(
        [str(boya), "serve", *apps, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env or boya_env(site),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"boya serve exited with {process.returncode}; see {log.name}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"boya serve did not answer /healthz within {timeout} s; see {log.name}")


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@contextlib.contextmanager
def open_browser_page(request, viewport=(1280, 900)):
    """A Playwright page in Debian's Chromium; a screenshot lands in artifacts/ when the test fails.

    Skips when Chromium is missing, unless BOYA_REQUIRE_BROWSER=1 (set by .ci/run), where it fails.
    """
    if not CHROMIUM.exists():
        if os.environ.get("BOYA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        try:
            yield page
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
