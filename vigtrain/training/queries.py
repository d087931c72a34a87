"""What waits for whom: the queues, a supervisor's trainees and the people a form may offer.

Read-only queries, shared by the queue pages, the home page and the API, so each shows the very
same lists. Every list is one page query plus a fixed number of batch queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, joinedload

from vigtrain.accounts.models import User
from vigtrain.certificates.services import awaiting_issue_query
from vigtrain.extensions import db
from vigtrain.pathways.models import (
    Enrolment,
    EnrolmentStatus,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.pathways.queries import OPEN_ENROLMENT
from vigtrain.training.progress import StageProgress, last_confirmed_supervision, progress_for

# --- queues -------------------------------------------------------------------------------------


def stages_to_sign_off(supervisor: User) -> Select:
    """Stages submitted by this person's trainees, oldest submission first."""
    return (
        select(StageRecord)
        .join(Enrolment, Enrolment.id == StageRecord.enrolment_id)
        .where(
            Enrolment.supervisor_id == supervisor.id,
            Enrolment.status.in_(OPEN_ENROLMENT),
            StageRecord.state == StageState.SUBMITTED,
        )
        .options(joinedload(StageRecord.enrolment, innerjoin=True))
        .order_by(StageRecord.submitted_at, StageRecord.id)
    )


def _asked_at():
    """When the stage was last sent to its accrediting supervisor (for ordering)."""
    return (
        select(func.max(StageTransition.occurred_at))
        .where(
            StageTransition.stage_record_id == StageRecord.id, StageTransition.to_state == StageState.WITH_ACCREDITOR
        )
        .correlate(StageRecord)
        .scalar_subquery()
    )


def stages_to_accredit(accreditor: User) -> Select:
    """Stages this accrediting supervisor has been asked to accredit, longest waiting first."""
    return (
        select(StageRecord)
        .where(StageRecord.accrediting_supervisor_id == accreditor.id, StageRecord.state == StageState.WITH_ACCREDITOR)
        .options(joinedload(StageRecord.enrolment, innerjoin=True))
        .order_by(_asked_at(), StageRecord.id)
    )


def stages_to_ratify() -> Select:
    """Accredited final stages: AVIGuk ratifies them, longest waiting first."""
    return (
        select(StageRecord)
        .where(StageRecord.state == StageState.ACCREDITED, StageRecord.is_final)
        .options(joinedload(StageRecord.enrolment, innerjoin=True), joinedload(StageRecord.accrediting_supervisor))
        .order_by(StageRecord.accredited_at, StageRecord.id)
    )


def stages_needing_accreditor() -> Select:
    """Stages signed off by the personal supervisor and waiting for an accrediting supervisor."""
    return (
        select(StageRecord)
        .where(StageRecord.state == StageState.SIGNED_OFF)
        .options(joinedload(StageRecord.enrolment, innerjoin=True))
        .order_by(StageRecord.signed_off_at, StageRecord.id)
    )


def count(query: Select) -> int:
    """How many rows a queue query returns, counting ids only (no eager loads, no ordering)."""
    return db.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))


def first(query: Select, limit: int) -> list:
    return list(db.session.scalars(query.limit(limit)).unique())


def asked_dates(records: Sequence[StageRecord]) -> dict[int, datetime]:
    """When each stage was sent to its accrediting supervisor, in one query."""
    if not records:
        return {}
    rows = db.session.execute(
        select(StageTransition.stage_record_id, func.max(StageTransition.occurred_at))
        .where(
            StageTransition.stage_record_id.in_([record.id for record in records]),
            StageTransition.to_state == StageState.WITH_ACCREDITOR,
        )
        .group_by(StageTransition.stage_record_id)
    )
    return dict(rows.tuples().all())


@dataclass(frozen=True)
class TraineeRow:
    enrolment: Enrolment
    stage: StageProgress | None  # the current stage (None once every stage is finished)
    last_supervision: date | None


