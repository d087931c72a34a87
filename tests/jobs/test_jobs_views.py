"""The administrators' jobs page: every job with its schedule, last run, outcome and next due; "run
now" runs a period once, retakes a failed one, and is audited; each job's page shows its history."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import count_statements, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.jobs.models import JobRun, RunOutcome
from vigtrain.jobs.registry import BY_NAME, JOBS

TODAY = "2026-03-02"  # the clock fixture's day, a Monday
NOW = "2 March 2026 at 10:00am"
JOB = "expire-certificates"
ROW = re.compile(r'<tr class="govuk-table__row">(.*?)</tr>', re.S)
CELL = re.compile(r'<td class="govuk-table__cell[^>]*>(.*?)</td>', re.S)


@pytest.fixture
def admin(app, clock) -> User:
    return make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")


@pytest.fixture
def signed_in(client, admin):
    client.login(admin.email)
    return client


def _words(fragment: str) -> str:
    """A table cell as it reads: tags gone, spaces collapsed."""
    text = re.sub(r"<[^>]+>", "", re.sub(r"<br>", " ", fragment))
    return " ".join(html.unescape(text).split())


def _table(page: str) -> list[list[str]]:
    """The rows of the page's table (header row left out), each a list of its cells' words."""
    return [[_words(cell) for cell in CELL.findall(row)] for row in ROW.findall(page) if "<td" in row]


def _jobs_page(client) -> dict[str, list[str]]:
    """The jobs page's rows by job name: job and description, runs, last run, outcome, took, next due, action."""
    response = client.get("/admin/jobs")
    assert response.status_code == 200
    return {row[0].split(" ", 1)[0]: row for row in _table(response.get_data(as_text=True))}


def _runs(job: str = JOB) -> list[JobRun]:
    db.session.expire_all()
    return list(db.session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.id)))


def _run_now(client, job: str = JOB):
    return client.submit(f"/admin/jobs/{job}/run", page=f"/admin/jobs/{job}")


def _flash(client, job: str = JOB) -> str:
    page = client.get(f"/admin/jobs/{job}").get_data(as_text=True)
    return " ".join(
        _words(banner) for banner in re.findall(r'<div class="govuk-notification-banner.*?</div>\s*</div>', page, re.S)
    )


def _audited() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.run_now")))


def _add_run(job: str, period: str, outcome: RunOutcome, hours_ago: float, **fields) -> JobRun:
    started = utcnow() - timedelta(hours=hours_ago)
    run = JobRun(
        job=job,
        period=period,
        outcome=outcome,
        started_at=started,
        finished_at=None if outcome is RunOutcome.RUNNING else started + timedelta(seconds=2),
        started_by="scheduler host:1",
        **fields,
    )
    db.session.add(run)
    db.session.commit()
    return run


def test_the_page_lists_every_job_with_its_schedule_last_run_outcome_and_next_due(signed_in):
    _add_run("forget-job-runs", "2026-02-28", RunOutcome.FAILED, 54, error="OperationalError: locked")
    _add_run("forget-job-runs", "2026-03-01", RunOutcome.FAILED, 30, error="OperationalError: locked")
    rows = _jobs_page(signed_in)
    assert list(rows) == [job.name for job in JOBS]
    for job in JOBS:
        row = rows[job.name]
        assert row[0] == f"{job.name} {job.description}"
        assert row[1] == job.schedule
        assert row[6] == f"Run now: {job.name}"
    # Nothing has run today: each is due now (a daily job past its hour, the Monday digest, the frequent ones).
    assert rows[JOB][2:] == ["Never", "Never run", "–", NOW, f"Run now: {JOB}"]
    assert rows["send-weekly-digests"][1:3] == ["Weekly, Monday from 07:00", "Never"]
    assert rows["deliver-mail"][1] == "Every minute"
    assert rows["forget-job-runs"][2:5] == [
        "1 March 2026 at 4:00am for 2026-03-01",
        "Failed 2 failures in a row",
        "2.0 s",
    ]

    assert _run_now(signed_in).status_code == 302
    row = _jobs_page(signed_in)[JOB]
    assert row[2] == f"{NOW} for {TODAY}"
    assert row[3] == "Succeeded"
    assert row[5] == "3 March 2026 at 12:05am"  # tomorrow's run, at the job's hour


def test_run_now_runs_the_job_for_today_audited_and_says_so(signed_in, admin):
    response = _run_now(signed_in)
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/jobs/{JOB}"
    assert f"{JOB} ran for {TODAY}: 0." in _flash(signed_in)
    (run,) = _runs()
    assert (run.period, run.outcome, run.result, run.started_by, run.attempts) == (
        TODAY,
        RunOutcome.SUCCEEDED,
        0,
        f"user:{admin.id}",
        1,
    )
    (event,) = _audited()
    assert (event.actor_id, event.entity_type, event.entity_id) == (admin.id, "JobRun", str(run.id))
    assert event.after == {"job": JOB, "period": TODAY}


def test_a_second_run_now_the_same_day_says_it_has_run_and_adds_nothing(signed_in):
    _run_now(signed_in)
    response = _run_now(signed_in)
    assert response.status_code == 302
    message = _flash(signed_in)
    assert f"{JOB} has already run for {TODAY} (started {NOW})." in message
    assert "it will run again when the next period falls due" in message
    assert len(_runs()) == 1 and len(_audited()) == 1


