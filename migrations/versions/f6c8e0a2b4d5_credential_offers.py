"""Credential offers: single-use pre-authorised codes that deliver a certificate to a wallet.

`credential_offer` keeps SHA-256 digests of the pre-authorised code and of the access token it is
exchanged for, never the secrets themselves (see vigtrain/certificates/wallet.py). Offers go with
their certificate (ON DELETE CASCADE), as the retention schedule deletes purged certificates.

Revision ID: f6c8e0a2b4d5
Revises: e5b7d9f1a3c4
Create Date: 2026-12-07 16:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f6c8e0a2b4d5"
down_revision = "e5b7d9f1a3c4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credential_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(), nullable=True),
        sa.Column("access_token_digest", sa.String(length=64), nullable=True),
        sa.Column("access_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("subject_did", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_credential_offer_certificate_id_certificate"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_credential_offer_created_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_offer")),
        sa.UniqueConstraint("access_token_digest", name=op.f("uq_credential_offer_access_token_digest")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_credential_offer_code_digest")),
    )
    with op.batch_alter_table("credential_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_offer_certificate_id"), ["certificate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credential_offer_created_by_id"), ["created_by_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credential_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_offer_created_by_id"))
        batch_op.drop_index(batch_op.f("ix_credential_offer_certificate_id"))
    op.drop_table("credential_offer")
