"""Each stage's requirements measured against its targets, for one or many enrolments at once.

A cycle counts toward the stage that was current on its shared-review date; a client counts as
new in the stage of its first cycle; only supervision confirmed by a supervisor counts; a case
with paired pre and post outcome data (any measure) counts toward the stage current on the date
of its earliest post measure; a cycle counts as reviewed in the stage of a confirmed supervision
session that reviewed its film (each cycle once). Stage
windows are half-open, [started_on, ended_on): the day a stage ends belongs to the next one.
The work is a fixed number of queries however many enrolments are asked about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from vigtrain.casework.models import Case, Cycle
from vigtrain.dcs.models import CaseOutcome
from vigtrain.extensions import db
from vigtrain.pathways.definitions import UNITS, Requirement, RequirementKind, Stage
from vigtrain.pathways.models import Assessment, AssessmentKind, Enrolment, StageRecord, StageState
from vigtrain.supervision.models import SessionStatus, SupervisionReview, SupervisionSession


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


@dataclass(frozen=True)
class RequirementStatus:
    requirement: Requirement
    value: float
    met: bool
    exempt: bool = False

    @property
    def kind(self) -> RequirementKind:
        return self.requirement.kind

    @property
    def title(self) -> str:
        return self.requirement.title

    @property
    def percent(self) -> int:
        if self.met or self.exempt:
            return 100
        if not self.requirement.counted:
            return 0
        return min(100, int(100 * self.value / self.requirement.target))

    @property
    def figure(self) -> str:
        """How far, in words that read right either side of the target: '4 of 6 cycles' or
        '5 h of 7 h confirmed' while short of it; '2 clients needed: 3 so far, done' once met."""
        if self.exempt:
            return "Exempt (prior learning)"
        if not self.requirement.counted:
            return "Done" if self.met else "Not done yet"
        target, value = self.requirement.target, self.value
        if self.kind is RequirementKind.SUPERVISION_HOURS:
            if self.met:
                return f"{_number(target)} h needed: {_number(value)} h confirmed, done"
            return f"{_number(value)} h of {_number(target)} h confirmed"
        singular, plural = UNITS[self.kind]
        if self.met:
            return f"{_number(target)} {plural if target != 1 else singular} needed: {_number(value)} so far, done"
        return f"{_number(value)} of {_number(target)} {plural if target != 1 else singular}"

    @property
    def left(self) -> str | None:
        """What is still to do, in plain words (None when met)."""
        if self.met or self.exempt:
            return None
        kind = self.kind
        if kind is RequirementKind.SELF_ASSESSMENT:
            return "Complete your self-assessment against the attunement principles"
        if kind is RequirementKind.SUPERVISOR_ASSESSMENT:
            return "Your supervisor completes their assessment against the attunement principles"
        if kind is RequirementKind.REFLECTIVE_STATEMENT:
            return "Write or upload your reflective statement"
        missing = self.requirement.target - self.value
        if kind is RequirementKind.SUPERVISION_HOURS:
            return f"{_number(missing)} more hours of supervision confirmed by your supervisor"
        if kind is RequirementKind.COURSE_ATTENDANCE:
            return f"{_number(missing)} more course sessions confirmed as attended"
        singular, plural = UNITS[kind]
        noun = singular if missing == 1 else plural
        return {
            RequirementKind.CYCLES: f"{_number(missing)} more VIG {noun} with a shared review",
            RequirementKind.NEW_CLIENTS: f"{_number(missing)} more new {noun} (a client new in this stage)",
            RequirementKind.SUPERVISION_SESSIONS: f"{_number(missing)} more confirmed supervision {noun}",
            RequirementKind.DCS_PAIRED_CASES: f"{_number(missing)} more {noun} with pre and post outcome data",
            RequirementKind.CYCLES_REVIEWED: f"{_number(missing)} more {noun} reviewed in confirmed supervision",
        }[kind]


@dataclass
class StageProgress:
    record: StageRecord
    stage: Stage
    requirements: list[RequirementStatus] = field(default_factory=list)

    @property
    def all_met(self) -> bool:
        return all(status.met or status.exempt for status in self.requirements)

    @property
    def unmet(self) -> list[RequirementStatus]:
        return [status for status in self.requirements if not (status.met or status.exempt)]

    @property
    def percent(self) -> int:
        if self.record.finished:
            return 100
        if not self.requirements:
            return 0
        return round(sum(status.percent for status in self.requirements) / len(self.requirements))

    def status_for(self, kind: RequirementKind) -> RequirementStatus | None:
        return next((status for status in self.requirements if status.kind is kind), None)


def overall_percent(stages: Sequence[StageProgress]) -> int:
    """How far through the whole pathway: the mean of its stages' percentages."""
    return round(sum(stage.percent for stage in stages) / len(stages)) if stages else 0


def _records(enrolment: Enrolment, current_only: bool) -> list[StageRecord]:
    if not current_only:
        return list(enrolment.stages)
    current = enrolment.current_stage
    return [current] if current is not None else []


