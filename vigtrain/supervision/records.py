"""The supervision record: totals per stage and format, and the whole log as the CSV and PDF show it.

Plain data built in a few queries, so the PDF (`pdf.py`) knows nothing of the database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy import select

from vigtrain.extensions import db
from vigtrain.pathways.definitions import RequirementKind, principles
from vigtrain.pathways.models import Enrolment, StageRecord
from vigtrain.supervision.models import SessionFormat, SessionStatus, SupervisionSession
from vigtrain.supervision.queries import stage_for
from vigtrain.supervision.sessions import FORMAT_LABELS, MODE_LABELS, STATUS_LABELS


def format_hours(hours: float) -> str:
    """Hours as people read them, to two places at most: 7.5 → '7.5', 7.0 → '7'."""
    return f"{round(hours, 2):g}"


# --- totals ---------------------------------------------------------------------------------------


@dataclass
class StageTotal:
    record: StageRecord | None  # None: sessions outside every stage window
    name: str
    started_on: date | None = None
    ended_on: date | None = None
    confirmed_minutes: int = 0
    confirmed_sessions: int = 0
    awaiting_minutes: int = 0
    target_hours: float | None = None
    target_sessions: float | None = None

    @property
    def confirmed_hours(self) -> float:
        return self.confirmed_minutes / 60

    @property
    def awaiting_hours(self) -> float:
        return self.awaiting_minutes / 60

    @property
    def percent(self) -> int:
        if not self.target_hours:
            return 0
        return min(100, int(100 * self.confirmed_minutes / (self.target_hours * 60)))


@dataclass
class FormatTotal:
    session_format: SessionFormat
    confirmed_minutes: int = 0
    confirmed_sessions: int = 0
    awaiting_sessions: int = 0

    @property
    def label(self) -> str:
        return FORMAT_LABELS[self.session_format]

    @property
    def confirmed_hours(self) -> float:
        return self.confirmed_minutes / 60


@dataclass
class LogTotals:
    stages: list[StageTotal] = field(default_factory=list)
    formats: list[FormatTotal] = field(default_factory=list)

    @property
    def confirmed_minutes(self) -> int:
        return sum(total.confirmed_minutes for total in self.formats)

    @property
    def confirmed_hours(self) -> float:
        return self.confirmed_minutes / 60

    @property
    def confirmed_sessions(self) -> int:
        return sum(total.confirmed_sessions for total in self.formats)


def _target(record: StageRecord, kind: RequirementKind) -> float | None:
    stage = record.enrolment.pathway.stage(record.stage_code)
    return next((r.target for r in stage.active_requirements if r.kind is kind), None)


CONTINUING = "Continuing supervision since accreditation"
OUTSIDE = "Outside any stage"


def period_name(enrolment: Enrolment, day: date) -> str:
    """Where a session dated `day` counts: continuing supervision, its stage, or outside every stage."""
    accredited_on = enrolment.accredited_on
    if accredited_on is not None and day >= accredited_on:
        return CONTINUING
    stage = stage_for(enrolment, day)
    return stage.definition.name if stage is not None else OUTSIDE


def totals(enrolment: Enrolment) -> LogTotals:
    """Confirmed (and awaiting) supervision per stage window and per format, in one query.

    Counts exactly what stage progress counts: confirmed sessions, in half-open stage windows. In a
    continuing record, sessions from the accreditation on are totalled as continuing supervision.
    """
    rows = db.session.execute(
        select(
            SupervisionSession.session_date,
            SupervisionSession.duration_minutes,
            SupervisionSession.format,
            SupervisionSession.status,
        ).where(
            SupervisionSession.enrolment_id == enrolment.id,
            SupervisionSession.status.in_([SessionStatus.CONFIRMED, SessionStatus.LOGGED]),
        )
    ).all()
    result = LogTotals()
    outside = StageTotal(record=None, name=OUTSIDE)
    accredited_on = enrolment.accredited_on
    continuing = StageTotal(record=None, name=CONTINUING, started_on=accredited_on)
    for record in enrolment.stages:
        if record.started_on is None:
            continue
        result.stages.append(
            StageTotal(
                record=record,
                name=record.definition.name,
                started_on=record.started_on,
                ended_on=record.ended_on,
                target_hours=_target(record, RequirementKind.SUPERVISION_HOURS),
                target_sessions=_target(record, RequirementKind.SUPERVISION_SESSIONS),
            )
        )
    by_format = {fmt: FormatTotal(fmt) for fmt in SessionFormat}
    for day, minutes, session_format, status in rows:
        if accredited_on is not None and day >= accredited_on:
            stage = continuing
        else:
            stage = next((total for total in result.stages if total.record.covers(day)), outside)
        confirmed = status is SessionStatus.CONFIRMED
        if confirmed:
            stage.confirmed_minutes += minutes
            stage.confirmed_sessions += 1
            by_format[session_format].confirmed_minutes += minutes
            by_format[session_format].confirmed_sessions += 1
        else:
            stage.awaiting_minutes += minutes
            by_format[session_format].awaiting_sessions += 1
    if outside.confirmed_sessions or outside.awaiting_minutes:
        result.stages.append(outside)
    if accredited_on is not None:
        result.stages.append(continuing)
    result.formats = list(by_format.values())
    return result


# --- the record, for CSV and PDF ------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRow:
    """One session as it appears in an export."""

    session_id: int
    session_date: date
    start_time: time | None
    duration_minutes: int
    format_label: str
    group_size: int | None
    mode_label: str
    supervisor: str
    status_label: str
    confirmed_on: date | None
    confirmed_by: str | None
    stage: str
    reviewed: tuple[tuple[str, date | None], ...]  # the film reviewed: case code, day filmed (None: not named)
    principles: tuple[str, ...]
    clips_reviewed: int
    reflection: str
    next_steps: str
    supervisor_comments: str
    amends_id: int | None
    amendment_reason: str


@dataclass(frozen=True)
class SupervisionRecord:
    """Everything the exported record shows; plain data, so the PDF knows nothing of the database."""

    trainee: str
    pathway: str
    personal_supervisor: str | None
    supervisors: tuple[str, ...]
    enrolment_start: date
    generated_on: date
    rows: tuple[RecordRow, ...]
    totals: LogTotals


def supervision_record(enrolment: Enrolment, generated_on: date) -> SupervisionRecord:
    """The whole log of one enrolment, oldest first, with totals (two queries however long it is)."""
    sessions = list(
        db.session.scalars(
            select(SupervisionSession)
            .where(SupervisionSession.enrolment_id == enrolment.id)
            .order_by(SupervisionSession.session_date, SupervisionSession.start_time, SupervisionSession.id)
        )
    )
    names = principles()
    rows = []
    for session in sessions:
        confirmed = session.status in (SessionStatus.CONFIRMED, SessionStatus.SUPERSEDED)
        rows.append(
            RecordRow(
                session_id=session.id,
                session_date=session.session_date,
                start_time=session.start_time,
                duration_minutes=session.duration_minutes,
                format_label=FORMAT_LABELS[session.format],
                group_size=session.group_size,
                mode_label=MODE_LABELS[session.mode],
                supervisor=session.supervisor.display_name,
                status_label=STATUS_LABELS[session.status],
                confirmed_on=session.confirmed_at.date() if confirmed and session.confirmed_at else None,
                # Only the session's supervisor can confirm it, so they are who confirmed it.
                confirmed_by=session.supervisor.display_name if confirmed else None,
                stage=period_name(enrolment, session.session_date),
                reviewed=tuple(
                    (review.case.code, review.cycle.filmed_on if review.cycle else None) for review in session.reviews
                ),
                principles=tuple(names.name(code) for code in session.principles or ()),
                clips_reviewed=session.clips_reviewed,
                reflection=session.reflection or "",
                next_steps=session.next_steps or "",
                supervisor_comments=session.supervisor_comments or "",
                amends_id=session.amends_id,
                amendment_reason=session.amendment_reason or "",
            )
        )
    supervisors = sorted({session.supervisor.display_name for session in sessions})
    return SupervisionRecord(
        trainee=enrolment.trainee.display_name,
        pathway=enrolment.pathway_version.label,
        personal_supervisor=enrolment.supervisor.display_name if enrolment.supervisor else None,
        supervisors=tuple(supervisors),
        enrolment_start=enrolment.start_date,
        generated_on=generated_on,
        rows=tuple(rows),
        totals=totals(enrolment),
    )


CSV_HEADER = (
    "Session",
    "Date",
    "Start time",
    "Duration (minutes)",
    "Stage",
    "Format",
    "Group size",
    "Mode",
    "Supervisor",
    "Status",
    "Confirmed on",
    "Confirmed by",
    "Film reviewed",
    "Principles",
    "Clips reviewed",
    "Reflection",
    "Next steps",
    "Supervisor comments",
    "Corrects session",
    "Reason for correction",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def record_csv(record: SupervisionRecord) -> str:
    """The log as CSV, every text cell guarded against being read as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in record.rows:
        writer.writerow(
            [
                _csv_cell(value)
                for value in (
                    row.session_id,
                    row.session_date.isoformat(),
                    f"{row.start_time:%H:%M}" if row.start_time else "",
                    row.duration_minutes,
                    row.stage,
                    row.format_label,
                    row.group_size or "",
                    row.mode_label,
                    row.supervisor,
                    row.status_label,
                    row.confirmed_on.isoformat() if row.confirmed_on else "",
                    row.confirmed_by or "",
                    "; ".join(
                        f"{code} filmed {filmed.isoformat()}" if filmed else f"{code} (cycle not named)"
                        for code, filmed in row.reviewed
                    ),
                    "; ".join(row.principles),
                    row.clips_reviewed,
                    row.reflection,
                    row.next_steps,
                    row.supervisor_comments,
                    row.amends_id or "",
                    row.amendment_reason,
                )
            ]
        )
    return out.getvalue()
