"""`flask jobs list` and `flask jobs run NAME [--today YYYY-MM-DD] [--dry-run]`."""

from __future__ import annotations

import smtplib
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from tests.factories import load_pathways, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.dates import UK
from vigtrain.extensions import db
from vigtrain.jobs.models import JobRun, RunOutcome
from vigtrain.jobs.registry import JOBS
from vigtrain.notifications.models import Notification, OutboxMessage, OutboxStatus
from vigtrain.notifications.services import send_email


def _jobs(app, *args: str):
    return app.test_cli_runner().invoke(args=["jobs", *args])


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_list_names_every_job_with_its_schedule(app, clock):
    result = _jobs(app, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == [job.name for job in JOBS]
    for job, line in zip(JOBS, lines, strict=True):
        assert job.schedule in line and "never run" in line


def test_list_shows_the_last_run_and_the_next_due(app, clock):
    _jobs(app, "run", "expire-certificates")
    (line,) = [line for line in _jobs(app, "list").output.splitlines() if line.startswith("expire-certificates ")]
    assert "last 2026-03-02 succeeded at 2 March 2026 at 10:00am; next 3 March 2026 at 12:05am" in line


def test_run_runs_a_period_once_then_says_it_has_run(app, clock):
    first = _jobs(app, "run", "expire-certificates", "--today", "2026-03-01")
    assert first.exit_code == 0, first.output
    assert first.output == "expire-certificates ran for 2026-03-01: 0.\n"
    (run,) = db.session.scalars(select(JobRun)).all()
    assert (run.job, run.period, run.outcome, run.started_by) == (
        "expire-certificates",
        "2026-03-01",
        RunOutcome.SUCCEEDED,
        "cli",
    )
    second = _jobs(app, "run", "expire-certificates", "--today", "2026-03-01")
    assert second.exit_code == 0, second.output
    assert "expire-certificates has already run for 2026-03-01 (2 March 2026 at 10:00am, succeeded)." in second.output
    assert _count(JobRun) == 1
    # Another day is another period.
    assert "ran for 2026-03-02" in _jobs(app, "run", "expire-certificates").output
    assert _count(JobRun) == 2


def test_an_unknown_job_is_refused_naming_the_jobs(app, clock):
    result = _jobs(app, "run", "expire-everything")
    assert result.exit_code != 0
    assert "no job is called 'expire-everything'" in result.output and "expire-certificates" in result.output
    assert _count(JobRun) == 0


@pytest.mark.parametrize("day", ["2026-13-01", "1 March 2026", "yesterday", ""])
def test_a_malformed_day_is_refused(app, clock, day):
    result = _jobs(app, "run", "expire-certificates", "--today", day)
    assert result.exit_code != 0
    assert "give the day as YYYY-MM-DD" in result.output
    assert _count(JobRun) == 0


def test_a_failing_job_exits_with_its_error(app, clock, monkeypatch):
    def broken(day):
        raise RuntimeError("the certificate store is away")

    monkeypatch.setattr("vigtrain.certificates.services.expire_certificates", broken)
    result = _jobs(app, "run", "expire-certificates")
    assert result.exit_code == 1
    assert "expire-certificates failed for 2026-03-02: RuntimeError: the certificate store is away" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(JobRun.outcome)) is RunOutcome.FAILED


@pytest.fixture
def waiting_session(app, clock):
    """A session logged with Sue on 1 March, so her reminder falls due on 8 March."""
    load_pathways()
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    trainee = make_user("ana@example.org", roles=(Role.TRAINEE,), name="Ana Silva")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
    session = make_supervision(enrolment, supervisor, 1, date(2026, 2, 27), confirmed=False)
    session.logged_at = datetime(2026, 3, 1, 9, tzinfo=UK)
    db.session.commit()
    return session


def test_a_dry_run_prints_what_would_be_sent_and_keeps_nothing(app, waiting_session):
    audited = _count(AuditEvent)
    result = _jobs(app, "run", "remind-unconfirmed-sessions", "--today", "2026-03-08", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "remind-unconfirmed-sessions for 2026-03-08 would report 1.",
        "  to sue@example.org [session_unconfirmed, sent]: "
        "Session with Ana Silva on 27 February 2026 is waiting for your confirmation",
    ]
    assert _count(JobRun) == 0 and _count(Notification) == 0 and _count(OutboxMessage) == 0
    assert _count(AuditEvent) == audited
    # Tried out, not used up: the real run tells her.
    assert "ran for 2026-03-08: 1." in _jobs(app, "run", "remind-unconfirmed-sessions", "--today", "2026-03-08").output
    assert _count(Notification) == 1


def test_a_dry_run_with_nobody_to_tell_says_so(app, waiting_session):
    result = _jobs(app, "run", "remind-unconfirmed-sessions", "--today", "2026-03-07", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would report 0." in result.output and "It would send nobody anything." in result.output


class _SMTP:
    """Records what would have left over SMTP."""

    sent: list = []

    def __init__(self, host, port, timeout):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def send_message(self, message):
        _SMTP.sent.append(message)


def test_a_job_whose_work_cannot_be_taken_back_is_not_dry_run(app, clock, monkeypatch):
    """Email sent is sent: a dry run of the delivery job would send the queued mail, which rolling
    back would then leave queued to be sent again."""
    _SMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", _SMTP)
    app.config.update(MAIL_SERVER="smtp.example.org", MAIL_USE_TLS=False)
    send_email("sam@example.org", "Waiting", "A queued message.")
    db.session.commit()
    result = _jobs(app, "run", "deliver-mail", "--dry-run")
    assert result.exit_code != 0
    assert "deliver-mail cannot be dry-run" in result.output
    assert _SMTP.sent == []
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) is OutboxStatus.QUEUED
    assert _count(JobRun) == 0


def test_every_job_is_either_dry_run_or_refused_plainly(app, clock):
    for job in JOBS:
        result = _jobs(app, "run", job.name, "--dry-run")
        if job.dry_run_refused:
            assert result.exit_code != 0 and f"{job.name} cannot be dry-run: {job.dry_run_refused}" in result.output
        else:
            assert result.exit_code == 0, result.output
            assert f"{job.name} for " in result.output and " would report " in result.output
    assert _count(JobRun) == 0
    assert {job.name for job in JOBS if job.dry_run_refused} == {
        "deliver-mail",
        "resume-bulk-issues",
        "forget-staged-imports",
    }


def test_a_dry_run_day_is_the_period_it_names(app, clock):
    result = _jobs(app, "run", "send-weekly-digests", "--today", "2026-03-04", "--dry-run")
    assert result.output.startswith("send-weekly-digests for 2026-W10 would report 0.")
