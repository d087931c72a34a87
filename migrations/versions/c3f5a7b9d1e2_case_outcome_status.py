"""The case's status on its outcome rows, so reports show how complete closed cases' data is.

Revision ID: c3f5a7b9d1e2
Revises: b6d2e8f4a1c3
Create Date: 2026-12-06 16:20:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c3f5a7b9d1e2"
down_revision = "b6d2e8f4a1c3"
branch_labels = None
depends_on = None

REPORT_COLUMNS = [
    "measure_code",
    "consent_dcs",
    "region_id",
    "pre",
    "post",
    "classification",
    "pre_case",
    "recovery",
    "reliable_recovery",
]


def upgrade():
    status = sa.Enum("open", "completed", "ended_early", name="casestatus", native_enum=False, length=30)
    with op.batch_alter_table("case_outcome", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", status, server_default="open", nullable=False))
        batch_op.drop_index("ix_case_outcome_report")
        batch_op.create_index("ix_case_outcome_report", [*REPORT_COLUMNS, "status"], unique=False)
    op.execute(
        'UPDATE case_outcome SET status = (SELECT "case".status FROM "case" WHERE "case".id = case_outcome.case_id)'
    )


def downgrade():
    with op.batch_alter_table("case_outcome", schema=None) as batch_op:
        batch_op.drop_index("ix_case_outcome_report")
        batch_op.create_index("ix_case_outcome_report", REPORT_COLUMNS, unique=False)
        batch_op.drop_column("status")
