"""People are listed by name: an index on the name (with the id, the lists' tie-break) lets a page of
them be read in order instead of sorting every account.

Revision ID: d0a2c4e6f8b1
Revises: c9f1b3d5e7a0
Create Date: 2026-12-08 00:15:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "d0a2c4e6f8b1"
down_revision = "c9f1b3d5e7a0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_user_display_name", "user", ["display_name", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_user_display_name", table_name="user")
