"""Stage records know whether they are their pathway's final stage (queues find them by index).

Revision ID: e85575a6b35f
Revises: f71639ca730e
Create Date: 2026-11-22 05:09:20.369389

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e85575a6b35f"
down_revision = "f71639ca730e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_final", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_stage_record_state_is_final", ["state", "is_final"], unique=False)
    # A pathway version never changes, so the last position of each enrolment is its final stage.
    op.execute(
        "UPDATE stage_record SET is_final = (position = ("
        "SELECT max(later.position) FROM stage_record AS later "
        "WHERE later.enrolment_id = stage_record.enrolment_id))"
    )
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.alter_column("is_final", server_default=None)


def downgrade():
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_record_state_is_final")
        batch_op.drop_column("is_final")
