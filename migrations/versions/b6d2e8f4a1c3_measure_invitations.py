"""Links for clients to answer outcome measures on their own phone: stored as SHA-256 digests, used once;
administrations remember the link they came through.

Revision ID: b6d2e8f4a1c3
Revises: a9b8c7d6e5f4
Create Date: 2026-11-29 09:12:40.118204

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b6d2e8f4a1c3"
down_revision = "a9b8c7d6e5f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "measure_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "timepoint",
            sa.Enum("pre", "mid", "post", "follow-up", name="timepoint", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("measure_codes", sa.JSON(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_measure_invitation_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_measure_invitation_created_by_id_user")),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["user.id"], name=op.f("fk_measure_invitation_revoked_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_invitation")),
    )
    with op.batch_alter_table("measure_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measure_invitation_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_measure_invitation_token_digest"), ["token_digest"], unique=True)

    with op.batch_alter_table("administration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invitation_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_administration_invitation_id"), ["invitation_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_administration_invitation_id_measure_invitation"),
            "measure_invitation",
            ["invitation_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("administration", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_administration_invitation_id_measure_invitation"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_administration_invitation_id"))
        batch_op.drop_column("invitation_id")

    with op.batch_alter_table("measure_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measure_invitation_token_digest"))
        batch_op.drop_index(batch_op.f("ix_measure_invitation_case_id"))

    op.drop_table("measure_invitation")
