"""A pytest plugin every Boya package's tests get (entry point ``pytest11``): shared fixtures.

``database_url`` runs a storage test once on SQLite and once on PostgreSQL when
``BOYA_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one). With
``BOYA_REQUIRE_POSTGRES=1`` a missing server fails instead of skipping.
"""

import os
import uuid

import pytest


def _fresh_postgres_database(server_url: str) -> str:
    import sqlalchemy
    from sqlalchemy.engine import make_url

    name = f"boya_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A URL to an empty database: a SQLite file, or a fresh database on the PostgreSQL test server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    server = os.environ.get("BOYA_TEST_POSTGRES_URL")
    if not server:
        if os.environ.get("BOYA_REQUIRE_POSTGRES") == "1":
            pytest.fail("BOYA_REQUIRE_POSTGRES=1 but BOYA_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL test server (set BOYA_TEST_POSTGRES_URL)")
    return _fresh_postgres_database(server)
