"""Cases and cycles: creating them, checking them, and who owns what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError

from vigtrain import audit, codes
from vigtrain.accounts.models import User
from vigtrain.casework import signals
from vigtrain.casework.models import AgeBand, Case, CaseStatus, Cycle, EndReason, Population, Relationship
from vigtrain.dates import today as uk_today
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.locks import hold
from vigtrain.organisations.models import Region
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageRecord, StageState
from vigtrain.screening import screen

CASE_PREFIX = "VC"
CASE_FIELDS = (
    "code",
    "relationship_type",
    "child_age_band",
    "population",
    "region_id",
    "service_id",
    "stage_number",
    "started_on",
    "consent_filming",
    "consent_filming_on",
    "consent_supervision",
    "consent_supervision_on",
    "consent_dcs",
    "consent_dcs_on",
)
STATUS_FIELDS = ("status", "ended_on", "end_reason", "end_note")
MAX_END_NOTE = 500
CONSENTS = ("filming", "supervision", "dcs")


@dataclass(frozen=True)
class Consents:
    """Each consent the client has given, as the date it was given (None: not given)."""

    filming: date | None = None
    supervision: date | None = None
    dcs: date | None = None


def _running_on(practitioner_id: int, day: date) -> tuple[ColumnElement[bool], ...]:
    """Conditions for the practitioner's stage records that were running on a day (join Enrolment)."""
    return (
        Enrolment.trainee_id == practitioner_id,
        StageRecord.started_on.is_not(None),
        StageRecord.started_on <= day,
        or_(StageRecord.ended_on.is_(None), StageRecord.ended_on > day),
    )


def current_stage_number(practitioner: User, day: date) -> int | None:
    """The stage the practitioner was in on a day (None if not in training then), for DCS reports."""
    return db.session.scalar(
        select(StageRecord.position)
        .join(Enrolment, Enrolment.id == StageRecord.enrolment_id)
        .where(*_running_on(practitioner.id, day), Enrolment.status != EnrolmentStatus.WITHDRAWN)
        .order_by(Enrolment.start_date.desc())
        .limit(1)
    )


def _check_start_and_consents(started_on: date, consents: Consents, today: date) -> None:
    if started_on > today:
        raise DomainError("The start date must be today or in the past", field="started_on")
    for name in CONSENTS:
        given = getattr(consents, name)
        if given is not None and given > today:
            raise DomainError("The date consent was given must be today or in the past", field="consented_on")


def _apply_consents(case: Case, consents: Consents) -> None:
    """Set each consent flag with its date; a consent already held keeps the date it was first given."""
    for name in CONSENTS:
        given = getattr(consents, name)
        if given is None:
            setattr(case, f"consent_{name}", False)
            setattr(case, f"consent_{name}_on", None)
        elif not getattr(case, f"consent_{name}"):
            setattr(case, f"consent_{name}", True)
            setattr(case, f"consent_{name}_on", given)


CYCLE_FIELDS = ("filmed_on", "shared_review_on", "clips_count", "principles", "note")
MAX_CLIPS = 60
MAX_NOTE = 500


def create_case(
    practitioner: User,
    relationship: Relationship,
    age_band: AgeBand,
    population: Population,
    region: Region,
    started_on: date | None = None,
    consents: Consents | None = None,
) -> Case:
    """A new case with a fresh system-generated code; the client is never named."""
    started_on = started_on or uk_today()
    consents = consents or Consents()
    _check_start_and_consents(started_on, consents, uk_today())
    stage_number = current_stage_number(practitioner, started_on)
    for _ in range(5):
        case = Case(
            code=codes.generate(CASE_PREFIX),
            practitioner=practitioner,
            service_id=practitioner.service_id,
            relationship_type=relationship,
            child_age_band=age_band,
            population=population,
            region=region,
            started_on=started_on,
            stage_number=stage_number,
            status=CaseStatus.OPEN,
        )
        _apply_consents(case, consents)
        try:
            # The audit row goes inside the savepoint too: on SQLite a savepoint opened before the
            # transaction's first write is itself the transaction, and releasing it commits.
            with db.session.begin_nested():
                db.session.add(case)
                db.session.flush()
                audit.record(practitioner, "case.created", case, after=audit.snapshot(case, *CASE_FIELDS))
        except IntegrityError:
            continue  # the random code was taken: draw another
        return case
    raise RuntimeError("could not allocate a unique case code")


