"""Cases (a client or dyad, known only by a system-generated code) and VIG cycles."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.accounts.models import User
from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db, str_enum
from vigtrain.organisations.models import Region, Service


class Relationship(enum.StrEnum):
    PARENT_INFANT = "parent_infant"
    PARENT_CHILD = "parent_child"
    PARENT_ADOLESCENT = "parent_adolescent"
    FOSTER_OR_ADOPTIVE = "foster_or_adoptive"
    EDUCATION = "education"
    PROFESSIONAL = "professional"
    OTHER = "other"


RELATIONSHIP_LABELS = {
    Relationship.PARENT_INFANT: "Parent and baby (under 2)",
    Relationship.PARENT_CHILD: "Parent and child",
    Relationship.PARENT_ADOLESCENT: "Parent and young person",
    Relationship.FOSTER_OR_ADOPTIVE: "Foster carer, adoptive parent or kinship carer and child",
    Relationship.EDUCATION: "Teacher or education staff and pupil",
    Relationship.PROFESSIONAL: "Professional and colleague or team (VERP)",
    Relationship.OTHER: "Another relationship",
}


class AgeBand(enum.StrEnum):
    UNDER_1 = "0-11m"
    ONE_TO_2 = "1-2y"
    THREE_TO_4 = "3-4y"
    FIVE_TO_10 = "5-10y"
    ELEVEN_TO_17 = "11-17y"
    ADULT = "18+"
    NOT_APPLICABLE = "n/a"


AGE_BAND_LABELS = {
    AgeBand.UNDER_1: "Under 1 year",
    AgeBand.ONE_TO_2: "1 to 2 years",
    AgeBand.THREE_TO_4: "3 to 4 years",
    AgeBand.FIVE_TO_10: "5 to 10 years",
    AgeBand.ELEVEN_TO_17: "11 to 17 years",
    AgeBand.ADULT: "18 or over",
    AgeBand.NOT_APPLICABLE: "Not applicable",
}


class Population(enum.StrEnum):
    PERINATAL = "perinatal"
    EARLY_YEARS = "early_years"
    FAMILY_SUPPORT = "family_support"
    CHILD_PROTECTION = "child_protection"
    LOOKED_AFTER = "looked_after"
    NEURODEVELOPMENTAL = "neurodevelopmental"
    EDUCATION = "education"
    MENTAL_HEALTH = "mental_health"
    WORKFORCE = "workforce"
    OTHER = "other"


POPULATION_LABELS = {
    Population.PERINATAL: "Perinatal mental health",
    Population.EARLY_YEARS: "Early years and health visiting",
    Population.FAMILY_SUPPORT: "Family support and early help",
    Population.CHILD_PROTECTION: "Child protection and safeguarding",
    Population.LOOKED_AFTER: "Fostering, adoption and kinship care",
    Population.NEURODEVELOPMENTAL: "Autism and other neurodevelopmental needs",
    Population.EDUCATION: "Schools and education",
    Population.MENTAL_HEALTH: "Child and adolescent mental health",
    Population.WORKFORCE: "Staff and team development (VERP)",
    Population.OTHER: "Other",
}


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    ENDED_EARLY = "ended_early"


CASE_STATUS_LABELS = {
    CaseStatus.OPEN: "Open",
    CaseStatus.COMPLETED: "Completed",
    CaseStatus.ENDED_EARLY: "Ended early",
}


class EndReason(enum.StrEnum):
    CLIENT_WITHDREW = "client_withdrew"
    CLIENT_MOVED = "client_moved"
    REFERRED_ON = "referred_on"
    SAFEGUARDING = "safeguarding"
    PRACTITIONER_LEFT = "practitioner_left"
    OTHER = "other"


END_REASON_LABELS = {
    EndReason.CLIENT_WITHDREW: "The client chose to stop",
    EndReason.CLIENT_MOVED: "The client moved out of the area",
    EndReason.REFERRED_ON: "Referred to another service",
    EndReason.SAFEGUARDING: "Safeguarding concerns took priority",
    EndReason.PRACTITIONER_LEFT: "The practitioner left or changed role",
    EndReason.OTHER: "Another reason",
}


class Case(db.Model):
    """A client or dyad. No names, dates of birth, addresses or contact details: only a code."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    relationship_type: Mapped[Relationship] = mapped_column(str_enum(Relationship))
    child_age_band: Mapped[AgeBand] = mapped_column(str_enum(AgeBand, 10))
    population: Mapped[Population] = mapped_column(str_enum(Population))
    # The stage the practitioner was in when the case was opened (None: not in training), for DCS reports.
    stage_number: Mapped[int | None] = mapped_column(Integer)
    # Consent is recorded per case, each with the date it was given (DESIGN.md, "Anonymity rules").
    consent_filming: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    consent_filming_on: Mapped[date | None] = mapped_column(Date)
    consent_supervision: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    consent_supervision_on: Mapped[date | None] = mapped_column(Date)
    consent_dcs: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    consent_dcs_on: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN, server_default="open")
    end_reason: Mapped[EndReason | None] = mapped_column(str_enum(EndReason))
    end_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    practitioner: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    service: Mapped[Service | None] = relationship(lazy="joined")
    region: Mapped[Region] = relationship(lazy="joined", innerjoin=True)
    cycles: Mapped[list[Cycle]] = relationship(
        back_populates="case", order_by="Cycle.shared_review_on", cascade="all, delete-orphan"
    )

    @property
    def relationship_label(self) -> str:
        return RELATIONSHIP_LABELS[self.relationship_type]

    @property
    def age_band_label(self) -> str:
        return AGE_BAND_LABELS[self.child_age_band]

    @property
    def population_label(self) -> str:
        return POPULATION_LABELS[self.population]

    @property
    def status_label(self) -> str:
        return CASE_STATUS_LABELS[self.status]

    @property
    def end_reason_label(self) -> str | None:
        return END_REASON_LABELS[self.end_reason] if self.end_reason else None

    @property
    def is_open(self) -> bool:
        return self.status is CaseStatus.OPEN


class Cycle(db.Model):
    """One filming and one shared review with the client."""

    __tablename__ = "cycle"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    filmed_on: Mapped[date] = mapped_column(Date)
    shared_review_on: Mapped[date] = mapped_column(Date, index=True)
    clips_count: Mapped[int] = mapped_column(Integer)
    principles: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="cycles")
