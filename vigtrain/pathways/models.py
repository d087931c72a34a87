"""Pathway versions, enrolments, stage records and their sign-off history, assessments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from functools import cached_property

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.accounts.models import User
from vigtrain.dates import UTCDateTime, days_since, utcnow
from vigtrain.extensions import db, str_enum
from vigtrain.organisations.models import Service
from vigtrain.pathways.definitions import Pathway, pathway_from_json


class PathwayVersion(db.Model):
    """One published version of a pathway definition; never changed once loaded."""

    __tablename__ = "pathway_version"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    credential: Mapped[str] = mapped_column(String(120))
    provisional: Mapped[bool] = mapped_column(default=False)
    definition_json: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @cached_property
    def definition(self) -> Pathway:
        return pathway_from_json(self.definition_json)

    @property
    def label(self) -> str:
        return f"{self.name} (version {self.version})"


class EnrolmentStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


class Enrolment(db.Model):
    """A trainee on one pathway version, with their personal supervisor."""

    __tablename__ = "enrolment"
    __table_args__ = (Index("ix_enrolment_last_activity", "last_activity_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    pathway_version_id: Mapped[int] = mapped_column(ForeignKey("pathway_version.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    status: Mapped[EnrolmentStatus] = mapped_column(str_enum(EnrolmentStatus), default=EnrolmentStatus.ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_on: Mapped[date | None] = mapped_column(Date)
    # The intake the trainee was enrolled with (see `cohorts`); at most one.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"), index=True)
    # When the record last moved (enrolled, a stage changed state, supervisor or status changed):
    # the training records list shows the most recent first.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    trainee: Mapped[User] = relationship(foreign_keys=[trainee_id], lazy="joined", innerjoin=True)
    supervisor: Mapped[User | None] = relationship(foreign_keys=[supervisor_id], lazy="joined")
    service: Mapped[Service | None] = relationship(lazy="joined")
    pathway_version: Mapped[PathwayVersion] = relationship(lazy="joined", innerjoin=True)
    stages: Mapped[list[StageRecord]] = relationship(
        back_populates="enrolment", order_by="StageRecord.position", lazy="selectin", cascade="all, delete-orphan"
    )
    status_changes: Mapped[list[EnrolmentStatusChange]] = relationship(
        back_populates="enrolment", order_by="EnrolmentStatusChange.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def pathway(self) -> Pathway:
        return self.pathway_version.definition

    @property
    def current_stage(self) -> StageRecord | None:
        """The first stage not yet finished (None once every stage is done)."""
        return next((stage for stage in self.stages if not stage.finished), None)

    @hybrid_property
    def is_continuing(self) -> bool:
        """Accredited: ratifying the final stage completed the record, which carries on as the
        practitioner's continuing record, where they log the supervision that renewal asks for."""
        final = next((stage for stage in self.stages if stage.is_final), None)
        return (
            self.status is EnrolmentStatus.COMPLETED
            and self.completed_on is not None
            and final is not None
            and final.state is StageState.RATIFIED
        )

    @is_continuing.inplace.expression
    @classmethod
    def _is_continuing_expression(cls) -> ColumnElement[bool]:
        ratified = exists().where(
            StageRecord.enrolment_id == cls.id, StageRecord.is_final.is_(True), StageRecord.state == StageState.RATIFIED
        )
        return and_(cls.status == EnrolmentStatus.COMPLETED, cls.completed_on.is_not(None), ratified)

    @property
    def accredited_on(self) -> date | None:
        """The day AVIGuk ratified the accreditation (a continuing record's first day); None before."""
        return self.completed_on if self.is_continuing else None

    def stage_record(self, code: str) -> StageRecord | None:
        return next((stage for stage in self.stages if stage.stage_code == code), None)

    def mark_current_stage(self) -> None:
        """Flag the current stage, so lists can filter and sort on it in SQL; call after any stage moves."""
        current = self.current_stage
        for stage in self.stages:
            stage.is_current = stage is current


class EnrolmentStatusChange(db.Model):
    """When an enrolment was paused, resumed, withdrawn, reopened or completed: the training-flow
    figures leave paused time out of each step and censor a withdrawal on its day."""

    __tablename__ = "enrolment_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(str_enum(EnrolmentStatus))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="status_changes")

    def __repr__(self) -> str:
        return f"<EnrolmentStatusChange {self.enrolment_id} {self.status.value} {self.occurred_at:%Y-%m-%d}>"


