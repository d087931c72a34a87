"""Erasure and retention: who was erased and why, when accounts were turned off, and a narrow way to
rewrite the audit trail.

- `erasure`: one row per person erased (their pseudonym, the recorded reason, who and when).
- `ix_audit_event_entity`: subject access, erasure and the audit page's entity filter find a
  person's events by entity.
- `user.erased_at`, `user.deactivated_at`: the retention schedule counts from these. Accounts that are
  already turned off are counted from the day of this migration (the trail may not say when).
- The audit trail stays append-only, with one exception the law requires: inside a transaction that
  holds an `audit_rewrite` row (an erasure replacing a person with their pseudonym, or the schedule
  deleting events past their period), events may be deleted, or have who-did-it and the before/after
  values rewritten. The row is added and removed in that same transaction, so no other connection ever
  sees it; the event's id, time, action and entity never change.

Revision ID: b2d4f6a8c0e1
Revises: f1a3c5e7b9d2
Create Date: 2026-12-07 08:40:00.000000

"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b2d4f6a8c0e1"
down_revision = "f1a3c5e7b9d2"
branch_labels = None
depends_on = None

FIXED_COLUMNS = ("id", "occurred_at", "action", "entity_type", "entity_id")


def _drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_event_fixed_columns")


def _create_append_only_triggers(dialect: str) -> None:
    """The foundation's triggers: no update or delete, ever."""
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )


def _create_permitting_triggers(dialect: str) -> None:
    # The SQL below is built from this module's constant column names only (hence the S608 notes).
    changed = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in FIXED_COLUMNS)
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "  # noqa: S608
            "IF TG_OP = 'TRUNCATE' OR NOT EXISTS (SELECT 1 FROM audit_rewrite) THEN "
            "RAISE EXCEPTION 'audit_event is append-only'; END IF; "
            f"IF TG_OP = 'UPDATE' AND ({changed}) THEN "
            "RAISE EXCEPTION 'an audit event''s id, time, action and entity never change'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        sqlite_changed = changed.replace("IS DISTINCT FROM", "IS NOT")
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "  # noqa: S608
                "WHEN NOT EXISTS (SELECT 1 FROM audit_rewrite) "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )
        op.execute(
            "CREATE TRIGGER audit_event_fixed_columns BEFORE UPDATE ON audit_event "  # noqa: S608
            f"WHEN EXISTS (SELECT 1 FROM audit_rewrite) AND ({sqlite_changed}) "
            "BEGIN SELECT RAISE(ABORT, 'an audit event''s id, time, action and entity never change'); END"
        )


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "audit_rewrite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_rewrite")),
    )
    op.create_table(
        "erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("erased_by_id", sa.Integer(), nullable=True),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_erasure_user_id_user")),
        sa.ForeignKeyConstraint(["erased_by_id"], ["user.id"], name=op.f("fk_erasure_erased_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure")),
        sa.UniqueConstraint("user_id", name=op.f("uq_erasure_user_id")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_erasure_pseudonym")),
    )
    op.create_index("ix_audit_event_entity", "audit_event", ["entity_type", "entity_id"], unique=False)
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(), nullable=True))
    user = sa.table("user", sa.column("is_active", sa.Boolean), sa.column("deactivated_at", sa.DateTime))
    now = datetime.now(UTC).replace(tzinfo=None)
    op.execute(user.update().where(user.c.is_active.is_(False)).values(deactivated_at=now))
    _drop_triggers(dialect)
    _create_permitting_triggers(dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    _drop_triggers(dialect)
    _create_append_only_triggers(dialect)
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("erased_at")
    op.drop_index("ix_audit_event_entity", table_name="audit_event")
    op.drop_table("erasure")
    op.drop_table("audit_rewrite")