def progress_for(enrolments: Sequence[Enrolment], current_only: bool = False) -> dict[int, list[StageProgress]]:
    """Progress of every stage of each enrolment (or only its current stage), keyed by enrolment id.

    A list of trainees shows each one's current stage: worked out for every stage, a heavy
    supervisor's list spent most of its time on stages it does not show.
    """
    if not enrolments:
        return {}
    trainee_ids = {enrolment.trainee_id for enrolment in enrolments}
    enrolment_ids = [enrolment.id for enrolment in enrolments]
    records_of = {enrolment.id: _records(enrolment, current_only) for enrolment in enrolments}
    record_ids = [record.id for records in records_of.values() for record in records]

    cycles_by_trainee: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for trainee_id, case_id, shared_review_on in db.session.execute(
        select(Case.practitioner_id, Case.id, Cycle.shared_review_on)
        .join(Cycle, Cycle.case_id == Case.id)
        .where(Case.practitioner_id.in_(trainee_ids))
    ):
        cycles_by_trainee[trainee_id].append((case_id, shared_review_on))

    paired_by_trainee: dict[int, list[date]] = defaultdict(list)
    for trainee_id, paired_on in db.session.execute(
        select(CaseOutcome.practitioner_id, func.min(CaseOutcome.post_on))
        .where(CaseOutcome.practitioner_id.in_(trainee_ids))
        .where(CaseOutcome.pre.is_not(None), CaseOutcome.post.is_not(None))
        .group_by(CaseOutcome.practitioner_id, CaseOutcome.case_id)
    ):
        paired_by_trainee[trainee_id].append(paired_on)

    reviewed: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for enrolment_id, session_date, cycle_id in db.session.execute(
        select(SupervisionSession.enrolment_id, SupervisionSession.session_date, SupervisionReview.cycle_id)
        .join(SupervisionReview, SupervisionReview.session_id == SupervisionSession.id)
        .where(SupervisionSession.enrolment_id.in_(enrolment_ids))
        .where(SupervisionSession.status == SessionStatus.CONFIRMED, SupervisionReview.cycle_id.is_not(None))
    ):
        reviewed[enrolment_id].append((session_date, cycle_id))

    supervision: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for enrolment_id, session_date, minutes in db.session.execute(
        select(SupervisionSession.enrolment_id, SupervisionSession.session_date, SupervisionSession.duration_minutes)
        .where(SupervisionSession.enrolment_id.in_(enrolment_ids))
        .where(SupervisionSession.status == SessionStatus.CONFIRMED)
    ):
        supervision[enrolment_id].append((session_date, minutes))

    assessed: set[tuple[int, AssessmentKind]] = set(
        db.session.execute(
            select(Assessment.stage_record_id, Assessment.kind).where(Assessment.stage_record_id.in_(record_ids))
        ).tuples()
    )

    result: dict[int, list[StageProgress]] = {}
    for enrolment in enrolments:
        cycles = cycles_by_trainee.get(enrolment.trainee_id, [])
        first_cycle: dict[int, date] = {}
        for case_id, day in cycles:
            if case_id not in first_cycle or day < first_cycle[case_id]:
                first_cycle[case_id] = day
        stages = []
        for record in records_of[enrolment.id]:
            stage = enrolment.pathway.stage(record.stage_code)
            sessions = [minutes for day, minutes in supervision.get(enrolment.id, []) if record.covers(day)]
            values = {
                RequirementKind.CYCLES: sum(1 for _, day in cycles if record.covers(day)),
                RequirementKind.NEW_CLIENTS: sum(1 for day in first_cycle.values() if record.covers(day)),
                RequirementKind.SUPERVISION_HOURS: round(sum(sessions) / 60, 2),
                RequirementKind.SUPERVISION_SESSIONS: len(sessions),
                RequirementKind.COURSE_ATTENDANCE: record.course_sessions_attended,
                RequirementKind.SELF_ASSESSMENT: float((record.id, AssessmentKind.SELF) in assessed),
                RequirementKind.SUPERVISOR_ASSESSMENT: float((record.id, AssessmentKind.SUPERVISOR) in assessed),
                RequirementKind.REFLECTIVE_STATEMENT: float(record.has_statement),
                RequirementKind.DCS_PAIRED_CASES: sum(
                    1 for day in paired_by_trainee.get(enrolment.trainee_id, []) if record.covers(day)
                ),
                # Each cycle once, however many sessions in the stage reviewed it.
                RequirementKind.CYCLES_REVIEWED: len(
                    {cycle_id for day, cycle_id in reviewed.get(enrolment.id, []) if record.covers(day)}
                ),
            }
            statuses = []
            for requirement in stage.active_requirements:
                value = values[requirement.kind]
                met = value >= requirement.target if requirement.counted else bool(value)
                statuses.append(RequirementStatus(requirement, value, met, exempt=record.state is StageState.EXEMPT))
            stages.append(StageProgress(record=record, stage=stage, requirements=statuses))
        result[enrolment.id] = stages
    return result


def stage_progress(record: StageRecord) -> StageProgress:
    """Progress of one stage (computes its enrolment's, a fixed number of queries)."""
    for progress in progress_for([record.enrolment])[record.enrolment_id]:
        if progress.record.id == record.id:
            return progress
    raise KeyError(record.id)


def last_confirmed_supervision(enrolment_ids: Sequence[int]) -> dict[int, date]:
    """The most recent confirmed supervision date per enrolment, in one query."""
    if not enrolment_ids:
        return {}
    rows = db.session.execute(
        select(SupervisionSession.enrolment_id, func.max(SupervisionSession.session_date))
        .where(SupervisionSession.enrolment_id.in_(enrolment_ids))
        .where(SupervisionSession.status == SessionStatus.CONFIRMED)
        .group_by(SupervisionSession.enrolment_id)
    )
    return dict(rows.tuples().all())