class StageState(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    SIGNED_OFF = "signed_off"
    WITH_ACCREDITOR = "with_accreditor"
    ACCREDITED = "accredited"
    RATIFIED = "ratified"
    COMPLETE = "complete"  # a stage with no meeting, signed off
    EXEMPT = "exempt"  # recognised prior learning

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def tag_class(self) -> str:
        """The GOV.UK tag colour for this state, the same on every page."""
        return STATE_TAG_CLASSES[self]


STATE_TAG_CLASSES = {
    StageState.NOT_STARTED: "govuk-tag--grey",
    StageState.IN_PROGRESS: "govuk-tag--light-blue",
    StageState.SUBMITTED: "govuk-tag--yellow",
    StageState.RETURNED: "govuk-tag--red",
    StageState.SIGNED_OFF: "govuk-tag--turquoise",
    StageState.WITH_ACCREDITOR: "govuk-tag--purple",
    StageState.ACCREDITED: "govuk-tag--green",
    StageState.RATIFIED: "govuk-tag--green",
    StageState.COMPLETE: "govuk-tag--green",
    StageState.EXEMPT: "govuk-tag--teal",
}

STATE_LABELS = {
    StageState.NOT_STARTED: "Not started",
    StageState.IN_PROGRESS: "In progress",
    StageState.SUBMITTED: "Submitted to supervisor",
    StageState.RETURNED: "Returned with comments",
    StageState.SIGNED_OFF: "Signed off by supervisor",
    StageState.WITH_ACCREDITOR: "With accrediting supervisor",
    StageState.ACCREDITED: "Accredited",
    StageState.RATIFIED: "Ratified by AVIGuk",
    StageState.COMPLETE: "Complete",
    StageState.EXEMPT: "Exempt (prior learning)",
}


class StageRecord(db.Model):
    """One stage of one enrolment: its window in time, its state and its sign-off facts."""

    __tablename__ = "stage_record"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "stage_code"),
        Index("ix_stage_record_state_is_final", "state", "is_final"),
        Index("ix_stage_record_current", "is_current", "state", "state_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    stage_code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[StageState] = mapped_column(str_enum(StageState), default=StageState.NOT_STARTED, index=True)
    # Kept by `Enrolment.mark_current_stage` and the sign-off chain: the stage the trainee is on, and
    # since when it has been in its state ("waiting longer than N days").
    is_current: Mapped[bool] = mapped_column(default=False, server_default=false())
    state_since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Copied from the (immutable) pathway version at enrolment, so queues can find final stages by index.
    is_final: Mapped[bool] = mapped_column(default=False)
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    course_sessions_attended: Mapped[int] = mapped_column(Integer, default=0)
    statement_text: Mapped[str | None] = mapped_column(Text)
    statement_file_name: Mapped[str | None] = mapped_column(String(200))
    statement_file_key: Mapped[str | None] = mapped_column(String(64))
    statement_file_type: Mapped[str | None] = mapped_column(String(100))
    statement_file_size: Mapped[int | None] = mapped_column(Integer)
    statement_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    accrediting_supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    meeting_date: Mapped[date | None] = mapped_column(Date)
    meeting_comments: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accredited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    accredited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ratified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ratified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    exemption_reason: Mapped[str | None] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(Integer, default=1)

    enrolment: Mapped[Enrolment] = relationship(back_populates="stages")
    accrediting_supervisor: Mapped[User | None] = relationship(foreign_keys=[accrediting_supervisor_id])
    transitions: Mapped[list[StageTransition]] = relationship(
        back_populates="stage_record", order_by="StageTransition.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def definition(self):
        return self.enrolment.pathway.stage(self.stage_code)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    def days_in_state(self, on: date) -> int:
        """Whole days the stage has been in its state on `on`, as every list shows it."""
        return days_since(self.state_since, on)

    @property
    def has_statement(self) -> bool:
        return bool((self.statement_text or "").strip()) or self.statement_file_key is not None

    def covers(self, day: date) -> bool:
        """Whether `day` falls in this stage's half-open window [started_on, ended_on)."""
        if self.started_on is None or day < self.started_on:
            return False
        return self.ended_on is None or day < self.ended_on


FINISHED_STATES = frozenset({StageState.ACCREDITED, StageState.RATIFIED, StageState.COMPLETE, StageState.EXEMPT})
# The states in which the trainee's own work is open: the statement and the self-assessment.
OPEN_FOR_WORK = frozenset({StageState.IN_PROGRESS, StageState.RETURNED})


class StageTransition(db.Model):
    """What happened to a stage, by whom, with any comments: the trainee-visible history."""

    __tablename__ = "stage_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_record_id: Mapped[int] = mapped_column(ForeignKey("stage_record.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[StageState] = mapped_column(str_enum(StageState))
    to_state: Mapped[StageState] = mapped_column(str_enum(StageState))
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    comments: Mapped[str | None] = mapped_column(Text)

    stage_record: Mapped[StageRecord] = relationship(back_populates="transitions")
    actor: Mapped[User] = relationship(lazy="joined")


class AssessmentKind(enum.StrEnum):
    SELF = "self"
    SUPERVISOR = "supervisor"


# While which states each kind of assessment may change.
ASSESSMENT_OPEN = {
    AssessmentKind.SELF: OPEN_FOR_WORK,
    AssessmentKind.SUPERVISOR: OPEN_FOR_WORK | {StageState.SUBMITTED},
}


class Assessment(db.Model):
    """Ratings against the attunement principles for one stage, by the trainee or the supervisor."""

    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("stage_record_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_record_id: Mapped[int] = mapped_column(ForeignKey("stage_record.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AssessmentKind] = mapped_column(str_enum(AssessmentKind, 12))
    assessor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # {principle code: {"rating": int, "evidence": str}}
    ratings: Mapped[dict] = mapped_column(JSON)
    principles_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    assessor: Mapped[User] = relationship(lazy="joined")
