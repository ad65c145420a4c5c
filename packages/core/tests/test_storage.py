"""boya.storage: URL resolution, a working engine on SQLite and PostgreSQL, clear errors."""

import pytest
import sqlalchemy
from boya.errors import BoyaError
from boya.storage import ENV_VAR, create_engine, database_url


def test_explicit_url_wins_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("BOYA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert database_url("medreport") == f"sqlite:///{tmp_path / 'medreport.db'}"
    monkeypatch.setenv(ENV_VAR, "sqlite:///from-env.db")
    assert database_url("medreport") == "sqlite:///from-env.db"
    assert database_url("medreport", "sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_engine_round_trips_a_committed_row(database_url):
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(sqlalchemy.text("INSERT INTO notes (id, body) VALUES (1, 'kept')"))
    engine.dispose()
    again = create_engine(database_url)
    with again.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT body FROM notes")).scalar_one() == "kept"


def test_unreachable_database_is_one_clear_error_without_password():
    with pytest.raises(BoyaError) as error:
        create_engine("postgresql+psycopg://u:secret@127.0.0.1:1/db", attempts=2, wait_seconds=0.01)
    assert "cannot reach the database at postgresql+psycopg://u:***@127.0.0.1:1/db after 2 attempts" in str(
        error.value
    )
    assert "secret" not in str(error.value)


@pytest.mark.parametrize("url", ["not a url", "sqlite:////no/such/folder/x.db", "nosuchdb://x"])
def test_bad_urls_are_user_errors(url):
    with pytest.raises(BoyaError):
        create_engine(url, attempts=1)
