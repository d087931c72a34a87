"""Each job runs once per period: claimed in job_run, however many ask (twice, at once, by hand)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from tests.certificate_factories import make_certificate
from tests.factories import make_admin
from tests.races.helpers import at_once, row_count
from vigtrain import scheduler, transactions
from vigtrain.certificates.models import Certificate, CertificateStatus
from vigtrain.dates import UK, utcnow
from vigtrain.extensions import db
from vigtrain.jobs import services
from vigtrain.jobs.models import JobRun, RunOutcome
from vigtrain.jobs.registry import BY_NAME, JOBS, Cadence, Job

DAILY = Job("count-daily", lambda day: 7, Cadence.DAILY, "A daily job for tests.", hour=6, minute=10)
WEEKLY = Job("count-weekly", lambda day: 3, Cadence.WEEKLY, "A weekly job for tests.", hour=7, weekday=1)
FREQUENT = Job("count-often", lambda day: 1, Cadence.FREQUENT, "A frequent job for tests.", every_minutes=5)


def at(text: str) -> datetime:
    """A UK wall-clock time as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UK)


def runs(name: str) -> list[JobRun]:
    db.session.rollback()
    return db.session.scalars(select(JobRun).where(JobRun.job == name).order_by(JobRun.id)).all()


def test_periods_are_a_day_an_iso_week_or_a_slot_of_minutes():
    assert services.period_of(DAILY, date(2026, 12, 31)) == "2026-12-31"
    # 31 December 2026 is a Thursday in ISO week 53 of 2026; 1 January 2027 is in the same week.
    assert services.period_of(WEEKLY, date(2026, 12, 31)) == "2026-W53"
    assert services.period_of(WEEKLY, date(2027, 1, 1)) == "2026-W53"
    assert services.period_of(WEEKLY, date(2027, 1, 4)) == "2027-W01"
    assert services.period_of(FREQUENT, date(2026, 3, 2), at("2026-03-02T10:07:59")) == "2026-03-02T10:05"


def test_a_daily_job_falls_due_at_its_hour_uk_time_and_once_a_day(app):
    assert services.due_jobs(at("2026-07-01T06:09"), (DAILY,)) == []
    assert services.due_jobs(at("2026-07-01T06:10"), (DAILY,)) == [DAILY]  # 05:10 UTC in summer time
    assert services.run_job(DAILY, date(2026, 7, 1), "test").ran
    assert services.due_jobs(at("2026-07-01T23:59"), (DAILY,)) == []
    assert services.due_jobs(at("2026-07-02T06:10"), (DAILY,)) == [DAILY]


def test_a_weekly_job_is_due_from_its_day_until_it_has_run_that_week(app):
    assert services.due_jobs(at("2026-03-02T06:59"), (WEEKLY,)) == []  # Monday before seven
    assert services.due_jobs(at("2026-03-04T12:00"), (WEEKLY,)) == [WEEKLY]  # Wednesday: missed, still due
    assert services.run_job(WEEKLY, date(2026, 3, 4), "test").ran
    assert services.due_jobs(at("2026-03-08T23:00"), (WEEKLY,)) == []
    assert services.due_jobs(at("2026-03-09T07:00"), (WEEKLY,)) == [WEEKLY]


def test_the_second_run_of_a_period_does_nothing_and_says_who_ran_it(app):
    first = services.run_job(DAILY, date(2026, 3, 2), "first")
    second = services.run_job(DAILY, date(2026, 3, 2), "second")
    assert first.ran and first.succeeded and first.run.result == 7
    assert not second.ran and second.run.started_by == "first"
    assert [(run.period, run.outcome, run.result) for run in runs(DAILY.name)] == [
        ("2026-03-02", RunOutcome.SUCCEEDED, 7)
    ]
    assert services.run_job(DAILY, date(2026, 3, 3), "first").ran  # the next day is another period


def test_a_failing_run_is_recorded_rolled_back_and_may_be_run_again(app, clock, caplog):
    admin = make_admin()
    certificate_id = make_certificate(admin, on=date(2022, 1, 10)).id
    calls = []

    def breaks_after_changing(day: date) -> int:
        db.session.get(Certificate, certificate_id).status = CertificateStatus.EXPIRED
        db.session.flush()
        calls.append(day)
        if len(calls) == 1:
            raise RuntimeError("mail server on fire")
        return 1

    flaky = Job("flaky", breaks_after_changing, Cadence.DAILY, "Fails once.")
    failed = services.run_job(flaky, date(2026, 3, 2), "test")
    assert failed.ran and not failed.succeeded
    assert failed.run.outcome is RunOutcome.FAILED and failed.run.error == "RuntimeError: mail server on fire"
    assert "job flaky (2026-03-02) failed" in caplog.text
    db.session.expire_all()
    assert db.session.get(Certificate, certificate_id).status is CertificateStatus.VALID  # its work rolled back
    assert services.due_jobs(at("2026-03-02T10:14"), (flaky,)) == []  # not tried again on every tick
    assert services.due_jobs(at("2026-03-02T10:16"), (flaky,)) == [flaky]  # fifteen minutes on, it is

    [row] = services.statuses(at("2026-03-02T10:01"), (flaky,))
    assert row.last.outcome is RunOutcome.FAILED and row.next_due == at("2026-03-02T10:15")

    retried = services.run_job(flaky, date(2026, 3, 2), "test")
    assert retried.succeeded and retried.run.attempts == 2 and retried.run.error is None
    assert len(runs("flaky")) == 1


