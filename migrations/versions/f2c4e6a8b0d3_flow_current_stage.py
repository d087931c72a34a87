"""Every active enrolment's current stage, kept by the training-flow refresh one row each, so the
stuck-trainee list is found, counted and paged in SQL instead of read whole into every page view.

Revision ID: f2c4e6a8b0d3
Revises: e1b3d5f7a9c2
Create Date: 2026-12-08 03:30:00.000000

Left empty, and the last refresh's current stages (the "current" snapshot) are forgotten with it, so
the page works the list out as before until the next hourly refresh keeps both.
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "f2c4e6a8b0d3"
down_revision = "e1b3d5f7a9c2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_current_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("stage_code", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_since", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Integer(), nullable=True),
        sa.Column("last_cycle", sa.Integer(), nullable=True),
        sa.Column("last_supervision", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("step_days", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=20), nullable=True),
        sa.Column("wants_cycles", sa.Boolean(), nullable=False),
        sa.Column("wants_supervision", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_current_stage")),
        sa.UniqueConstraint("enrolment_id", name=op.f("uq_flow_current_stage_enrolment_id")),
    )
    for column in ("service_id", "region_id", "cohort_id"):
        op.create_index(op.f(f"ix_flow_current_stage_{column}"), "flow_current_stage", [column], unique=False)
    op.execute("DELETE FROM flow_snapshot WHERE scope = 'current'")


def downgrade() -> None:
    for column in ("service_id", "region_id", "cohort_id"):
        op.drop_index(op.f(f"ix_flow_current_stage_{column}"), table_name="flow_current_stage")
    op.drop_table("flow_current_stage")
