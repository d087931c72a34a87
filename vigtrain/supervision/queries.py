"""Read-only lists of supervision for pages and the API: logs, the confirmation queue, choices."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import aliased, defaultload, lazyload
from sqlalchemy.orm.interfaces import LoaderOption

from vigtrain.accounts.models import User
from vigtrain.casework.models import Case, CaseStatus, Cycle
from vigtrain.dates import format_date
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageRecord
from vigtrain.pathways.queries import listed_by_name
from vigtrain.security import can_log_supervision
from vigtrain.supervision.models import SessionFormat, SessionStatus, SupervisionReview, SupervisionSession

# How every log lists sessions: the latest first.
NEWEST_FIRST = (
    SupervisionSession.session_date.desc(),
    SupervisionSession.start_time.desc(),
    SupervisionSession.id.desc(),
)


def log_query(
    enrolment: Enrolment,
    status: SessionStatus | None = None,
    session_format: SessionFormat | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Select:
    """An enrolment's sessions, newest first, filtered."""
    query = select(SupervisionSession).where(SupervisionSession.enrolment_id == enrolment.id)
    if status is not None:
        query = query.where(SupervisionSession.status == status)
    if session_format is not None:
        query = query.where(SupervisionSession.format == session_format)
    if date_from is not None:
        query = query.where(SupervisionSession.session_date >= date_from)
    if date_to is not None:
        query = query.where(SupervisionSession.session_date <= date_to)
    return query.order_by(*NEWEST_FIRST)


def own_and_led_query(user: User, status: SessionStatus | None = None) -> Select:
    """The sessions in the user's own training records and the sessions they led as supervisor, newest first.

    What is theirs without naming a record: a trainee's own log, a supervisor's sessions to confirm.
    """
    query = (
        select(SupervisionSession)
        .join(SupervisionSession.enrolment)
        .where(or_(Enrolment.trainee_id == user.id, SupervisionSession.supervisor_id == user.id))
    )
    if status is not None:
        query = query.where(SupervisionSession.status == status)
    return query.order_by(*NEWEST_FIRST)


def _awaiting_confirmation() -> tuple:
    """A session waits for its supervisor's confirmation: logged, and not on the supervisor's own record.

    Join `SupervisionSession.enrolment` to use it.
    """
    return (SupervisionSession.status == SessionStatus.LOGGED, Enrolment.trainee_id != SupervisionSession.supervisor_id)


def queue_query(supervisor: User) -> Select:
    """Sessions awaiting this supervisor's confirmation, oldest first, across all their trainees."""
    return (
        select(SupervisionSession)
        .join(SupervisionSession.enrolment)
        .where(SupervisionSession.supervisor_id == supervisor.id, *_awaiting_confirmation())
        .order_by(SupervisionSession.session_date, SupervisionSession.start_time, SupervisionSession.id)
    )


def listed_sessions() -> tuple[LoaderOption, ...]:
    """Loader options for a list of sessions that names each one's trainee: without the film each
    reviewed, the supervisor (the reader) or the trainee's record beyond its name."""
    return (
        lazyload(SupervisionSession.reviews),
        lazyload(SupervisionSession.supervisor),
        defaultload(SupervisionSession.enrolment).options(*listed_by_name()),
    )


def awaiting_by_supervisor(supervisor_ids: Sequence[int]) -> dict[int, int]:
    """How many sessions await each of these supervisors' confirmation, in one grouped query."""
    rows = db.session.execute(
        select(SupervisionSession.supervisor_id, func.count())
        .join(SupervisionSession.enrolment)
        .where(SupervisionSession.supervisor_id.in_(supervisor_ids), *_awaiting_confirmation())
        .group_by(SupervisionSession.supervisor_id)
    )
    return dict(rows.tuples().all())


def awaiting_counts(supervisor: User) -> dict[int, int]:
    """How many sessions await this supervisor's confirmation, per enrolment."""
    rows = db.session.execute(
        select(SupervisionSession.enrolment_id, func.count())
        .where(SupervisionSession.supervisor_id == supervisor.id, SupervisionSession.status == SessionStatus.LOGGED)
        .group_by(SupervisionSession.enrolment_id)
    )
    return dict(rows.tuples().all())


def awaiting_total(supervisor: User) -> int:
    """How many sessions await this supervisor's confirmation, in all: the queue's length."""
    return awaiting_by_supervisor([supervisor.id]).get(supervisor.id, 0)


def _open_for_logging() -> ColumnElement[bool]:
    """Active training, or a continuing record after accreditation (`sessions.logging_open` in SQL)."""
    return or_(Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.is_continuing)


def loggable_enrolments(user: User) -> list[Enrolment]:
    """Records the user can log supervision in (active training, continuing records): their own
    first, then those of the people they supervise."""
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(_open_for_logging())
        .where((Enrolment.trainee_id == user.id) | (Enrolment.supervisor_id == user.id))
        .order_by(Enrolment.start_date.desc(), Enrolment.id)
    ).unique()
    mine = [e for e in enrolments if can_log_supervision(user, e)]
    return sorted(mine, key=lambda e: (e.trainee_id != user.id, e.trainee.display_name))


def group_enrolments(supervisor: User) -> list[tuple[Enrolment, bool]]:
    """Whom a supervisor may log a group session for: those they are personal supervisor to, in
    active training or continuing after accreditation, by name; each with whether it is continuing.

    The form names them only, so their stages are not loaded (a heavy supervisor has 70 trainees);
    saving a session loads the stages of those chosen.
    """
    trainee = aliased(User)
    rows = db.session.execute(
        select(Enrolment, Enrolment.is_continuing)
        .join(trainee, trainee.id == Enrolment.trainee_id)
        .where(
            Enrolment.supervisor_id == supervisor.id,
            Enrolment.trainee_id != supervisor.id,
            _open_for_logging(),
        )
        .order_by(trainee.display_name, Enrolment.id)
        .options(*listed_by_name())
    )
    return [(enrolment, bool(continuing)) for enrolment, continuing in rows]


