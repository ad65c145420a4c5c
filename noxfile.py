"""Sessions: serve (install everything, start the hub), tests, e2e (browser), lint, bench.

Every session installs the packages the way a user does (not editable), pinned by
constraints.txt. Arguments after ``--`` go to the underlying command.
"""

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"

CONSTRAINTS = ("-c", "constraints.txt")
PACKAGES = ("./packages/core", "./apps/medreport", "./apps/exercises", "./apps/anchor")
TEST_PACKAGES = (
    "./packages/core[test,inference,bench]",
    "./apps/medreport[test,sphinx]",
    "./apps/exercises",
    "./apps/anchor[eval]",
)


def install(session, *packages):
    session.install(*CONSTRAINTS, *packages)


@nox.session
def serve(session):
    """Install every package and start the hub on 127.0.0.1:7860 (pass -- --port N to change)."""
    install(session, *PACKAGES)
    session.run("boya", "serve", *session.posargs, env={"GRADIO_ANALYTICS_ENABLED": "False"})


@nox.session
def tests(session):
    """Run every package's tests and the cross-package tests (browser ones included)."""
    install(session, *TEST_PACKAGES)
    session.run("pytest", *session.posargs, env={"GRADIO_ANALYTICS_ENABLED": "False"})


@nox.session
def e2e(session):
    """Only the browser end-to-end tests (headless Debian Chromium)."""
    install(session, *TEST_PACKAGES)
    session.run("pytest", "-m", "browser", *session.posargs, env={"GRADIO_ANALYTICS_ENABLED": "False"})


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def bench(session):
    """Run the benchmark commands and print their JSON (pass -- NAME to run one)."""
    install(session, *PACKAGES)
    for name in session.posargs or ["train", "fusion", "infer"]:
        session.run("boya", "bench", name, "--json")
