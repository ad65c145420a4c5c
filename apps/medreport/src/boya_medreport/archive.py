"""Stage 7: every report version, its audit trail and the HL7 outbox, in one SQLAlchemy database.

A report is archived before anything is sent; each change makes a new version (the
old ones stay); each step is an audit event (created, edited, signed, queued, sent,
acknowledged, rejected, send_failed). The outbox holds each HL7 message until its ACK
arrives, keyed by its unique message control id, so a message is never sent twice
once acknowledged. SQLite by default, any SQLAlchemy URL via ``--db`` or
``BOYA_DATABASE_URL`` (``boya.storage``). The schema is managed by the Alembic
migrations in ``boya_medreport/migrations``, applied when the archive opens.
"""

import datetime
import json

from boya.errors import BoyaError
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Report(Base):
    __tablename__ = "medreport_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime.datetime] = mapped_column(default=_now)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft, signed, sent, acknowledged
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    patient_name: Mapped[str | None] = mapped_column(String(200))
    patient_mrn: Mapped[str | None] = mapped_column(String(40))
    exam: Mapped[str | None] = mapped_column(String(200))
    critical: Mapped[bool] = mapped_column(default=False)


class ReportVersion(Base):
    __tablename__ = "medreport_report_versions"
    __table_args__ = (UniqueConstraint("report_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("medreport_reports.id"))
    version: Mapped[int] = mapped_column(Integer)
    report_json: Mapped[str] = mapped_column(Text)
    dictation: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime.datetime] = mapped_column(default=_now)


class AuditEvent(Base):
    __tablename__ = "medreport_audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("medreport_reports.id"), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime.datetime] = mapped_column(default=_now)


class OutboxMessage(Base):
    __tablename__ = "medreport_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("medreport_reports.id"))
    version: Mapped[int] = mapped_column(Integer)
    control_id: Mapped[str] = mapped_column(String(20), unique=True)
    er7: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(200))
    port: Mapped[int] = mapped_column(Integer)
    # pending, acknowledged, rejected
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(default=_now)
    last_error: Mapped[str | None] = mapped_column(Text)
    ack_code: Mapped[str | None] = mapped_column(String(2))
    ack_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(default=_now)
    acknowledged_at: Mapped[datetime.datetime | None] = mapped_column()


MIGRATIONS = "boya_medreport.migrations"
VERSION_TABLE = "medreport_alembic_version"  # its own, so medreport can share a database with other apps


def control_id(report_id: int, version: int) -> str:
    """The message control id of one report version: unique, stable, <= 20 characters."""
    return f"BMR{report_id:08d}V{version:03d}"