def _first_record_on(case: Case) -> date | None:
    """Cycles and outcome measures belong inside the case, so its start cannot move past the first."""
    first_filming = db.session.scalar(select(func.min(Cycle.filmed_on)).where(Cycle.case_id == case.id))
    days = [*signals.answers(signals.first_measure_on, case), first_filming]
    return min((day for day in days if day is not None), default=None)


def update_case(
    actor: User,
    case: Case,
    relationship: Relationship,
    age_band: AgeBand,
    population: Population,
    region: Region,
    started_on: date,
    consents: Consents,
    today: date,
) -> None:
    """Correct a case's context or consents; withdrawing DCS consent removes it from every report at once."""
    _check_start_and_consents(started_on, consents, today)
    earliest = _first_record_on(case)
    if earliest is not None and started_on > earliest:
        raise DomainError(
            f"The start date must be on or before the first filming or outcome measure ({earliest:%-d %B %Y})",
            field="started_on",
        )
    if case.ended_on is not None and started_on > case.ended_on:
        raise DomainError("The start date must be on or before the date the case ended", field="started_on")
    before = audit.snapshot(case, *CASE_FIELDS)
    case.relationship_type, case.child_age_band, case.population = relationship, age_band, population
    case.region = region
    if started_on != case.started_on:
        case.started_on = started_on
        case.stage_number = current_stage_number(case.practitioner, started_on)
    _apply_consents(case, consents)
    db.session.flush()
    after = audit.snapshot(case, *CASE_FIELDS)
    if after != before:
        audit.record(actor, "case.updated", case, before=before, after=after)
        signals.tell(signals.case_changed, case)


def close_case(
    actor: User,
    case: Case,
    status: CaseStatus,
    ended_on: date,
    reason: EndReason | None,
    note: str | None,
    today: date,
) -> None:
    """Mark the intervention completed or ended early; post measures may still be added up to the end date."""
    hold(case)
    if not case.is_open:
        raise DomainError("This case has already been closed")
    if status is CaseStatus.OPEN:
        raise DomainError("Select whether the work was completed or ended early", field="status")
    if ended_on > today:
        raise DomainError("The end date must be today or in the past", field="ended_on")
    if ended_on < case.started_on:
        raise DomainError(f"The end date must be on or after the start ({case.started_on:%-d %B %Y})", field="ended_on")
    last_review = db.session.scalar(select(func.max(Cycle.shared_review_on)).where(Cycle.case_id == case.id))
    if last_review is not None and ended_on < last_review:
        raise DomainError(
            f"The end date must be on or after the last shared review ({last_review:%-d %B %Y})", field="ended_on"
        )
    last_measure = max(signals.answers(signals.last_measure_on, case), default=None)
    if last_measure is not None and ended_on < last_measure:
        raise DomainError(
            f"The end date must be on or after the last outcome measure ({last_measure:%-d %B %Y})", field="ended_on"
        )
    if status is CaseStatus.ENDED_EARLY and reason is None:
        raise DomainError("Select why the work ended early", field="end_reason")
    text = (note or "").strip()
    if len(text) > MAX_END_NOTE:
        raise DomainError(f"The note must be {MAX_END_NOTE} characters or fewer", field="end_note")
    before = audit.snapshot(case, *STATUS_FIELDS)
    case.status, case.ended_on = status, ended_on
    case.end_reason = reason if status is CaseStatus.ENDED_EARLY else None
    case.end_note = screen(text, "end_note") or None
    db.session.flush()
    audit.record(actor, "case.closed", case, before=before, after=audit.snapshot(case, *STATUS_FIELDS))
    signals.tell(signals.case_changed, case)


def reopen_case(actor: User, case: Case) -> None:
    hold(case)  # a double click reopens once
    if case.is_open:
        raise DomainError("This case is already open")
    before = audit.snapshot(case, *STATUS_FIELDS)
    case.status, case.ended_on, case.end_reason, case.end_note = CaseStatus.OPEN, None, None, None
    db.session.flush()
    audit.record(actor, "case.reopened", case, before=before, after=audit.snapshot(case, *STATUS_FIELDS))
    signals.tell(signals.case_changed, case)


