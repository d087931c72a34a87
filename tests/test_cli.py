"""The command-line tasks: create-admin and the deterministic demo."""

from __future__ import annotations

from sqlalchemy import func, select

from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.demo import DEMO_PASSWORD, DEMO_PEOPLE
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.training.demo_flow import SUPERVISOR_NAMES, TRAINEES


def test_create_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "--email", "Root@Example.org", "--name", "Rhian Jones"],
        env={"VIGTRAIN_ADMIN_PASSWORD": "seven purple otters sing loudly"},
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "root@example.org"))
    assert user.has_role(Role.ADMINISTRATOR)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_id == str(user.id)))
    assert app.test_client().login("root@example.org", "seven purple otters sing loudly").status_code == 302


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "root@example.org", "--name", "Root", "--password", "password"]
    )
    assert result.exit_code != 0
    assert "12 characters" in result.output
    assert db.session.scalar(select(User)) is None


def test_demo_is_deterministic_and_prints_sign_ins(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    for person in DEMO_PEOPLE:
        assert person.email in result.output
    first = sorted((u.email, u.display_name, tuple(sorted(u.roles))) for u in db.session.scalars(select(User)))
    again = runner.invoke(args=["demo"])
    assert "already loaded" in again.output
    # Plus one person with a pending invitation, and the generated population for the training-flow figures.
    assert len(first) == len(DEMO_PEOPLE) + 1 + TRAINEES + len(SUPERVISOR_NAMES)
    invitations = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.subject.contains("invited"))
    assert db.session.scalar(invitations) == 1
    client = app.test_client()
    assert client.login("admin@example.org", DEMO_PASSWORD).headers["Location"] == "/home"


def test_demo_if_empty_leaves_a_used_database_alone(app):
    from tests.factories import make_user

    make_user("someone@example.org")
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert "not loaded" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_demo_data_is_refused_in_production(database_url, app):
    from vigtrain import create_app

    production = create_app("production", SQLALCHEMY_DATABASE_URI=database_url)
    with production.app_context():  # the command runs in the app already pushed: this one
        result = production.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1, result.output
    assert "not loaded in production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_failed_statement_does_not_carry_its_values_into_the_log(app):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    try:  # the app fixture loaded the regions: this code is taken
        db.session.execute(
            text("INSERT INTO region (code, name, nation) VALUES ('E12000003', :name, 'England')"),
            {"name": "do-not-log-me"},
        )
    except IntegrityError as error:
        assert "do-not-log-me" not in str(error)
    else:
        raise AssertionError("the duplicate code was accepted")
    db.session.rollback()


def test_backup_and_restore_round_trip(tmp_path):
    from flask_migrate import upgrade

    from tests.factories import make_user
    from vigtrain import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.db'}")
    with app.app_context():
        upgrade()
        make_user("kept@example.org")
        runner = app.test_cli_runner()
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
        assert result.exit_code == 0, result.output
        make_user("later@example.org")
        assert db.session.scalar(select(func.count()).select_from(User)) == 2
        db.session.remove()
        result = runner.invoke(args=["restore", "--yes", str(tmp_path / "copy.db")])
        assert result.exit_code == 0, result.output
        emails = set(db.session.scalars(select(User.email)))
        assert emails == {"kept@example.org"}
        db.engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, app):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"not a database at all" * 100)
    result = app.test_cli_runner().invoke(args=["restore", "--yes", str(bogus)])
    assert result.exit_code != 0
    assert "not a" in result.output


def test_backup_of_postgres_explains_pg_dump():
    from vigtrain.backup import BackupError, sqlite_path

    try:
        sqlite_path("postgresql+psycopg://u@h/db")
    except BackupError as exc:
        assert "pg_dump" in str(exc)
    else:
        raise AssertionError("expected guidance")


def test_the_demo_opens_on_todays_reminders_over_a_history_already_read(app):
    """The services told people as the demo's months-old steps were made: read. Today's reminders are not."""
    from vigtrain.notifications.models import Notification, NotificationKind

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    unread = db.session.execute(
        select(User.email, Notification.kind, Notification.title)
        .join(Notification.recipient)
        .where(Notification.read_at.is_(None))
    ).all()
    kinds = {kind for _email, kind, _title in unread}
    assert NotificationKind.STAGE_UPDATE not in kinds and NotificationKind.CERTIFICATE_UPDATE not in kinds
    assert any(
        email == "daniel.okafor@example.org"
        and kind is NotificationKind.SESSION_UNCONFIRMED
        and "Nadia Hussain" in title
        for email, kind, title in unread
    )
    assert any(kind is NotificationKind.ESCALATION for email, kind, _ in unread if email == "admin@example.org")
    read = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.read_at.is_not(None)))
    assert read > 0
