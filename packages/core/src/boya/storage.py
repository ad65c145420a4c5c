"""The one way apps reach their database: SQLite by default, PostgreSQL (or any SQLAlchemy URL) when configured.

The URL comes from the app's ``--db`` option, else ``BOYA_DATABASE_URL``, else a
SQLite file per app in the user's data directory. SQLite gets WAL and a busy
timeout so concurrent requests wait instead of failing; an unreachable database
is retried briefly, then reported as one clear error (password hidden).
"""

import os
import time
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
