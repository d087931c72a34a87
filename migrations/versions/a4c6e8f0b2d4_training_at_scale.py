"""Training at scale: cohorts, supervisor capacity, and each record's current stage, time in its
state and last activity kept as columns so the training records list filters and sorts in SQL.

Revision ID: a4c6e8f0b2d4
Revises: d8e2f4a6b0c1
Create Date: 2026-12-06 18:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a4c6e8f0b2d4"
down_revision = "d8e2f4a6b0c1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("pathway_version_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["user.id"], name=op.f("fk_cohort_lead_id_user")),
        sa.ForeignKeyConstraint(
            ["pathway_version_id"], ["pathway_version.id"], name=op.f("fk_cohort_pathway_version_id_pathway_version")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_cohort_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort")),
        sa.UniqueConstraint("name", name=op.f("uq_cohort_name")),
    )
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cohort_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cohort_pathway_version_id"), ["pathway_version_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cohort_region_id"), ["region_id"], unique=False)

    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cohort_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_activity_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_current", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("state_since", sa.DateTime(), nullable=True))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trainee_capacity", sa.Integer(), nullable=True))

    # Since when each stage has been in its state: its latest move into that state, else when the
    # stage started, else when the enrolment was made.
    op.execute(
        """
        UPDATE stage_record SET state_since = COALESCE(
            (SELECT MAX(t.occurred_at) FROM stage_transition t
              WHERE t.stage_record_id = stage_record.id AND t.to_state = stage_record.state),
            (SELECT e.created_at FROM enrolment e WHERE e.id = stage_record.enrolment_id))
        """
    )
    # The current stage is the first one not finished (accredited, ratified, complete or exempt).
    op.execute(
        """
        UPDATE stage_record SET is_current = TRUE WHERE position = (
            SELECT MIN(s.position) FROM stage_record s
             WHERE s.enrolment_id = stage_record.enrolment_id
               AND s.state NOT IN ('accredited', 'ratified', 'complete', 'exempt'))
        """
    )
    op.execute(
        """
        UPDATE enrolment SET last_activity_at = COALESCE(
            (SELECT MAX(t.occurred_at) FROM stage_transition t
               JOIN stage_record s ON s.id = t.stage_record_id
              WHERE s.enrolment_id = enrolment.id),
            created_at)
        """
    )

    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.alter_column("last_activity_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(batch_op.f("ix_enrolment_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_index("ix_enrolment_last_activity", ["last_activity_at", "id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_enrolment_cohort_id_cohort"), "cohort", ["cohort_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.alter_column("state_since", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index("ix_stage_record_current", ["is_current", "state", "state_since"], unique=False)


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("trainee_capacity")

    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_record_current")
        batch_op.drop_column("state_since")
        batch_op.drop_column("is_current")

    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_enrolment_cohort_id_cohort"), type_="foreignkey")
        batch_op.drop_index("ix_enrolment_last_activity")
        batch_op.drop_index(batch_op.f("ix_enrolment_cohort_id"))
        batch_op.drop_column("last_activity_at")
        batch_op.drop_column("cohort_id")

    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohort_region_id"))
        batch_op.drop_index(batch_op.f("ix_cohort_pathway_version_id"))
        batch_op.drop_index(batch_op.f("ix_cohort_lead_id"))

    op.drop_table("cohort")
