"""The one way apps reach their database: SQLite by default, PostgreSQL (or any SQLAlchemy URL) when configured.

The URL comes from the app's ``--db`` option, else ``BOYA_DATABASE_URL``, else a
SQLite file per app in the user's data directory. SQLite gets WAL and a busy
timeout so concurrent requests wait instead of failing; an unreachable database
is retried briefly, then reported as one clear error (password hidden).
Each app's schema is managed by Alembic migrations shipped inside the app
package (:func:`upgrade`), so a new release changes an existing database
without losing its rows.
"""

import functools
import os
import time
import zlib
from pathlib import Path

from .errors import BoyaError

ENV_VAR = "BOYA_DATABASE_URL"


def default_url(app: str) -> str:
    from platformdirs import user_data_dir

    folder = Path(os.environ.get("BOYA_DATA_DIR") or user_data_dir("boya"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / f'{app}.db'}"


def database_url(app: str, url: str | None = None) -> str:
    """The URL to use for ``app``: the explicit one, else ``$BOYA_DATABASE_URL``, else the default SQLite file."""
    return url or os.environ.get(ENV_VAR) or default_url(app)


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, attempts: int = 5, wait_seconds: float = 1.0):
    """A SQLAlchemy engine for ``url``, checked by connecting; retried ``attempts`` times before a clear error."""
    import sqlalchemy
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise BoyaError(
            f"not a database URL: {url!r} (e.g. sqlite:///reports.db or postgresql+psycopg://user@host/db)"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise BoyaError(f"cannot open database {shown}: folder {folder} does not exist")
    try:
        engine = sqlalchemy.create_engine(parsed, pool_pre_ping=True)
    except (ImportError, sqlalchemy.exc.ArgumentError) as error:
        raise BoyaError(f"cannot use database {shown}: {error}") from None
    if engine.dialect.name == "sqlite":
        sqlalchemy.event.listen(engine, "connect", _sqlite_pragmas)
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect():
                return engine
        except sqlalchemy.exc.OperationalError as error:
            if attempt == attempts:
                reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
                raise BoyaError(
                    f"cannot reach the database at {shown} after {attempts} attempts: {reason}"
                ) from None
            time.sleep(wait_seconds * attempt)
    raise AssertionError("unreachable")


def alembic_config(migrations: str, version_table: str, connection=None):
    """An Alembic config built in code (no alembic.ini): scripts from the installed package ``migrations``.

    :func:`upgrade` uses it; so can a tool or test that runs other Alembic commands (e.g. upgrade to
    an older revision to build a database as an earlier release left it).
    """
    from importlib.resources import files

    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files(migrations)))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = version_table
    return config


@functools.cache
def _head(migrations: str) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(migrations, "")).get_current_head()


def _current(connection, version_table: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(
        connection, opts={"version_table": version_table}
    ).get_current_revision()


def _lock(connection, version_table: str) -> None:
    """Make concurrent upgrades of one database take turns (released when the transaction ends)."""
    if connection.dialect.name == "sqlite":
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now, waiting out another writer
    elif connection.dialect.name == "postgresql":
        import sqlalchemy

        connection.execute(
            sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(version_table.encode())}
        )


def upgrade(engine, migrations: str, version_table: str, legacy_table: str | None = None) -> str:
    """Bring an app's tables to the newest revision of ``migrations`` (a package with env.py and versions/); returns it.

    Each app keeps its own ``version_table``, so apps can share one database. A database
    made before migrations existed (``legacy_table`` there, no version table) is stamped at
    the baseline revision, then upgraded, so its rows stay. All of it is one transaction
    holding a lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so two
    processes opening a new database at once take turns and the second finds it done.
    A database already at head costs one query.
    """
    import sqlalchemy
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    head = _head(migrations)
    with engine.connect() as connection:
        if _current(connection, version_table) == head:
            return head
    with engine.begin() as connection:
        _lock(connection, version_table)
        config = alembic_config(migrations, version_table, connection)
        try:
            if (
                legacy_table
                and _current(connection, version_table) is None
                and sqlalchemy.inspect(connection).has_table(legacy_table)
            ):
                command.stamp(config, ScriptDirectory.from_config(config).get_base())
            command.upgrade(config, "head")
        except CommandError as error:
            raise BoyaError(
                f"cannot upgrade the database ({version_table}): {error}; "
                "is it from a newer release of the app?"
            ) from None
        return _current(connection, version_table)


def revision(engine, migrations: str, version_table: str) -> dict:
    """``{"current", "head"}``: the database's revision (None before the first upgrade) and the newest shipped."""
    with engine.connect() as connection:
        return {"current": _current(connection, version_table), "head": _head(migrations)}


def run_migrations(metadata) -> None:
    """The body of every app's migrations/env.py: run on the connection :func:`upgrade` holds."""
    from alembic import context

    context.configure(
        connection=context.config.attributes["connection"],
        target_metadata=metadata,
        version_table=context.config.attributes["version_table"],
    )
    with context.begin_transaction():
        context.run_migrations()
