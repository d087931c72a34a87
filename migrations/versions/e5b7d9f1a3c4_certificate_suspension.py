"""Certificate suspension: a reason and an optional end date, and a place in the suspension list.

Revision ID: e5b7d9f1a3c4
Revises: d4f6a8c0e2b3
Create Date: 2026-12-07 16:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e5b7d9f1a3c4"
down_revision = "d4f6a8c0e2b3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The status column is a plain VARCHAR(20) without a CHECK constraint, so "suspended" needs no change there.
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspension_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("suspended_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("suspended_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("suspended_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_certificate_suspended_by_id_user"), "user", ["suspended_by_id"], ["id"]
        )


def downgrade() -> None:
    # A suspended certificate cannot be told apart without its columns: it goes back to valid, as
    # reinstating it would, and the audit trail keeps the suspension.
    op.execute("UPDATE certificate SET status = 'valid' WHERE status = 'suspended'")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_certificate_suspended_by_id_user"), type_="foreignkey")
        batch_op.drop_column("suspended_by_id")
        batch_op.drop_column("suspended_at")
        batch_op.drop_column("suspended_until")
        batch_op.drop_column("suspension_reason")
