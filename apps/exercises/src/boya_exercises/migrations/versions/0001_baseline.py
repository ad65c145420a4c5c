"""Baseline: the store as the first releases created it (create_all), adopted as-is.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table(
        "exercise_hardness",
        sa.Column("kp", sa.String(length=32), nullable=False),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("b", sa.Float(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kp", "difficulty"),
    )
    op.create_table(
        "exercise_students",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("theta", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("miss_streak", sa.Integer(), nullable=False),
        sa.Column("hit_streak", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "exercise_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("exercise_id", sa.String(length=64), nullable=False),
        sa.Column("kp", sa.String(length=32), nullable=False),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("predicted", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["exercise_students.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exercise_attempts_student_id", "exercise_attempts", ["student_id"])
    op.create_table(
        "exercise_estimates",
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("kp", sa.String(length=32), nullable=False),
        sa.Column("theta", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("last_difficulty", sa.Integer(), nullable=True),
        sa.Column("recent", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["exercise_students.id"]),
        sa.PrimaryKeyConstraint("student_id", "kp"),
    )
    op.create_table(
        "exercise_served",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("exercise_id", sa.String(length=64), nullable=False),
        sa.Column("kp", sa.String(length=32), nullable=False),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("exercise", sa.JSON(), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["student_id"], ["exercise_students.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exercise_served_exercise_id", "exercise_served", ["exercise_id"])
    op.create_index("ix_exercise_served_student_id", "exercise_served", ["student_id"])


def downgrade():
    for table in (
        "exercise_served",
        "exercise_estimates",
        "exercise_attempts",
        "exercise_students",
        "exercise_hardness",
    ):
        op.drop_table(table)
