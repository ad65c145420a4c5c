"""The store's Alembic migrations (SQLite and PostgreSQL): an old database upgrades keeping every row, a legacy
create_all database is adopted, opening is idempotent, and the migrated schema equals the models.
"""

import datetime
import json

import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from boya.storage import alembic_config, create_engine
from boya_exercises.cli import exercises as cli
from boya_exercises.store import (
    MIGRATIONS,
    VERSION_TABLE,
    Attempt,
    Base,
    Estimate,
    ItemHardness,
    Served,
    Store,
    Student,
)
from click.testing import CliRunner
from sqlalchemy.orm import Session

TABLES = {
    "exercise_students": "id",
    "exercise_served": "id",
    "exercise_attempts": "id",
    "exercise_estimates": "student_id, kp",
    "exercise_hardness": "kp, difficulty",
}
AT = datetime.datetime(2026, 3, 1, 9, 30, 15, tzinfo=datetime.UTC)
EXERCISE = {
    "id": "ex-1",
    "kp": "6.EE.A.3",
    "difficulty": 2,
    "type": "short_answer",
    "stem": "2(x+3) = ?",
    "answer": "2x+6",
}


def at_baseline(url: str):
    """A database as release 0001 left it: a student with one answered and one pending exercise."""
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(MIGRATIONS, VERSION_TABLE, connection), "0001")
    with Session(engine) as session, session.begin():
        session.add(Student(id="s1", theta=0.25, attempts=1, miss_streak=0, hit_streak=1, created_at=AT))
        session.flush()
        session.add(
            Served(
                student_id="s1",
                exercise_id="ex-1",
                kp="6.EE.A.3",
                difficulty=2,
                exercise=EXERCISE,
                served_at=AT,
                answered_at=AT,
            )
        )
        session.add(
            Served(
                student_id="s1",
                exercise_id="ex-2",
                kp="6.EE.A.3",
                difficulty=3,
                exercise=dict(EXERCISE, id="ex-2", difficulty=3),
                served_at=AT,
            )
        )
        session.add(
            Attempt(
                student_id="s1",
                exercise_id="ex-1",
                kp="6.EE.A.3",
                difficulty=2,
                type="short_answer",
                correct=True,
                seconds=12.5,
                predicted=0.6,
                created_at=AT,
            )
        )
        session.add(
            Estimate(
                student_id="s1",
                kp="6.EE.A.3",
                theta=0.3,
                attempts=1,
                correct=1,
                last_difficulty=2,
                recent="1",
            )
        )
        session.add(ItemHardness(kp="6.EE.A.3", difficulty=2, b=-0.1, n=1))
    return engine


def dump(engine) -> dict:
    with engine.connect() as connection:
        return {
            t: [tuple(r) for r in connection.execute(sqlalchemy.text(f"SELECT * FROM {t} ORDER BY {key}"))]
            for t, key in TABLES.items()
        }


def versions_rows(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sqlalchemy.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def test_baseline_database_upgrades_to_head_keeping_every_row(database_url):
    engine = at_baseline(database_url)
    before = dump(engine)
    assert [len(rows) for rows in before.values()] == [1, 2, 1, 1, 1]
    store = Store(database_url)
    assert store.revision == "0002" and versions_rows(engine) == ["0002"]
    assert dump(engine) == before
    with store.student_session("s1") as tx:  # the upgraded store still serves the pending exercise, once
        assert [e["id"] for e in tx.pending()] == ["ex-2"]
        assert tx.take_served("ex-2")["difficulty"] == 3 and tx.attempts() == 1


def test_legacy_create_all_database_is_adopted_keeping_its_rows(database_url):
    engine = at_baseline(database_url)
    with engine.begin() as connection:  # no version table: what the create_all releases left
        connection.execute(sqlalchemy.text(f"DROP TABLE {VERSION_TABLE}"))
    before = dump(engine)
    assert Store(database_url).revision == "0002"
    assert dump(engine) == before and versions_rows(engine) == ["0002"]


def test_opening_twice_is_idempotent(database_url):
    first = Store(database_url)
    with first.student_session("s2") as tx:
        tx.serve(EXERCISE)
    second = Store(database_url)
    assert second.revision == first.revision == "0002" and versions_rows(second.engine) == ["0002"]
    assert second.student_ids() == ["s2"]


def test_migrated_schema_equals_the_models(database_url):
    store = Store(database_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []
        if connection.dialect.name == "sqlite":  # the 0002 index answers the answer's lookup on both columns
            plan = connection.execute(
                sqlalchemy.text(
                    "EXPLAIN QUERY PLAN SELECT * FROM exercise_served WHERE student_id = 's' AND exercise_id = 'e' "
                    "AND answered_at IS NULL"
                )
            ).all()
            assert "ix_exercise_served_student_exercise (student_id=? AND exercise_id=?)" in str(plan)


def test_db_commands_show_and_apply_the_revision(database_url):
    runner = CliRunner()
    shown = runner.invoke(cli, ["db", "current", "--db", database_url, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == {"app": "exercises", "current": None, "head": "0002"}
    applied = runner.invoke(cli, ["db", "upgrade", "--db", database_url])
    assert applied.exit_code == 0 and "0002" in applied.output, applied.output
    assert (
        json.loads(runner.invoke(cli, ["db", "current", "--db", database_url, "--json"]).output)["current"]
        == "0002"
    )
