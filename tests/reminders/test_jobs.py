"""The five reminder jobs through the job runner: each period runs once, and at the same moment,
from two schedulers or straight from two transactions, each person is still told once."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.races.helpers import at_once
from tests.reminders.conftest import DAY
from tests.reminders.helpers import emails_to, notification_count, told
from vigtrain import transactions
from vigtrain.extensions import db
from vigtrain.jobs.models import JobRun, RunOutcome
from vigtrain.jobs.registry import BY_NAME
from vigtrain.jobs.services import run_job
from vigtrain.notifications.models import NotificationKind

# Each job and how many people it tells on DAY in the `due` world.
TOLD = {
    "remind-supervision-lapsed": 2,  # the trainee and the supervisor
    "remind-unconfirmed-sessions": 3,  # the supervisor, and two administrators
    "remind-waiting-stages": 1,  # the supervisor, for sign-off
    "remind-post-measures": 1,
    "remind-expiring-certificates": 1,
}
NAMES = list(TOLD)
ON_POSTGRES = pytest.mark.skipif(
    os.environ.get("VIGTRAIN_TEST_DB") != "postgres",
    reason="SQLite lets one writer in at a time, so nothing happens at once; run with VIGTRAIN_TEST_DB=postgres",
)


def _runs(name: str) -> list[JobRun]:
    db.session.rollback()
    return list(db.session.scalars(select(JobRun).where(JobRun.job == name)))


@pytest.mark.parametrize("name", NAMES)
def test_each_reminder_job_runs_once_a_day(due, name):
    expected = TOLD[name]
    first = run_job(BY_NAME[name], DAY, "test")
    assert first.ran and first.run.outcome is RunOutcome.SUCCEEDED and first.run.result == expected
    assert notification_count() == expected
    second = run_job(BY_NAME[name], DAY, "test")
    assert not second.ran and second.run.id == first.run.id
    assert notification_count() == expected
    # The next day's run is its own period, and finds nobody left to tell.
    tomorrow = run_job(BY_NAME[name], DAY + timedelta(days=1), "test")
    assert tomorrow.ran and tomorrow.run.result == 0
    assert notification_count() == expected


@ON_POSTGRES
@pytest.mark.parametrize("name", NAMES)
def test_two_schedulers_running_a_reminder_at_once_tell_each_person_once(app, due, name):
    expected = TOLD[name]

    def schedule():
        with app.app_context():
            try:
                return run_job(BY_NAME[name], DAY, "scheduler").ran
            finally:
                db.session.remove()

    assert sorted(at_once([schedule, schedule])) == [False, True]
    assert len(_runs(name)) == 1
    assert notification_count() == expected


@ON_POSTGRES
@pytest.mark.parametrize("name", NAMES)
def test_the_notification_key_holds_when_two_runs_bypass_the_job_claim(app, due, name):
    expected = TOLD[name]
    rule = BY_NAME[name].function

    def remind():
        with app.app_context():
            try:
                return transactions.run(lambda: rule(DAY))
            finally:
                db.session.remove()

    made = at_once([remind, remind])
    assert sum(made) == expected
    assert notification_count() == expected
    # One email each (escalations wait for the weekly digest).
    emailed = [item.email for item in told() if item.kind is not NotificationKind.ESCALATION]
    assert emailed and all(len(emails_to(email)) == 1 for email in emailed)
