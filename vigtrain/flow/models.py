"""What the training-flow pages keep: the figures worked out by the hourly job, and the rates an
administrator sets for estimating what an accreditation costs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db
from vigtrain.pathways.models import PathwayVersion


class FlowSnapshot(db.Model):
    """The figures for one scope ("all", "region:3", "service:12", "cohort:7"), as of one moment.

    Working them out reads every stage's dated history, which is too slow for a page at scale, so
    the job `refresh-training-flow` does it and the pages read the result (saying how fresh it is).
    """

    __tablename__ = "flow_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), unique=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    as_of: Mapped[date] = mapped_column(Date)
    figures: Mapped[dict] = mapped_column(JSON)


class CostRate(db.Model):
    """What one pathway version's training costs, in pence: per supervision hour, the course, the fee."""

    __tablename__ = "cost_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_version_id: Mapped[int] = mapped_column(ForeignKey("pathway_version.id"), unique=True)
    supervision_hour_pence: Mapped[int] = mapped_column(Integer)
    course_fee_pence: Mapped[int] = mapped_column(Integer)
    accreditation_fee_pence: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    pathway_version: Mapped[PathwayVersion] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}


class FlowCurrentStage(db.Model):
    """Every active enrolment's current stage, as the last refresh found it: what the stuck-trainee
    list asks about, one row each, so the list is found, counted and paged in SQL.

    Dates are day numbers (`date.toordinal`), so the held-up test is integer arithmetic that reads
    the same on SQLite and PostgreSQL. What the test needs of the pathway (whether the stage asks
    for cycles or supervision) and of the figures (nine in ten stages left this step within
    `threshold` days) is kept beside each row, as of the same refresh.
    """

    __tablename__ = "flow_current_stage"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(Integer, unique=True)
    record_id: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(Integer)
    stage_code: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))
    state_since: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[int | None] = mapped_column(Integer)
    last_cycle: Mapped[int | None] = mapped_column(Integer)
    last_supervision: Mapped[int | None] = mapped_column(Integer)
    service_id: Mapped[int | None] = mapped_column(Integer, index=True)
    region_id: Mapped[int | None] = mapped_column(Integer, index=True)
    cohort_id: Mapped[int | None] = mapped_column(Integer, index=True)
    step_days: Mapped[int | None] = mapped_column(Integer)
    as_of: Mapped[int | None] = mapped_column(Integer)
    step: Mapped[str | None] = mapped_column(String(20))
    wants_cycles: Mapped[bool] = mapped_column(Boolean)
    wants_supervision: Mapped[bool] = mapped_column(Boolean)
    threshold: Mapped[float | None] = mapped_column(Float)
