"""Supervision sessions: logged by the trainee (or the supervisor), confirmed by the supervisor."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.accounts.models import User
from vigtrain.casework.models import Case, Cycle
from vigtrain.dates import UTCDateTime, format_date, utcnow
from vigtrain.extensions import db, str_enum
from vigtrain.pathways.models import Enrolment


class SessionFormat(enum.StrEnum):
    INDIVIDUAL = "individual"
    GROUP = "group"


class SessionMode(enum.StrEnum):
    IN_PERSON = "in_person"
    REMOTE = "remote"


class SessionStatus(enum.StrEnum):
    LOGGED = "logged"
    CONFIRMED = "confirmed"
    QUERIED = "queried"
    SUPERSEDED = "superseded"  # replaced by an audited amendment


class SupervisionSession(db.Model):
    """One trainee's record of one supervision session (a group session is one row per trainee)."""

    __tablename__ = "supervision_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    session_date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time | None] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    format: Mapped[SessionFormat] = mapped_column(str_enum(SessionFormat), default=SessionFormat.INDIVIDUAL)
    group_size: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[SessionMode] = mapped_column(str_enum(SessionMode), default=SessionMode.IN_PERSON)
    clips_reviewed: Mapped[int] = mapped_column(Integer, default=0)
    principles: Mapped[list] = mapped_column(JSON, default=list)
    reflection: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    supervisor_comments: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SessionStatus] = mapped_column(str_enum(SessionStatus), default=SessionStatus.LOGGED, index=True)
    logged_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_session.id"))
    amendment_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    enrolment: Mapped[Enrolment] = relationship(lazy="joined", innerjoin=True)
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id], lazy="joined", innerjoin=True)
    # The film reviewed: loaded with the session, since every page and export that shows one names it.
    reviews: Mapped[list[SupervisionReview]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SupervisionReview.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def hours(self) -> float:
        return self.duration_minutes / 60

    @property
    def case_codes(self) -> list[str]:
        """The codes of the cases whose film was reviewed, each once, in the order they were chosen."""
        return list(dict.fromkeys(review.case.code for review in self.reviews))

    @property
    def cycle_ids(self) -> list[int]:
        """The cycles whose film was reviewed (an entry made before cycles were linked may name a case only)."""
        return [review.cycle_id for review in self.reviews if review.cycle_id is not None]


class SupervisionReview(db.Model):
    """Film reviewed in a session: one row per cycle, so a case's page can list the supervision of its film.

    `cycle_id` is empty only where the film cannot be named: a session logged when a session recorded
    case codes alone, whose case then had more than one cycle filmed by that day, or a cycle deleted
    since (the case stays named).
    """

    __tablename__ = "supervision_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("supervision_session.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycle.id", ondelete="SET NULL"), index=True)

    session: Mapped[SupervisionSession] = relationship(back_populates="reviews")
    case: Mapped[Case] = relationship(lazy="joined", innerjoin=True)
    cycle: Mapped[Cycle | None] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        """How pages and exports name the film: the case code and the day it was filmed."""
        if self.cycle is None:
            return f"{self.case.code}, cycle not named"
        return f"{self.case.code}, filmed {format_date(self.cycle.filmed_on)}"
