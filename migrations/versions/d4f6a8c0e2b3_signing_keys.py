"""Signing keys: the issuer's keys, kept encrypted, with their state (active, retired, revoked).

`issuer_key` is empty until the first `flask keys rotate`, which moves the key file's key in as
generation 1 (see vigtrain/certificates/keys.py). `private_pem` is a Fernet token (data keys).

Revision ID: d4f6a8c0e2b3
Revises: c3e5a7b9d1f2
Create Date: 2026-12-07 16:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d4f6a8c0e2b3"
down_revision = "c3e5a7b9d1f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuer_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("active", "retired", "revoked", name="keystate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_key")),
        sa.UniqueConstraint("generation", name=op.f("uq_issuer_key_generation")),
        sa.UniqueConstraint("kid", name=op.f("uq_issuer_key_kid")),
    )
    with op.batch_alter_table("issuer_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issuer_key_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("issuer_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issuer_key_state"))
    op.drop_table("issuer_key")
