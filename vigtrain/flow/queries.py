"""Reading the dated history the training-flow figures are worked out from.

A fixed number of queries, whatever the number of enrolments: each table is read once, in columns
(not objects), and joined up in memory by id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import NamedTuple

from sqlalchemy import ColumnElement, Integer, Select, and_, case, func, literal, or_, select

from vigtrain.casework.models import Case, Cycle
from vigtrain.dates import uk_date
from vigtrain.extensions import db
from vigtrain.flow.figures import EnrolmentFacts, Facts, StageFacts, VersionInfo
from vigtrain.flow.history import Move, StageTimes, Step, stage_times
from vigtrain.flow.models import FlowCurrentStage
from vigtrain.organisations.models import Service
from vigtrain.pathways.models import (
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PathwayVersion,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.pathways.spells import StatusChange, away_spells, paused_spells, withdrawn_on
from vigtrain.supervision.models import SessionStatus, SupervisionSession


def versions() -> dict[int, VersionInfo]:
    found = {}
    for version in db.session.scalars(select(PathwayVersion).order_by(PathwayVersion.name, PathwayVersion.id)):
        stages = tuple((stage.code, stage.name, stage.has_meeting) for stage in version.definition.stages)
        found[version.id] = VersionInfo(version.id, version.label, stages)
    return found


def _status_changes() -> dict[int, list[StatusChange]]:
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    rows = db.session.execute(
        select(
            EnrolmentStatusChange.enrolment_id, EnrolmentStatusChange.status, EnrolmentStatusChange.occurred_at
        ).order_by(EnrolmentStatusChange.id)
    )
    for enrolment_id, status, occurred_at in rows:
        changes[enrolment_id].append(StatusChange(uk_date(occurred_at), status))
    return changes


def _moves() -> dict[int, list[Move]]:
    moves: dict[int, list[Move]] = defaultdict(list)
    rows = db.session.execute(
        select(
            StageTransition.stage_record_id,
            StageTransition.from_state,
            StageTransition.to_state,
            StageTransition.occurred_at,
        ).order_by(StageTransition.id)
    )
    for record_id, from_state, to_state, occurred_at in rows:
        moves[record_id].append(Move(uk_date(occurred_at), from_state, to_state))
    return moves


def _supervision_minutes() -> dict[int, int]:
    """Confirmed supervision per enrolment, up to the day it was accredited (a continuing record's
    later sessions are for renewal, not training)."""
    in_training = or_(Enrolment.completed_on.is_(None), SupervisionSession.session_date <= Enrolment.completed_on)
    rows = db.session.execute(
        select(SupervisionSession.enrolment_id, func.sum(SupervisionSession.duration_minutes))
        .join(Enrolment, Enrolment.id == SupervisionSession.enrolment_id)
        .where(SupervisionSession.status == SessionStatus.CONFIRMED, in_training)
        .group_by(SupervisionSession.enrolment_id)
    )
    return {enrolment_id: int(minutes or 0) for enrolment_id, minutes in rows}


def load_facts(today: date) -> Facts:
    """Every enrolment's and stage record's facts, as of `today` (a stage not started has no times)."""
    facts = Facts(today=today, versions=versions())
    changes = _status_changes()
    moves = _moves()
    minutes = _supervision_minutes()
    enrolments: dict[int, EnrolmentFacts] = {}
    rows = db.session.execute(
        select(
            Enrolment.id,
            Enrolment.pathway_version_id,
            Enrolment.service_id,
            Service.region_id,
            Enrolment.cohort_id,
            Enrolment.start_date,
            Enrolment.status,
            Enrolment.completed_on,
        )
        .outerjoin(Service, Service.id == Enrolment.service_id)
        .order_by(Enrolment.id)
    )
    stage_rows = db.session.execute(
        select(
            StageRecord.id,
            StageRecord.enrolment_id,
            StageRecord.stage_code,
            StageRecord.position,
            StageRecord.is_final,
            StageRecord.state,
            StageRecord.started_on,
        ).order_by(StageRecord.enrolment_id, StageRecord.position)
    ).all()
    meetings: dict[int, int] = defaultdict(int)
    enrolment_of = {row.id: row.enrolment_id for row in stage_rows}
    for record_id, record_moves in moves.items():
        held = sum(1 for move in record_moves if move.from_state is StageState.WITH_ACCREDITOR)
        if held and record_id in enrolment_of:
            meetings[enrolment_of[record_id]] += held
    for enrolment_id, version_id, service_id, region_id, cohort_id, start, status, completed_on in rows:
        history = changes.get(enrolment_id, [])
        enrolments[enrolment_id] = EnrolmentFacts(
            id=enrolment_id,
            version_id=version_id,
            service_id=service_id,
            region_id=region_id,
            cohort_id=cohort_id,
            start_date=start,
            status=status,
            accredited_on=completed_on if status is EnrolmentStatus.COMPLETED else None,
            withdrawn_on=withdrawn_on(status, history),
            paused_spells=tuple(paused_spells(history)),
            away_spells=tuple(away_spells(history)),
            supervision_minutes=minutes.get(enrolment_id, 0),
            meetings=meetings.get(enrolment_id, 0),
        )
    facts.enrolments = list(enrolments.values())
    for record_id, enrolment_id, code, position, is_final, state, started_on in stage_rows:
        enrolment = enrolments[enrolment_id]
        times = (
            stage_times(
                started_on,
                state,
                is_final,
                moves.get(record_id, []),
                today,
                enrolment.away_spells,
                enrolment.withdrawn_on,
            )
            if started_on is not None
            else StageTimes(started=None)
        )
        facts.stages.append(StageFacts(record_id, enrolment, code, position, is_final, state, times))
    return facts


class CurrentStage(NamedTuple):
    """An active enrolment's current stage, with when its trainee last logged a cycle and had
    supervision confirmed: what the stuck-trainee list asks about (a tuple: the page reads
    thousands, and a tuple is quick to make)."""

    enrolment_id: int
    record_id: int
    version_id: int
    stage_code: str
    state: StageState
    state_since: date
    started_on: date | None
    last_cycle: date | None
    last_supervision: date | None
    service_id: int | None
    region_id: int | None
    cohort_id: int | None
    # Days in its current step on `as_of`, from its history (paused days out, every spell of the step
    # counted, as the thresholds count them); None when read without the history.
    step_days: int | None = None
    as_of: date | None = None


def current_stages(facts: Facts) -> Iterator[CurrentStage]:
    """Every active enrolment's current stage, each with its days in its step from `facts`."""
    times = {stage.record_id: stage.times for stage in facts.stages}
    last_cycle = (
        select(Case.practitioner_id.label("trainee_id"), func.max(Cycle.shared_review_on).label("day"))
        .join(Cycle, Cycle.case_id == Case.id)
        .group_by(Case.practitioner_id)
        .subquery()
    )
    last_supervision = (
        select(SupervisionSession.enrolment_id, func.max(SupervisionSession.session_date).label("day"))
        .where(SupervisionSession.status == SessionStatus.CONFIRMED)
        .group_by(SupervisionSession.enrolment_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Enrolment.id,
            StageRecord.id,
            Enrolment.pathway_version_id,
            StageRecord.stage_code,
            StageRecord.state,
            StageRecord.state_since,
            StageRecord.started_on,
            last_cycle.c.day,
            last_supervision.c.day,
            Enrolment.service_id,
            Service.region_id,
            Enrolment.cohort_id,
        )
        .join(StageRecord, and_(StageRecord.enrolment_id == Enrolment.id, StageRecord.is_current.is_(True)))
        .outerjoin(Service, Service.id == Enrolment.service_id)
        .outerjoin(last_cycle, last_cycle.c.trainee_id == Enrolment.trainee_id)
        .outerjoin(last_supervision, last_supervision.c.enrolment_id == Enrolment.id)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .order_by(Enrolment.id)
    )
    for row in rows:
        (enrolment_id, record_id, version_id, code, state, since, started, cycle, supervision, *rest) = row
        history = times.get(record_id)
        step_days = history.days.get(history.current) if history is not None and history.current else None
        yield CurrentStage(
            enrolment_id,
            record_id,
            version_id,
            code,
            state,
            uk_date(since),
            started,
            cycle,
            supervision,
            *rest,
            step_days=step_days,
            as_of=facts.today,
        )


