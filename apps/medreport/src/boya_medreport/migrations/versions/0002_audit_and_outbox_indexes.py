"""Index the columns the archive looks rows up by: a report's audit trail, and the outbox by status.

Without them, showing one report's audit trail and listing pending messages read the
whole (ever-growing) tables; PostgreSQL does not index foreign keys by itself.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.create_index("ix_medreport_audit_events_report_id", "medreport_audit_events", ["report_id"])
    op.create_index("ix_medreport_outbox_status", "medreport_outbox", ["status"])


def downgrade():
    op.drop_index("ix_medreport_outbox_status", table_name="medreport_outbox")
    op.drop_index("ix_medreport_audit_events_report_id", table_name="medreport_audit_events")
