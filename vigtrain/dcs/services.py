"""Recording outcome measures against a case, keeping each case's outcomes current, and feedback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, exists, func, insert, select, update

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.casework import signals
from vigtrain.casework.models import Case
from vigtrain.dates import utcnow
from vigtrain.dcs import reports
from vigtrain.dcs.measures import Measure, get_measure, library
from vigtrain.dcs.models import (
    TIMEPOINT_ORDER,
    Administration,
    CaseOutcome,
    MeasureInvitation,
    ReportCell,
    ReportGrain,
    ReportRefresh,
    Timepoint,
)
from vigtrain.dcs.outcomes import Change, classify
from vigtrain.dcs.scoring import score
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.links import path_for
from vigtrain.locks import hold, hold_name
from vigtrain.notifications.inbox import notify, settle
from vigtrain.notifications.models import NotificationKind
from vigtrain.pathways.models import Enrolment, EnrolmentStatus

ADMINISTRATION_FIELDS = (
    "case_id",
    "measure_code",
    "measure_version",
    "timepoint",
    "administered_on",
    "total",
    "band",
    "invitation_id",
)
CONTEXT_FIELDS = (
    "practitioner_id",
    "service_id",
    "region_id",
    "population",
    "relationship_type",
    "child_age_band",
    "stage_number",
    "consent_dcs",
    "status",
)


def _administrations(case: Case, measure: Measure) -> list[Administration]:
    """The case's administrations of one measure, whichever version each was scored with."""
    return list(
        db.session.scalars(
            select(Administration).where(Administration.case_id == case.id, Administration.measure_code == measure.code)
        )
    )


def measure_or_error(code: str) -> Measure:
    measure = get_measure(code or "")
    if measure is None:
        raise DomainError("Select a measure from the list", field="measure")
    return measure


def check_date(case: Case, timepoint: Timepoint, administered_on: date, today: date) -> None:
    """A measure belongs inside its case: not in the future, and in timepoint order with the others."""
    if administered_on > today:
        raise DomainError("The date must be today or in the past", field="administered_on")
    if administered_on < case.started_on:
        raise DomainError(
            f"The date must be on or after the case started ({case.started_on:%-d %B %Y})", field="administered_on"
        )
    if timepoint is not Timepoint.FOLLOW_UP and case.ended_on and administered_on > case.ended_on:
        raise DomainError(
            f"The date must be on or before the case ended ({case.ended_on:%-d %B %Y}). "
            "Record measures after the end as follow-up.",
            field="administered_on",
        )


def check_order(timepoint: Timepoint, administered_on: date, others: Mapping[Timepoint, date]) -> None:
    """Pre comes first, then mid, then post, then follow-up (the same day is allowed)."""
    position = TIMEPOINT_ORDER.index(timepoint)
    for other, day in others.items():
        other_position = TIMEPOINT_ORDER.index(other)
        if other_position < position and administered_on < day:
            raise DomainError(
                f"The {timepoint.value} date must not be before the {other.value} date ({day:%-d %B %Y})",
                field="administered_on",
            )
        if other_position > position and administered_on > day:
            raise DomainError(
                f"The {timepoint.value} date must not be after the {other.value} date ({day:%-d %B %Y})",
                field="administered_on",
            )


