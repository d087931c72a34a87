"""Read-only queries for the cohort pages, the training records list's bulk action and a course
lead's home page. Each page costs the same number of statements however many members it lists."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased

from vigtrain.accounts.models import User
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import UK
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageRecord, StageState

MAX_CHOICES = 200
FINISHED = "Finished"
WITHDRAWN = "Withdrawn"

# Newest first: the intake starting latest (the one still being filled) heads every list.
NEWEST_FIRST = (Cohort.starts_on.desc(), Cohort.id.desc())


def all_cohorts() -> Select:
    return select(Cohort).order_by(*NEWEST_FIRST)


def cohorts_led_by(user: User) -> Select:
    """The cohorts this person is the course lead of, newest first."""
    return select(Cohort).where(Cohort.lead_id == user.id).order_by(*NEWEST_FIRST)


def cohort_choices() -> list[tuple[str, str]]:
    """(id, name) of the newest cohorts, for choosing one on the training records list."""
    rows = db.session.execute(select(Cohort.id, Cohort.name).order_by(*NEWEST_FIRST).limit(MAX_CHOICES))
    return [(str(cohort_id), name) for cohort_id, name in rows]


def member_counts(cohort_ids: Iterable[int]) -> dict[int, int]:
    """How many enrolments each cohort has, by cohort id, in one grouped query."""
    ids = list(cohort_ids)
    if not ids:
        return {}
    query = select(Enrolment.cohort_id, func.count()).where(Enrolment.cohort_id.in_(ids)).group_by(Enrolment.cohort_id)
    return dict(db.session.execute(query).tuples().all())


# --- one cohort -------------------------------------------------------------------------------------


def members(cohort: Cohort) -> Select:
    """The cohort's enrolments by trainee name (their stages load with them, in one more statement)."""
    trainee = aliased(User)
    return (
        select(Enrolment)
        .join(trainee, trainee.id == Enrolment.trainee_id)
        .where(Enrolment.cohort_id == cohort.id)
        .order_by(trainee.display_name, Enrolment.id)
    )


@dataclass(frozen=True)
class MemberRow:
    enrolment: Enrolment
    stage: StageRecord | None  # the current stage; None once every stage is finished
    days_in_state: int | None
    last_activity_on: date


def _uk_date(moment) -> date:
    return moment.astimezone(UK).date()


def member_rows(enrolments: Sequence[Enrolment], on: date) -> list[MemberRow]:
    """Each member with their current stage and how many days it has been in its state on `on`."""
    rows = []
    for enrolment in enrolments:
        stage = next((record for record in enrolment.stages if record.is_current), None)
        days = stage.days_in_state(on) if stage is not None else None
        rows.append(MemberRow(enrolment, stage, days, _uk_date(enrolment.last_activity_at)))
    return rows


@dataclass(frozen=True)
class StageCount:
    """How many members are at one stage (or finished, or withdrawn), and in which states."""

    name: str
    total: int
    states: tuple[tuple[StageState, int], ...] = ()


def stage_counts(cohort: Cohort) -> list[StageCount]:
    """Members by current stage, in the pathway's order, then those finished and those withdrawn.

    Withdrawn trainees are counted apart, so the stages show only people still moving through them.
    """
    current = and_(StageRecord.enrolment_id == Enrolment.id, StageRecord.is_current.is_(True))
    query = (
        select(Enrolment.status, StageRecord.stage_code, StageRecord.state, func.count())
        .select_from(Enrolment)
        .outerjoin(StageRecord, current)
        .where(Enrolment.cohort_id == cohort.id)
        .group_by(Enrolment.status, StageRecord.stage_code, StageRecord.state)
    )
    at_stage: dict[str, Counter[StageState]] = defaultdict(Counter)
    finished = withdrawn = 0
    for status, stage_code, state, count in db.session.execute(query):
        if status == EnrolmentStatus.WITHDRAWN:
            withdrawn += count
        elif stage_code is None:
            finished += count
        else:
            at_stage[stage_code][state] += count
    counts = []
    for stage in cohort.pathway_version.definition.stages:
        states = at_stage[stage.code]
        by_state = tuple((state, states[state]) for state in StageState if states[state])
        counts.append(StageCount(stage.name, sum(states.values()), by_state))
    counts.append(StageCount(FINISHED, finished))
    if withdrawn:
        counts.append(StageCount(WITHDRAWN, withdrawn))
    return counts
