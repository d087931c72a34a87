"""Outcome data for the Data Collection System: measure administrations, per-case outcomes, the links
that let a client answer measures on their own phone, and measure wording a service holds a licence for."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.accounts.models import User
from vigtrain.casework.models import AgeBand, Case, CaseStatus, Population, Relationship
from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db, str_enum
from vigtrain.organisations.models import Service


class Timepoint(enum.StrEnum):
    PRE = "pre"
    MID = "mid"
    POST = "post"
    FOLLOW_UP = "follow-up"


TIMEPOINT_LABELS = {
    Timepoint.PRE: "Before (pre)",
    Timepoint.MID: "Midway (mid)",
    Timepoint.POST: "After (post)",
    Timepoint.FOLLOW_UP: "Follow-up",
}

TIMEPOINT_ORDER = list(Timepoint)


class Administration(db.Model):
    """One measure completed at one timepoint of a case, with the answers and the scores they give.

    Scores are stored as computed by the scoring engine from the measure's data file version at the
    time, so a later correction to a data file never silently changes past feedback.
    """

    __tablename__ = "administration"
    __table_args__ = (UniqueConstraint("case_id", "measure_code", "timepoint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    measure_code: Mapped[str] = mapped_column(String(16))
    measure_version: Mapped[str] = mapped_column(String(16))
    timepoint: Mapped[Timepoint] = mapped_column(str_enum(Timepoint, 10))
    administered_on: Mapped[date] = mapped_column(Date)
    responses: Mapped[dict] = mapped_column(JSON)
    total: Mapped[float] = mapped_column(Float)
    raw: Mapped[float | None] = mapped_column(Float)
    subscales: Mapped[dict] = mapped_column(JSON, default=dict)
    band: Mapped[str | None] = mapped_column(String(60))
    flags: Mapped[list] = mapped_column(JSON, default=list)
    prorated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who is answerable for the record: whoever entered it, or the practitioner who sent the client the link.
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Set when the client answered on their own phone through a link (MeasureInvitation).
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("measure_invitation.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship()
    entered_by: Mapped[User] = relationship()

    @property
    def timepoint_label(self) -> str:
        return TIMEPOINT_LABELS[self.timepoint]

    @property
    def self_completed(self) -> bool:
        """The client answered it alone, on their own phone, rather than with the practitioner."""
        return self.invitation_id is not None


class CaseOutcome(db.Model):
    """One row per case and measure: pre, post and the change between them, kept current by the services.

    Reports aggregate this table rather than pairing administrations at query time, so the national
    report stays fast at 800,000 administrations. The case's context is copied here for the same reason
    and refreshed whenever the case changes.
    """

    __tablename__ = "case_outcome"
    __table_args__ = (
        UniqueConstraint("case_id", "measure_code"),
        # Covers every report's aggregate worked out live (any filter, any breakdown), so the database
        # answers it from the index alone, and the job that keeps the report cells too.
        Index(
            "ix_case_outcome_report",
            "measure_code",
            "consent_dcs",
            "region_id",
            "service_id",
            "population",
            "relationship_type",
            "stage_number",
            "pre_on",
            "pre",
            "post",
            "classification",
            "pre_case",
            "recovery",
            "reliable_recovery",
            "status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    measure_code: Mapped[str] = mapped_column(String(16))
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    population: Mapped[Population] = mapped_column(str_enum(Population))
    relationship_type: Mapped[Relationship] = mapped_column(str_enum(Relationship))
    child_age_band: Mapped[AgeBand] = mapped_column(str_enum(AgeBand, 10))
    stage_number: Mapped[int | None] = mapped_column(Integer)
    consent_dcs: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The case's status, so reports can tell how complete the data of closed cases is.
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN, server_default="open")
    pre: Mapped[float | None] = mapped_column(Float)
    pre_on: Mapped[date | None] = mapped_column(Date)
    post: Mapped[float | None] = mapped_column(Float)
    post_on: Mapped[date | None] = mapped_column(Date)
    follow_up: Mapped[float | None] = mapped_column(Float)
    change: Mapped[float | None] = mapped_column(Float)
    classification: Mapped[str | None] = mapped_column(String(30))
    pre_case: Mapped[bool | None] = mapped_column(Boolean)
    recovery: Mapped[bool | None] = mapped_column(Boolean)
    reliable_recovery: Mapped[bool | None] = mapped_column(Boolean)

    case: Mapped[Case] = relationship()

    @property
    def paired(self) -> bool:
        return self.pre is not None and self.post is not None


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


INVITATION_STATUS_LABELS = {
    InvitationStatus.PENDING: "Waiting for answers",
    InvitationStatus.USED: "Answered",
    InvitationStatus.EXPIRED: "Expired",
    InvitationStatus.REVOKED: "Revoked",
}


class MeasureInvitation(db.Model):
    """A one-time link for the client to answer outcome measures on their own phone.

    Only a SHA-256 digest of the link's token is kept, so nobody (the practitioner included) can
    read a working link back out of the database: it is shown once, when it is made.
    """

    __tablename__ = "measure_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    timepoint: Mapped[Timepoint] = mapped_column(str_enum(Timepoint, 10))
    # Measure codes in the library's order: the order the client answers them in.
    measure_codes: Mapped[list] = mapped_column(JSON)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    case: Mapped[Case] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def __repr__(self) -> str:
        return f"<MeasureInvitation {self.id} case={self.case_id} {self.timepoint.value}>"

    def status(self, now: datetime) -> InvitationStatus:
        """Answered wins over everything; a revoked link says so even after it would have expired."""
        if self.used_at is not None:
            return InvitationStatus.USED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        return InvitationStatus.EXPIRED if now >= self.expires_at else InvitationStatus.PENDING

    @property
    def timepoint_label(self) -> str:
        return TIMEPOINT_LABELS[self.timepoint]


class LicensedWording(db.Model):
    """A measure's licensed wording, entered by an administrator for a service that holds the licence.

    Only that service's clients see it (when answering on their own phone, and its practitioners during
    live entry); everyone else keeps item numbers. Removing it only stamps `removed_at`, so what was
    shown, and on whose licence, stays on record.
    """

    __tablename__ = "licensed_wording"
    # One live wording per service and measure: a partial unique index, which SQLite and PostgreSQL both keep.
    __table_args__ = (
        Index(
            "ix_licensed_wording_live",
            "service_id",
            "measure_code",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    measure_code: Mapped[str] = mapped_column(String(16))
    # The data file version the wording was entered for: a new version needs its wording checked again.
    measure_version: Mapped[str] = mapped_column(String(16))
    # {item number: question}; and, for measures recorded by printed answer position, {item number: [answers]}.
    item_texts: Mapped[dict] = mapped_column(JSON)
    answer_texts: Mapped[dict] = mapped_column(JSON, default=dict)
    stem: Mapped[str | None] = mapped_column(Text)
    licence_reference: Mapped[str] = mapped_column(String(300))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    service: Mapped[Service] = relationship()
    added_by: Mapped[User] = relationship(foreign_keys=[added_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])

    def __repr__(self) -> str:
        return f"<LicensedWording {self.id} service={self.service_id} {self.measure_code} v{self.measure_version}>"

    @property
    def is_live(self) -> bool:
        return self.removed_at is None


class ReportGrain(enum.StrEnum):
    """What kept report sums are split by, besides region: one grain for each way a report breaks down."""

    POPULATION = "population"
    RELATIONSHIP = "relationship"
    STAGE = "stage"
    SERVICE = "service"


class ReportCell(db.Model):
    """The sums of consented outcomes for one measure, one region and one group of its grain.

    The national and regional reports would otherwise read every outcome row (millions at scale) on
    each view; the job `refresh-dcs-reports` keeps these sums instead, and a report adds up a few
    hundred cells whatever the number of cases. (Those reports are never filtered, only broken down
    one way at a time, so a grain per breakdown is all they need.) They are sums only, never shown:
    a report made from them is disclosure-controlled exactly as one worked out live is.
    """

    __tablename__ = "dcs_report_cell"
    __table_args__ = (Index("ix_dcs_report_cell_lookup", "grain", "measure_code", "region_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grain: Mapped[ReportGrain] = mapped_column(str_enum(ReportGrain, 20))
    measure_code: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    # The group, in the column of the cell's grain (the others are empty). Cases with no service, and
    # cases whose practitioner was not in training, make a group of their own: None.
    service_id: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[str | None] = mapped_column(String(30))
    relationship_type: Mapped[str | None] = mapped_column(String(30))
    stage_number: Mapped[int | None] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    paired: Mapped[int] = mapped_column(Integer)
    pre: Mapped[float] = mapped_column(Float)
    pre_squared: Mapped[float] = mapped_column(Float)
    post: Mapped[float] = mapped_column(Float)
    post_squared: Mapped[float] = mapped_column(Float)
    pre_post: Mapped[float] = mapped_column(Float)
    improved: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    deteriorated: Mapped[int] = mapped_column(Integer)
    at_caseness: Mapped[int] = mapped_column(Integer)
    recovered: Mapped[int] = mapped_column(Integer)
    reliably_recovered: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    closed_paired: Mapped[int] = mapped_column(Integer)


class ReportRefresh(db.Model):
    """When the report cells were last worked out (one row). No row: none are kept, and reports are
    worked out from the outcome rows as they are asked for."""

    __tablename__ = "dcs_report_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cells: Mapped[int] = mapped_column(Integer)
