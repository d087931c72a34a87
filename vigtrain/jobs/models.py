"""The record of each run of each job for each period: what makes a job run exactly once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db, str_enum


class RunOutcome(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"running": "Running", "succeeded": "Succeeded", "failed": "Failed"}[self.value]


class JobRun(db.Model):
    """One job's run for one period (a day, an ISO week, or a minute for the frequent jobs).

    Unique per job and period: the insert that claims a period is the only way to run it, so a job
    started twice, by "run now" or by two schedulers at once, runs once.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        UniqueConstraint("job", "period", name="uq_job_run_period"),
        Index("ix_job_run_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    period: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[RunOutcome] = mapped_column(str_enum(RunOutcome, 10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the job reported (e.g. how many notifications it made), or the error it raised.
    result: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(1000))
    # Who ran it: "scheduler host:pid:…", or "user:7" for "run now", or "cli".
    started_by: Mapped[str] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
