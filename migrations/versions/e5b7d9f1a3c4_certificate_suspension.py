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
    pass


def downgrade() -> None:
    pass
