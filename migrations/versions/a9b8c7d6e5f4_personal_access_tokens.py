"""Personal access tokens for the JSON API: stored as SHA-256 digests, with scopes, expiry and revocation.

Revision ID: a9b8c7d6e5f4
Revises: c7e1f2a3b4d5
Create Date: 2026-11-22 07:41:02.512304

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a9b8c7d6e5f4"
down_revision = "c7e1f2a3b4d5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "personal_access_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["user.id"], name=op.f("fk_personal_access_token_revoked_by_id_user")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_personal_access_token_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_access_token")),
    )
    with op.batch_alter_table("personal_access_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_access_token_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_personal_access_token_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("personal_access_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_access_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_personal_access_token_token_hash"))

    op.drop_table("personal_access_token")
