"""The archive's Alembic migrations (SQLite and PostgreSQL): an old database upgrades keeping every row, a legacy
create_all database is adopted, opening is idempotent, and the migrated schema equals the models.
"""

import datetime
import json

import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from boya.storage import alembic_config, create_engine
from boya_medreport.archive import (
    MIGRATIONS,
    VERSION_TABLE,
    Archive,
    AuditEvent,
    Base,
    OutboxMessage,
    Report,
    ReportVersion,
)
from click.testing import CliRunner
from sqlalchemy.orm import Session

TABLES = ["medreport_reports", "medreport_report_versions", "medreport_audit_events", "medreport_outbox"]
AT = datetime.datetime(2026, 3, 1, 9, 30, 15)


def at_baseline(url: str):
    """A database as release 0001 left it, holding two reports (one sent and acknowledged) with their trail."""
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(MIGRATIONS, VERSION_TABLE, connection), "0001")
    report = {"patient": {"name": "Zoë Ng", "mrn": "00412345"}, "exam": {"modality": "CT"}, "critical": True}
    with Session(engine) as session, session.begin():
        for report_id in (1, 2):
            session.add(
                Report(
                    id=report_id,
                    created_at=AT,
                    status="signed",
                    current_version=2,
                    patient_name="Zoë Ng",
                    patient_mrn="00412345",
                    exam="CT",
                    critical=True,
                )
            )
            session.flush()
            for version in (1, 2):
                session.add(
                    ReportVersion(
                        report_id=report_id,
                        version=version,
                        report_json=json.dumps(report),
                        dictation="dictée ✓",
                        author="dr",
                        created_at=AT,
                    )
                )
            for action in ("created", "edited", "signed", "queued"):
                session.add(
                    AuditEvent(report_id=report_id, version=2, action=action, detail="d", actor="dr", at=AT)
                )
        session.add(
            OutboxMessage(
                report_id=1,
                version=2,
                control_id="BMR00000001V002",
                er7="MSH|^~\\&|x",
                host="h",
                port=2575,
                status="acknowledged",
                attempts=1,
                next_attempt_at=AT,
                ack_code="AA",
                created_at=AT,
                acknowledged_at=AT,
            )
        )
    return engine


def dump(engine) -> dict:
    with engine.connect() as connection:
        return {
            t: [tuple(r) for r in connection.execute(sqlalchemy.text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in TABLES
        }


def versions_rows(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sqlalchemy.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def test_baseline_database_upgrades_to_head_keeping_every_row(database_url):
    engine = at_baseline(database_url)
    before = dump(engine)
    assert [len(before[t]) for t in TABLES] == [2, 4, 8, 1]
    archive = Archive(database_url)
    assert archive.revision == "0002" and versions_rows(engine) == ["0002"]
    assert dump(engine) == before
    assert (
        archive.get(1)["report"]["patient"]["name"] == "Zoë Ng"
        and archive.get(2, 1)["dictation"] == "dictée ✓"
    )
    assert [e["action"] for e in archive.audit(2)] == ["created", "edited", "signed", "queued"]
    assert archive.outbox_message("BMR00000001V002")["status"] == "acknowledged"


def test_legacy_create_all_database_is_adopted_keeping_its_rows(database_url):
    engine = at_baseline(database_url)
    with engine.begin() as connection:  # no version table: what the create_all releases left
        connection.execute(sqlalchemy.text(f"DROP TABLE {VERSION_TABLE}"))
    before = dump(engine)
    assert Archive(database_url).revision == "0002"
    assert dump(engine) == before and versions_rows(engine) == ["0002"]


def test_opening_twice_is_idempotent(database_url):
    first = Archive(database_url)
    report_id = first.create({"patient": {"name": "A B"}}, "dictated")
    second = Archive(database_url)
    assert second.revision == first.revision == "0002"
    assert second.history() and second.get(report_id)["dictation"] == "dictated"
    assert versions_rows(second.engine) == ["0002"]


def test_migrated_schema_equals_the_models(database_url):
    archive = Archive(database_url)
    with archive.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []
        if connection.dialect.name == "sqlite":  # the 0002 index is what the audit trail query uses
            plan = connection.execute(
                sqlalchemy.text(
                    "EXPLAIN QUERY PLAN SELECT * FROM medreport_audit_events WHERE report_id = 1 ORDER BY id"
                )
            ).all()
            assert "ix_medreport_audit_events_report_id" in str(plan)


def test_db_commands_show_and_apply_the_revision(database_url):
    from boya_medreport.cli import medreport as cli

    runner = CliRunner()
    shown = runner.invoke(cli, ["db", "current", "--db", database_url, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == {"app": "medreport", "current": None, "head": "0002"}
    applied = runner.invoke(cli, ["db", "upgrade", "--db", database_url])
    assert applied.exit_code == 0 and "0002" in applied.output, applied.output
    shown = runner.invoke(cli, ["db", "current", "--db", database_url, "--json"])
    assert json.loads(shown.output)["current"] == "0002"