# --- the stuck-trainee list, over the kept current stages ------------------------------------------


def _larger(first: ColumnElement, second: ColumnElement) -> ColumnElement:
    """The larger of two integers, written the same on SQLite and PostgreSQL (no GREATEST there)."""
    return case((first >= second, first), else_=second)


def held_up_columns(today: date, limit_days: int) -> tuple[ColumnElement, ColumnElement]:
    """(whether a kept current stage is held up, the days of its longest hold) on `today`.

    The same test as `services._measures`, in SQL: no cycle while doing the work (for a stage that
    asks for cycles), no confirmed supervision (for one that asks for it), each for `limit_days` or
    more, counted from the later of the last one and the stage's start; or longer in its step than
    the kept threshold.
    """
    kept = FlowCurrentStage
    day = literal(today.toordinal(), Integer)
    since_cycle = day - case((kept.last_cycle > kept.started_on, kept.last_cycle), else_=kept.started_on)
    since_supervision = day - case(
        (kept.last_supervision > kept.started_on, kept.last_supervision), else_=kept.started_on
    )
    in_step = case(
        (
            and_(kept.step_days.is_not(None), kept.as_of.is_not(None)),
            kept.step_days + _larger(day - kept.as_of, literal(0, Integer)),
        ),
        else_=day - case((kept.step == Step.WORK.value, kept.started_on), else_=kept.state_since),
    )
    cycle_held = and_(kept.step == Step.WORK.value, kept.wants_cycles.is_(True), since_cycle >= limit_days)
    supervision_held = and_(kept.wants_supervision.is_(True), since_supervision >= limit_days)
    step_held = and_(kept.threshold.is_not(None), in_step > kept.threshold)
    held = and_(kept.step.is_not(None), kept.started_on.is_not(None), or_(cycle_held, supervision_held, step_held))
    none = literal(-1, Integer)
    days = _larger(
        _larger(case((cycle_held, since_cycle), else_=none), case((supervision_held, since_supervision), else_=none)),
        case((step_held, in_step), else_=none),
    )
    return held, days


def held_up_in_scope(scope: str, today: date, limit_days: int) -> Select:
    """The kept current stages held up in `scope` ("all", "region:3", ...), longest held first, then
    by enrolment: the rows, with their days as `days`."""
    held, days = held_up_columns(today, limit_days)
    query = select(FlowCurrentStage, days.label("days")).where(held)
    kind, _, key = scope.partition(":")
    if kind != "all":
        column = {
            "region": FlowCurrentStage.region_id,
            "service": FlowCurrentStage.service_id,
            "cohort": FlowCurrentStage.cohort_id,
        }[kind]
        query = query.where(column == int(key))
    return query.order_by(days.desc(), FlowCurrentStage.enrolment_id)
