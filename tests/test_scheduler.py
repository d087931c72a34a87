"""The scheduler: one lease, so a second scheduler is harmless; it ticks, running the jobs that are due."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import select

from tests.certificate_factories import make_certificate, make_earned_record
from tests.factories import make_admin
from vigtrain import scheduler
from vigtrain.certificates import bulk
from vigtrain.certificates.models import BulkIssue, BulkIssueState, CertificateStatus
from vigtrain.dates import today, utcnow
from vigtrain.extensions import db
from vigtrain.jobs.registry import BY_NAME
from vigtrain.jobs.services import run_job
from vigtrain.scheduler import SchedulerLease, claim_lease, release_lease


def test_only_one_scheduler_holds_the_lease_until_it_expires(app):
    now = utcnow()
    assert claim_lease("first", now)
    assert not claim_lease("second", now + timedelta(seconds=10))
    assert claim_lease("first", now + timedelta(seconds=30))  # the heartbeat renews it
    assert not claim_lease("second", now + timedelta(seconds=100))
    # The first stops heart-beating (it died): once the lease runs out the second takes over.
    assert claim_lease("second", now + timedelta(seconds=121))
    assert not claim_lease("first", now + timedelta(seconds=122))
    assert db.session.scalar(select(SchedulerLease.holder)) == "second"


def test_a_clean_stop_hands_over_at_once(app):
    assert claim_lease("first")
    release_lease("first")
    assert claim_lease("second")


def test_racing_schedulers_never_both_hold_the_lease(app):
    """Two schedulers starting together, each claiming many times: only one ever succeeds."""
    wins: dict[str, int] = {"a": 0, "b": 0}
    barrier = threading.Barrier(2)

    def contend(holder: str) -> None:
        with app.app_context():
            try:
                barrier.wait()
                for _ in range(20):
                    wins[holder] += claim_lease(holder)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=contend, args=(holder,)) for holder in wins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(wins.values()) == [0, 20]


def run(name: str, holder: str = "me") -> int | None:
    """Run one registered job for today as a scheduler would; its result, or None if it did not run."""
    report = run_job(BY_NAME[name], today(), holder)
    return report.run.result if report.ran else None


def test_the_expiry_job_expires_and_is_idempotent(app, clock):
    admin = make_admin()
    certificate = make_certificate(admin, on=date(2022, 1, 10))
    certificate_id = certificate.id
    assert run("expire-certificates") == 1
    db.session.expire_all()
    assert db.session.get(type(certificate), certificate_id).status is CertificateStatus.EXPIRED
    clock.tick(timedelta(days=1))
    assert run("expire-certificates") == 0  # the next day: nothing left to expire


def test_resume_job_finishes_an_abandoned_bulk_issue(app, clock):
    admin = make_admin()
    queued = bulk.start_bulk_issue(admin, [make_earned_record().id, make_earned_record().id])
    db.session.commit()
    job_id = queued.id
    clock.tick(600)  # nobody has touched it for ten minutes
    assert run("resume-bulk-issues") == 2
    db.session.expire_all()
    assert db.session.get(BulkIssue, job_id).state is BulkIssueState.FINISHED


def test_the_scheduler_ticks_and_hands_the_lease_over_when_it_stops(app, monkeypatch):
    added = []

    class FakeScheduler:
        def __init__(self, timezone) -> None:
            self.timezone = timezone

        def add_job(self, function, trigger=None, **options) -> None:
            added.append((options["id"], trigger, options.get("seconds")))

        def start(self) -> None:
            raise KeyboardInterrupt

    import apscheduler.schedulers.blocking

    monkeypatch.setattr(apscheduler.schedulers.blocking, "BlockingScheduler", FakeScheduler)
    assert claim_lease("me")
    scheduler.run(app, "me")
    assert added == [("tick", "interval", scheduler.TICK_SECONDS), ("first-tick", None, None)]
    assert claim_lease("someone else")  # it released the lease on the way out


def test_the_forget_job_drops_only_form_keys_older_than_the_retention(app, clock):
    from vigtrain.submissions import FormSubmission

    db.session.add(FormSubmission(key="k" * 32, endpoint="supervision.log_session", created_at=utcnow()))
    clock.tick(timedelta(days=1))
    db.session.add(FormSubmission(key="j" * 32, endpoint="casework.add_cycle", created_at=utcnow()))
    db.session.commit()
    clock.tick(timedelta(days=1, hours=1))  # the first is now older than two days, the second is not
    assert run("forget-form-submissions") == 1
    db.session.rollback()
    assert db.session.scalars(select(FormSubmission.key)).all() == ["j" * 32]


def test_two_schedulers_creating_the_lease_at_once_neither_fails(app):
    """The first claim inserts the lease row; the one that loses the insert is told no, not crashed."""
    from tests.races.helpers import at_once

    def claim(holder: str):
        def attempt() -> bool | str:
            with app.app_context():
                try:
                    return claim_lease(holder)
                except Exception as error:  # what the scheduler's tick would have logged as a failure
                    return type(error).__name__
                finally:
                    db.session.remove()

        return attempt

    outcomes = at_once([claim(f"scheduler-{number}") for number in range(4)])
    assert sorted(outcomes, key=str) == [False, False, False, True]
