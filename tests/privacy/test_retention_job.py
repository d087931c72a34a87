"""The daily job "apply-retention-schedule": run by the job runner and the CLI, audited when it purges,
idempotent, and all or nothing; and the README's table says what the schedule says."""

from __future__ import annotations

import os
import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.certificate_factories import insert_certificate, make_holder
from tests.factories import make_user
from vigtrain import audit, create_app
from vigtrain.accounts.models import User
from vigtrain.audit import AuditEvent
from vigtrain.certificates.models import Certificate
from vigtrain.dates import today, utcnow
from vigtrain.extensions import db
from vigtrain.jobs.models import RunOutcome
from vigtrain.jobs.registry import BY_NAME
from vigtrain.jobs.services import run_job
from vigtrain.notifications.models import EmailState, Notification, NotificationKind
from vigtrain.privacy import retention
from vigtrain.privacy.models import Erasure

JOB = BY_NAME["apply-retention-schedule"]
README = Path(__file__).resolve().parents[2] / "README.md"


def setting(name: str) -> timedelta:
    return current_app.config[name]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def history() -> dict[str, int]:
    """A little of everything past its period: an audit event, a notification, a person turned off
    six years ago, and an erased holder's certificate that ended six years ago."""
    now = utcnow()
    db.session.add(
        AuditEvent(
            occurred_at=now - setting("RETENTION_AUDIT_EVENT"), actor_label="system", action="old", entity_type="T"
        )
    )
    person = make_user("gone@example.org")
    db.session.add(
        Notification(
            recipient_id=make_user().id,
            kind=NotificationKind.STAGE_UPDATE,
            subject="old",
            period="once",
            title="Old",
            body="Old",
            created_at=now - setting("RETENTION_UNREAD_NOTIFICATION"),
            email_state=EmailState.NONE,
        )
    )
    person.is_active_flag, person.deactivated_at = False, now - setting("RETENTION_DEACTIVATED_ACCOUNT")
    holder = make_holder()
    insert_certificate(holder, valid_until=date(2001, 1, 1))
    holder.erased_at = now - timedelta(days=1)
    db.session.commit()
    return {"person": person.id}


def run(day: date | None = None):
    report = run_job(JOB, day or today(), "test")
    db.session.expire_all()
    return report


def test_the_job_purges_through_the_runner_audits_what_it_did_and_a_second_run_purges_nothing(app, clock):
    ids = history()
    report = run()
    assert report.succeeded
    # The person's erasure and their notification, the old event, the certificate.
    assert report.run.result == 4
    assert db.session.get(User, ids["person"]).erased_at is not None
    assert count(Notification) == 0 and count(Certificate) == 0
    [applied] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.applied")).all()
    assert applied.actor_label == "system" and applied.actor_id is None
    assert applied.after["purged"] == {
        **{rule.key: 0 for rule in retention.RULES if rule.purge},
        "deactivated-accounts": 1,
        "unread-notifications": 1,
        "audit-events": 1,
        "erased-certificates": 1,
    }
    last = retention.last_purge()
    assert last is not None and last.counts["erased-certificates"] == 1

    clock.tick(timedelta(days=1))
    again = run()
    assert again.succeeded and again.run.result == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "retention.applied")) == 1


def test_the_job_runs_from_the_command_line(app, clock):
    history()
    result = app.test_cli_runner().invoke(args=["jobs", "run", JOB.name, "--today", "2026-03-02"])
    assert result.exit_code == 0, result.output
    assert "apply-retention-schedule ran for 2026-03-02: 4." in result.output
    again = app.test_cli_runner().invoke(args=["jobs", "run", JOB.name, "--today", "2026-03-03"])
    assert "apply-retention-schedule ran for 2026-03-03: 0." in again.output


def test_a_dry_run_says_how_many_would_go_and_keeps_them(app, clock):
    ids = history()
    events = count(AuditEvent)
    result = app.test_cli_runner().invoke(args=["jobs", "run", JOB.name, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "apply-retention-schedule for 2026-03-02 would report 4." in result.output
    db.session.expire_all()
    assert db.session.get(User, ids["person"]).erased_at is None
    assert (count(AuditEvent), count(Notification), count(Certificate)) == (events, 1, 1)


def test_a_failure_part_way_leaves_everything_as_it_was(app, clock, monkeypatch):
    ids = history()
    events, notifications = count(AuditEvent), count(Notification)

    def breaks(now, period) -> int:
        raise RuntimeError("disk full")

    # The last rule fails after every other has done its work in the same transaction.
    failing = retention.Rule("breaks", "Breaks", "1 day", "Test.", "Test", "RETENTION_OUTBOX_MESSAGE", breaks)
    monkeypatch.setattr(retention, "RULES", (*retention.RULES, failing))
    report = run()
    assert report.ran and report.run.outcome is RunOutcome.FAILED and "disk full" in report.run.error
    assert db.session.get(User, ids["person"]).erased_at is None
    assert (count(AuditEvent), count(Notification), count(Certificate), count(Erasure)) == (events, notifications, 1, 0)
    assert count(audit.AuditRewrite) == 0


def _readme_rows() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Retention schedule\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Retention schedule' section"
    rows = [line for line in section.group(1).splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_the_readme_table_says_what_the_schedule_says_rule_by_rule(app):
    """Each rule is a row (what, kept for, why, how enforced) with the default periods, in order."""
    expected = [[rule.what, rule.kept_for_text, rule.why, rule.enforced_by] for rule in retention.RULES]
    assert _readme_rows() == expected


@pytest.mark.parametrize("rule", retention.RULES, ids=lambda rule: rule.key)
def test_every_rule_has_a_period_setting_that_exists_or_says_why_it_has_none(app, rule):
    if rule.setting is not None:
        assert isinstance(current_app.config[rule.setting], timedelta)
    else:
        assert rule.purge is None  # nothing to count from: kept, or enforced elsewhere with its own period


def _purge_on_a_migrated_database(url: str) -> None:
    """The migrations' triggers refuse any deletion from the trail outside a rewrite: the purge's goes
    through, and the same deletion without its permit is refused."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        period = setting("RETENTION_AUDIT_EVENT")
        now = utcnow()
        for action, moment in (("old", now - period), ("kept", now - period + timedelta(seconds=1))):
            db.session.add(AuditEvent(occurred_at=moment, actor_label="system", action=action, entity_type="T"))
        db.session.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(AuditEvent.__table__.delete())
        db.session.rollback()
        assert retention.delete_old_audit_events(now, period) == 1
        db.session.commit()
        assert db.session.scalars(select(AuditEvent.action)).all() == ["kept"]
        assert count(audit.AuditRewrite) == 0
        db.session.remove()
        db.engine.dispose()


def test_the_audit_purge_passes_the_triggers_of_a_migrated_sqlite_database(tmp_path):
    _purge_on_a_migrated_database(f"sqlite:///{tmp_path / 'migrated.db'}")


@pytest.mark.postgres
def test_the_audit_purge_passes_the_triggers_of_a_migrated_postgresql_database():
    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"vigtrain_retention_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        _purge_on_a_migrated_database(server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
