"""Installing one app alone, from wheels, the way users will: only boya-core and that app show up, and they work."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, boya_env, start_hub

APP = "exercises"


def run(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=1200, **kwargs)


@pytest.mark.slow
def test_one_app_from_wheels_in_a_fresh_virtualenv(tmp_path):
    wheels = tmp_path / "wheels"
    for package in ("packages/core", "apps/medreport", "apps/exercises", "apps/anchor"):
        run(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            str(ROOT / package),
        )
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    run(
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--find-links",
        str(wheels),
        "-c",
        str(ROOT / "constraints.txt"),
        f"boya-{APP}",
    )
    boya = str(venv / "bin" / "boya")
    env = {k: v for k, v in boya_env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"

    rows = json.loads(run(boya, "plugins", "--json", env=env).stdout)
    assert {row["name"] for row in rows} == {"boya-core", f"boya-{APP}"}
    assert all(row["status"] == "ok" for row in rows)
    assert run(boya, APP, "--help", env=env).returncode == 0

    process, url = start_hub(boya=Path(boya), env=env)
    try:
        import httpx

        assert httpx.get(f"{url}/healthz", timeout=10).json()["apps"] == {APP: "ok"}
        tabs = [
            c["props"]["label"]
            for c in httpx.get(f"{url}/config", timeout=30).json()["components"]
            if c.get("type") == "tabitem"
        ]
        assert tabs[:2] == ["Home", "Exercises"]
        assert not {"Medical reports", "Virtual anchor"} & set(tabs)
    finally:
        process.terminate()
        process.wait(timeout=30)
