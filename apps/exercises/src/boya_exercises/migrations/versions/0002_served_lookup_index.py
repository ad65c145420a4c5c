"""One index on exercise_served (student_id, exercise_id) instead of one per column.

Every answer looks up the served exercise by student and exercise id (and a session's
pending list by student): the composite index answers both from one index, where the
database had to pick one single-column index and filter the other column; and each
served exercise now updates one index instead of two.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.create_index("ix_exercise_served_student_exercise", "exercise_served", ["student_id", "exercise_id"])
    op.drop_index("ix_exercise_served_student_id", table_name="exercise_served")
    op.drop_index("ix_exercise_served_exercise_id", table_name="exercise_served")


def downgrade():
    op.create_index("ix_exercise_served_student_id", "exercise_served", ["student_id"])
    op.create_index("ix_exercise_served_exercise_id", "exercise_served", ["exercise_id"])
    op.drop_index("ix_exercise_served_student_exercise", table_name="exercise_served")
