"""The audit trail's action index also holds the entity type, and PostgreSQL answers a prefix of the
action from it: the audit page's filters read the matching ids from the index alone.

Revision ID: c9f1b3d5e7a0
Revises: b8e0a2c4d6f8
Create Date: 2026-12-08 00:10:00.000000

Plain op.create_index/drop_index, not a batch: on SQLite a batch may copy the table, and the copy
would lose the triggers that keep the trail append-only.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "c9f1b3d5e7a0"
down_revision = "b8e0a2c4d6f8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_event_action", table_name="audit_event")
    op.create_index(
        "ix_audit_event_action",
        "audit_event",
        ["action", "entity_type"],
        unique=False,
        postgresql_ops={"action": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_audit_event_action", table_name="audit_event")
    op.create_index("ix_audit_event_action", "audit_event", ["action"], unique=False)