def record_administration(
    actor: User,
    case: Case,
    measure_code: str,
    timepoint: Timepoint,
    administered_on: date,
    responses: Mapping[str, int | None],
    today: date,
    *,
    invitation: MeasureInvitation | None = None,
) -> Administration:
    """Score and keep one completed measure; a positive risk item alerts the practitioner's supervisor.

    With `invitation`, the client answered alone on their own phone through that link: `actor` is the
    practitioner who sent it (answerable for the record, and its `entered_by`), the audit trail names
    no person (the client has no account), and the practitioner is alerted too, as nobody was there to
    see the flag.
    """
    measure = measure_or_error(measure_code)
    check_date(case, timepoint, administered_on, today)
    existing = {row.timepoint: row.administered_on for row in _administrations(case, measure)}
    if timepoint in existing:
        raise DomainError(
            f"{measure.code} has already been recorded at {timepoint.value} for this case. "
            "Delete that one first if it needs correcting.",
            field="timepoint",
        )
    check_order(timepoint, administered_on, existing)
    result = score(measure, responses)
    administration = Administration(
        case_id=case.id,
        measure_code=measure.code,
        measure_version=measure.version,
        timepoint=timepoint,
        administered_on=administered_on,
        responses={key: value for key, value in responses.items() if value is not None},
        total=result.total,
        raw=result.raw,
        subscales=dict(result.subscales),
        band=result.band,
        flags=[{"code": flag.code, "message": flag.message, "item": flag.item} for flag in result.flags],
        prorated=result.prorated,
        entered_by_id=actor.id,
        invitation_id=invitation.id if invitation is not None else None,
    )
    db.session.add(administration)
    db.session.flush()
    audit.record(
        actor if invitation is None else None,
        "administration.recorded",
        administration,
        after=audit.snapshot(administration, *ADMINISTRATION_FIELDS),
    )
    refresh_outcome(case, measure)
    if result.flags:
        _alert_risk(case, administration, measure)
    if timepoint is Timepoint.POST:
        settle(f"case:{case.id}:{measure.code}", (NotificationKind.POST_MEASURE_DUE,))
    return administration


def delete_administration(actor: User, administration: Administration) -> None:
    hold(administration)  # a double click deletes (and records) once
    case, measure = administration.case, measure_or_error(administration.measure_code)
    before = audit.snapshot(administration, *ADMINISTRATION_FIELDS)
    administration_id = administration.id
    db.session.delete(administration)
    db.session.flush()
    audit.record(actor, "administration.deleted", ("Administration", administration_id), before=before)
    refresh_outcome(case, measure)


def supervisors_to_alert(case: Case) -> list[User]:
    """The practitioner's personal supervisors on active enrolments: who hears of a risk item."""
    return list(
        db.session.scalars(
            select(User)
            .join(Enrolment, Enrolment.supervisor_id == User.id)
            .where(Enrolment.trainee_id == case.practitioner_id, Enrolment.status == EnrolmentStatus.ACTIVE)
            .where(User.is_active_flag.is_(True))
            .distinct()
        )
    )


def _alert_risk(case: Case, administration: Administration, measure: Measure) -> None:
    """Tell each active personal supervisor, by case code only, so they can support the practitioner.

    When the client answered alone through a link, tell the practitioner as well: in a session they
    see the flag on the screen, but here nobody saw it. Risk alerts are always emailed at once,
    whatever a person chose for other notifications.
    """
    items = ", ".join(flag["message"] for flag in administration.flags)
    practitioner = case.practitioner
    supervisors = supervisors_to_alert(case)
    on = f"{administration.administered_on:%-d %B %Y}"
    answered = f"{measure.code} ({administration.timepoint.value}) for case {case.code} on {on}"
    link = path_for("casework.show_case", code=case.code)
    subject = f"administration:{administration.id}"
    if administration.self_completed and practitioner.is_active_flag:
        told = ""
        if supervisors:
            names = " and ".join(supervisor.display_name for supervisor in supervisors)
            told = f"\n\n{names} {'has' if len(supervisors) == 1 else 'have'} been told as well."
        notify(
            practitioner,
            NotificationKind.RISK_ALERT,
            subject,
            "risk",
            f"Risk item answered on case {case.code}: act now",
            (
                f"The client answered {answered} on their own phone, using the link you gave them, and a risk "
                f"item was answered:\n\n{items}\n\n"
                "Follow your service's safeguarding procedure now. vigtrain showed the client where to get urgent "
                f"help, and sent them nothing else.{told}"
            ),
            link,
        )
    if administration.self_completed:
        what = (
            f"The client of {practitioner.display_name}'s case answered {answered} on their own phone, using a "
            f"link {practitioner.display_name} gave them"
        )
        asked = "has been told by email and asked"
    else:
        what, asked = f"{practitioner.display_name} recorded {answered}", "has been asked"
    for supervisor in supervisors:
        notify(
            supervisor,
            NotificationKind.RISK_ALERT,
            subject,
            "risk",
            f"Risk item answered on case {case.code}",
            (
                f"{what}, and a risk item was answered:\n\n{items}\n\n"
                f"The practitioner {asked} to follow their service's safeguarding procedure. You may want to "
                "check in with them and make sure they are supported."
            ),
            path_for("training.my_trainees"),
        )