def continuing_records(user: User) -> list[Enrolment]:
    """The user's continuing records (one per accreditation), most recently accredited first."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.trainee_id == user.id, Enrolment.is_continuing)
            .order_by(Enrolment.completed_on.desc(), Enrolment.id)
        )
    )


def own_enrolments(user: User) -> list[Enrolment]:
    """Every enrolment the user is the trainee of, most recent first."""
    return list(
        db.session.scalars(
            select(Enrolment).where(Enrolment.trainee_id == user.id).order_by(Enrolment.start_date.desc(), Enrolment.id)
        ).unique()
    )


def corrections(session: SupervisionSession) -> tuple[SupervisionSession | None, list[SupervisionSession]]:
    """The session this one corrects (if any), and the corrections made to it."""
    original = db.session.get(SupervisionSession, session.amends_id) if session.amends_id else None
    made = list(
        db.session.scalars(
            select(SupervisionSession).where(SupervisionSession.amends_id == session.id).order_by(SupervisionSession.id)
        )
    )
    return original, made


def stage_for(enrolment: Enrolment, day: date) -> StageRecord | None:
    """The stage whose window holds `day` (windows are half-open, as progress counts them)."""
    return next((record for record in enrolment.stages if record.covers(day)), None)


# --- the film a session reviewed ------------------------------------------------------------------

# How many cycles the log form offers: the most recent, open cases first. An older cycle is offered
# when its case page links to the form with it chosen, so the form stays short however much casework.
CYCLES_OFFERED = 12


@dataclass(frozen=True)
class CycleChoice:
    cycle_id: int
    case_code: str
    number: int  # the cycle's place in its case, in order of shared review
    filmed_on: date

    @property
    def label(self) -> str:
        return f"{self.case_code}, cycle {self.number}: filmed {format_date(self.filmed_on)}"


def cycle_choices(enrolment: Enrolment, include: Sequence[int] = ()) -> list[CycleChoice]:
    """The trainee's cycles whose client consented to supervision: open cases first, most recently filmed
    first, at most CYCLES_OFFERED, plus any in `include` that qualify (already chosen, or asked for)."""
    number = (
        func.row_number().over(partition_by=Cycle.case_id, order_by=(Cycle.shared_review_on, Cycle.id)).label("number")
    )
    numbered = (
        select(
            Cycle.id.label("cycle_id"),
            Case.code.label("case_code"),
            number,
            Cycle.filmed_on.label("filmed_on"),
            (Case.status == CaseStatus.OPEN).label("case_open"),
        )
        .join(Cycle.case)
        .where(Case.practitioner_id == enrolment.trainee_id, Case.consent_supervision.is_(True))
        .subquery()
    )
    ordered = (numbered.c.case_open.desc(), numbered.c.filmed_on.desc(), numbered.c.cycle_id.desc())
    rows = list(db.session.execute(select(numbered).order_by(*ordered).limit(CYCLES_OFFERED)))
    missing = set(include) - {row.cycle_id for row in rows}
    if missing:
        rows += db.session.execute(select(numbered).where(numbered.c.cycle_id.in_(missing)).order_by(*ordered))
    return [CycleChoice(row.cycle_id, row.case_code, row.number, row.filmed_on) for row in rows]


# How many of a trainee's latest sessions say what their usual length is.
USUAL_FROM_LAST = 5


def usual_minutes(enrolment: Enrolment) -> int | None:
    """How long this trainee's sessions usually last: the length most often logged among their last few,
    if it recurs (the most recent wins a tie); None when no length has yet been logged twice."""
    recent = list(
        db.session.scalars(
            select(SupervisionSession.duration_minutes)
            .where(SupervisionSession.enrolment_id == enrolment.id)
            .order_by(SupervisionSession.logged_at.desc(), SupervisionSession.id.desc())
            .limit(USUAL_FROM_LAST)
        )
    )
    counts = Counter(recent)
    best = max(recent, key=lambda minutes: counts[minutes], default=None)  # max keeps the first (newest) of a tie
    return best if best is not None and counts[best] >= 2 else None


@dataclass(frozen=True)
class CaseSupervision:
    """A case's supervision: the sessions that reviewed its film, and for each cycle those that reviewed it."""

    sessions: list[SupervisionSession]
    by_cycle: dict[int, list[SupervisionSession]]


def case_supervision(case: Case) -> CaseSupervision:
    """Every session (not replaced by a correction) that reviewed film of this case, newest first.

    The sessions' ids are read first: given them as a subquery, PostgreSQL planned the sessions'
    eager joins (enrolment, trainee, supervisor, service, region) over every enrolment before
    narrowing to the case's few sessions (0.95 s at 10x against 5 ms).
    """
    ids = db.session.scalars(
        select(SupervisionReview.session_id).where(SupervisionReview.case_id == case.id).distinct()
    ).all()
    found = list(
        db.session.scalars(
            select(SupervisionSession)
            .where(SupervisionSession.id.in_(ids), SupervisionSession.status != SessionStatus.SUPERSEDED)
            .order_by(*NEWEST_FIRST)
        )
    )
    by_cycle: dict[int, list[SupervisionSession]] = {}
    for session in found:
        for review in session.reviews:
            if review.case_id == case.id and review.cycle_id is not None:
                by_cycle.setdefault(review.cycle_id, []).append(session)
    return CaseSupervision(found, by_cycle)
