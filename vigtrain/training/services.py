"""Enrolment, assessments against the attunement principles, and reflective statements.

Services flush and never commit; each checks the actor with a predicate from `vigtrain.security`
and, where a page could be stale, the version the actor saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select

from vigtrain import audit
from vigtrain.accounts.models import Role, User
from vigtrain.dates import add_months, utcnow
from vigtrain.errors import STALE, Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.locks import hold
from vigtrain.organisations.models import Service
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import (
    ASSESSMENT_OPEN,
    OPEN_FOR_WORK,
    Assessment,
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PathwayVersion,
    StageRecord,
    StageState,
)
from vigtrain.screening import screen
from vigtrain.security import can_assess_stage, can_enrol, can_manage_enrolment, can_submit_stage, is_administrator

ENROLMENT_FIELDS = ("trainee_id", "pathway_version_id", "supervisor_id", "service_id", "start_date", "status")
MAX_COMMENTS = 4000
MAX_STATEMENT = 20000


def _check_version(enrolment: Enrolment, seen_version: int) -> None:
    """Refuse a change made on top of someone else's: the version the actor saw must be current."""
    if enrolment.version != seen_version:
        raise Conflict(STALE)


# --- enrolment ----------------------------------------------------------------------------------


def _open_enrolment_on(trainee: User, version: PathwayVersion, besides: Enrolment | None = None) -> Enrolment | None:
    """The trainee's active or paused enrolment on any version of this pathway (other than `besides`)."""
    query = select(Enrolment).where(
        Enrolment.trainee_id == trainee.id,
        Enrolment.pathway_version_id.in_(select(PathwayVersion.id).where(PathwayVersion.code == version.code)),
        Enrolment.status.in_([EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED]),
    )
    if besides is not None:
        query = query.where(Enrolment.id != besides.id)
    return db.session.scalar(query.limit(1))


def supervisor_problem(supervisor: User, trainee_id: int | None) -> str | None:
    """Why `supervisor` cannot be a trainee's personal supervisor, or None (the form's and the import's rule)."""
    if not supervisor.is_active_flag or not supervisor.has_role(Role.SUPERVISOR):
        return "The personal supervisor must hold the supervisor role"
    if trainee_id is not None and supervisor.id == trainee_id:
        return "A trainee cannot be their own supervisor"
    return None


def start_date_problem(start_date: date, today: date) -> str | None:
    if start_date > add_months(today, 12):
        return "The start date must be within the next year"
    return None


def _stage_fields(version: PathwayVersion, start_date: date) -> list[dict]:
    """Each stage record a new enrolment starts with: the first in progress from the start date."""
    final = version.definition.final_stage.code
    return [
        {
            "stage_code": stage.code,
            "position": position,
            "state": StageState.IN_PROGRESS if position == 0 else StageState.NOT_STARTED,
            "started_on": start_date if position == 0 else None,
            "is_final": stage.code == final,
            "is_current": position == 0,
        }
        for position, stage in enumerate(version.definition.stages)
    ]


def new_enrolment(
    trainee: User, version: PathwayVersion, supervisor: User | None, service: Service | None, start_date: date
) -> Enrolment:
    """An enrolment with a record for each stage of the version, the first started on the start date (not yet added)."""
    enrolment = Enrolment(
        trainee=trainee,
        pathway_version=version,
        supervisor=supervisor,
        service=service or trainee.service,
        start_date=start_date,
    )
    enrolment.stages = [StageRecord(**fields) for fields in _stage_fields(version, start_date)]
    return enrolment


@dataclass(frozen=True)
class EnrolmentRow:
    """One enrolment for `insert_enrolments`: people already checked by the caller's rules."""

    trainee_id: int
    version: PathwayVersion
    supervisor_id: int | None
    service_id: int | None
    start_date: date
    cohort_id: int | None


def insert_enrolments(rows: Sequence[EnrolmentRow]) -> list[int]:
    """Write many new enrolments (one per trainee) and their stage records in bulk; returns their ids.

    The same records `new_enrolment` builds, without the cost of an object per row. Flushes; audit is
    the caller's, with `enrolment_snapshot`.
    """
    if not rows:
        return []
    now = utcnow()
    table = Enrolment.__table__
    # Each trainee gains one enrolment here, so the trainee names the row RETURNING gives back (its
    # order is not promised).
    written = db.session.execute(
        insert(table).returning(table.c.id, table.c.trainee_id),
        [
            {
                "trainee_id": row.trainee_id,
                "pathway_version_id": row.version.id,
                "supervisor_id": row.supervisor_id,
                "service_id": row.service_id,
                "start_date": row.start_date,
                "status": EnrolmentStatus.ACTIVE,
                "cohort_id": row.cohort_id,
                "created_at": now,
                "last_activity_at": now,
                "version": 1,
            }
            for row in rows
        ],
    )
    by_trainee = {trainee_id: enrolment_id for enrolment_id, trainee_id in written}
    ids = [by_trainee[row.trainee_id] for row in rows]
    db.session.execute(
        insert(StageRecord.__table__),
        [
            {"enrolment_id": enrolment_id, "state_since": now, **fields}
            for enrolment_id, row in zip(ids, rows, strict=True)
            for fields in _stage_fields(row.version, row.start_date)
        ],
    )
    return ids