def trainee_rows(enrolments: Sequence[Enrolment]) -> list[TraineeRow]:
    """Each enrolment with its current stage's progress and last confirmed supervision: fixed queries."""
    progress = progress_for(enrolments, current_only=True)
    last = last_confirmed_supervision([enrolment.id for enrolment in enrolments])
    rows = []
    for enrolment in enrolments:
        current = enrolment.current_stage
        stage = next((p for p in progress[enrolment.id] if current is not None and p.record.id == current.id), None)
        rows.append(TraineeRow(enrolment, stage, last.get(enrolment.id)))
    return rows


# --- what the home page shows each role -------------------------------------------------------------


def own_training(trainee: User) -> tuple[list[TraineeRow], dict[int, StageTransition]]:
    """The trainee's open and completed enrolments with current-stage progress, and the latest
    return of each current stage that was sent back (its comments are what to do next)."""
    enrolments = list(
        db.session.scalars(
            select(Enrolment)
            .where(
                Enrolment.trainee_id == trainee.id,
                Enrolment.status.in_([*OPEN_ENROLMENT, EnrolmentStatus.COMPLETED]),
            )
            .order_by(Enrolment.start_date, Enrolment.id)
        )
    )
    rows = trainee_rows(enrolments)
    returned_ids = [row.stage.record.id for row in rows if row.stage and row.stage.record.state is StageState.RETURNED]
    returned: dict[int, StageTransition] = {}
    if returned_ids:
        for transition in db.session.scalars(
            select(StageTransition)
            .where(StageTransition.stage_record_id.in_(returned_ids), StageTransition.to_state == StageState.RETURNED)
            .order_by(StageTransition.id)
        ):
            returned[transition.stage_record_id] = transition  # the latest return wins
    return rows, returned


# --- a service lead's staff ----------------------------------------------------------------------


def service_staff(service_id: int) -> Select:
    """Active and paused enrolments held at one service, by trainee name: a service lead's staff in training.

    The caller passes the lead's own service, so nobody reads another service's people.
    """
    trainee = aliased(User)
    return (
        select(Enrolment)
        .join(trainee, trainee.id == Enrolment.trainee_id)
        .where(Enrolment.service_id == service_id, Enrolment.status.in_(OPEN_ENROLMENT))
        .order_by(trainee.display_name, Enrolment.id)
    )


# What a current stage waits on, by state; "{ago}" reads "12 days ago", "{days}" reads "12 days".
WAITING_WORDS = {
    StageState.IN_PROGRESS: "In progress with the trainee for {days}",
    StageState.RETURNED: "Returned to the trainee {ago}",
    StageState.SUBMITTED: "Submitted to supervisor {ago}",
    StageState.SIGNED_OFF: "Waiting {days} for an accrediting supervisor",
    StageState.WITH_ACCREDITOR: "With accrediting supervisor for {days}",
}
AWAITING_RATIFICATION = "Waiting {days} for AVIGuk to ratify"


def waiting_on(rows: Sequence[TraineeRow], on: date) -> dict[int, str]:
    """What each enrolment waits on and for how long, by enrolment id, from the stages already loaded.

    A record whose every stage is finished waits on AVIGuk while its final stage is accredited.
    Stages not started yet wait on nobody and have no entry.
    """
    waiting = {}
    for row in rows:
        if row.stage is not None:
            record, words = row.stage.record, WAITING_WORDS.get(row.stage.record.state)
        else:
            record = next((stage for stage in row.enrolment.stages if stage.is_final), None)
            ratifying = record is not None and record.state is StageState.ACCREDITED
            words = AWAITING_RATIFICATION if ratifying else None
        if words is not None:
            days = record.days_in_state(on)
            span = "less than a day" if days == 0 else f"{days} day{'' if days == 1 else 's'}"
            waiting[row.enrolment.id] = words.format(days=span, ago="today" if days == 0 else f"{span} ago")
    return waiting


def ratified_without_certificate() -> Select:
    """Ratified final stages whose accreditation certificate is not issued yet, longest waiting first.

    Narrowed from the certificate issue queue, so both pages agree on what is still to issue.
    """
    return (
        awaiting_issue_query()
        .where(StageRecord.is_final.is_(True))
        .order_by(None)
        .order_by(StageRecord.ratified_at, StageRecord.id)
    )