def case_count(practitioner: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.practitioner_id == practitioner.id))


def find_case(code: str) -> Case | None:
    canonical = codes.canonical(code, CASE_PREFIX)
    if canonical is None:
        return None
    return db.session.scalar(select(Case).where(Case.code == canonical))


def validate_cycle(
    case: Case,
    filmed_on: date,
    shared_review_on: date,
    clips: int,
    principle_codes: list[str],
    note: str | None,
    today: date,
) -> str | None:
    """Check a cycle's facts; returns the screened note."""
    if not case.is_open:
        raise DomainError(f"This case is closed ({case.status_label.lower()}): reopen it to add a cycle")
    if not case.consent_filming:
        raise DomainError(
            "The client has not consented to filming: record their consent under Change case details first",
            field="filmed_on",
        )
    if filmed_on > today:
        raise DomainError("The filming date must be today or in the past", field="filmed_on")
    if filmed_on < case.started_on:
        raise DomainError(
            f"The filming date must be on or after the case started ({case.started_on:%-d %B %Y})", field="filmed_on"
        )
    if case.consent_filming_on is not None and filmed_on < case.consent_filming_on:
        raise DomainError(
            f"The filming date must be on or after consent to filming was given ({case.consent_filming_on:%-d %B %Y})",
            field="filmed_on",
        )
    if shared_review_on > today:
        raise DomainError("The shared review date must be today or in the past", field="shared_review_on")
    if shared_review_on < filmed_on:
        raise DomainError("The shared review must be on or after the day of filming", field="shared_review_on")
    if (shared_review_on - filmed_on).days > 90:
        raise DomainError("The shared review must be within 90 days of filming", field="shared_review_on")
    if not 1 <= clips <= MAX_CLIPS:
        raise DomainError(f"Number of clips must be between 1 and {MAX_CLIPS}", field="clips_count")
    unknown = set(principle_codes) - set(principles().codes)
    if unknown:
        raise DomainError("Select principles from the list", field="principles")
    if note and len(note) > MAX_NOTE:
        raise DomainError(f"The note must be {MAX_NOTE} characters or fewer", field="note")
    return screen(note, "note") or None


def add_cycle(
    actor: User,
    case: Case,
    filmed_on: date,
    shared_review_on: date,
    clips: int,
    principle_codes: list[str],
    note: str | None,
    today: date,
) -> Cycle:
    note = validate_cycle(case, filmed_on, shared_review_on, clips, principle_codes, note, today)
    cycle = Cycle(
        case=case,
        filmed_on=filmed_on,
        shared_review_on=shared_review_on,
        clips_count=clips,
        principles=sorted(principle_codes, key=principles().codes.index),
        note=note,
    )
    db.session.add(cycle)
    db.session.flush()
    audit.record(actor, "cycle.added", cycle, after=audit.snapshot(cycle, "case_id", *CYCLE_FIELDS))
    return cycle


def cycle_is_locked(cycle: Cycle) -> bool:
    """True if the cycle counted toward a stage that has been submitted or finished.

    Removing it then would silently change figures a supervisor has already signed off on.
    """
    open_states = {StageState.NOT_STARTED, StageState.IN_PROGRESS, StageState.RETURNED}
    records = db.session.scalars(
        select(StageRecord)
        .join(Enrolment, Enrolment.id == StageRecord.enrolment_id)
        .where(*_running_on(cycle.case.practitioner_id, cycle.shared_review_on))
    )
    return any(record.state not in open_states for record in records)


def delete_cycle(actor: User, cycle: Cycle) -> None:
    hold(cycle)  # a double click deletes (and records) once
    if cycle_is_locked(cycle):
        raise DomainError(
            "This cycle counts toward a stage that has been submitted or signed off, so it cannot be deleted. "
            "Ask your supervisor to return the stage if it needs correcting."
        )
    before = audit.snapshot(cycle, "case_id", *CYCLE_FIELDS)
    signals.tell(signals.cycle_deleting, cycle)
    db.session.delete(cycle)
    db.session.flush()
    audit.record(actor, "cycle.deleted", ("Cycle", before and cycle.id), before=before)