def enrolment_snapshot(row: EnrolmentRow) -> dict:
    """What `audit.snapshot(enrolment, *ENROLMENT_FIELDS)` records, for an enrolment `insert_enrolments` wrote."""
    return {
        "trainee_id": row.trainee_id,
        "pathway_version_id": row.version.id,
        "supervisor_id": row.supervisor_id,
        "service_id": row.service_id,
        "start_date": row.start_date,
        "status": EnrolmentStatus.ACTIVE,
    }


def enrol(
    actor: User,
    trainee: User,
    version: PathwayVersion,
    supervisor: User | None,
    service: Service | None,
    start_date: date,
    today: date,
) -> Enrolment:
    """Put a trainee on a pathway version; the first stage starts on the start date."""
    if not can_enrol(actor):
        raise PermissionDenied("Only administrators and supervisors can enrol trainees")
    if not trainee.is_active_flag:
        raise DomainError("This person's account is deactivated", field="trainee")
    if not trainee.has_role(Role.TRAINEE):
        raise DomainError("This person does not hold the trainee role", field="trainee")
    if not is_administrator(actor) and (actor.service_id is None or trainee.service_id != actor.service_id):
        raise DomainError("You can enrol trainees in your own service only", field="trainee")
    if supervisor is not None and (problem := supervisor_problem(supervisor, trainee.id)):
        raise DomainError(problem, field="supervisor")
    if problem := start_date_problem(start_date, today):
        raise DomainError(problem, field="start_date")
    # Two people enrolling the same trainee at once: the second waits, then finds the first's enrolment.
    hold(trainee)
    if _open_enrolment_on(trainee, version) is not None:
        raise DomainError(f"{trainee.display_name} is already enrolled on {version.name}", field="trainee")
    enrolment = new_enrolment(trainee, version, supervisor, service, start_date)
    db.session.add(enrolment)
    db.session.flush()
    audit.record(actor, "enrolment.created", enrolment, after=audit.snapshot(enrolment, *ENROLMENT_FIELDS))
    return enrolment


def change_supervisor(actor: User, enrolment: Enrolment, supervisor: User, seen_version: int) -> None:
    if not can_manage_enrolment(actor, enrolment):
        raise PermissionDenied("You cannot change this enrolment")
    _check_version(enrolment, seen_version)
    if enrolment.status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.WITHDRAWN):
        raise DomainError(f"This enrolment is {enrolment.status.value}; its supervisor cannot change")
    if not supervisor.is_active_flag or not supervisor.has_role(Role.SUPERVISOR):
        raise DomainError("Choose someone with an active account who holds the supervisor role", field="supervisor")
    if supervisor.id == enrolment.trainee_id:
        raise DomainError("A trainee cannot be their own supervisor", field="supervisor")
    accrediting = next(
        (
            record
            for record in enrolment.stages
            if record.state is StageState.WITH_ACCREDITOR and record.accrediting_supervisor_id == supervisor.id
        ),
        None,
    )
    if accrediting is not None:
        # The accrediting supervisor must not be the personal supervisor (and could then not hold the meeting).
        raise DomainError(
            f"{supervisor.display_name} is accrediting {accrediting.definition.name}: choose someone else, "
            "or ask another accrediting supervisor first",
            field="supervisor",
        )
    before = audit.snapshot(enrolment, *ENROLMENT_FIELDS)
    enrolment.supervisor = supervisor
    enrolment.last_activity_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "enrolment.supervisor_changed",
        enrolment,
        before=before,
        after=audit.snapshot(enrolment, *ENROLMENT_FIELDS),
    )


