"""Migrations build the schema from empty on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import json
import os
import uuid
from datetime import date

import pyotp
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from vigtrain import create_app
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.services import verify_second_factor
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage

# The last revision before secrets were encrypted, and what a database of then held in plain text.
BEFORE_ENCRYPTION = "b5d7f9a1c3e6"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
HELD_BODY = "Set your password: https://vigtrain.example/invitation/abc123"


def _check_migrated_database(url: str) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision=BEFORE_ENCRYPTION)
        user_id, message_id = _insert_plaintext_secrets()
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            assert differences == [], f"models and migrations disagree: {differences}"
            assert connection.execute(sa.text("SELECT count(*) FROM region")).scalar() == 12

        _assert_audit_trail_is_append_only()
        _assert_secrets_are_encrypted_and_still_work(user_id, message_id)

        downgrade(revision=BEFORE_ENCRYPTION)
        assert _stored(user_id, message_id) == (TOTP_SECRET, HELD_BODY)
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
    _assert_only_a_rewrite_may_change_the_trail()


def _assert_only_a_rewrite_may_change_the_trail() -> None:
    """Inside a transaction holding an `audit_rewrite` row, who-did-it may be rewritten and events
    deleted; the action, time and entity never change; and a permit rolled back permits nothing."""
    permit = "INSERT INTO audit_rewrite (purpose, created_at) VALUES ('erasure', :at)"
    at = {"at": utcnow().replace(tzinfo=None)}
    with pytest.raises(sa.exc.DBAPIError, match="never change"), db.engine.begin() as connection:
        connection.execute(sa.text(permit), at)
        connection.execute(sa.text("UPDATE audit_event SET action = 'tampered'"))
    with db.engine.connect() as connection:
        connection.execute(sa.text(permit), at)
        connection.execute(sa.text("UPDATE audit_event SET actor_label = 'Erased person P-TEST'"))
        assert connection.execute(sa.text("SELECT actor_label FROM audit_event")).scalar() == "Erased person P-TEST"
        connection.execute(sa.text("DELETE FROM audit_event"))
        assert connection.execute(sa.text("SELECT count(*) FROM audit_event")).scalar() == 0
        connection.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_event"))
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT actor_label, action FROM audit_event")).one() == (
            "system",
            "test.event",
        )
        assert connection.execute(sa.text("SELECT count(*) FROM audit_rewrite")).scalar() == 0


def _insert_plaintext_secrets() -> tuple[int, int]:
    at = utcnow().replace(tzinfo=None)
    with db.engine.begin() as connection:
        user_id = connection.execute(
            sa.text(
                'INSERT INTO "user" (email, display_name, is_active, session_version, security_stamp, '
                "failed_login_count, created_at, totp_secret, totp_enabled_at) VALUES ('sam@example.org', "
                "'Sam', :yes, 1, 'stamp', 0, :at, :secret, :at) RETURNING id"
            ),
            {"yes": True, "at": at, "secret": TOTP_SECRET},
        ).scalar()
        # Rows that refer to the person must survive the column's change of type.
        connection.execute(sa.text("INSERT INTO user_role (user_id, role) VALUES (:id, 'trainee')"), {"id": user_id})
        message_id = connection.execute(
            sa.text(
                "INSERT INTO outbox_message (created_at, to_address, subject, body, status, attempts) "
                "VALUES (:at, 'sam@example.org', 'Your invitation', :body, 'held', 0) RETURNING id"
            ),
            {"at": at, "body": HELD_BODY},
        ).scalar()
    return user_id, message_id


def _stored(user_id: int, message_id: int) -> tuple[str, str]:
    """The secrets as the database holds them (and the person still has their role)."""
    with db.engine.connect() as connection:
        secret = connection.execute(sa.text('SELECT totp_secret FROM "user" WHERE id = :id'), {"id": user_id})
        body = connection.execute(sa.text("SELECT body FROM outbox_message WHERE id = :id"), {"id": message_id})
        roles = connection.execute(sa.text("SELECT count(*) FROM user_role WHERE user_id = :id"), {"id": user_id})
        assert roles.scalar() == 1
        return secret.scalar(), body.scalar()


def _assert_secrets_are_encrypted_and_still_work(user_id: int, message_id: int) -> None:
    secret, body = _stored(user_id, message_id)
    assert secret.startswith("gAAAAA") and TOTP_SECRET not in secret
    assert body.startswith("gAAAAA") and "abc123" not in body
    user = db.session.get(User, user_id)
    assert verify_second_factor(user, pyotp.TOTP(TOTP_SECRET).now()) == "totp"
    assert db.session.get(OutboxMessage, message_id).body == HELD_BODY
    db.session.rollback()
    db.session.remove()


def test_upgrading_an_existing_sqlite_database_keeps_every_row(tmp_path):
    """Rebuilding a table in batch mode must not cascade: stage records survive every later revision."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade(revision="d8e2f4a6b0c1")  # before the training-at-scale revision rebuilt enrolment
        at = utcnow().replace(tzinfo=None)
        with db.engine.begin() as connection:
            run = connection.execute
            user = run(
                sa.text(
                    'INSERT INTO "user" (email, display_name, is_active, session_version, security_stamp, '
                    "failed_login_count, created_at) VALUES ('tia@example.org', 'Tia', 1, 1, 'stamp', 0, :at) "
                    "RETURNING id"
                ),
                {"at": at},
            ).scalar()
            version = run(
                sa.text(
                    "INSERT INTO pathway_version (code, version, name, credential, provisional, definition_json, "
                    "checksum, loaded_at) VALUES ('vig', '1', 'VIG', 'VIG', 0, '{}', 'x', :at) RETURNING id"
                ),
                {"at": at},
            ).scalar()
            enrolment = run(
                sa.text(
                    "INSERT INTO enrolment (trainee_id, pathway_version_id, start_date, status, created_at, version) "
                    "VALUES (:user, :version, '2026-01-05', 'active', :at, 1) RETURNING id"
                ),
                {"user": user, "version": version, "at": at},
            ).scalar()
            for position in range(3):
                run(
                    sa.text(
                        "INSERT INTO stage_record (enrolment_id, stage_code, position, state, "
                        "course_sessions_attended, version, is_final) VALUES (:e, :code, :p, 'in_progress', 0, 1, 0)"
                    ),
                    {"e": enrolment, "code": f"stage-{position}", "p": position},
                )
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM stage_record")).scalar() == 3
            assert connection.execute(sa.text("SELECT count(*) FROM enrolment")).scalar() == 1
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1  # enforced again after
        db.engine.dispose()


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


