"""Migrations build the schema from empty on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from vigtrain import create_app
from vigtrain.dates import utcnow
from vigtrain.extensions import db


def _check_migrated_database(url: str) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            assert differences == [], f"models and migrations disagree: {differences}"
            assert connection.execute(sa.text("SELECT count(*) FROM region")).scalar() == 12

        _assert_audit_trail_is_append_only()

        downgrade(revision="base")
        assert "user" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        db.engine.dispose()


def _assert_audit_trail_is_append_only() -> None:
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO audit_event (occurred_at, actor_label, action, entity_type) "
                "VALUES (:at, 'system', 'test.event', 'Test')"
            ),
            {"at": utcnow().replace(tzinfo=None)},
        )
    for statement in ("UPDATE audit_event SET action = 'tampered'", "DELETE FROM audit_event"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(sa.text(statement))
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT action FROM audit_event")).scalar() == "test.event"


def test_migrations_on_sqlite(tmp_path):
    _check_migrated_database(f"sqlite:///{tmp_path / 'migrated.db'}")


@pytest.mark.postgres
def test_migrations_on_postgresql():
    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"vigtrain_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        _check_migrated_database(server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