def baseline_measure(current: Measure, rows: list[Administration]) -> Measure:
    """The version of the measure a case's change is judged by: the one its baseline was scored with.

    A newer data file (a revised cut-off or reliable change threshold) applies to cases that start
    on it; results already given never change silently. The baseline is the pre score, or the
    earliest administration where there is none.
    """
    if not rows:
        return current
    baseline = min(rows, key=lambda row: TIMEPOINT_ORDER.index(row.timepoint))
    return get_measure(current.code, baseline.measure_version) or current


def refresh_outcome(case: Case, measure: Measure) -> CaseOutcome | None:
    """Recompute the case's row for one measure from its administrations (or remove it if none are left)."""
    rows = {row.timepoint: row for row in _administrations(case, measure)}
    outcome = db.session.scalar(
        select(CaseOutcome).where(CaseOutcome.case_id == case.id, CaseOutcome.measure_code == measure.code)
    )
    if not rows:
        if outcome is not None:
            db.session.delete(outcome)
            db.session.flush()
        return None
    if outcome is None:
        outcome = CaseOutcome(case_id=case.id, measure_code=measure.code)
        db.session.add(outcome)
    for name in CONTEXT_FIELDS:
        setattr(outcome, name, getattr(case, name))
    pre, post, follow_up = rows.get(Timepoint.PRE), rows.get(Timepoint.POST), rows.get(Timepoint.FOLLOW_UP)
    measure = baseline_measure(measure, list(rows.values()))
    outcome.pre, outcome.pre_on = (pre.total, pre.administered_on) if pre else (None, None)
    outcome.post, outcome.post_on = (post.total, post.administered_on) if post else (None, None)
    outcome.follow_up = follow_up.total if follow_up else None
    change = classify(measure, pre.total, post.total) if pre and post else None
    outcome.change = change.change if change else None
    outcome.classification = change.classification.value if change else None
    outcome.pre_case = measure.is_case(pre.total) if pre else None
    outcome.recovery = change.recovery if change else None
    outcome.reliable_recovery = change.reliable_recovery if change else None
    db.session.flush()
    return outcome


# Held by the refresh and by a withdrawal of consent: a withdrawal during a refresh waits for it and then
# drops what it kept, and a refresh during a withdrawal waits for it and then reads the consent withdrawn.
# Without it a withdrawal could delete the cells the refresh was replacing, not the ones it inserted.
REPORT_CELLS_LOCK = "dcs-report-cells"


def refresh_report_cells(now: datetime | None = None) -> int:
    """Add up the consented outcome rows again for the national and regional reports, in place of the
    sums kept last; returns how many cells were kept. A few statements, each one pass over the rows."""
    hold_name(REPORT_CELLS_LOCK)
    db.session.execute(delete(ReportCell))
    db.session.execute(delete(ReportRefresh))
    for grain in ReportGrain:
        db.session.execute(insert(ReportCell).from_select(reports.cell_columns(grain), reports.cells_select(grain)))
    cells = db.session.scalar(select(func.count()).select_from(ReportCell)) or 0
    db.session.add(ReportRefresh(refreshed_at=now or utcnow(), cells=cells))
    db.session.flush()
    return cells


