"""Running a job exactly once per period, and what the jobs page and `flask jobs` show of each.

A run starts by claiming its period: inserting the `job_run` row for (job, period), committed on
its own. The unique key lets only one claim win, whoever else tries at the same moment (a second
scheduler, "run now", `flask jobs run`); the loser is told the period is taken. The job's work is
then one transaction, and the run is recorded as succeeded or failed. A failed run, or one whose
process died (still "running" long after it began), may be claimed again; its work rolled back,
and whatever it tells people is keyed (see `vigtrain.notifications.inbox`), so nothing is sent twice.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from vigtrain import transactions
from vigtrain.dates import UK, utcnow
from vigtrain.extensions import db
from vigtrain.jobs.models import JobRun, RunOutcome
from vigtrain.jobs.registry import JOBS, Cadence, Job

log = logging.getLogger("vigtrain.jobs")

# A run still "running" this long after it began belongs to a process that died: it may be retaken.
ABANDONED_AFTER = timedelta(hours=1)
# The scheduler tries a failed run again once this long has passed ("Run now" may at once).
RETRY_FAILED_AFTER = timedelta(minutes=15)
MAX_ERROR = 1000


def period_of(job: Job, day: date, now: datetime | None = None) -> str:
    """The period a run on `day` (at `now`, for the frequent jobs) belongs to."""
    if job.cadence is Cadence.DAILY:
        return day.isoformat()
    if job.cadence is Cadence.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    moment = (now or utcnow()).astimezone(UK)
    minutes = (moment.hour * 60 + moment.minute) // job.every_minutes * job.every_minutes
    return f"{moment:%Y-%m-%d}T{minutes // 60:02d}:{minutes % 60:02d}"


def due_at(job: Job, now: datetime) -> datetime:
    """When the current period's run falls due (UK time): a daily job at its hour, a weekly one on its day."""
    local = now.astimezone(UK)
    if job.cadence is Cadence.FREQUENT:
        return local.replace(second=0, microsecond=0)
    moment = local.replace(hour=job.hour, minute=job.minute, second=0, microsecond=0)
    if job.cadence is Cadence.WEEKLY:
        moment -= timedelta(days=local.isoweekday() - job.weekday)
    return moment


def next_due(job: Job, now: datetime, ran_this_period: bool) -> datetime:
    """When the job next falls due: this period's time if it has not run yet, else the next period's."""
    this = due_at(job, now)
    if not ran_this_period:
        return max(this, now.astimezone(UK).replace(microsecond=0))
    step = {Cadence.DAILY: timedelta(days=1), Cadence.WEEKLY: timedelta(weeks=1)}.get(
        job.cadence, timedelta(minutes=job.every_minutes)
    )
    return (this + step).astimezone(UK)


@dataclass(frozen=True)
class RunReport:
    """What asking for a run did: ran (with its outcome), or found the period already taken."""

    job: Job
    period: str
    ran: bool
    run: JobRun | None  # the run that holds the period (this one, or the earlier one)

    @property
    def succeeded(self) -> bool:
        return self.ran and self.run is not None and self.run.outcome is RunOutcome.SUCCEEDED


def _find(job: Job, period: str) -> JobRun | None:
    return db.session.scalar(select(JobRun).where(JobRun.job == job.name, JobRun.period == period))


def _create_claim(job: Job, period: str, started_by: str) -> int:
    run = JobRun(job=job.name, period=period, outcome=RunOutcome.RUNNING, started_at=utcnow(), started_by=started_by)
    db.session.add(run)
    db.session.flush()
    return run.id


