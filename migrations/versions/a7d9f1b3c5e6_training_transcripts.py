"""Training transcripts: signed records of a holder's whole training, verifiable by number.

Revision ID: a7d9f1b3c5e6
Revises: f6c8e0a2b4d5
Create Date: 2026-12-07 16:30:00.000000

`credential_json` is the credential as it was signed: a pasted copy is genuine only if it matches.

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a7d9f1b3c5e6"
down_revision = "f6c8e0a2b4d5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_transcript",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("credential_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["holder_id"], ["user.id"], name=op.f("fk_training_transcript_holder_id_user")),
        sa.ForeignKeyConstraint(["issued_by_id"], ["user.id"], name=op.f("fk_training_transcript_issued_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_transcript")),
        sa.UniqueConstraint("number", name=op.f("uq_training_transcript_number")),
    )
    with op.batch_alter_table("training_transcript", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_transcript_holder_id"), ["holder_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_transcript", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_transcript_holder_id"))
    op.drop_table("training_transcript")
