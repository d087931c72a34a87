"""Cohorts: named intakes of trainees enrolled together on one pathway version (e.g. one region's
Initial Training Course), each with dates and a course lead."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.accounts.models import User
from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db
from vigtrain.organisations.models import Region
from vigtrain.pathways.models import PathwayVersion


class Cohort(db.Model):
    """An intake. Its members are the enrolments whose `cohort_id` names it."""

    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    pathway_version_id: Mapped[int] = mapped_column(ForeignKey("pathway_version.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    pathway_version: Mapped[PathwayVersion] = relationship(lazy="joined", innerjoin=True)
    region: Mapped[Region | None] = relationship(lazy="joined")
    lead: Mapped[User | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Cohort {self.id} {self.name}>"
