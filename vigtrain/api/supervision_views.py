"""The supervision log: trainees log their own sessions, supervisors confirm the ones they led."""

from __future__ import annotations

import datetime as dt

from vigtrain import transactions
from vigtrain.accounts.models import User
from vigtrain.api import bp
from vigtrain.api.auth import api_user
from vigtrain.api.openapi import operation
from vigtrain.api.paging import page_of
from vigtrain.api.problems import domain_problem
from vigtrain.api.schemas import MAX_ID, ReviewOut, SessionConfirm, SessionCreate, SessionOut, SessionPage, SessionQuery
from vigtrain.api.views import person
from vigtrain.dates import today
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment
from vigtrain.security import (
    can_confirm_supervision,
    can_view_enrolment,
    can_view_supervision_log,
    can_view_supervision_session,
    require,
)
from vigtrain.supervision import queries, sessions
from vigtrain.supervision.models import SupervisionSession


def session_out(session: SupervisionSession) -> SessionOut:
    return SessionOut(
        id=session.id,
        enrolment_id=session.enrolment_id,
        trainee=person(session.enrolment.trainee),
        supervisor=person(session.supervisor),
        session_date=session.session_date,
        start_time=f"{session.start_time:%H:%M}" if session.start_time else None,
        duration_minutes=session.duration_minutes,
        format=session.format,
        group_size=session.group_size,
        mode=session.mode,
        clips_reviewed=session.clips_reviewed,
        case_codes=session.case_codes,
        reviewed=[
            ReviewOut(
                case_code=review.case.code,
                cycle_id=review.cycle_id,
                filmed_on=review.cycle.filmed_on if review.cycle else None,
            )
            for review in session.reviews
        ],
        principles=list(session.principles or []),
        reflection=session.reflection,
        next_steps=session.next_steps,
        supervisor_comments=session.supervisor_comments,
        status=session.status,
        logged_by_id=session.logged_by_id,
        logged_at=session.logged_at,
        confirmed_at=session.confirmed_at,
        amends_id=session.amends_id,
        amendment_reason=session.amendment_reason,
        version=session.version,
    )


def _render(sessions: list[SupervisionSession]) -> list[SessionOut]:
    return [session_out(session) for session in sessions]


@bp.get("/supervision-sessions")
@operation("Supervision", SessionPage, scope="supervision:read", errors=(404,), paginated=True)
def list_sessions(query: SessionQuery):
    """Supervision sessions, newest first

    Without `enrolment`: the sessions in your own training records, and the sessions you led as
    supervisor (those awaiting your confirmation have status `logged`). With `enrolment`: that
    training record's whole log, for its trainee, their supervisors and administrators.
    """
    user = api_user()
    if query.enrolment is not None:
        enrolment = db.session.get(Enrolment, query.enrolment)
        allowed = enrolment is not None and can_view_supervision_log(user, enrolment)
        require(allowed, "no such enrolment, or not theirs", 404)
        statement = queries.log_query(enrolment, status=query.status)
    else:
        statement = queries.own_and_led_query(user, status=query.status)
    filters = {"enrolment": query.enrolment, "status": query.status}
    fields, headers = page_of(statement, query, _render, filters)
    return SessionPage(**fields), 200, headers


def _own_enrolment(user: User, enrolment_id: int | None) -> Enrolment:
    """The training record to log against: the one named (it must be the owner's), or their only active one.

    A personal supervisor logs on a trainee's behalf only on the pages, so of the records the log
    page offers, the API takes the owner's own.
    """
    if enrolment_id is not None:
        enrolment = db.session.get(Enrolment, enrolment_id)
        require(enrolment is not None and can_view_enrolment(user, enrolment), "no such enrolment, or not theirs", 404)
        require(enrolment.trainee_id == user.id, "the API logs supervision only in the token owner's own record")
        return enrolment
    active = [e for e in queries.loggable_enrolments(user) if e.trainee_id == user.id]
    if not active:
        raise DomainError("You have no active training record to log supervision in", field="enrolment_id")
    if len(active) > 1:
        ids = ", ".join(str(e.id) for e in active)
        raise DomainError(f"You have {len(active)} active training records ({ids}): give enrolment_id", "enrolment_id")
    return active[0]


def _named_supervisor(json: SessionCreate) -> User | None:
    """The supervisor named by id or by email, not both (None: the personal supervisor)."""
    if json.supervisor_id is not None and json.supervisor_email is not None:
        raise DomainError("Give supervisor_id or supervisor_email, not both", field="supervisor_email")
    return sessions.find_supervisor(user_id=json.supervisor_id, email=json.supervisor_email)


@bp.post("/supervision-sessions")
@operation("Supervision", SessionOut, scope="supervision:write", status=201, errors=(403, 404, 409))
def log_session(json: SessionCreate):
    """Log a supervision session you had (as the trainee)

    It counts toward your stage once the supervisor who led it confirms it. The same rules as the
    pages apply: the training record must be active, the date within it and not in the future,
    and the same supervisor, date and start time cannot be logged twice.
    """
    user = api_user()
    supervisor_field = "supervisor_email" if json.supervisor_email is not None else "supervisor_id"
    facts = sessions.SessionFacts(
        session_date=json.session_date,
        duration_minutes=json.duration_minutes,
        format=json.format,
        mode=json.mode,
        start_time=dt.time.fromisoformat(json.start_time) if json.start_time else None,
        group_size=json.group_size,
        clips_reviewed=json.clips_reviewed,
        cycle_ids=tuple(json.cycle_ids),
        case_codes=tuple(json.case_codes),
        principles=tuple(json.principles),
        reflection=json.reflection,
        next_steps=json.next_steps,
    )

    def change() -> SupervisionSession:
        enrolment = _own_enrolment(user, json.enrolment_id)
        return sessions.log_session(user, enrolment, facts, today(), supervisor=_named_supervisor(json))

    session = transactions.run(
        change, refusal=lambda error: domain_problem(error, {"supervisor": supervisor_field, "cycles": "cycle_ids"})
    )
    return session_out(session), 201


@bp.post(f"/supervision-sessions/<int(max={MAX_ID}):session_id>/confirm")
@operation("Supervision", SessionOut, scope="supervision:write", errors=(403, 404, 409))
def confirm_session(session_id: int, json: SessionConfirm):
    """Confirm a session you led (as its supervisor)

    Send the `version` you read: if the trainee changed the session since, the answer is 409 and
    nothing changes. A confirmed session counts toward the trainee's stage and is locked.
    """
    user = api_user()
    session = db.session.get(SupervisionSession, session_id)
    require(
        session is not None and can_view_supervision_session(user, session),
        "no such supervision session, or not theirs",
        404,
    )
    require(can_confirm_supervision(user, session), "only the session's supervisor confirms it")
    transactions.run(
        lambda: sessions.confirm_session(user, session, json.version, json.comments), refusal=domain_problem
    )
    return session_out(session)