def test_a_run_that_failed_today_is_run_again_as_its_second_attempt(signed_in, admin):
    failed = _add_run(JOB, TODAY, RunOutcome.FAILED, 2, error="OperationalError: database is locked")
    assert _jobs_page(signed_in)[JOB][3] == "Failed"
    _run_now(signed_in)
    assert f"{JOB} ran for {TODAY}: 0." in _flash(signed_in)
    (run,) = _runs()
    assert run.id == failed.id
    assert (run.outcome, run.attempts, run.error, run.started_by) == (RunOutcome.SUCCEEDED, 2, None, f"user:{admin.id}")
    history = _table(signed_in.get(f"/admin/jobs/{JOB}").get_data(as_text=True))
    assert history[0][:3] == [TODAY, f"{NOW} attempt 2", "Succeeded"]


def test_a_run_still_going_is_not_run_again(signed_in):
    _add_run(JOB, TODAY, RunOutcome.RUNNING, 0.25)
    _run_now(signed_in)
    assert f"{JOB} has already run for {TODAY}" in _flash(signed_in)
    (run,) = _runs()
    assert run.outcome is RunOutcome.RUNNING and run.attempts == 1 and _audited() == []


def test_a_job_that_fails_is_recorded_as_failed_and_can_be_run_again(signed_in, monkeypatch):
    def broken(day):
        raise RuntimeError("the certificate store is away")

    monkeypatch.setitem(BY_NAME, JOB, dataclasses.replace(BY_NAME[JOB], function=broken))
    _run_now(signed_in)
    assert f"{JOB} failed: RuntimeError: the certificate store is away" in _flash(signed_in)
    (run,) = _runs()
    assert run.outcome is RunOutcome.FAILED and run.error == "RuntimeError: the certificate store is away"
    assert len(_audited()) == 1  # it ran, and failed

    monkeypatch.undo()
    _run_now(signed_in)
    (run,) = _runs()
    assert (run.outcome, run.attempts, run.error) == (RunOutcome.SUCCEEDED, 2, None)
    assert len(_audited()) == 2


def test_the_job_page_shows_its_history_newest_first(signed_in, app):
    _add_run(JOB, "2026-02-27", RunOutcome.SUCCEEDED, 24 * 3 + 10, result=3)
    _add_run(JOB, "2026-02-28", RunOutcome.FAILED, 24 * 2 + 10, error="OperationalError: database is locked")
    _add_run(JOB, "2026-03-01", RunOutcome.SUCCEEDED, 24 + 10, result=1, attempts=2)
    _add_run("forget-job-runs", "2026-03-01", RunOutcome.SUCCEEDED, 30, result=9)  # another job's
    _run_now(signed_in)
    page = signed_in.get(f"/admin/jobs/{JOB}").get_data(as_text=True)
    assert _words(BY_NAME[JOB].description) in _words(page)
    history = _table(page)
    assert [row[0] for row in history] == [TODAY, "2026-03-01", "2026-02-28", "2026-02-27"]
    assert history[1] == [
        "2026-03-01",
        "1 March 2026 at 12:00am attempt 2",
        "Succeeded",
        "2.0 s",
        "1",
        "scheduler host:1",
    ]
    assert history[2][2] == "Failed OperationalError: database is locked" and history[2][4] == "–"
    assert history[3][4] == "3"

    app.config["PAGE_SIZE"] = 3
    second = _table(signed_in.get(f"/admin/jobs/{JOB}?page=2").get_data(as_text=True))
    assert [row[0] for row in second] == ["2026-02-27"]


def test_a_job_that_has_never_run_says_so(signed_in):
    page = _words(signed_in.get("/admin/jobs/send-weekly-digests").get_data(as_text=True))
    assert "This job has not run yet." in page and f"Next due {NOW}" in page


def test_an_unknown_job_is_not_found(signed_in):
    assert signed_in.get("/admin/jobs/no-such-job").status_code == 404
    assert signed_in.submit("/admin/jobs/no-such-job/run", page="/admin/jobs").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_run_now_without_a_csrf_token_is_refused_and_runs_nothing(signed_in):
    assert signed_in.post(f"/admin/jobs/{JOB}/run").status_code == 400
    assert _runs() == [] and _audited() == []


def test_only_administrators_see_or_run_jobs(client, app, clock):
    make_user("sue@example.org", roles=(Role.SUPERVISOR, Role.PRACTITIONER), name="Sue Supervisor")
    client.login("sue@example.org")
    assert client.get("/admin/jobs").status_code == 403
    assert client.get(f"/admin/jobs/{JOB}").status_code == 403
    assert client.submit(f"/admin/jobs/{JOB}/run", page="/home").status_code == 403
    assert _runs() == []
    anonymous = app.test_client()
    response = anonymous.get("/admin/jobs")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_page_costs_the_same_statements_however_many_jobs_have_run(signed_in):
    """Each job's failures in a row come from one query for all jobs, not one per job that has run."""
    _add_run("forget-job-runs", "2026-03-01", RunOutcome.FAILED, 30)
    one = count_statements(signed_in, "/admin/jobs")
    for job in JOBS:
        _add_run(job.name, "2026-02-27", RunOutcome.SUCCEEDED, 70)
        _add_run(job.name, "2026-02-28", RunOutcome.FAILED, 50)
    assert count_statements(signed_in, "/admin/jobs") == one
