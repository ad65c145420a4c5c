"""Fixtures for cross-package tests: plugins installed into a temporary site directory, a running hub."""

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from support import (
    ARTIFACTS,
    BROKEN_PLUGINS,
    boya_env,
    example_plugin_source,
    start_hub,
    start_receiver,
    write_dist,
)


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory) -> Path:
    """A site directory holding the docs' example plugin (installed by pip from a temporary directory) and broken plugins."""
    site = tmp_path_factory.mktemp("site")
    project = tmp_path_factory.mktemp("boya-hello")
    (project / "boya_hello.py").write_text(example_plugin_source(), encoding="utf-8")
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "boya-hello"
            version = "1.2.3"
            dependencies = []

            [project.entry-points.boya]
            hello = "boya_hello"
            """
        ),
        encoding="utf-8",
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(project),
        ],
        check=True,
    )
    for dist, (module, entry_name, source) in BROKEN_PLUGINS.items():
        write_dist(site, dist, module, source, entry_name)
    return site


@pytest.fixture(scope="session")
def app_hub(tmp_path_factory):
    """A hub with the installed apps on a fresh database (SQLite file) and data folder: url, db, log (its stdout+stderr)."""
    folder = tmp_path_factory.mktemp("app-hub")
    db = f"sqlite:///{folder / 'hub.db'}"
    process, url = start_hub(env=boya_env(BOYA_DATABASE_URL=db, BOYA_DATA_DIR=str(folder)))
    yield SimpleNamespace(url=url, db=db, log=ARTIFACTS / f"hub-{url.rsplit(':', 1)[1]}.log")
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def hub(plugin_site):
    """One hub for the session, with every installed app, the example plugin and the broken plugins."""
    process, url = start_hub(site=plugin_site)
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def receiver(tmp_path):
    """``boya medreport listen`` in a subprocess: its port and the folder it stores messages in."""
    folder = tmp_path / "received"
    process, port = start_receiver(folder)
    yield port, folder
    process.terminate()
    process.communicate(timeout=30)