def forget_report_cells() -> None:
    """Drop the kept sums, so that reports are worked out from the outcome rows until the next refresh:
    a case whose client withdrew consent must leave every report at once, not within the hour."""
    hold_name(REPORT_CELLS_LOCK)
    db.session.execute(delete(ReportCell))
    db.session.execute(delete(ReportRefresh))


@signals.case_changed.connect
def refresh_case_context(case: Case) -> None:
    """Copy the case's context (consent, region, population...) onto its outcome rows after an edit."""
    db.session.flush()
    withdrawn = not case.consent_dcs and db.session.scalar(
        select(exists().where(CaseOutcome.case_id == case.id, CaseOutcome.consent_dcs.is_(True)))
    )
    if withdrawn:
        forget_report_cells()
    db.session.execute(
        update(CaseOutcome)
        .where(CaseOutcome.case_id == case.id)
        .values({name: getattr(case, name) for name in CONTEXT_FIELDS})
    )


@signals.first_measure_on.connect
def first_administered_on(case: Case) -> date | None:
    """The case's first outcome measure: the case's start may not move past it."""
    return db.session.scalar(select(func.min(Administration.administered_on)).where(Administration.case_id == case.id))


@signals.last_measure_on.connect
def last_administered_on(case: Case) -> date | None:
    """The case's last outcome measure other than a follow-up: the case may not end before it."""
    return db.session.scalar(
        select(func.max(Administration.administered_on))
        .where(Administration.case_id == case.id)
        .where(Administration.timepoint != Timepoint.FOLLOW_UP)
    )


@dataclass
class GoalProgress:
    goal: str
    first: float | None
    last: float | None

    @property
    def change(self) -> float | None:
        return None if self.first is None or self.last is None else self.last - self.first


@dataclass
class MeasureFeedback:
    """What one measure says about one case: its administrations in order and the change pre to post."""

    measure: Measure
    administrations: list[Administration]
    change: Change | None = None
    goals: list[GoalProgress] = field(default_factory=list)

    def at(self, timepoint: Timepoint | str) -> Administration | None:
        timepoint = Timepoint(timepoint)
        return next((row for row in self.administrations if row.timepoint is timepoint), None)

    @property
    def flagged(self) -> list[Administration]:
        return [row for row in self.administrations if row.flags]

    @property
    def consider_further_input(self) -> bool:
        """A post score still at or above caseness: prompt the practitioner to consider further help."""
        post = self.at(Timepoint.POST)
        return bool(post is not None and self.measure.is_case(post.total))


def case_feedback(case: Case) -> list[MeasureFeedback]:
    """Feedback on every measure recorded for the case, in the library's order."""
    by_measure: dict[str, list[Administration]] = {}
    for row in db.session.scalars(select(Administration).where(Administration.case_id == case.id)):
        by_measure.setdefault(row.measure_code, []).append(row)
    feedback = []
    for code, measure in library().items():
        rows = sorted(by_measure.get(code, []), key=lambda row: TIMEPOINT_ORDER.index(row.timepoint))
        if not rows:
            continue
        item = MeasureFeedback(baseline_measure(measure, rows), rows)
        pre, post = item.at(Timepoint.PRE), item.at(Timepoint.POST)
        if pre and post:
            item.change = classify(item.measure, pre.total, post.total)
        if measure.code == "GBO":
            goals = sorted({key for row in rows for key in row.subscales})
            item.goals = [
                GoalProgress(
                    goal,
                    next((row.subscales[goal] for row in rows if goal in row.subscales), None),
                    next((row.subscales[goal] for row in reversed(rows) if goal in row.subscales), None),
                )
                for goal in goals
            ]
        feedback.append(item)
    return feedback


def recorded_timepoints(case: Case) -> dict[str, set[Timepoint]]:
    """Which timepoints each measure already has, so the entry form can steer away from duplicates."""
    recorded: dict[str, set[Timepoint]] = {}
    for code, timepoint in db.session.execute(
        select(Administration.measure_code, Administration.timepoint).where(Administration.case_id == case.id)
    ):
        recorded.setdefault(code, set()).add(timepoint)
    return recorded
