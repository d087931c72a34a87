"""Measure wording a service holds a licence for, entered by an administrator; removed softly, so the
record of what was shown stays.

Revision ID: d8e2f4a6b0c1
Revises: c3f5a7b9d1e2
Create Date: 2026-12-06 17:05:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d8e2f4a6b0c1"
down_revision = "c3f5a7b9d1e2"
branch_labels = None
depends_on = None

LIVE = sa.text("removed_at IS NULL")


def upgrade():
    op.create_table(
        "licensed_wording",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("measure_code", sa.String(length=16), nullable=False),
        sa.Column("measure_version", sa.String(length=16), nullable=False),
        sa.Column("item_texts", sa.JSON(), nullable=False),
        sa.Column("answer_texts", sa.JSON(), nullable=False),
        sa.Column("stem", sa.Text(), nullable=True),
        sa.Column("licence_reference", sa.String(length=300), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_licensed_wording_service_id_service")),
        sa.ForeignKeyConstraint(["added_by_id"], ["user.id"], name=op.f("fk_licensed_wording_added_by_id_user")),
        sa.ForeignKeyConstraint(["removed_by_id"], ["user.id"], name=op.f("fk_licensed_wording_removed_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licensed_wording")),
    )
    with op.batch_alter_table("licensed_wording", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licensed_wording_service_id"), ["service_id"], unique=False)
        batch_op.create_index(
            "ix_licensed_wording_live",
            ["service_id", "measure_code"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade():
    with op.batch_alter_table("licensed_wording", schema=None) as batch_op:
        batch_op.drop_index("ix_licensed_wording_live")
        batch_op.drop_index(batch_op.f("ix_licensed_wording_service_id"))

    op.drop_table("licensed_wording")
