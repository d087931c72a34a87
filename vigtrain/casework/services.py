"""Cases and cycles: creating them, checking them, and who owns what."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from vigtrain import audit, codes
from vigtrain.accounts.models import User
from vigtrain.casework.models import AgeBand, Case, Cycle, Population, Relationship
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.organisations.models import Region
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import Enrolment, StageRecord, StageState
from vigtrain.screening import screen

CASE_PREFIX = "VC"
CASE_FIELDS = ("code", "relationship_type", "child_age_band", "population", "region_id", "service_id")
CYCLE_FIELDS = ("filmed_on", "shared_review_on", "clips_count", "principles", "note")
MAX_CLIPS = 60
MAX_NOTE = 500


def create_case(
    practitioner: User, relationship: Relationship, age_band: AgeBand, population: Population, region: Region
) -> Case:
    """A new case with a fresh system-generated code; the client is never named."""
    for _ in range(5):
        case = Case(
            code=codes.generate(CASE_PREFIX),
            practitioner=practitioner,
            service_id=practitioner.service_id,
            relationship_type=relationship,
            child_age_band=age_band,
            population=population,
            region=region,
        )
        try:
            with db.session.begin_nested():
                db.session.add(case)
                db.session.flush()
        except IntegrityError:
            continue  # the random code was taken: draw another
        audit.record(practitioner, "case.created", case, after=audit.snapshot(case, *CASE_FIELDS))
        return case
    raise RuntimeError("could not allocate a unique case code")


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
    if filmed_on > today:
        raise DomainError("The filming date must be today or in the past", field="filmed_on")
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
        .where(Enrolment.trainee_id == cycle.case.practitioner_id)
        .where(StageRecord.started_on.is_not(None), StageRecord.started_on <= cycle.shared_review_on)
        .where(or_(StageRecord.ended_on.is_(None), StageRecord.ended_on > cycle.shared_review_on))
    )
    return any(record.state not in open_states for record in records)


def delete_cycle(actor: User, cycle: Cycle) -> None:
    if cycle_is_locked(cycle):
        raise DomainError(
            "This cycle counts toward a stage that has been submitted or signed off, so it cannot be deleted. "
            "Ask your supervisor to return the stage if it needs correcting."
        )
    before = audit.snapshot(cycle, "case_id", *CYCLE_FIELDS)
    db.session.delete(cycle)
    db.session.flush()
    audit.record(actor, "cycle.deleted", ("Cycle", before and cycle.id), before=before)
