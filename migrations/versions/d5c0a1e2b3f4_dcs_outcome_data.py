"""Outcome data: case consent, dates and status; measure administrations; per-case outcomes for reports.

Revision ID: d5c0a1e2b3f4
Revises: e85575a6b35f
Create Date: 2026-11-22 07:21:42.468803

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d5c0a1e2b3f4"
down_revision = "e85575a6b35f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "administration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("measure_code", sa.String(length=16), nullable=False),
        sa.Column("measure_version", sa.String(length=16), nullable=False),
        sa.Column(
            "timepoint",
            sa.Enum("pre", "mid", "post", "follow-up", name="timepoint", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("administered_on", sa.Date(), nullable=False),
        sa.Column("responses", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("raw", sa.Float(), nullable=True),
        sa.Column("subscales", sa.JSON(), nullable=False),
        sa.Column("band", sa.String(length=60), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("prorated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_administration_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["entered_by_id"], ["user.id"], name=op.f("fk_administration_entered_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_administration")),
        sa.UniqueConstraint("case_id", "measure_code", "timepoint", name=op.f("uq_administration_case_id")),
    )
    with op.batch_alter_table("administration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_administration_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("measure_code", sa.String(length=16), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column(
            "population",
            sa.Enum(
                "perinatal",
                "early_years",
                "family_support",
                "child_protection",
                "looked_after",
                "neurodevelopmental",
                "education",
                "mental_health",
                "workforce",
                "other",
                name="population",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "relationship_type",
            sa.Enum(
                "parent_infant",
                "parent_child",
                "parent_adolescent",
                "foster_or_adoptive",
                "education",
                "professional",
                "other",
                name="relationship",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "child_age_band",
            sa.Enum(
                "0-11m", "1-2y", "3-4y", "5-10y", "11-17y", "18+", "n/a", name="ageband", native_enum=False, length=10
            ),
            nullable=False,
        ),
        sa.Column("stage_number", sa.Integer(), nullable=True),
        sa.Column("consent_dcs", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("pre", sa.Float(), nullable=True),
        sa.Column("pre_on", sa.Date(), nullable=True),
        sa.Column("post", sa.Float(), nullable=True),
        sa.Column("post_on", sa.Date(), nullable=True),
        sa.Column("follow_up", sa.Float(), nullable=True),
        sa.Column("change", sa.Float(), nullable=True),
        sa.Column("classification", sa.String(length=30), nullable=True),
        sa.Column("pre_case", sa.Boolean(), nullable=True),
        sa.Column("recovery", sa.Boolean(), nullable=True),
        sa.Column("reliable_recovery", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_outcome_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"], name=op.f("fk_case_outcome_practitioner_id_user")),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_case_outcome_region_id_region")),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_case_outcome_service_id_service")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_outcome")),
        sa.UniqueConstraint("case_id", "measure_code", name=op.f("uq_case_outcome_case_id")),
    )
    with op.batch_alter_table("case_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_outcome_practitioner_id"), ["practitioner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_outcome_region_id"), ["region_id"], unique=False)
        batch_op.create_index(
            "ix_case_outcome_report",
            [
                "measure_code",
                "consent_dcs",
                "region_id",
                "pre",
                "post",
                "classification",
                "pre_case",
                "recovery",
                "reliable_recovery",
            ],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_case_outcome_service_id"), ["service_id"], unique=False)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("consent_filming", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("consent_filming_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("consent_supervision", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("consent_supervision_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("consent_dcs", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("consent_dcs_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("started_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum("open", "completed", "ended_early", name="casestatus", native_enum=False, length=30),
                server_default="open",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "end_reason",
                sa.Enum(
                    "client_withdrew",
                    "client_moved",
                    "referred_on",
                    "safeguarding",
                    "practitioner_left",
                    "other",
                    name="endreason",
                    native_enum=False,
                    length=30,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("end_note", sa.Text(), nullable=True))
    # Existing cases started when they were recorded; date() works on both SQLite and PostgreSQL.
    op.execute('UPDATE "case" SET started_on = date(created_at)')
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.alter_column("started_on", existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("end_note")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("status")
        batch_op.drop_column("ended_on")
        batch_op.drop_column("started_on")
        batch_op.drop_column("consent_dcs_on")
        batch_op.drop_column("consent_dcs")
        batch_op.drop_column("consent_supervision_on")
        batch_op.drop_column("consent_supervision")
        batch_op.drop_column("consent_filming_on")
        batch_op.drop_column("consent_filming")
        batch_op.drop_column("stage_number")

    with op.batch_alter_table("case_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_outcome_service_id"))
        batch_op.drop_index("ix_case_outcome_report")
        batch_op.drop_index(batch_op.f("ix_case_outcome_region_id"))
        batch_op.drop_index(batch_op.f("ix_case_outcome_practitioner_id"))

    op.drop_table("case_outcome")
    with op.batch_alter_table("administration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_administration_case_id"))

    op.drop_table("administration")
