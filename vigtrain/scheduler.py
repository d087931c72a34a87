"""The scheduler process (`flask scheduler run`): every few seconds it runs the jobs that are due.

Exactly one scheduler should run, but a second one must be harmless, twice over: each tick first
claims (or renews) a lease, one row in `scheduler_lease`, with a single conditional UPDATE that the
database serialises, so only the process holding an unexpired lease runs jobs (if it dies, another
takes over once the lease expires); and each run of a job claims its period in `job_run` (see
`vigtrain.jobs.services`), so even two processes that both believed they held the lease would run
each period once. The jobs themselves are listed in `vigtrain.jobs.registry`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import uuid
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import String, or_, update
from sqlalchemy.orm import Mapped, mapped_column

from vigtrain import transactions
from vigtrain.dates import UK, UTCDateTime, utcnow
from vigtrain.extensions import db
from vigtrain.jobs.registry import JOBS
from vigtrain.jobs.services import RunReport, due_jobs, run_job

log = logging.getLogger("vigtrain.scheduler")

LEASE_NAME = "scheduler"
LEASE_DURATION = timedelta(seconds=90)
TICK_SECONDS = 20


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


def _create_lease(holder: str, now: datetime, duration: timedelta) -> bool:
    db.session.add(SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=now + duration, renewed_at=now))
    db.session.flush()
    return True


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
    # With no lease yet, create it; if another scheduler created it first, the conditional update decides.
    if db.session.get(SchedulerLease, LEASE_NAME) is None and transactions.run_unless_taken(
        lambda: _create_lease(holder, now, duration)
    ):
        return True
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


# --- the loop: each tick renews the lease and runs whatever has fallen due ---------------------------


def tick(app: Flask, holder: str, now: datetime | None = None) -> list[RunReport]:
    """Renew the lease; if held, run every job whose period has fallen due and not yet run.

    A scheduler that starts after a job's time (it was down at 06:00) runs it on its first tick.
    """
    reports: list[RunReport] = []
    with app.app_context():
        try:
            if not claim_lease(holder):
                return reports
            now = now or utcnow()
            for job in due_jobs(now):
                reports.append(run_job(job, now.astimezone(UK).date(), f"scheduler {holder}", now))
        except Exception:  # the database went away mid-tick: the next tick tries again
            log.exception("scheduler tick failed")
        finally:
            db.session.remove()  # closing the session rolls back anything a failed job left
    return reports


def run(app: Flask, holder: str | None = None) -> None:
    """Block, ticking every TICK_SECONDS until interrupted (SIGTERM or Ctrl+C)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    holder = holder or new_holder_id()
    scheduler = BlockingScheduler(timezone=UK)
    scheduler.add_job(
        tick, "interval", seconds=TICK_SECONDS, args=(app, holder), id="tick", max_instances=1, coalesce=True
    )
    # The first tick at once: jobs that fell due while no scheduler ran are run now.
    scheduler.add_job(tick, args=(app, holder), id="first-tick")
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
