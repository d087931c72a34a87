"""Training flow: when each enrolment changed status, the figures the hourly job works out, and the
rates for estimating what an accreditation costs.

- `enrolment_status_change`: one row each time an enrolment was paused, resumed, withdrawn, reopened
  or completed. Filled from the audit trail for the changes made before this revision (the trail
  records each one as `enrolment.status_changed` or `enrolment.completed`).
- `flow_snapshot`: the training-flow figures for one scope, as of one moment.
- `cost_rate`: per pathway version, the supervision hour rate, course fee and accreditation fee.

Revision ID: c3e5a7b9d1f2
Revises: b2d4f6a8c0e1
Create Date: 2026-12-07 13:20:00.000000

"""

import json
from datetime import datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c3e5a7b9d1f2"
down_revision = "b2d4f6a8c0e1"
branch_labels = None
depends_on = None

STATUSES = ("active", "paused", "withdrawn", "completed")


def _backfill() -> None:
    """One row per recorded status change, in the order the trail holds them."""
    connection = op.get_bind()
    events = connection.execute(
        sa.text(
            "SELECT entity_id, occurred_at, action, after FROM audit_event "
            "WHERE entity_type = 'Enrolment' AND action IN ('enrolment.status_changed', 'enrolment.completed') "
            "ORDER BY id"
        )
    )
    known = {row[0] for row in connection.execute(sa.text("SELECT id FROM enrolment"))}
    rows = []
    for entity_id, occurred_at, action, after in events:
        values = json.loads(after) if isinstance(after, str) else (after or {})
        status = "completed" if action == "enrolment.completed" else values.get("status")
        if status not in STATUSES or not (entity_id or "").isdigit() or int(entity_id) not in known:
            continue
        if isinstance(occurred_at, str):
            occurred_at = datetime.fromisoformat(occurred_at)
        occurred_at = occurred_at.replace(tzinfo=None)  # stored as naive UTC, like every timestamp
        rows.append({"enrolment_id": int(entity_id), "status": status, "occurred_at": occurred_at})
    if rows:
        table = sa.table(
            "enrolment_status_change",
            sa.column("enrolment_id", sa.Integer),
            sa.column("status", sa.String),
            sa.column("occurred_at", sa.DateTime()),
        )
        op.bulk_insert(table, rows)


def upgrade():
    op.create_table(
        "enrolment_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "paused", "withdrawn", "completed", name="enrolmentstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enrolment_status_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_status_change_enrolment_id"), ["enrolment_id"], unique=False)
    op.create_table(
        "flow_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope"),
    )
    op.create_table(
        "cost_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pathway_version_id", sa.Integer(), nullable=False),
        sa.Column("supervision_hour_pence", sa.Integer(), nullable=False),
        sa.Column("course_fee_pence", sa.Integer(), nullable=False),
        sa.Column("accreditation_fee_pence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["pathway_version_id"], ["pathway_version.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pathway_version_id"),
    )
    _backfill()


def downgrade():
    op.drop_table("cost_rate")
    op.drop_table("flow_snapshot")
    with op.batch_alter_table("enrolment_status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_status_change_enrolment_id"))
    op.drop_table("enrolment_status_change")