class Archive:
    """The medreport database. Each method is one transaction."""

    def __init__(self, url: str | None = None):
        from boya.storage import create_engine, database_url, upgrade

        self.url = database_url("medreport", url)
        self.engine = create_engine(self.url)
        self.revision = upgrade(self.engine, MIGRATIONS, VERSION_TABLE, legacy_table=Report.__tablename__)

    def _report(self, session, report_id: int) -> Report:
        row = session.get(Report, report_id)
        if row is None:
            raise BoyaError(f"no archived report with id {report_id}")
        return row

    @staticmethod
    def _summary(row: Report, report: dict) -> None:
        patient, exam = report.get("patient") or {}, report.get("exam") or {}
        row.patient_name = (patient.get("name") or "")[:200] or None
        row.patient_mrn = (patient.get("mrn") or "")[:40] or None
        row.exam = (
            " ".join(
                str(v) for v in (exam.get("modality"), exam.get("laterality"), exam.get("body_part")) if v
            )[:200]
            or None
        )
        row.critical = bool(report.get("critical"))

    def create(self, report: dict, dictation: str | None = None, author: str | None = None) -> int:
        """Archive a new report as version 1; returns its id."""
        with Session(self.engine) as session, session.begin():
            row = Report(status="draft", current_version=1)
            self._summary(row, report)
            session.add(row)
            session.flush()
            session.add(
                ReportVersion(
                    report_id=row.id,
                    version=1,
                    report_json=json.dumps(report),
                    dictation=dictation,
                    author=author,
                )
            )
            session.add(
                AuditEvent(
                    report_id=row.id,
                    version=1,
                    action="created",
                    actor=author,
                    detail="critical result" if report.get("critical") else None,
                )
            )
            return row.id

    def edit(
        self, report_id: int, report: dict, author: str | None = None, dictation: str | None = None
    ) -> int:
        """Store a corrected report as a new version (a signed report goes back to draft); returns the version."""
        with Session(self.engine) as session, session.begin():
            row = self._report(session, report_id)
            row.current_version += 1
            row.status = "draft"
            self._summary(row, report)
            session.add(
                ReportVersion(
                    report_id=report_id,
                    version=row.current_version,
                    report_json=json.dumps(report),
                    dictation=dictation,
                    author=author,
                )
            )
            session.add(
                AuditEvent(report_id=report_id, version=row.current_version, action="edited", actor=author)
            )
            return row.current_version

    def sign(self, report_id: int, author: str | None = None) -> int:
        with Session(self.engine) as session, session.begin():
            row = self._report(session, report_id)
            row.status = "signed"
            session.add(
                AuditEvent(report_id=report_id, version=row.current_version, action="signed", actor=author)
            )
            return row.current_version

    def get(self, report_id: int, version: int | None = None) -> dict:
        """``{"id", "version", "status", "report", "dictation"}`` of a version (the current one by default)."""
        with Session(self.engine) as session:
            row = self._report(session, report_id)
            version = version or row.current_version
            stored = session.scalars(
                select(ReportVersion).where(
                    ReportVersion.report_id == report_id, ReportVersion.version == version
                )
            ).first()
            if stored is None:
                raise BoyaError(f"report {report_id} has no version {version}")
            return {
                "id": report_id,
                "version": version,
                "status": row.status,
                "report": json.loads(stored.report_json),
                "dictation": stored.dictation,
            }

    def versions(self, report_id: int) -> list[int]:
        with Session(self.engine) as session:
            return list(
                session.scalars(
                    select(ReportVersion.version)
                    .where(ReportVersion.report_id == report_id)
                    .order_by(ReportVersion.version)
                )
            )

    def audit(self, report_id: int) -> list[dict]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(AuditEvent).where(AuditEvent.report_id == report_id).order_by(AuditEvent.id)
            )
            return [
                {
                    "action": r.action,
                    "version": r.version,
                    "actor": r.actor,
                    "detail": r.detail,
                    "at": r.at.isoformat(timespec="seconds"),
                }
                for r in rows
            ]

    def history(self, limit: int = 50) -> list[dict]:
        """The newest reports first, one summary row each."""
        with Session(self.engine) as session:
            rows = session.scalars(select(Report).order_by(Report.id.desc()).limit(limit))
            return [
                {
                    "id": r.id,
                    "created": r.created_at.isoformat(timespec="seconds"),
                    "status": r.status,
                    "version": r.current_version,
                    "patient": r.patient_name,
                    "mrn": r.patient_mrn,
                    "exam": r.exam,
                    "critical": r.critical,
                }
                for r in rows
            ]

    def log(
        self,
        report_id: int,
        action: str,
        detail: str | None = None,
        version: int | None = None,
        actor: str | None = None,
    ) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(
                AuditEvent(report_id=report_id, version=version, action=action, detail=detail, actor=actor)
            )

    # ------------------------------------------------------------------ outbox

    def enqueue(self, report_id: int, version: int, er7: str, host: str, port: int) -> dict:
        """Put a message in the outbox (once per control id: a second call returns the existing row)."""
        cid = control_id(report_id, version)
        with Session(self.engine) as session, session.begin():
            existing = session.scalars(select(OutboxMessage).where(OutboxMessage.control_id == cid)).first()
            if existing is not None:
                return _outbox_row(existing)
            row = OutboxMessage(
                report_id=report_id, version=version, control_id=cid, er7=er7, host=host, port=port
            )
            session.add(row)
            session.add(
                AuditEvent(
                    report_id=report_id, version=version, action="queued", detail=f"{cid} to {host}:{port}"
                )
            )
            session.flush()
            return _outbox_row(row)

    def outbox(self, status: str | None = "pending") -> list[dict]:
        with Session(self.engine) as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if status:
                query = query.where(OutboxMessage.status == status)
            return [_outbox_row(r) for r in session.scalars(query)]

    def outbox_message(self, control_id_: str) -> dict:
        with Session(self.engine) as session:
            row = session.scalars(
                select(OutboxMessage).where(OutboxMessage.control_id == control_id_)
            ).first()
            if row is None:
                raise BoyaError(f"no outbox message {control_id_}")
            return _outbox_row(row)

    def record_attempt(
        self,
        control_id_: str,
        *,
        ack_code: str | None,
        ack_text: str | None,
        error: str | None,
        retry_at: datetime.datetime | None,
    ) -> dict:
        """Store the outcome of one send: AA acknowledges; AE/AR reject (kept, not retried); an error stays pending."""
        with Session(self.engine) as session, session.begin():
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.control_id == control_id_)).one()
            row.attempts += 1
            row.ack_code, row.ack_text, row.last_error = ack_code, ack_text, error
            report = self._report(session, row.report_id)
            if ack_code == "AA":
                row.status, row.acknowledged_at = "acknowledged", _now()
                report.status = "acknowledged"
                action, detail = "acknowledged", f"{control_id_} ACK AA"
            elif ack_code in ("AE", "AR", "CE", "CR"):
                row.status = "rejected"
                action, detail = "rejected", f"{control_id_} ACK {ack_code}: {ack_text or ''}".strip()
            else:
                row.next_attempt_at = retry_at or _now()
                action, detail = "send_failed", f"{control_id_} attempt {row.attempts}: {error}"
            if ack_code:
                session.add(
                    AuditEvent(
                        report_id=row.report_id,
                        version=row.version,
                        action="sent",
                        detail=f"{control_id_} to {row.host}:{row.port}",
                    )
                )
                if report.status not in ("acknowledged",):
                    report.status = "sent" if ack_code != "AA" else report.status
            session.add(
                AuditEvent(report_id=row.report_id, version=row.version, action=action, detail=detail)
            )
            return _outbox_row(row)


def _outbox_row(row: OutboxMessage) -> dict:
    return {
        "control_id": row.control_id,
        "report_id": row.report_id,
        "version": row.version,
        "host": row.host,
        "port": row.port,
        "status": row.status,
        "attempts": row.attempts,
        "ack_code": row.ack_code,
        "ack_text": row.ack_text,
        "last_error": row.last_error,
        "er7": row.er7,
    }