def test_autogenerated_migrations_write_decorated_types_as_stored():
    from vigtrain.dates import UTCDateTime, render_migration_item
    from vigtrain.encryption import EncryptedString

    assert render_migration_item("type", UTCDateTime(), None) == "sa.DateTime()"
    assert render_migration_item("type", EncryptedString(64), None) == "sa.String(length=184)"
    assert render_migration_item("type", EncryptedString(), None) == "sa.Text()"
    assert render_migration_item("type", sa.Integer(), None) is False


def test_case_codes_become_review_rows_linking_a_cycle_only_when_it_is_the_only_film(tmp_path):
    """Down, the review rows become each session's list of case codes; up again, each code becomes a
    row for its case, naming a cycle only where exactly one had been filmed by the session's date."""
    from tests.factories import load_pathways, make_case, make_enrolment, make_user
    from vigtrain.casework.models import Cycle
    from vigtrain.supervision.models import SupervisionReview, SupervisionSession

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'codes.db'}")
    with app.app_context():
        upgrade()
        load_pathways()
        trainee = make_user("tara@example.org", name="Tara Trainee")
        supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
        enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
        one, two, later = make_case(trainee), make_case(trainee), make_case(trainee)
        cycles = {
            name: Cycle(case=case, filmed_on=filmed, shared_review_on=filmed, clips_count=2, principles=[])
            for name, case, filmed in (
                ("one", one, date(2026, 2, 1)),
                ("two-a", two, date(2026, 1, 20)),
                ("two-b", two, date(2026, 2, 2)),
                ("later", later, date(2026, 3, 1)),
            )
        }
        db.session.add_all(cycles.values())
        session = SupervisionSession(
            enrolment=enrolment,
            supervisor=supervisor,
            session_date=date(2026, 2, 10),
            duration_minutes=60,
            logged_by_id=trainee.id,
            reviews=[
                SupervisionReview(case=one, cycle=cycles["one"]),
                SupervisionReview(case=two, cycle=cycles["two-b"]),
                SupervisionReview(case=later),
            ],
        )
        db.session.add(session)
        db.session.commit()
        ids = (session.id, one.id, two.id, later.id, cycles["one"].id)
        codes = [one.code, two.code, later.code]
        db.session.remove()

        downgrade(revision="e3b5d7f9a1c4")
        with db.engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT case_codes FROM supervision_session")).scalar()
            assert (json.loads(stored) if isinstance(stored, str) else stored) == codes
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT session_id, case_id, cycle_id FROM supervision_review ORDER BY id")
            )
            session_id, one_id, two_id, later_id, one_cycle = ids
            assert [tuple(row) for row in rows] == [
                (session_id, one_id, one_cycle),  # the only film of that case by then
                (session_id, two_id, None),  # two cycles filmed by then: which is not known
                (session_id, later_id, None),  # its one cycle was filmed after the session
            ]
        db.session.remove()
        db.engine.dispose()
