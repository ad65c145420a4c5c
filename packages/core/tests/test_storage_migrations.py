"""boya.storage.upgrade on SQLite and PostgreSQL: a fresh database, a legacy one adopted with its rows, concurrent
first opens from several processes, and a database from a newer release refused with a clear error.

Each test writes a tiny migrations package (baseline: a ``notes`` table; 0002: a ``pinned`` column whose
migration sleeps, so concurrent opens overlap) under a unique name on ``sys.path``.
"""

import subprocess
import sys
import textwrap
import uuid

import pytest
import sqlalchemy
from boya.errors import BoyaError
from boya.storage import create_engine, revision, upgrade

VERSION_TABLE = "notes_alembic_version"

ENV = """
from boya.storage import run_migrations

run_migrations(None)
"""
BASELINE = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("body", sa.Text()))
"""
PINNED = """
import time

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    time.sleep({sleep})
    op.add_column("notes", sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false()))
"""


@pytest.fixture
def migrations(tmp_path, monkeypatch) -> str:
    name = f"notes_migrations_{uuid.uuid4().hex[:8]}"
    package = tmp_path / "packages" / name
    (package / "versions").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "env.py").write_text(ENV)
    (package / "versions" / "0001_baseline.py").write_text(BASELINE)
    (package / "versions" / "0002_pinned.py").write_text(PINNED.format(sleep=0.5))
    monkeypatch.syspath_prepend(str(tmp_path / "packages"))
    return name


def rows(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(sqlalchemy.text("SELECT id, body, pinned FROM notes ORDER BY id"))
        ]


def test_fresh_database_reaches_head_and_a_second_upgrade_is_a_no_op(database_url, migrations):
    engine = create_engine(database_url)
    assert revision(engine, migrations, VERSION_TABLE) == {"current": None, "head": "0002"}
    assert upgrade(engine, migrations, VERSION_TABLE) == "0002"
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("INSERT INTO notes (id, body) VALUES (1, 'kept')"))
    assert upgrade(engine, migrations, VERSION_TABLE) == "0002"
    assert rows(engine) == [(1, "kept", False)]
    assert revision(engine, migrations, VERSION_TABLE) == {"current": "0002", "head": "0002"}


def test_legacy_database_is_stamped_at_baseline_then_upgraded_keeping_rows(database_url, migrations):
    engine = create_engine(database_url)
    with engine.begin() as connection:  # what create_all made before migrations existed
        connection.execute(sqlalchemy.text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(sqlalchemy.text("INSERT INTO notes (id, body) VALUES (1, 'first'), (2, 'second')"))
    assert upgrade(engine, migrations, VERSION_TABLE, legacy_table="notes") == "0002"
    assert rows(engine) == [(1, "first", False), (2, "second", False)]


def test_legacy_database_without_legacy_table_named_fails_instead_of_guessing(database_url, migrations):
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    with pytest.raises(sqlalchemy.exc.DatabaseError):  # the baseline's CREATE TABLE meets the existing table
        upgrade(engine, migrations, VERSION_TABLE)
    with engine.connect() as connection:  # rolled back as a whole: no version table left behind
        assert not sqlalchemy.inspect(connection).has_table(VERSION_TABLE)


@pytest.mark.slow
def test_concurrent_first_opens_take_turns(database_url, migrations, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path / "packages")!r})
        from boya.storage import create_engine, upgrade
        print(upgrade(create_engine({database_url!r}), {migrations!r}, {VERSION_TABLE!r}))
    """)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    results = [process.communicate(timeout=120) for process in processes]
    assert [
        (process.returncode, out.strip()) for process, (out, _) in zip(processes, results, strict=True)
    ] == [(0, "0002")] * 3, results
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(
            sqlalchemy.text(f"SELECT version_num FROM {VERSION_TABLE}")
        ).scalars().all() == ["0002"]
    assert rows(engine) == []


def test_database_from_a_newer_release_is_a_clear_error(database_url, migrations):
    engine = create_engine(database_url)
    upgrade(engine, migrations, VERSION_TABLE)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"UPDATE {VERSION_TABLE} SET version_num = '0009'"))
    with pytest.raises(BoyaError, match="0009"):
        upgrade(engine, migrations, VERSION_TABLE)
    assert revision(engine, migrations, VERSION_TABLE)["current"] == "0009"
