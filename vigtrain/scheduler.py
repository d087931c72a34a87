"""The scheduler process (`flask scheduler run`): named, thin, idempotent jobs that call services.

Exactly one scheduler should run, but a second one must be harmless: every job first claims (or
renews) a lease, one row in `scheduler_lease`, with a single conditional UPDATE that the database
serialises. Only the process holding an unexpired lease runs jobs; if it dies, another takes over
once the lease expires. Each job commits its own work, so a crash loses at most one job's run.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import String, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from vigtrain import transactions
from vigtrain.dates import UK, UTCDateTime, today, utcnow
from vigtrain.extensions import db

log = logging.getLogger("vigtrain.scheduler")

LEASE_NAME = "scheduler"
LEASE_DURATION = timedelta(seconds=90)
HEARTBEAT_SECONDS = 30


class SchedulerLease(db.Model):
    """Who runs the scheduled jobs, until when. One row; renewed by a heartbeat."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime())


def new_holder_id() -> str:
    """Unique per process, and readable in the table: host, pid and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _create_lease(holder: str, now: datetime, duration: timedelta) -> None:
    db.session.add(SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=now + duration, renewed_at=now))
    db.session.flush()


def _take_lease(holder: str, now: datetime, duration: timedelta) -> bool:
    """One conditional UPDATE: only the holder, or anyone once the lease has expired, gets it."""
    result = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE_NAME,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + duration, renewed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def claim_lease(holder: str, now: datetime | None = None, duration: timedelta = LEASE_DURATION) -> bool:
    """Take or renew the lease; True if `holder` holds it now. Commits (it is its own transaction)."""
    now = now or utcnow()
    if db.session.get(SchedulerLease, LEASE_NAME) is None:
        try:
            transactions.run(lambda: _create_lease(holder, now, duration))
            return True
        except IntegrityError:
            pass  # another scheduler created it first (rolled back): the conditional update decides
    return transactions.run(lambda: _take_lease(holder, now, duration))


def _expire_lease(holder: str) -> None:
    db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
        .execution_options(synchronize_session=False)
    )


def release_lease(holder: str) -> None:
    """On a clean stop, let another scheduler take over at once."""
    transactions.run(lambda: _expire_lease(holder))


# --- jobs: each runs one service as one transaction ------------------------------------------------


def expire_certificates() -> int:
    """Mark certificates whose valid-until date has passed as expired."""
    from vigtrain.certificates.services import expire_certificates as expire

    return transactions.run(lambda: expire(today()))


def resume_bulk_issues() -> int:
    """Finish any bulk issue that is not finished (e.g. the web process stopped mid-way)."""
    from vigtrain.certificates.bulk import run_unfinished

    return run_unfinished()


def deliver_mail() -> int:
    """Send queued email (a no-op when no SMTP server is configured)."""
    from vigtrain.notifications.services import deliver_outbox

    return transactions.run(lambda: deliver_outbox(limit=200))


def forget_form_submissions() -> int:
    """Forget the one-time keys of forms saved long enough ago that no repeat can still arrive."""
    from vigtrain.submissions import forget_before

    return transactions.run(lambda: forget_before(utcnow() - current_app.config["FORM_SUBMISSION_RETENTION"]))


@dataclass(frozen=True)
class Job:
    name: str
    function: Callable[[], int]
    trigger: str  # "interval" or "cron"
    options: dict


JOBS = (
    Job("expire-certificates", expire_certificates, "cron", {"hour": 0, "minute": 5, "timezone": UK}),
    Job("resume-bulk-issues", resume_bulk_issues, "interval", {"minutes": 1}),
    Job("deliver-mail", deliver_mail, "interval", {"minutes": 1}),
    Job("forget-form-submissions", forget_form_submissions, "cron", {"hour": 3, "minute": 20, "timezone": UK}),
)


def run_job(app: Flask, job: Job, holder: str) -> int | None:
    """Run `job` if this process holds the lease; None if another scheduler does."""
    with app.app_context():
        try:
            if not claim_lease(holder):
                return None
            result = job.function()
            log.info("job %s done: %s", job.name, result)
            return result
        except Exception:
            log.exception("job %s failed", job.name)
            return None
        finally:
            db.session.remove()  # closing the session rolls back anything a failed job left


def heartbeat(app: Flask, holder: str) -> bool:
    with app.app_context():
        try:
            return claim_lease(holder)
        finally:
            db.session.remove()


def run(app: Flask, holder: str | None = None) -> None:
    """Block, running the jobs on their schedules until interrupted."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    holder = holder or new_holder_id()
    scheduler = BlockingScheduler(timezone=UK)
    scheduler.add_job(heartbeat, "interval", seconds=HEARTBEAT_SECONDS, args=(app, holder), id="heartbeat")
    for job in JOBS:
        scheduler.add_job(
            run_job,
            job.trigger,
            args=(app, job, holder),
            id=job.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
            **job.options,
        )
    # Expiry runs at start-up as well: it is idempotent and a scheduler may have been down at midnight.
    scheduler.add_job(run_job, args=(app, JOBS[0], holder), id="expire-certificates-at-start")
    # Service managers stop processes with SIGTERM: stop cleanly, handing the lease over at once.
    signal.signal(signal.SIGTERM, lambda signum, frame: scheduler.shutdown(wait=False))
    log.info("scheduler %s starting: %s", holder, ", ".join(job.name for job in JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context():
            release_lease(holder)
            db.session.remove()