def test_a_run_abandoned_by_a_dead_process_is_retaken_after_an_hour(app):
    db.session.add(
        JobRun(
            job=DAILY.name,
            period="2026-03-02",
            outcome=RunOutcome.RUNNING,
            started_at=utcnow() - timedelta(minutes=59),
            started_by="died",
        )
    )
    db.session.commit()
    assert not services.run_job(DAILY, date(2026, 3, 2), "test").ran  # it may still be working
    db.session.execute(JobRun.__table__.update().values(started_at=utcnow() - timedelta(minutes=61)))
    db.session.commit()
    retaken = services.run_job(DAILY, date(2026, 3, 2), "test")
    assert retaken.ran and retaken.succeeded and retaken.run.attempts == 2


def test_two_runs_asked_for_at_once_run_once(app):
    """Two schedulers (or a scheduler and "run now") asking at the same moment: one claim wins."""
    calls = []
    slow = Job("slow", lambda day: calls.append(day) or 1, Cadence.DAILY, "Counts its calls.")

    def ask() -> bool:
        with app.app_context():
            try:
                return services.run_job(slow, date(2026, 3, 2), "racer").ran
            finally:
                db.session.remove()

    assert sorted(at_once([ask, ask, ask])) == [False, False, True]
    assert len(calls) == 1
    assert row_count(JobRun) == 1


def test_the_first_tick_runs_what_fell_due_while_no_scheduler_ran(app, monkeypatch):
    monkeypatch.setattr(scheduler, "due_jobs", lambda now: services.due_jobs(now, (DAILY, WEEKLY)))
    reports = scheduler.tick(app, "me", at("2026-03-04T12:00"))
    assert sorted(report.job.name for report in reports if report.ran) == ["count-daily", "count-weekly"]
    assert scheduler.tick(app, "me", at("2026-03-04T12:01")) == []  # nothing more is due


def test_a_scheduler_without_the_lease_runs_nothing(app, monkeypatch):
    monkeypatch.setattr(scheduler, "due_jobs", lambda now: services.due_jobs(now, (DAILY,)))
    assert scheduler.claim_lease("other")
    assert scheduler.tick(app, "me", at("2026-03-04T12:00")) == []
    assert runs(DAILY.name) == []


def test_every_registered_job_runs_on_an_empty_database(app):
    """Each real job runs for a day and records success (nothing to do is not a failure)."""
    for job in JOBS:
        report = services.run_job(job, date(2026, 3, 2), "test", at("2026-03-02T12:00"))
        assert report.succeeded, (job.name, report.run.error)
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == len(JOBS)


def test_statuses_show_the_last_run_and_when_each_job_next_falls_due(app):
    services.run_job(BY_NAME["expire-certificates"], date(2026, 3, 2), "test")
    now = at("2026-03-02T12:00")
    rows = {row.job.name: row for row in services.statuses(now)}
    assert rows["expire-certificates"].last.period == "2026-03-02"
    assert rows["expire-certificates"].next_due == at("2026-03-03T00:05")  # ran today: tomorrow
    assert rows["remind-supervision-lapsed"].last is None
    assert rows["remind-supervision-lapsed"].next_due == now  # overdue today: now
    assert rows["send-weekly-digests"].next_due == now  # Monday after seven, not run yet
    assert rows["deliver-mail"].next_due == now


def test_old_run_records_are_forgotten_after_their_retention(app):
    now = utcnow()
    for name, days in (
        ("deliver-mail", 8),
        ("deliver-mail", 6),
        ("expire-certificates", 401),
        ("expire-certificates", 30),
    ):
        db.session.add(
            JobRun(
                job=name,
                period=f"p{days}",
                outcome=RunOutcome.SUCCEEDED,
                started_at=now - timedelta(days=days),
                started_by="test",
            )
        )
    db.session.commit()
    assert transactions.run(lambda: services.forget_old_runs(now)) == 2
    assert sorted((run.job, run.period) for run in runs("deliver-mail") + runs("expire-certificates")) == [
        ("deliver-mail", "p6"),
        ("expire-certificates", "p30"),
    ]


def test_schedules_read_as_words():
    assert BY_NAME["expire-certificates"].schedule == "Daily from 00:05"
    assert BY_NAME["send-weekly-digests"].schedule == "Weekly, Monday from 07:00"
    assert BY_NAME["deliver-mail"].schedule == "Every minute"
    assert FREQUENT.schedule == "Every 5 minutes"
