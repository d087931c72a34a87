"""The rules that change supervision sessions: logging, confirming, querying, resubmitting, correcting.

The workflow: the trainee logs a session (or their personal supervisor logs it on their behalf) →
the session's supervisor confirms it, or queries it with a comment, which sends it back to the
trainee to change and resubmit. Only confirmed sessions count toward a stage's requirements
(vigtrain.training.progress). A confirmed session is locked: a correction is a new session that
amends it, with a reason. The original stays confirmed, and counting, until the correction is
confirmed; then, in the same transaction, the original becomes superseded and the correction
counts instead, so the hours are never counted twice and never missing.

Once AVIGuk ratifies the accreditation, the completed record carries on as the practitioner's
continuing record: sessions dated from the ratification on are logged, confirmed and queried the
same way, and count toward renewing the accreditation (see `vigtrain.certificates`). Sessions of the
training before it stay as they are.

Every change is audited; every move checks the version the actor saw. What the pages list is in
`queries`; the record the exports print is in `records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, time

from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from vigtrain import audit
from vigtrain.accounts.models import Role, User
from vigtrain.casework import signals as casework_signals
from vigtrain.casework.models import Case, Cycle
from vigtrain.casework.services import find_case
from vigtrain.dates import format_date, utcnow
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.locks import hold
from vigtrain.notifications.inbox import settle
from vigtrain.notifications.models import NotificationKind
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import Enrolment, EnrolmentStatus
from vigtrain.screening import screen
from vigtrain.security import (
    can_change_supervision,
    can_confirm_supervision,
    can_log_supervision,
)
from vigtrain.supervision.models import (
    SessionFormat,
    SessionMode,
    SessionStatus,
    SupervisionReview,
    SupervisionSession,
)

# --- labels and limits ----------------------------------------------------------------------------

FORMAT_LABELS = {SessionFormat.INDIVIDUAL: "Individual", SessionFormat.GROUP: "Group"}
MODE_LABELS = {SessionMode.IN_PERSON: "In person", SessionMode.REMOTE: "Remote (video call)"}
STATUS_LABELS = {
    SessionStatus.LOGGED: "Awaiting confirmation",
    SessionStatus.CONFIRMED: "Confirmed",
    SessionStatus.QUERIED: "Queried",
    SessionStatus.SUPERSEDED: "Replaced by a correction",
}
MIN_MINUTES, MAX_MINUTES = 15, 480
# The length limits as people read them, in the refusal and in the form's hint alike.
DURATION_RANGE = f"between {MIN_MINUTES} minutes and {MAX_MINUTES / 60:g} hours ({MAX_MINUTES} minutes)"
MIN_GROUP, MAX_GROUP = 2, 30
MAX_CLIPS = 60
MAX_CASES = 10
MAX_TEXT = 4000
MAX_REASON = 500
EDITABLE = {SessionStatus.LOGGED, SessionStatus.QUERIED}
# What the audit trail records of a session.
FIELDS = (
    "enrolment_id",
    "supervisor_id",
    "session_date",
    "start_time",
    "duration_minutes",
    "format",
    "group_size",
    "mode",
    "clips_reviewed",
    "case_codes",
    "cycle_ids",
    "principles",
    "reflection",
    "next_steps",
    "supervisor_comments",
    "status",
    "amends_id",
    "amendment_reason",
)


def _snapshot(session: SupervisionSession) -> dict:
    return audit.snapshot(session, *FIELDS)


@dataclass(frozen=True)
class SessionFacts:
    """What happened in a session, as the person logging it says. Defaults: today, an hour, one to one."""

    session_date: date | None = None
    duration_minutes: int = 60
    format: SessionFormat = SessionFormat.INDIVIDUAL
    mode: SessionMode = SessionMode.IN_PERSON
    start_time: time | None = None
    group_size: int | None = None
    clips_reviewed: int = 0
    cycle_ids: tuple[int, ...] = ()
    # Cases named without their cycle (the API's older field): the case is linked, no cycle.
    case_codes: tuple[str, ...] = ()
    principles: tuple[str, ...] = ()
    reflection: str | None = None
    next_steps: str | None = None


# --- checks ---------------------------------------------------------------------------------------


def _check_version(session: SupervisionSession, seen_version: int | None) -> None:
    if session.version != seen_version:
        raise Conflict(
            "Someone else changed this session while you were looking at it. Nothing was saved: "
            "check the latest and try again."
        )


def _flush() -> None:
    """Flush, turning a change made by someone else in the meantime into a Conflict."""
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict("Someone else changed this session at the same time. Nothing was saved: try again.") from None


def logging_open(enrolment: Enrolment) -> bool:
    """Sessions are logged in active training, and in a continuing record once the practitioner is
    accredited (the supervision renewal asks for); a paused or withdrawn record is closed."""
    return enrolment.status is EnrolmentStatus.ACTIVE or enrolment.is_continuing


def before_accreditation(session: SupervisionSession) -> bool:
    """A session of the training in a record that now continues: the training is complete, so it is
    kept as it is."""
    accredited_on = session.enrolment.accredited_on
    return accredited_on is not None and session.session_date < accredited_on


def _require_open(enrolment: Enrolment) -> None:
    if not logging_open(enrolment):
        raise DomainError(
            f"This training record is {enrolment.status.value}: supervision can be logged only while it is active"
        )


def _text(value: str | None, field_name: str, limit: int, label: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise DomainError(f"{label} must be {limit:,} characters or fewer", field=field_name)
    return screen(text, field_name) or None


def _whose(actor: User, enrolment: Enrolment) -> str:
    return "your" if actor.id == enrolment.trainee_id else f"{enrolment.trainee.display_name}'s"


def _refuse_unconsented(case: Case, field: str) -> None:
    if not case.consent_supervision:
        raise DomainError(
            f"The client of {case.code} has not consented to their video being seen in supervision."
            " Record their consent on the case first, or leave the case out",
            field=field,
        )


def _reviewed_cycles(cycle_ids: Sequence[int], enrolment: Enrolment, actor: User, day: date) -> list[Cycle]:
    """The cycles chosen, in the order chosen: each the trainee's own, its client consenting, filmed by `day`.

    A cycle that is not theirs gets the same answer whether or not it exists.
    """
    wanted = list(dict.fromkeys(cycle_ids))
    if not wanted:
        return []
    if len(wanted) > MAX_CASES:
        raise DomainError(f"Choose up to {MAX_CASES} cycles", field="cycles")
    found = {
        cycle.id: cycle for cycle in db.session.scalars(select(Cycle).join(Cycle.case).where(Cycle.id.in_(wanted)))
    }
    chosen = []
    for cycle_id in wanted:
        cycle = found.get(cycle_id)
        if cycle is None or cycle.case.practitioner_id != enrolment.trainee_id:
            whose = _whose(actor, enrolment)
            raise DomainError(
                f"One of the cycles chosen is not in {whose} casework: choose from {whose} cycles", field="cycles"
            )
        _refuse_unconsented(cycle.case, "cycles")
        if cycle.filmed_on > day:
            raise DomainError(
                f"The cycle of {cycle.case.code} was filmed on {format_date(cycle.filmed_on)}, after the session:"
                " choose film made by the date of the session",
                field="cycles",
            )
        chosen.append(cycle)
    return chosen


def _clean_cases(codes: Sequence[str], enrolment: Enrolment, actor: User) -> list[Case]:
    """Cases named by code without a cycle (the API's older field)."""
    clean: list[Case] = []
    for code in codes:
        code = code.strip()
        if not code:
            continue
        case = find_case(code)
        if case is None or case.practitioner_id != enrolment.trainee_id:
            raise DomainError(
                f"{code} is not one of {_whose(actor, enrolment)} case codes. Check it against the cases list",
                field="case_codes",
            )
        _refuse_unconsented(case, "case_codes")
        if case not in clean:
            clean.append(case)
    if len(clean) > MAX_CASES:
        raise DomainError(f"Enter up to {MAX_CASES} case codes", field="case_codes")
    return clean


def _reviews(facts: SessionFacts, enrolment: Enrolment, actor: User, day: date) -> list[SupervisionReview]:
    """The film reviewed, as rows: each cycle chosen, then each case named alone whose cycle was not chosen."""
    cycles = _reviewed_cycles(facts.cycle_ids, enrolment, actor, day)
    named = {cycle.case_id for cycle in cycles}
    cases = [case for case in _clean_cases(facts.case_codes, enrolment, actor) if case.id not in named]
    return [SupervisionReview(case=cycle.case, cycle=cycle) for cycle in cycles] + [
        SupervisionReview(case=case) for case in cases
    ]


@casework_signals.cycle_deleting.connect
def let_go_of_cycle(cycle: Cycle) -> None:
    """A deleted cycle's film stays reviewed as its case's: the session's record keeps the case, not the cycle."""
    db.session.execute(
        update(SupervisionReview).where(SupervisionReview.cycle_id == cycle.id).values(cycle_id=None),
        execution_options={"synchronize_session": "fetch"},
    )


def _clean_principles(codes: Sequence[str]) -> list[str]:
    known = principles().codes
    if set(codes) - set(known):
        raise DomainError("Select principles from the list", field="principles")
    return sorted(set(codes), key=known.index)


def leads_sessions(person: User) -> bool:
    """Whether someone may be named as the supervisor of a session: an active account with the supervisor role."""
    return person.is_active_flag and person.has_role(Role.SUPERVISOR)


def find_supervisor(*, user_id: int | None = None, email: str | None = None) -> User | None:
    """The supervisor a trainee names, by id or by email; None if they name nobody (their personal supervisor).

    Unknown people and people who may not lead sessions get the same answer, so naming someone is
    no way to find out who has an account.
    """
    if user_id is None and email is None:
        return None
    if user_id is not None:
        found, what = db.session.get(User, user_id), "id"
    else:
        found, what = db.session.scalar(select(User).where(User.email == email.strip().lower())), "email"
    if found is None or not leads_sessions(found):
        raise DomainError(f"There is no active supervisor with this {what}", field="supervisor")
    return found


def _check_supervisor(supervisor: User | None, enrolment: Enrolment) -> User:
    if supervisor is None:
        raise DomainError("Select the supervisor who led the session", field="supervisor")
    if supervisor.id == enrolment.trainee_id:
        raise DomainError("A trainee cannot supervise themselves: select your supervisor", field="supervisor")
    if not leads_sessions(supervisor):
        raise DomainError("Select someone who holds the supervisor role", field="supervisor")
    return supervisor


def _check_duplicate(
    enrolment: Enrolment, supervisor: User, day: date, start: time | None, ignore: Sequence[int] = ()
) -> None:
    """The same trainee, supervisor, date and start time is the same session: say so, never count it twice.

    Checked under the enrolment's lock, so the same session sent twice at once is saved once.
    """
    hold(enrolment)
    query = select(SupervisionSession).where(
        SupervisionSession.enrolment_id == enrolment.id,
        SupervisionSession.supervisor_id == supervisor.id,
        SupervisionSession.session_date == day,
        SupervisionSession.status != SessionStatus.SUPERSEDED,
        SupervisionSession.start_time.is_(None) if start is None else SupervisionSession.start_time == start,
    )
    if ignore:
        query = query.where(SupervisionSession.id.not_in(ignore))
    clash = db.session.scalars(query.limit(1)).first()
    if clash is not None:
        when = f"at {start:%H:%M}" if start else "with no start time"
        raise DomainError(
            f"This session is already in {enrolment.trainee.display_name}'s log: with {supervisor.display_name} "
            f"on {format_date(day)} {when} ({STATUS_LABELS[clash.status].lower()}). If this was another session "
            "that day, enter its start time",
            field="start_time",
        )


def _validate(
    actor: User, enrolment: Enrolment, facts: SessionFacts, today: date, *, group_size_floor: int = MIN_GROUP
) -> dict:
    """Check a session's facts against the rules; returns the cleaned values for the model."""
    day = facts.session_date or today
    if day > today:
        raise DomainError("The date of the session must be today or in the past", field="session_date")
    accredited_on = enrolment.accredited_on
    if accredited_on is not None and day < accredited_on:
        raise DomainError(
            f"The date must be on or after {_whose(actor, enrolment)} accreditation on {format_date(accredited_on)}: "
            "supervision before it belongs to the training, which is complete",
            field="session_date",
        )
    if day < enrolment.start_date:
        raise DomainError(
            f"The date of the session must be on or after the training started, {format_date(enrolment.start_date)}",
            field="session_date",
        )
    minutes = facts.duration_minutes
    if minutes is None or not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise DomainError(
            f"The session must last {DURATION_RANGE}",
            field="duration_minutes",
        )
    group_size = None
    if facts.format is SessionFormat.GROUP:
        group_size = facts.group_size
        if group_size is None or not MIN_GROUP <= group_size <= MAX_GROUP:
            raise DomainError(
                f"Enter how many trainees took part: a group has between {MIN_GROUP} and {MAX_GROUP}",
                field="group_size",
            )
        if group_size < group_size_floor:
            raise DomainError(
                f"The group size must be at least the number of trainees you selected ({group_size_floor})",
                field="group_size",
            )
    if not 0 <= (facts.clips_reviewed or 0) <= MAX_CLIPS:
        raise DomainError(f"Number of clips reviewed must be between 0 and {MAX_CLIPS}", field="clips_reviewed")
    return {
        "session_date": day,
        "start_time": facts.start_time,
        "duration_minutes": minutes,
        "format": facts.format,
        "group_size": group_size,
        "mode": facts.mode,
        "clips_reviewed": facts.clips_reviewed or 0,
        "reviews": _reviews(facts, enrolment, actor, day),
        "principles": _clean_principles(facts.principles),
        "reflection": _text(facts.reflection, "reflection", MAX_TEXT, "Reflection"),
        "next_steps": _text(facts.next_steps, "next_steps", MAX_TEXT, "Next steps"),
    }


def _session_supervisor(actor: User, enrolment: Enrolment, supervisor: User | None) -> User:
    """The trainee names the supervisor (default: their personal supervisor); a supervisor logs as themselves."""
    if actor.id != enrolment.trainee_id:
        return actor
    return _check_supervisor(supervisor or enrolment.supervisor, enrolment)


# --- logging --------------------------------------------------------------------------------------


def _add_logged(actor: User, enrolment: Enrolment, supervisor: User, values: dict) -> SupervisionSession:
    """A new session waiting for its supervisor's confirmation, audited."""
    session = SupervisionSession(
        enrolment=enrolment,
        supervisor=supervisor,
        status=SessionStatus.LOGGED,
        logged_by_id=actor.id,
        logged_at=utcnow(),
        **values,
    )
    db.session.add(session)
    _flush()
    audit.record(actor, "supervision.logged", session, after=_snapshot(session))
    return session


def log_session(
    actor: User,
    enrolment: Enrolment,
    facts: SessionFacts,
    today: date,
    supervisor: User | None = None,
) -> SupervisionSession:
    """Log one session; it counts once its supervisor confirms it."""
    if not can_log_supervision(actor, enrolment):
        raise PermissionDenied("Only the trainee or their personal supervisor can log supervision")
    _require_open(enrolment)
    supervisor = _session_supervisor(actor, enrolment, supervisor)
    values = _validate(actor, enrolment, facts, today)
    _check_duplicate(enrolment, supervisor, values["session_date"], values["start_time"])
    return _add_logged(actor, enrolment, supervisor, values)


def log_group_session(
    actor: User, enrolments: Sequence[Enrolment], facts: SessionFacts, today: date
) -> list[SupervisionSession]:
    """A supervisor logs one group session for those they supervise who were there (trainees, and
    accredited practitioners in their continuing records): one row each.

    The group size is the number present (others' trainees too) and defaults to those selected.
    """
    if not enrolments:
        raise DomainError("Select the trainees who took part", field="trainees")
    for enrolment in enrolments:
        if actor.id == enrolment.trainee_id or not can_log_supervision(actor, enrolment):
            raise PermissionDenied("A supervisor logs group sessions only for trainees they supervise")
    size = facts.group_size if facts.group_size is not None else len(enrolments)
    group = replace(facts, format=SessionFormat.GROUP, group_size=size)
    for enrolment in sorted(enrolments, key=lambda row: row.id):  # one order, so two at once cannot deadlock
        hold(enrolment)
    sessions = []
    for enrolment in enrolments:
        try:
            _require_open(enrolment)
        except DomainError as exc:
            raise DomainError(f"{enrolment.trainee.display_name}: {exc.message}", field="trainees") from None
        values = _validate(actor, enrolment, group, today, group_size_floor=len(enrolments))
        _check_duplicate(enrolment, actor, values["session_date"], values["start_time"])
        sessions.append(_add_logged(actor, enrolment, actor, values))
    return sessions


def resubmit_session(
    actor: User,
    session: SupervisionSession,
    facts: SessionFacts,
    today: date,
    seen_version: int,
    supervisor: User | None = None,
) -> None:
    """Change a session not yet confirmed; a queried one goes back to its supervisor to confirm."""
    if not can_change_supervision(actor, session):
        raise PermissionDenied("Only the trainee, or whoever logged it, can change this session")
    _check_version(session, seen_version)
    if session.status not in EDITABLE:
        raise DomainError(
            "This session is confirmed and locked. To correct it, ask for a correction from the session page"
        )
    enrolment = session.enrolment
    _require_open(enrolment)
    if session.amends_id is not None:
        supervisor = session.supervisor  # a correction is confirmed by whoever confirmed the original
    elif actor.id != enrolment.trainee_id:
        supervisor = session.supervisor
    else:
        supervisor = _check_supervisor(supervisor or session.supervisor, enrolment)
    values = _validate(actor, enrolment, facts, today)
    ignore = [session.id] + ([session.amends_id] if session.amends_id else [])
    _check_duplicate(enrolment, supervisor, values["session_date"], values["start_time"], ignore)
    before = _snapshot(session)
    was = session.status
    for name, value in values.items():
        setattr(session, name, value)
    session.supervisor = supervisor
    session.status = SessionStatus.LOGGED
    _flush()
    action = "supervision.resubmitted" if was is SessionStatus.QUERIED else "supervision.changed"
    audit.record(actor, action, session, before=before, after=_snapshot(session))


def amend_confirmed_session(
    actor: User,
    original: SupervisionSession,
    facts: SessionFacts,
    reason: str | None,
    today: date,
    seen_version: int,
) -> SupervisionSession:
    """A correction to a confirmed session: a new session, with a reason, for the same supervisor to confirm.

    The original stays confirmed (and counting) until the correction is confirmed.
    """
    enrolment = original.enrolment
    if not can_log_supervision(actor, enrolment):
        raise PermissionDenied("Only the trainee or their personal supervisor can correct this session")
    _check_version(original, seen_version)
    if original.status is not SessionStatus.CONFIRMED:
        raise DomainError("Only a confirmed session needs a correction; change this one directly")
    _require_open(enrolment)
    pending = db.session.scalar(
        select(SupervisionSession.id).where(
            SupervisionSession.amends_id == original.id,
            SupervisionSession.status.in_(EDITABLE),
        )
    )
    if pending is not None:
        raise DomainError("A correction to this session is already waiting: change that one instead")
    text = (reason or "").strip()
    if not text:
        raise DomainError("Explain what was wrong and what the correction changes", field="amendment_reason")
    text = _text(text, "amendment_reason", MAX_REASON, "The reason")
    values = _validate(actor, enrolment, facts, today)
    _check_duplicate(enrolment, original.supervisor, values["session_date"], values["start_time"], ignore=[original.id])
    amendment = SupervisionSession(
        enrolment=enrolment,
        supervisor=original.supervisor,
        status=SessionStatus.LOGGED,
        logged_by_id=actor.id,
        logged_at=utcnow(),
        amends_id=original.id,
        amendment_reason=text,
        **values,
    )
    db.session.add(amendment)
    _flush()
    audit.record(actor, "supervision.correction_logged", amendment, after=_snapshot(amendment))
    return amendment


# --- confirming -----------------------------------------------------------------------------------


def confirm_session(actor: User, session: SupervisionSession, seen_version: int, comments: str | None = None) -> None:
    """The session's supervisor confirms it: it now counts, and is locked. A confirmed correction
    supersedes the session it corrects, in the same transaction."""
    if not can_confirm_supervision(actor, session):
        raise PermissionDenied("Only the supervisor who led the session can confirm it")
    _check_version(session, seen_version)
    if session.status is not SessionStatus.LOGGED:
        raise DomainError(f"Only a session awaiting confirmation can be confirmed; this one is {_status(session)}")
    original = db.session.get(SupervisionSession, session.amends_id) if session.amends_id else None
    if original is not None and original.status is not SessionStatus.CONFIRMED:
        raise DomainError("The session this corrects is no longer confirmed, so the correction cannot be confirmed")
    before = _snapshot(session)
    text = _text(comments, "comments", MAX_TEXT, "Comments")
    if text:
        session.supervisor_comments = text
    session.status, session.confirmed_at = SessionStatus.CONFIRMED, utcnow()
    _flush()
    audit.record(actor, "supervision.confirmed", session, before=before, after=_snapshot(session))
    if original is not None:
        original_before = audit.snapshot(original, "status")
        original.status = SessionStatus.SUPERSEDED
        _flush()
        audit.record(
            actor,
            "supervision.superseded",
            original,
            before=original_before,
            after={"status": original.status, "superseded_by": session.id},
        )
    _settle_reminders(session)
    # Supervision is confirmed again: a reminder that it had lapsed is done with.
    settle(f"enrolment:{session.enrolment_id}", (NotificationKind.SUPERVISION_LAPSED,))


def _settle_reminders(session: SupervisionSession) -> None:
    """The session no longer waits for its supervisor: its reminders and escalations are done with."""
    settle(f"session:{session.id}", (NotificationKind.SESSION_UNCONFIRMED, NotificationKind.ESCALATION))


def query_session(actor: User, session: SupervisionSession, comments: str | None, seen_version: int) -> None:
    """The session's supervisor sends it back to the trainee with a comment saying what to check."""
    if not can_confirm_supervision(actor, session):
        raise PermissionDenied("Only the supervisor who led the session can query it")
    _check_version(session, seen_version)
    if session.status is not SessionStatus.LOGGED:
        raise DomainError(f"Only a session awaiting confirmation can be queried; this one is {_status(session)}")
    if not (comments or "").strip():
        raise DomainError("Write a comment saying what the trainee should check or change", field="comments")
    before = _snapshot(session)
    session.supervisor_comments = _text(comments, "comments", MAX_TEXT, "Comments")
    session.status = SessionStatus.QUERIED
    _flush()
    audit.record(actor, "supervision.queried", session, before=before, after=_snapshot(session))
    _settle_reminders(session)


def _status(session: SupervisionSession) -> str:
    return STATUS_LABELS[session.status].lower()


@dataclass(frozen=True)
class BulkResult:
    session_id: int
    confirmed: bool
    message: str
    session: SupervisionSession | None = None


def bulk_confirm(actor: User, selections: Sequence[tuple[int, int]]) -> list[BulkResult]:
    """Confirm each (session id, version seen) in turn; report each, and confirm the rest when some are refused.

    Sessions the actor may not confirm are refused without saying whether they exist.
    """
    results = []
    ids = [session_id for session_id, _ in selections]
    found = {s.id: s for s in db.session.scalars(select(SupervisionSession).where(SupervisionSession.id.in_(ids)))}
    for session_id, seen_version in dict(selections).items():
        session = found.get(session_id)
        if session is None or not can_confirm_supervision(actor, session):
            results.append(BulkResult(session_id, False, "it is not awaiting your confirmation"))
            continue
        try:
            with db.session.begin_nested():
                confirm_session(actor, session, seen_version)
        except Conflict:
            results.append(BulkResult(session_id, False, "it changed after you opened the list: open it to check"))
        except DomainError as exc:
            results.append(BulkResult(session_id, False, exc.message, session))
        else:
            results.append(BulkResult(session_id, True, "confirmed", session))
    return results
