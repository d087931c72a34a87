"""The audit trail's action index also holds the event's id, so PostgreSQL reads the ids matching a
filter from the index alone (an index-only scan) instead of visiting each matching event.

Revision ID: e1b3d5f7a9c2
Revises: d0a2c4e6f8b1
Create Date: 2026-12-08 03:00:00.000000

Plain op.create_index/drop_index, not a batch: on SQLite a batch may copy the table, and the copy
would lose the triggers that keep the trail append-only.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "e1b3d5f7a9c2"
down_revision = "d0a2c4e6f8b1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_event_action", table_name="audit_event")
    op.create_index(
        "ix_audit_event_action",
        "audit_event",
        ["action", "entity_type", "id"],
        unique=False,
        postgresql_ops={"action": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_audit_event_action", table_name="audit_event")
    op.create_index(
        "ix_audit_event_action",
        "audit_event",
        ["action", "entity_type"],
        unique=False,
        postgresql_ops={"action": "text_pattern_ops"},
    )
