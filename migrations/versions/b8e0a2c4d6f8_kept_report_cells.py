"""Kept DCS report sums: the cells the national and regional reports add up, and when they were kept;
the outcome rows' report index covers every filter and breakdown.

Revision ID: b8e0a2c4d6f8
Revises: a7d9f1b3c5e6
Create Date: 2026-12-07 23:50:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b8e0a2c4d6f8"
down_revision = "a7d9f1b3c5e6"
branch_labels = None
depends_on = None

OLD_REPORT_COLUMNS = [
    "measure_code",
    "consent_dcs",
    "region_id",
    "pre",
    "post",
    "classification",
    "pre_case",
    "recovery",
    "reliable_recovery",
    "status",
]
NEW_REPORT_COLUMNS = [
    *OLD_REPORT_COLUMNS[:3],
    "service_id",
    "population",
    "relationship_type",
    "stage_number",
    "pre_on",
    *OLD_REPORT_COLUMNS[3:],
]


def upgrade() -> None:
    op.create_table(
        "dcs_report_cell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "grain",
            sa.Enum("population", "relationship", "stage", "service", name="reportgrain", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("measure_code", sa.String(length=16), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("population", sa.String(length=30), nullable=True),
        sa.Column("relationship_type", sa.String(length=30), nullable=True),
        sa.Column("stage_number", sa.Integer(), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in ("cases", "paired")),
        *(
            sa.Column(name, sa.Float(), nullable=False)
            for name in ("pre", "pre_squared", "post", "post_squared", "pre_post")
        ),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "improved",
                "unchanged",
                "deteriorated",
                "at_caseness",
                "recovered",
                "reliably_recovered",
                "closed",
                "closed_paired",
            )
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_dcs_report_cell_region_id_region"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dcs_report_cell")),
    )
    with op.batch_alter_table("dcs_report_cell", schema=None) as batch_op:
        batch_op.create_index("ix_dcs_report_cell_lookup", ["grain", "measure_code", "region_id"], unique=False)
    op.create_table(
        "dcs_report_refresh",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dcs_report_refresh")),
    )
    with op.batch_alter_table("case_outcome", schema=None) as batch_op:
        batch_op.drop_index("ix_case_outcome_report")
        batch_op.create_index("ix_case_outcome_report", NEW_REPORT_COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_outcome", schema=None) as batch_op:
        batch_op.drop_index("ix_case_outcome_report")
        batch_op.create_index("ix_case_outcome_report", OLD_REPORT_COLUMNS, unique=False)
    op.drop_table("dcs_report_refresh")
    with op.batch_alter_table("dcs_report_cell", schema=None) as batch_op:
        batch_op.drop_index("ix_dcs_report_cell_lookup")
    op.drop_table("dcs_report_cell")