def set_enrolment_status(
    actor: User, enrolment: Enrolment, status: EnrolmentStatus, reason: str | None, seen_version: int
) -> None:
    if not can_manage_enrolment(actor, enrolment):
        raise PermissionDenied("You cannot change this enrolment")
    _check_version(enrolment, seen_version)
    if status is EnrolmentStatus.COMPLETED:
        raise DomainError("An enrolment is completed by ratifying its final stage", field="status")
    if enrolment.status is EnrolmentStatus.COMPLETED:
        raise DomainError("This enrolment is complete and cannot change", field="status")
    if status in (EnrolmentStatus.PAUSED, EnrolmentStatus.WITHDRAWN) and not (reason or "").strip():
        raise DomainError("Give a reason for pausing or withdrawing", field="reason")
    if len((reason or "").strip()) > 500:
        raise DomainError("The reason must be 500 characters or fewer", field="reason")
    reopening = enrolment.status is EnrolmentStatus.WITHDRAWN and status is not EnrolmentStatus.WITHDRAWN
    if reopening and _open_enrolment_on(enrolment.trainee, enrolment.pathway_version, besides=enrolment) is not None:
        raise DomainError(
            f"{enrolment.trainee.display_name} has another open enrolment on {enrolment.pathway_version.name}: "
            "withdraw that one first",
            field="status",
        )
    before = audit.snapshot(enrolment, "status", "status_reason")
    if status is not enrolment.status:
        enrolment.status_changes.append(EnrolmentStatusChange(status=status, occurred_at=utcnow()))
    enrolment.status = status
    enrolment.status_reason = screen(reason, "reason") if status is not EnrolmentStatus.ACTIVE else None
    enrolment.last_activity_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "enrolment.status_changed",
        enrolment,
        before=before,
        after=audit.snapshot(enrolment, "status", "status_reason"),
    )


# --- assessments and statements ------------------------------------------------------------------


def save_assessment(
    actor: User, record: StageRecord, kind: AssessmentKind, ratings: dict[str, tuple[int, str | None]]
) -> Assessment:
    """Save the self- or supervisor assessment: a rating for every principle, optional evidence."""
    if not can_assess_stage(actor, record, kind):
        raise PermissionDenied("You cannot complete this assessment")
    if record.state not in ASSESSMENT_OPEN[kind]:
        raise DomainError(f"The assessment cannot change while the stage is {record.state.label.lower()}")
    definitions = principles()
    clean: dict[str, dict] = {}
    for code in definitions.codes:
        rating, evidence = ratings.get(code, (None, None))
        if rating not in definitions.scale_values:
            raise DomainError(f"Choose a rating for {definitions.name(code)}", field=f"rating_{code}")
        text = (evidence or "").strip()
        if len(text) > 1000:
            raise DomainError("Evidence notes must be 1,000 characters or fewer", field=f"evidence_{code}")
        clean[code] = {"rating": rating, "evidence": screen(text, f"evidence_{code}") or ""}
    assessment = db.session.scalar(
        select(Assessment).where(Assessment.stage_record_id == record.id, Assessment.kind == kind)
    )
    before = dict(assessment.ratings) if assessment else None
    if assessment is None:
        assessment = Assessment(stage_record_id=record.id, kind=kind, assessor_id=actor.id, ratings=clean)
        db.session.add(assessment)
    assessment.ratings, assessment.assessor_id = clean, actor.id
    assessment.principles_version, assessment.updated_at = definitions.version, utcnow()
    db.session.flush()
    audit.record(actor, f"assessment.{kind.value}_saved", assessment, before=before, after=clean)
    return assessment


def assessments_for(enrolment: Enrolment) -> dict[tuple[int, AssessmentKind], Assessment]:
    record_ids = [record.id for record in enrolment.stages]
    rows = db.session.scalars(select(Assessment).where(Assessment.stage_record_id.in_(record_ids)))
    return {(row.stage_record_id, row.kind): row for row in rows}


def save_statement_text(actor: User, record: StageRecord, text: str) -> None:
    if not can_submit_stage(actor, record):
        raise PermissionDenied("Only the trainee writes their reflective statement")
    if record.state not in OPEN_FOR_WORK:
        raise DomainError("The statement cannot change once the stage is submitted")
    text = (text or "").strip()
    if not text:
        raise DomainError("Write your reflective statement", field="text")
    if len(text) > MAX_STATEMENT:
        raise DomainError(f"The statement must be {MAX_STATEMENT:,} characters or fewer", field="text")
    record.statement_text = screen(text, "text")
    record.statement_updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "stage.statement_saved", record, after={"characters": len(text)})


def attach_statement_file(
    actor: User, record: StageRecord, original_name: str, content_type: str, size: int, store: Callable[[], str]
) -> None:
    """Record an uploaded statement file; `store` writes it and returns its random key."""
    if not can_submit_stage(actor, record):
        raise PermissionDenied("Only the trainee uploads their reflective statement")
    if record.state not in OPEN_FOR_WORK:
        raise DomainError("The statement cannot change once the stage is submitted")
    previous = record.statement_file_key
    record.statement_file_key = store()
    record.statement_file_name = original_name[:200]
    record.statement_file_type = content_type
    record.statement_file_size = size
    record.statement_updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "stage.statement_uploaded",
        record,
        before={"file": previous},
        after={"file": record.statement_file_key, "size": size},
    )