def _retake(job: Job, period: str, started_by: str) -> int | None:
    """Claim a period whose run failed or was abandoned: one conditional UPDATE, so one taker wins."""
    now = utcnow()
    taken = db.session.execute(
        update(JobRun)
        .where(
            JobRun.job == job.name,
            JobRun.period == period,
            or_(
                JobRun.outcome == RunOutcome.FAILED,
                and_(JobRun.outcome == RunOutcome.RUNNING, JobRun.started_at < now - ABANDONED_AFTER),
            ),
        )
        .values(
            outcome=RunOutcome.RUNNING,
            started_at=now,
            finished_at=None,
            error=None,
            result=None,
            started_by=started_by,
            attempts=JobRun.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None
    return db.session.scalar(select(JobRun.id).where(JobRun.job == job.name, JobRun.period == period))


def claim(job: Job, period: str, started_by: str) -> int | None:
    """Take the period for this run; the run's id, or None if another run holds (or finished) it."""
    run_id = transactions.run_unless_taken(lambda: _create_claim(job, period, started_by))
    if run_id is not None:
        return run_id
    # Taken first: a failed or abandoned run may still be retaken.
    return transactions.run(lambda: _retake(job, period, started_by))


def _finish(run_id: int, outcome: RunOutcome, result: int | None, error: str | None) -> None:
    run = db.session.get(JobRun, run_id)
    run.outcome, run.result, run.error, run.finished_at = outcome, result, error, utcnow()
    db.session.flush()


def run_job(job: Job, day: date, started_by: str, now: datetime | None = None) -> RunReport:
    """Run `job` for the period `day` falls in, unless that period has run (or is running) already.

    The job's work is one transaction; if it raises, the work rolls back, the run is recorded as
    failed with the error, and the caller carries on.
    """
    period = period_of(job, day, now)
    run_id = claim(job, period, started_by)
    if run_id is None:
        db.session.rollback()
        return RunReport(job, period, False, _find(job, period))
    began = clock.monotonic()
    try:
        result = transactions.run(lambda: job.function(day))
    except Exception as error:  # any failure: recorded, and the scheduler carries on
        log.exception("job %s (%s) failed", job.name, period)
        message = f"{type(error).__name__}: {error}"[:MAX_ERROR]
        transactions.run(lambda: _finish(run_id, RunOutcome.FAILED, None, message))
    else:
        log.info("job %s (%s) done in %.2fs: %s", job.name, period, clock.monotonic() - began, result)
        transactions.run(lambda: _finish(run_id, RunOutcome.SUCCEEDED, result, None))
    return RunReport(job, period, True, db.session.get(JobRun, run_id))


def due_jobs(now: datetime, jobs: tuple[Job, ...] = JOBS) -> list[Job]:
    """The jobs whose current period has fallen due and has no finished or running claim (nor a run
    that failed in the last RETRY_FAILED_AFTER)."""
    local = now.astimezone(UK)
    day = local.date()
    wanted = {job.name: period_of(job, day, now) for job in jobs if due_at(job, now) <= local}
    if not wanted:
        return []
    taken = set(
        db.session.execute(
            select(JobRun.job, JobRun.period).where(
                JobRun.job.in_(wanted),
                JobRun.period.in_(set(wanted.values())),
                or_(
                    JobRun.outcome == RunOutcome.SUCCEEDED,
                    and_(JobRun.outcome == RunOutcome.RUNNING, JobRun.started_at >= now - ABANDONED_AFTER),
                    # A failed run is tried again, but not on every tick: a job that keeps failing
                    # (a mail server down all day) would otherwise run three times a minute.
                    and_(JobRun.outcome == RunOutcome.FAILED, JobRun.finished_at >= now - RETRY_FAILED_AFTER),
                ),
            )
        ).all()
    )
    return [job for job in jobs if job.name in wanted and (job.name, wanted[job.name]) not in taken]


@dataclass(frozen=True)
class JobStatus:
    """One row of the jobs page."""

    job: Job
    last: JobRun | None
    next_due: datetime
    failures_in_a_row: int


def latest_runs(jobs: tuple[Job, ...] = JOBS) -> dict[str, JobRun]:
    """Each job's most recent run, in one query."""
    newest = (
        select(JobRun.job, func.max(JobRun.id).label("id")).where(JobRun.job.in_([job.name for job in jobs]))
    ).group_by(JobRun.job)
    ids = [row.id for row in db.session.execute(newest)]
    return {run.job: run for run in db.session.scalars(select(JobRun).where(JobRun.id.in_(ids)))} if ids else {}


def statuses(now: datetime | None = None, jobs: tuple[Job, ...] = JOBS) -> list[JobStatus]:
    """Every job with its last run and when it next falls due."""
    now = now or utcnow()
    latest = latest_runs(jobs)
    failures = failures_in_a_row(jobs) if latest else {}
    day = now.astimezone(UK).date()
    rows = []
    for job in jobs:
        last = latest.get(job.name)
        this_period = last is not None and last.period == period_of(job, day, now)
        due = next_due(job, now, this_period and last.outcome is not RunOutcome.FAILED)
        if this_period and last.outcome is RunOutcome.FAILED and last.finished_at is not None:
            due = max(due, (last.finished_at + RETRY_FAILED_AFTER).astimezone(UK))  # the scheduler's retry
        rows.append(JobStatus(job, last, due, failures.get(job.name, 0)))
    return rows


FAILURES_COUNTED = 10  # failures in a row are counted up to this many, as before


def failures_in_a_row(jobs: tuple[Job, ...] = JOBS) -> dict[str, int]:
    """How many of each job's latest runs failed one after another, for every job in one query."""
    ranked = (
        select(
            JobRun.job,
            JobRun.outcome,
            func.row_number().over(partition_by=JobRun.job, order_by=JobRun.id.desc()).label("rank"),
        )
        .where(JobRun.job.in_([job.name for job in jobs]))
        .subquery()
    )
    recent = db.session.execute(
        select(ranked.c.job, ranked.c.outcome)
        .where(ranked.c.rank <= FAILURES_COUNTED)
        .order_by(ranked.c.job, ranked.c.rank)
    )
    counts: dict[str, int] = {}
    broken: set[str] = set()
    for job, outcome in recent:
        counts.setdefault(job, 0)
        if job in broken or outcome is not RunOutcome.FAILED:
            broken.add(job)
            continue
        counts[job] += 1
    return counts


def history(job: Job):
    """A job's runs, newest first (for paging)."""
    return select(JobRun).where(JobRun.job == job.name).order_by(JobRun.id.desc())


def forget_old_runs(now: datetime) -> int:
    """Delete the records of runs past their retention: a week for the every-minute jobs, longer for the rest."""
    config = current_app.config
    frequent = [job.name for job in JOBS if job.cadence is Cadence.FREQUENT]
    removed = db.session.execute(
        delete(JobRun).where(JobRun.job.in_(frequent), JobRun.started_at < now - config["JOB_RUN_RETENTION_FREQUENT"])
    ).rowcount
    removed += db.session.execute(
        delete(JobRun).where(JobRun.job.not_in(frequent), JobRun.started_at < now - config["JOB_RUN_RETENTION"])
    ).rowcount
    return removed
