"""Every refusal of the sign-off chain, enrolment, assessments and statements: its message, its field, nothing saved.

Each rule is met through its service and, where a person can meet it on a page, through the page: a
4xx answer with the message beside the field it belongs to (or above the form when it belongs to no
field). Stages are put into the state a test needs directly, rather than by walking the chain.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from tests.factories import (
    complete_assessments,
    make_cycles,
    make_enrolment,
    make_supervision,
    make_user,
    pathway_version,
)
from vigtrain import transactions
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import (
    Assessment,
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.training import services as training
from vigtrain.training import signoff, workflow

TODAY = date(2026, 3, 2)  # the `clock` fixture's day
ITC_ENDED = date(2026, 2, 1)
WORK_DAY = date(2026, 2, 10)
PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SCREENED = [
    ("Email the mum at mum@example.com", "Remove an email address"),
    ("Ring the mum on 07700 900123", "Remove a phone number"),
]


@pytest.fixture
def enrolment(people):
    return make_enrolment(people["trainee"], people["supervisor"], start=date(2026, 1, 5), actor=people["admin"])


@pytest.fixture
def login(app):
    """A signed-in test client for a person (one per person per test)."""
    made = {}

    def client_for(user):
        if user.id not in made:
            made[user.id] = app.test_client()
            assert made[user.id].login(user.email).status_code == 302
        return made[user.id]

    return client_for


# --- arranging stages ----------------------------------------------------------------------------------


def _put(record: StageRecord, state: StageState, **fields) -> StageRecord:
    """Set a stage's state (and any other columns) directly, as if the chain had got there."""
    record.state = state
    for name, value in fields.items():
        setattr(record, name, value)
    db.session.commit()
    return record


def _stage1(
    enrolment, people, state=StageState.IN_PROGRESS, ready=True, supervisor_assessed=True, **fields
) -> StageRecord:
    """Stage 1 after a finished ITC, in `state` (with any other columns); `ready` meets every requirement."""
    _put(enrolment.stages[0], StageState.COMPLETE, ended_on=ITC_ENDED)
    record = _put(enrolment.stages[1], StageState.IN_PROGRESS, started_on=ITC_ENDED)
    if ready:
        make_cycles(people["trainee"], 6, 2, WORK_DAY)
        make_supervision(enrolment, people["supervisor"], 7, WORK_DAY)
        training.save_statement_text(people["trainee"], record, "What I learned about receiving initiatives.")
        complete_assessments(record, people["trainee"], people["supervisor"] if supervisor_assessed else None)
    return _put(record, state, **fields)


def _final(enrolment, people, state, **fields) -> StageRecord:
    """The final stage (stage 3) in `state`, the stages before it accredited, its statement written."""
    for record in enrolment.stages[:-1]:
        _put(record, StageState.ACCREDITED if record.definition.has_meeting else StageState.COMPLETE)
    final = enrolment.stages[-1]
    fields = {"started_on": date(2026, 2, 1), "statement_text": "What I learned about guiding.", **fields}
    return _put(final, state, **fields)


# --- what was saved ------------------------------------------------------------------------------------


def _everything() -> tuple:
    """Everything a refused change could have touched, read from the database."""
    stages = db.session.execute(
        select(
            StageRecord.id,
            StageRecord.state,
            StageRecord.version,
            StageRecord.started_on,
            StageRecord.ended_on,
            StageRecord.meeting_date,
            StageRecord.meeting_comments,
            StageRecord.course_sessions_attended,
            StageRecord.statement_text,
            StageRecord.statement_file_key,
            StageRecord.accrediting_supervisor_id,
            StageRecord.exemption_reason,
        ).order_by(StageRecord.id)
    ).all()
    enrolments = db.session.execute(
        select(Enrolment.id, Enrolment.status, Enrolment.version, Enrolment.supervisor_id, Enrolment.status_reason)
    ).all()
    assessments = db.session.execute(select(Assessment.id, Assessment.ratings).order_by(Assessment.id)).all()
    counts = [
        db.session.scalar(select(func.count()).select_from(table))
        for table in (AuditEvent, StageTransition, OutboxMessage, Enrolment)
    ]
    return [tuple(row) for row in stages], [tuple(row) for row in enrolments], assessments, counts


def _refused(change, message: str, field: str | None = None, error: type[Exception] = DomainError) -> None:
    """The service refuses `change` with `message` beside `field`, and nothing is saved."""
    before = _everything()
    with pytest.raises(error) as caught:
        transactions.run(change)
    assert message in caught.value.message
    assert caught.value.field == field
    assert _everything() == before


# --- the pages -----------------------------------------------------------------------------------------


def _url(record: StageRecord, suffix: str = "") -> str:
    return f"/enrolments/{record.enrolment_id}/stages/{record.stage_code}{suffix}"


def _post(client, record: StageRecord, path: str, data: dict | None = None):
    """POST one of the stage page's action forms, with the version the page shows unless given."""
    db.session.expire_all()
    return client.submit(_url(record, f"/{path}"), {"version": record.version, **(data or {})}, page=_url(record))


def _shown_beside(response, field_id: str, message: str, status: int = 422) -> None:
    """The page answers `status`, links the message to the field and shows it at the field."""
    html = response.get_data(as_text=True)
    escaped = re.escape(str(escape(message)))
    assert response.status_code == status
    assert re.search(rf'<a href="#{re.escape(field_id)}">[^<]*{escaped}', html), message
    # A date input's message sits on its fieldset (`<id>-date-error`), any other field's on the field.
    beside = rf'id="{re.escape(field_id)}(?:-date)?-error"[^>]*>\s*<span[^>]*>Error:</span>[^<]*{escaped}'
    assert re.search(beside, html), message


def _shown_above(response, message: str, status: int = 422, in_form: bool = True) -> None:
    """The page answers `status` and shows a message that belongs to no one field: in the summary, and in the
    form itself unless the page no longer offers the form (a closed assessment or statement)."""
    html = response.get_data(as_text=True)
    escaped = re.escape(str(escape(message)))
    assert response.status_code == status
    assert re.search(rf'govuk-error-summary__list">\s*<li>\s*[^<]*{escaped}', html), message
    in_the_form = re.search(rf'class="govuk-error-message"><span[^>]*>Error:</span>[^<]*{escaped}', html)
    assert bool(in_the_form) is in_form, message


def _page(client, record: StageRecord) -> str:
    """The stage page as this person sees it (which must be there to see)."""
    response = client.get(_url(record))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _state(record: StageRecord) -> StageState:
    db.session.expire_all()
    return db.session.get(StageRecord, record.id).state


def _answered(status: int):
    """A check that the page answered `status` (403, 404 or 409: refusals shown as their own page)."""

    def check(response) -> None:
        assert response.status_code == status

    return check


def _web_refused(send, check) -> None:
    """Send a form, check how its refusal is shown, and that nothing was saved."""
    before = _everything()
    check(send())
    assert _everything() == before


# --- submitting and signing off ------------------------------------------------------------------------


def test_submit_lists_what_is_missing_apart_from_the_supervisors_assessment(enrolment, people, login):
    """Submitting needs every requirement met, except the supervisor's assessment, which comes after."""
    record = _stage1(enrolment, people, ready=False)
    make_cycles(people["trainee"], 4, 2, WORK_DAY)
    expected = (
        "This stage is not ready to submit: 2 more VIG cycles with a shared review; 7 more hours of supervision "
        "confirmed by your supervisor; Complete your self-assessment against the attunement principles; "
        "Write or upload your reflective statement."
    )
    _refused(lambda: signoff.submit_stage(people["trainee"], record, record.version), expected)
    trainee = login(people["trainee"])
    _web_refused(lambda: _post(trainee, record, "submit"), lambda response: _shown_above(response, expected))

    make_cycles(people["trainee"], 2, 1, WORK_DAY)
    make_supervision(enrolment, people["supervisor"], 7, WORK_DAY)
    training.save_statement_text(people["trainee"], record, "What I learned.")
    complete_assessments(record, people["trainee"], None)
    assert _post(trainee, record, "submit").status_code == 302
    assert _state(record) is StageState.SUBMITTED


def test_sign_off_waits_for_every_requirement(enrolment, people, login):
    """The personal supervisor signs off only once every requirement, their own assessment included, is met."""
    record = _stage1(enrolment, people, StageState.SUBMITTED, supervisor_assessed=False)
    expected = "Requirements are not all met yet: Your supervisor completes their assessment against the attunement"
    _refused(lambda: signoff.sign_off_stage(people["supervisor"], record, None, TODAY, record.version), expected)
    supervisor = login(people["supervisor"])
    _web_refused(lambda: _post(supervisor, record, "sign-off"), lambda response: _shown_above(response, expected))

    # With their assessment done, the stage is signed off and waits for its meeting.
    assessment = dict.fromkeys(principles().codes, (4, None))
    training.save_assessment(people["supervisor"], record, AssessmentKind.SUPERVISOR, assessment)
    db.session.commit()
    assert _post(supervisor, record, "sign-off").status_code == 302
    assert _state(record) is StageState.SIGNED_OFF


@pytest.mark.parametrize(("comments", "message"), SCREENED)
def test_sign_off_comments_are_screened(enrolment, people, login, comments, message):
    """Optional comments on a sign-off are still screened for anything identifying a client."""
    record = _put(enrolment.stages[0], StageState.SUBMITTED, course_sessions_attended=4)
    _refused(
        lambda: signoff.sign_off_stage(people["supervisor"], record, comments, TODAY, record.version),
        message,
        "comments",
    )
    supervisor = login(people["supervisor"])
    _web_refused(
        lambda: _post(supervisor, record, "sign-off", {"comments": comments}),
        lambda response: _shown_beside(response, "sign-off-comments", message),
    )
    # Without them the ITC, which ends with no meeting, is complete and stage 1 starts that day.
    assert _post(supervisor, record, "sign-off", {"comments": "Well done."}).status_code == 302
    assert _state(record) is StageState.COMPLETE
    assert (enrolment.stages[1].state, enrolment.stages[1].started_on) == (StageState.IN_PROGRESS, TODAY)


@pytest.mark.parametrize(
    ("comments", "message"),
    [
        ("   ", "Write comments for the trainee explaining what to do next"),
        ("x" * 4001, "Comments must be 4,000 characters or fewer"),
        *SCREENED,
    ],
    ids=["blank", "too-long", "email", "phone"],
)
def test_returning_needs_fit_comments(enrolment, people, login, comments, message):
    """A return says what to do next, within 4,000 characters, with nothing that identifies a client."""
    record = _stage1(enrolment, people, StageState.SUBMITTED)
    _refused(
        lambda: signoff.return_stage(people["supervisor"], record, comments, record.version),
        message,
        "comments",
    )
    supervisor = login(people["supervisor"])
    _web_refused(
        lambda: _post(supervisor, record, "return", {"comments": comments}),
        lambda response: _shown_beside(response, "return-comments", message),
    )


# --- asking for an accrediting supervisor -------------------------------------------------------------


@pytest.mark.parametrize("who", ["nobody", "plain", "deactivated", "supervisor", "trainee"])
def test_the_accreditor_asked_must_be_a_fit_accrediting_supervisor(enrolment, people, login, who):
    """Only an active accrediting supervisor who is neither the trainee nor their personal supervisor."""
    if who == "trainee":  # a trainee who also accredits others still cannot accredit themselves
        people["trainee"].set_roles({Role.TRAINEE, Role.ACCREDITING_SUPERVISOR})
    if who == "deactivated":
        people["deactivated"] = make_user(
            "gone@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Gone Away", is_active_flag=False
        )
    db.session.commit()
    record = _stage1(enrolment, people, StageState.SIGNED_OFF)
    message, field = {
        "supervisor": ("The accrediting supervisor must not be the trainee's personal supervisor", "accreditor"),
        "trainee": ("Trainees cannot accredit their own stage", "accreditor"),
    }.get(who, ("Choose someone who holds the accrediting supervisor role", "accreditor"))
    accreditor = people.get(who)
    _refused(lambda: signoff.request_accreditor(people["admin"], record, accreditor, record.version), message, field)

    # A search does not find them, and choosing them anyway is refused beside the field.
    admin = login(people["admin"])
    chosen = str(accreditor.id) if accreditor is not None else "99999"
    assert f'action="{_url(record, "/accreditor")}"' in _page(admin, record)
    search = f"/people/search?for=accreditor&context={record.id}&q="
    assert [found["id"] for found in admin.get(search + "accreditor").get_json()["results"]] == [
        people["accreditor"].id
    ]
    if accreditor is not None:
        found = admin.get(search + accreditor.display_name[:4]).get_json()["results"]
        assert accreditor.id not in [person["id"] for person in found]
    _web_refused(
        lambda: _post(admin, record, "accreditor", {"accreditor": chosen}),
        lambda response: _shown_beside(
            response, "accreditor", "Search for the accrediting supervisor again and choose them from the results"
        ),
    )
    assert _post(admin, record, "accreditor", {"accreditor": str(people["accreditor"].id)}).status_code == 302
    assert _state(record) is StageState.WITH_ACCREDITOR


# --- the meeting --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting_day", "message"),
    [
        (date(2026, 3, 3), "The meeting date must be today or in the past"),
        (date(2026, 1, 31), "The meeting cannot be before the stage started"),
    ],
)
@pytest.mark.parametrize("outcome", ["accredit", "return"])
def test_the_meeting_date_falls_within_the_stage(enrolment, people, login, meeting_day, message, outcome):
    """The meeting is held on or after the day the stage started, and not in the future."""
    record = _stage1(enrolment, people, StageState.WITH_ACCREDITOR, accrediting_supervisor_id=people["accreditor"].id)
    _refused(
        lambda: signoff.record_meeting(
            people["accreditor"], record, outcome, meeting_day, "Bring more films.", TODAY, record.version
        ),
        message,
        "meeting_date",
    )
    data = {
        "meeting_date": [str(meeting_day.day), str(meeting_day.month), str(meeting_day.year)],
        "outcome": outcome,
        "comments": "Bring more films.",
    }
    accreditor = login(people["accreditor"])
    _web_refused(
        lambda: _post(accreditor, record, "meeting", data),
        lambda response: _shown_beside(response, "meeting_date", message),
    )
    # Held today instead, the meeting is recorded with its outcome.
    assert _post(accreditor, record, "meeting", {**data, "meeting_date": ["2", "3", "2026"]}).status_code == 302
    assert _state(record) is {"accredit": StageState.ACCREDITED, "return": StageState.RETURNED}[outcome]


def test_the_final_stage_is_not_accredited_without_its_statement(enrolment, people, login):
    """The accreditation meeting reads the reflective statement, so it must be in place first."""
    final = _final(
        enrolment,
        people,
        StageState.WITH_ACCREDITOR,
        accrediting_supervisor_id=people["accreditor"].id,
        statement_text=None,
    )
    message = "The reflective statement must be in place before the accreditation meeting"
    _refused(lambda: signoff.accredit_stage(people["accreditor"], final, TODAY, None, TODAY, final.version), message)
    accreditor = login(people["accreditor"])
    data = {"meeting_date": ["2", "3", "2026"], "outcome": "accredit"}
    _web_refused(lambda: _post(accreditor, final, "meeting", data), lambda response: _shown_above(response, message))
    # With the statement in place it is accredited, and waits for ratification (no stage follows it).
    _put(final, StageState.WITH_ACCREDITOR, statement_text="What I learned about guiding.")
    assert _post(accreditor, final, "meeting", data).status_code == 302
    assert _state(final) is StageState.ACCREDITED and final.ended_on is None


@pytest.mark.parametrize(
    ("comments", "message"),
    [("", "Write comments for the trainee explaining what to do next"), *SCREENED],
    ids=["blank", "email", "phone"],
)
def test_returning_after_the_meeting_needs_fit_comments(enrolment, people, login, comments, message):
    """A stage returned after its meeting carries comments saying what to do, screened like any other."""
    record = _stage1(enrolment, people, StageState.WITH_ACCREDITOR, accrediting_supervisor_id=people["accreditor"].id)
    _refused(
        lambda: signoff.return_after_meeting(people["accreditor"], record, TODAY, comments, TODAY, record.version),
        message,
        "comments",
    )
    accreditor = login(people["accreditor"])
    data = {"meeting_date": ["2", "3", "2026"], "outcome": "return", "comments": comments}
    _web_refused(
        lambda: _post(accreditor, record, "meeting", data),
        lambda response: _shown_beside(response, "meeting-comments", message),
    )


def test_accredit_comments_are_screened(enrolment, people):
    """Comments on an accreditation are optional but screened."""
    record = _stage1(enrolment, people, StageState.WITH_ACCREDITOR, accrediting_supervisor_id=people["accreditor"].id)
    _refused(
        lambda: signoff.accredit_stage(people["accreditor"], record, TODAY, "Call 07700 900123", TODAY, record.version),
        "Remove a phone number",
        "comments",
    )


# --- ratifying ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["supervised", "accredited", "trained"])
def test_an_administrator_does_not_ratify_a_trainee_they_had_a_part_in(app, people, login, part):
    """Ratifying is independent: not by the trainee, their personal supervisor or their accrediting supervisor."""
    admin = people["admin"]
    roles = {
        "supervised": {Role.ADMINISTRATOR, Role.SUPERVISOR},
        "accredited": {Role.ADMINISTRATOR, Role.ACCREDITING_SUPERVISOR},
        "trained": {Role.ADMINISTRATOR, Role.TRAINEE},
    }[part]
    admin.set_roles(roles)
    db.session.commit()
    trainee = admin if part == "trained" else people["trainee"]
    supervisor = admin if part == "supervised" else people["supervisor"]
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=people["admin"])
    accreditor = admin if part == "accredited" else people["accreditor"]
    final = _final(enrolment, people, StageState.ACCREDITED, accrediting_supervisor_id=accreditor.id)
    denied = "Only an AVIGuk administrator who is not the trainee can ratify"
    _refused(lambda: signoff.ratify_stage(admin, final, TODAY, final.version), denied, error=PermissionDenied)
    client = login(admin)
    assert f'action="{_url(final, "/ratify")}"' not in _page(client, final)
    _web_refused(lambda: _post(client, final, "ratify"), _answered(403))

    other = make_user("other-admin@example.org", roles=(Role.ADMINISTRATOR,), name="Olu Otheradmin")
    assert _post(login(other), final, "ratify").status_code == 302
    assert _state(final) is StageState.RATIFIED and enrolment.status is EnrolmentStatus.COMPLETED


@pytest.mark.parametrize(
    ("stage", "state", "message"),
    [
        ("stage-1", StageState.ACCREDITED, "Only an accredited final stage can be ratified"),
        ("stage-3", StageState.WITH_ACCREDITOR, "Only an accredited final stage can be ratified"),
    ],
    ids=["not-final", "not-accredited"],
)
def test_only_an_accredited_final_stage_is_ratified(enrolment, people, login, stage, state, message):
    """Ratification is for the accredited final stage alone."""
    record = enrolment.stage_record(stage)
    _put(record, state, started_on=ITC_ENDED, accrediting_supervisor_id=people["accreditor"].id)
    _refused(lambda: signoff.ratify_stage(people["admin"], record, TODAY, record.version), message)
    admin = login(people["admin"])
    _web_refused(lambda: _post(admin, record, "ratify"), lambda response: _shown_above(response, message))


# --- exemptions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("VIB 2019", "Give the reason for the exemption (the prior training it recognises)"),
        ("x" * 1001, "The reason must be 1,000 characters or fewer"),
        ("Course run by jo@example.com", "Remove an email address"),
    ],
    ids=["too-short", "too-long", "email"],
)
def test_an_exemption_names_the_prior_training(enrolment, people, login, reason, message):
    """The reason is at least 10 and at most 1,000 characters, and identifies no client."""
    record = enrolment.stages[0]
    _refused(
        lambda: signoff.record_exemption(people["admin"], record, reason, TODAY, record.version),
        message,
        "reason",
    )
    admin = login(people["admin"])
    _web_refused(
        lambda: _post(admin, record, "exemption", {"reason": reason}),
        lambda response: _shown_beside(response, "exemption-reason", message),
    )
    # Naming the training, the current stage is exempted and the next one starts.
    assert _post(admin, record, "exemption", {"reason": "Completed the equivalent Dutch VIB course"}).status_code == 302
    assert _state(record) is StageState.EXEMPT and enrolment.stages[1].state is StageState.IN_PROGRESS


@pytest.mark.parametrize(
    ("stage", "state", "message"),
    [
        ("stage-3", StageState.NOT_STARTED, "The final stage cannot be exempted: accreditation needs its meeting"),
        ("stage-1", StageState.SUBMITTED, "Only a stage that is not started or in progress can be exempted"),
        ("stage-1", StageState.COMPLETE, "Only a stage that is not started or in progress can be exempted"),
    ],
    ids=["final", "submitted", "finished"],
)
def test_only_an_open_stage_that_is_not_final_is_exempted(enrolment, people, login, stage, state, message):
    """An exemption stands in for a whole stage not yet under review; never for the final stage."""
    record = _put(enrolment.stage_record(stage), state)
    reason = "Completed the equivalent Dutch VIB course"
    _refused(lambda: signoff.record_exemption(people["admin"], record, reason, TODAY, record.version), message)
    admin = login(people["admin"])
    _web_refused(
        lambda: _post(admin, record, "exemption", {"reason": reason}), lambda response: _shown_above(response, message)
    )


# --- course attendance --------------------------------------------------------------------------------


@pytest.mark.parametrize("sessions", [-1, 51])
def test_attendance_is_between_0_and_50_sessions(enrolment, people, login, sessions):
    """Course attendance is a count of half-day sessions from 0 to 50."""
    record = enrolment.stages[0]
    message = "Enter a number of sessions between 0 and 50"
    _refused(
        lambda: signoff.confirm_attendance(people["supervisor"], record, sessions, record.version), message, "sessions"
    )
    if sessions > 0:  # the page takes whole numbers only, so it is the upper bound that a person can meet
        supervisor = login(people["supervisor"])
        _web_refused(
            lambda: _post(supervisor, record, "attendance", {"sessions": str(sessions)}),
            lambda response: _shown_beside(response, "sessions", message),
        )
        assert _post(supervisor, record, "attendance", {"sessions": "50"}).status_code == 302
        db.session.expire_all()
        assert enrolment.stages[0].course_sessions_attended == 50


@pytest.mark.parametrize(
    ("stage", "state", "message"),
    [
        ("itc", StageState.COMPLETE, "This stage is finished"),
        ("stage-1", StageState.IN_PROGRESS, "This stage has no course attendance to confirm"),
    ],
    ids=["finished", "no-course"],
)
def test_attendance_is_confirmed_on_an_unfinished_course_stage(enrolment, people, login, stage, state, message):
    """Only a stage with course attendance has it confirmed, and only until it is finished."""
    record = _put(enrolment.stage_record(stage), state, started_on=date(2026, 1, 5))
    _refused(lambda: signoff.confirm_attendance(people["supervisor"], record, 4, record.version), message)
    supervisor = login(people["supervisor"])
    _web_refused(
        lambda: _post(supervisor, record, "attendance", {"sessions": "4"}),
        lambda response: _shown_above(response, message),
    )


# --- stale pages and paused enrolments ---------------------------------------------------------------


def test_a_stale_version_is_a_conflict_and_nothing_is_saved(enrolment, people, login):
    """Acting on a page someone else has since changed is refused with 409 for every action."""
    record = _stage1(enrolment, people, StageState.SUBMITTED)
    stale = record.version - 1
    _refused(
        lambda: signoff.sign_off_stage(people["supervisor"], record, None, TODAY, stale),
        transactions.STALE,
        error=Conflict,
    )
    supervisor = login(people["supervisor"])
    for path, data in (("sign-off", {}), ("return", {"comments": "More on guiding."})):
        _web_refused(
            lambda path=path, data=data: _post(supervisor, record, path, {**data, "version": stale}),
            _answered(409),
        )


PAUSED_CASES = [
    (workflow.SUBMIT, StageState.IN_PROGRESS, "trainee", "submit", {}),
    (workflow.SIGN_OFF, StageState.SUBMITTED, "supervisor", "sign-off", {}),
    (workflow.REQUEST_ACCREDITOR, StageState.SIGNED_OFF, "admin", "accreditor", {"accreditor": "ACCREDITOR"}),
    (
        workflow.MEETING,
        StageState.WITH_ACCREDITOR,
        "accreditor",
        "meeting",
        {"meeting_date": ["2", "3", "2026"], "outcome": "accredit"},
    ),
]


@pytest.mark.parametrize("status", [EnrolmentStatus.PAUSED, EnrolmentStatus.WITHDRAWN])
@pytest.mark.parametrize(
    ("action", "state", "who", "path", "data"), PAUSED_CASES, ids=[case[0].name for case in PAUSED_CASES]
)
def test_a_stage_does_not_move_while_its_enrolment_is_not_active(
    enrolment, people, login, status, action, state, who, path, data
):
    """Submitting, signing off, asking for an accreditor and the meeting wait until the enrolment is active."""
    record = _stage1(enrolment, people, state, accrediting_supervisor_id=people["accreditor"].id)
    enrolment.status, enrolment.status_reason = status, "Parental leave"
    db.session.commit()
    message = f"This enrolment is {status.value}; stages cannot move until it is active again"
    arguments = {
        "submit": {},
        "sign_off": {"comments": None, "today": TODAY},
        "request_accreditor": {"accreditor": people["accreditor"]},
        "meeting": {"outcome": "accredit", "meeting_date": TODAY, "comments": None, "today": TODAY},
    }[action.name]
    _refused(
        lambda: signoff.perform(action, people[who], record, {**arguments, "seen_version": record.version}), message
    )
    fields = {key: str(people["accreditor"].id) if value == "ACCREDITOR" else value for key, value in data.items()}
    client = login(people[who])
    assert f'action="{_url(record, "/" + path)}"' not in _page(client, record)
    _web_refused(lambda: _post(client, record, path, fields), lambda response: _shown_above(response, message))


# --- enrolling ----------------------------------------------------------------------------------------


@pytest.fixture
def enrol_people(people):
    return {
        **people,
        "gone": make_user("gone@example.org", roles=(Role.TRAINEE,), name="Gail Gone", is_active_flag=False),
        "gone_supervisor": make_user(
            "gone-sup@example.org", roles=(Role.SUPERVISOR,), name="Gus Gone", is_active_flag=False
        ),
        "practitioner": make_user("lucy@example.org", roles=(Role.PRACTITIONER,), name="Lucy Practitioner"),
        "both": make_user("both@example.org", roles=(Role.TRAINEE, Role.SUPERVISOR), name="Bo Both"),
    }


ENROL_REFUSALS = [
    ("gone", "supervisor", date(2026, 4, 1), "This person's account is deactivated", "trainee"),
    ("practitioner", "supervisor", date(2026, 4, 1), "This person does not hold the trainee role", "trainee"),
    (
        "trainee",
        "accreditor_only",
        date(2026, 4, 1),
        "The personal supervisor must hold the supervisor role",
        "supervisor",
    ),
    (
        "trainee",
        "gone_supervisor",
        date(2026, 4, 1),
        "The personal supervisor must hold the supervisor role",
        "supervisor",
    ),
    ("both", "both", date(2026, 4, 1), "A trainee cannot be their own supervisor", "supervisor"),
    ("trainee", "supervisor", date(2027, 3, 3), "The start date must be within the next year", "start_date"),
]


@pytest.mark.parametrize(
    ("who", "supervisor", "start", "message", "field"),
    ENROL_REFUSALS,
    ids=[
        "deactivated",
        "not-a-trainee",
        "supervisor-without-role",
        "supervisor-deactivated",
        "own-supervisor",
        "too-far",
    ],
)
def test_enrol_refusals(enrol_people, login, who, supervisor, start, message, field):
    """A trainee is enrolled only if active and a trainee, with a fit supervisor, starting within a year."""
    if supervisor == "accreditor_only":
        enrol_people["accreditor_only"] = make_user("accr-only@example.org", roles=(Role.ACCREDITING_SUPERVISOR,))
    version = pathway_version()
    trainee, chosen = enrol_people[who], enrol_people[supervisor]
    _refused(
        lambda: training.enrol(enrol_people["admin"], trainee, version, chosen, None, start, TODAY), message, field
    )
    # The form finds only people a search could: anyone else is refused before the service is asked.
    page_message, page_field = (
        ("Search for the trainee again and choose them from the results", "trainee")
        if who in ("gone", "practitioner")
        else ("Search for the supervisor again and choose them from the results", "supervisor")
        if supervisor in ("gone_supervisor", "accreditor_only")
        else (message, field)
    )
    form = {
        "trainee": str(trainee.id),
        "pathway": str(version.id),
        "supervisor": str(chosen.id),
        "start_date": [str(start.day), str(start.month), str(start.year)],
    }
    admin = login(enrol_people["admin"])
    _web_refused(
        lambda: admin.submit("/enrolments/new", form),
        lambda response: _shown_beside(response, page_field, page_message),
    )


def test_only_administrators_and_supervisors_enrol(enrol_people):
    """A trainee does not enrol anyone, themselves included."""
    version = pathway_version()
    _refused(
        lambda: training.enrol(enrol_people["trainee"], enrol_people["trainee"], version, None, None, TODAY, TODAY),
        "Only administrators and supervisors can enrol trainees",
        error=PermissionDenied,
    )


@pytest.mark.parametrize("status", [EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED])
def test_a_trainee_is_enrolled_once_on_a_pathway_whatever_its_version(enrol_people, login, status):
    """An open (active or paused) enrolment on any version of a pathway blocks another on that pathway."""
    trainee, admin = enrol_people["trainee"], enrol_people["admin"]
    first = make_enrolment(trainee, enrol_people["supervisor"], version="2015.1", actor=admin)
    first.status = status
    db.session.commit()
    current = pathway_version("vig-practitioner", "2024.1")
    message = "Tara Trainee is already enrolled on VIG Practitioner"
    _refused(lambda: training.enrol(admin, trainee, current, None, None, TODAY, TODAY), message, "trainee")
    form = {"trainee": str(trainee.id), "pathway": str(current.id), "supervisor": "", "start_date": ["2", "3", "2026"]}
    client = login(admin)
    _web_refused(
        lambda: client.submit("/enrolments/new", form),
        lambda response: _shown_beside(response, "trainee", message),
    )
    # Once that enrolment is withdrawn, the trainee can start again, without a supervisor chosen yet.
    first.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    assert client.submit("/enrolments/new", form).status_code == 302
    again = db.session.scalars(select(Enrolment).where(Enrolment.pathway_version_id == current.id)).one()
    assert again.supervisor_id is None and again.stages[0].state is StageState.IN_PROGRESS


def test_enrolling_on_29_february_compares_the_start_date_with_a_year_ahead(enrol_people):
    """On a leap day the latest start date is a year ahead (28 February or 1 March), not an error."""
    trainee, admin = enrol_people["trainee"], enrol_people["admin"]
    enrolment = training.enrol(
        admin, trainee, pathway_version(), enrol_people["supervisor"], None, date(2028, 3, 1), date(2028, 2, 29)
    )
    assert enrolment.start_date == date(2028, 3, 1)


# --- changing the supervisor and the status -----------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "chosen", "message", "field", "error"),
    [
        ("trainee", "plain", "You cannot change this enrolment", None, PermissionDenied),
        ("accreditor", "plain", "You cannot change this enrolment", None, PermissionDenied),
        (
            "admin",
            "accreditor_only",
            "Choose someone with an active account who holds the supervisor role",
            "supervisor",
            DomainError,
        ),
        (
            "admin",
            "gone",
            "Choose someone with an active account who holds the supervisor role",
            "supervisor",
            DomainError,
        ),
        ("admin", "trainee", "A trainee cannot be their own supervisor", "supervisor", DomainError),
    ],
    ids=["trainee", "not-theirs", "no-role", "deactivated", "themselves"],
)
def test_change_supervisor_refusals(enrolment, people, actor, chosen, message, field, error):
    """Administrators and the personal supervisor change it, to an active supervisor who is not the trainee."""
    people["accreditor_only"] = make_user("accr-only@example.org", roles=(Role.ACCREDITING_SUPERVISOR,))
    people["gone"] = make_user("gone@example.org", roles=(Role.SUPERVISOR,), is_active_flag=False)
    people["trainee"].set_roles({Role.TRAINEE, Role.SUPERVISOR})
    db.session.commit()
    _refused(
        lambda: training.change_supervisor(people[actor], enrolment, people[chosen], enrolment.version),
        message,
        field,
        error,
    )


def test_change_supervisor_on_a_stale_page_is_a_conflict(enrolment, people, login):
    """Two people changing the enrolment at once: the second is refused with 409."""
    stale = enrolment.version
    training.set_enrolment_status(people["admin"], enrolment, EnrolmentStatus.PAUSED, "Leave", stale)
    db.session.commit()
    _refused(
        lambda: training.change_supervisor(people["admin"], enrolment, people["plain"], stale),
        transactions.STALE,
        error=Conflict,
    )
    client = login(people["admin"])
    form = {"version": str(stale), "supervisor": str(people["plain"].id)}
    _web_refused(
        lambda: client.submit(f"/enrolments/{enrolment.id}/supervisor", form),
        _answered(409),
    )


@pytest.mark.parametrize("status", [EnrolmentStatus.COMPLETED, EnrolmentStatus.WITHDRAWN])
def test_a_finished_enrolment_keeps_its_supervisor(enrolment, people, login, status):
    """Once completed or withdrawn, the supervisor of record stays as it was."""
    enrolment.status = status
    db.session.commit()
    message = f"This enrolment is {status.value}; its supervisor cannot change"
    _refused(
        lambda: training.change_supervisor(people["admin"], enrolment, people["plain"], enrolment.version), message
    )
    client = login(people["admin"])
    form = {"version": str(enrolment.version), "supervisor": str(people["plain"].id)}
    _web_refused(
        lambda: client.submit(f"/enrolments/{enrolment.id}/supervisor", form),
        lambda response: _shown_above(response, message),
    )


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (EnrolmentStatus.COMPLETED, "Done", "An enrolment is completed by ratifying its final stage"),
        (EnrolmentStatus.PAUSED, "  ", "Give a reason for pausing or withdrawing"),
        (EnrolmentStatus.WITHDRAWN, None, "Give a reason for pausing or withdrawing"),
        (EnrolmentStatus.PAUSED, "x" * 501, "The reason must be 500 characters or fewer"),
        (EnrolmentStatus.PAUSED, "Off sick, call 07700 900123", "Remove a phone number"),
    ],
    ids=["completed", "pause-blank", "withdraw-none", "too-long", "screened"],
)
def test_set_status_refusals(enrolment, people, status, reason, message):
    """Pausing or withdrawing needs a short reason identifying no client; completing is for ratification."""
    field = "status" if status is EnrolmentStatus.COMPLETED else "reason"
    _refused(
        lambda: training.set_enrolment_status(people["supervisor"], enrolment, status, reason, enrolment.version),
        message,
        field,
    )


@pytest.mark.parametrize(
    ("form", "message", "field"),
    [
        ({"status": "paused", "reason": ""}, "Give a reason for pausing or withdrawing", "reason"),
        ({"status": "withdrawn", "reason": "Email me at sue@example.com"}, "Remove an email address", "reason"),
        ({"status": "paused", "reason": "x" * 501}, "The reason must be 500 characters or fewer", "reason"),
    ],
    ids=["blank", "screened", "too-long"],
)
def test_set_status_refusals_on_the_page(enrolment, people, login, form, message, field):
    """The status page shows each refusal beside the reason."""
    client = login(people["supervisor"])
    _web_refused(
        lambda: client.submit(f"/enrolments/{enrolment.id}/status", {"version": str(enrolment.version), **form}),
        lambda response: _shown_beside(response, field, message),
    )


def test_a_completed_enrolment_cannot_change_status(enrolment, people, login):
    """A completed enrolment stays completed."""
    enrolment.status = EnrolmentStatus.COMPLETED
    db.session.commit()
    message = "This enrolment is complete and cannot change"
    _refused(
        lambda: training.set_enrolment_status(
            people["admin"], enrolment, EnrolmentStatus.ACTIVE, None, enrolment.version
        ),
        message,
        "status",
    )
    client = login(people["admin"])
    _web_refused(
        lambda: client.submit(
            f"/enrolments/{enrolment.id}/status", {"version": str(enrolment.version), "status": "active"}
        ),
        lambda response: _shown_beside(response, "status", message),
    )


def test_a_withdrawn_enrolment_is_not_reopened_beside_another_open_one(enrolment, people, login):
    """Reopening a withdrawn enrolment while the trainee is enrolled again on the pathway would make two."""
    training.set_enrolment_status(people["admin"], enrolment, EnrolmentStatus.WITHDRAWN, "Left", enrolment.version)
    again = training.enrol(
        people["admin"], people["trainee"], pathway_version(), people["supervisor"], None, TODAY, TODAY
    )
    db.session.commit()
    message = (
        f"{people['trainee'].display_name} has another open enrolment on {pathway_version().name}: "
        "withdraw that one first"
    )
    _refused(
        lambda: training.set_enrolment_status(
            people["admin"], enrolment, EnrolmentStatus.ACTIVE, None, enrolment.version
        ),
        message,
        "status",
    )
    client = login(people["admin"])
    _web_refused(
        lambda: client.submit(
            f"/enrolments/{enrolment.id}/status", {"version": str(enrolment.version), "status": "active"}
        ),
        lambda response: _shown_beside(response, "status", message),
    )
    training.set_enrolment_status(people["admin"], again, EnrolmentStatus.WITHDRAWN, "Wrong intake", again.version)
    training.set_enrolment_status(people["admin"], enrolment, EnrolmentStatus.ACTIVE, None, enrolment.version)
    db.session.commit()
    assert enrolment.status is EnrolmentStatus.ACTIVE


def test_set_status_is_for_managers_on_a_current_page(enrolment, people):
    """The trainee does not change their own status, and a stale page is a conflict."""
    _refused(
        lambda: training.set_enrolment_status(
            people["trainee"], enrolment, EnrolmentStatus.WITHDRAWN, "Leaving", enrolment.version
        ),
        "You cannot change this enrolment",
        error=PermissionDenied,
    )
    _refused(
        lambda: training.set_enrolment_status(
            people["admin"], enrolment, EnrolmentStatus.WITHDRAWN, "Leaving", enrolment.version - 1
        ),
        transactions.STALE,
        error=Conflict,
    )


# --- assessments --------------------------------------------------------------------------------------


def _ratings(value=3, **changes) -> dict:
    ratings = dict.fromkeys(principles().codes, (value, None))
    ratings.update(changes)
    return ratings


def _rating_form(value="3", **changes) -> dict:
    data = {}
    for code in principles().codes:
        data[f"rating_{code}"], data[f"evidence_{code}"] = value, ""
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("kind", "who", "state", "message"),
    [
        (AssessmentKind.SELF, "supervisor", StageState.IN_PROGRESS, "You cannot complete this assessment"),
        (AssessmentKind.SUPERVISOR, "trainee", StageState.IN_PROGRESS, "You cannot complete this assessment"),
        (AssessmentKind.SUPERVISOR, "admin", StageState.SUBMITTED, "You cannot complete this assessment"),
        (
            AssessmentKind.SELF,
            "trainee",
            StageState.SUBMITTED,
            "The assessment cannot change while the stage is submitted",
        ),
        (
            AssessmentKind.SUPERVISOR,
            "supervisor",
            StageState.SIGNED_OFF,
            "The assessment cannot change while the stage is signed off by supervisor",
        ),
    ],
    ids=[
        "self-by-supervisor",
        "supervisor-by-trainee",
        "supervisor-by-admin",
        "self-submitted",
        "supervisor-signed-off",
    ],
)
def test_each_assessment_is_one_persons_while_the_stage_is_open(enrolment, people, login, kind, who, state, message):
    """The trainee assesses themselves until they submit; the supervisor assesses until they sign off."""
    record = _stage1(enrolment, people, state)
    error = PermissionDenied if "cannot complete" in message else DomainError
    _refused(lambda: training.save_assessment(people[who], record, kind, _ratings(4)), message, error=error)
    client = login(people[who])
    url = _url(record, f"/assessment/{kind.value}")
    if error is PermissionDenied:
        _web_refused(
            lambda: client.submit(url, _rating_form("4"), page=_url(record)),
            _answered(403),
        )
    else:
        _web_refused(
            lambda: client.submit(url, _rating_form("4")),
            lambda response: _shown_above(response, message, in_form=False),
        )


@pytest.mark.parametrize(
    ("ratings", "form", "message", "field"),
    [
        (
            {"attentive": (None, None)},
            {"rating_attentive": ""},
            "Choose a rating for Being attentive",
            "rating_attentive",
        ),
        ({"guiding": (9, None)}, {"rating_guiding": "9"}, "Choose a rating for Guiding", "rating_guiding"),
        (
            {"guiding": (3, "x" * 1001)},
            {"evidence_guiding": "x" * 1001},
            "Evidence notes must be 1,000 characters or fewer",
            "evidence_guiding",
        ),
        (
            {"guiding": (3, "Mum is on 07700 900123")},
            {"evidence_guiding": "Mum is on 07700 900123"},
            "Remove a phone number",
            "evidence_guiding",
        ),
    ],
    ids=["missing", "off-the-scale", "too-long", "screened"],
)
def test_an_assessment_rates_every_principle_with_fit_evidence(enrolment, people, login, ratings, form, message, field):
    """Every principle is rated on the scale; evidence notes are short and identify no client."""
    record = _stage1(enrolment, people, ready=False)
    training.save_assessment(people["trainee"], record, AssessmentKind.SELF, _ratings(2))
    db.session.commit()
    _refused(
        lambda: training.save_assessment(people["trainee"], record, AssessmentKind.SELF, _ratings(4, **ratings)),
        message,
        field,
    )
    client = login(people["trainee"])
    _web_refused(
        lambda: client.submit(_url(record, "/assessment/self"), _rating_form("4", **form)),
        lambda response: _shown_beside(response, field, message),
    )
    # The same assessment with the fault put right replaces the earlier one.
    training.save_assessment(people["trainee"], record, AssessmentKind.SELF, _ratings(4))
    db.session.commit()
    saved = db.session.scalars(select(Assessment)).one()
    assert {entry["rating"] for entry in saved.ratings.values()} == {4}


# --- the reflective statement --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "Write your reflective statement"),
        ("x" * 20001, "The statement must be 20,000 characters or fewer"),
        ("My client's postcode is SW1A 1AA", "Remove a postcode"),
    ],
    ids=["blank", "too-long", "screened"],
)
def test_a_statement_is_written_within_its_limits(enrolment, people, login, text, message):
    """The statement says something, within 20,000 characters, and identifies no client."""
    record = _stage1(enrolment, people, ready=False)
    _refused(lambda: training.save_statement_text(people["trainee"], record, text), message, "text")
    client = login(people["trainee"])
    _web_refused(
        lambda: client.submit(_url(record, "/statement"), {"text": text, "save_text": "Save statement"}),
        lambda response: _shown_beside(response, "text", message),
    )


def test_only_the_trainee_writes_or_uploads_the_statement(enrolment, people):
    """Nobody else writes the trainee's reflective statement or uploads it for them."""
    record = _stage1(enrolment, people, ready=False)
    _refused(
        lambda: training.save_statement_text(people["supervisor"], record, "Written for them."),
        "Only the trainee writes their reflective statement",
        error=PermissionDenied,
    )
    _refused(
        lambda: training.attach_statement_file(
            people["supervisor"], record, "s.pdf", "application/pdf", 10, store=lambda: pytest.fail("stored")
        ),
        "Only the trainee uploads their reflective statement",
        error=PermissionDenied,
    )


def test_the_statement_is_fixed_once_the_stage_is_submitted(app, tmp_path, enrolment, people, login):
    """After submitting, neither the text nor the file changes, and no file is even stored."""
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    record = _stage1(enrolment, people, StageState.SUBMITTED)
    message = "The statement cannot change once the stage is submitted"
    _refused(lambda: training.save_statement_text(people["trainee"], record, "Changed my mind."), message)
    _refused(
        lambda: training.attach_statement_file(
            people["trainee"], record, "s.pdf", "application/pdf", 10, store=lambda: pytest.fail("stored")
        ),
        message,
    )
    client = login(people["trainee"])
    _web_refused(
        lambda: client.submit(_url(record, "/statement"), {"text": "Changed my mind.", "save_text": "Save statement"}),
        lambda response: _shown_above(response, message, in_form=False),
    )
    upload = {"file": (io.BytesIO(PDF_BYTES), "statement.pdf"), "upload": "Upload file"}
    _web_refused(
        lambda: client.submit(_url(record, "/statement"), upload, content_type="multipart/form-data"),
        lambda response: _shown_above(response, message, in_form=False),
    )
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


def test_an_uploaded_statement_replaces_the_previous_file(enrolment, people):
    """Uploading again records the new file and audits which one it replaced."""
    record = _stage1(enrolment, people, ready=False)
    keys = iter(["first-key", "second-key"])
    for name in ("first.pdf", "second.pdf"):
        training.attach_statement_file(people["trainee"], record, name, "application/pdf", 10, store=lambda: next(keys))
    db.session.commit()
    assert (record.statement_file_key, record.statement_file_name) == ("second-key", "second.pdf")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "stage.statement_uploaded").order_by(AuditEvent.id.desc())
    ).first()
    assert event.before == {"file": "first-key"}


# --- finding a stage ----------------------------------------------------------------------------------


def test_a_stage_exempted_ahead_of_time_does_not_lock_the_current_stages_cycles(enrolment, people):
    """Exempting a later stage in advance leaves the stage in progress open: its new cycles can still be deleted."""
    from vigtrain.casework.services import delete_cycle

    _stage1(enrolment, people, ready=False)
    later = enrolment.stage_record("stage-2")
    signoff.record_exemption(people["admin"], later, "Completed the equivalent Dutch VIB course", TODAY, later.version)
    db.session.commit()
    assert enrolment.stage_record("stage-1").state is StageState.IN_PROGRESS
    (case,) = make_cycles(people["trainee"], 1, 1, TODAY)  # a cycle of stage 1, which is still in progress
    transactions.run(lambda: delete_cycle(people["trainee"], case.cycles[0]))


def test_the_accrediting_supervisor_made_personal_supervisor_does_not_strand_the_stage(enrolment, people):
    """The accrediting supervisor never also supervises the trainee: changing the personal supervisor to them
    is refused, or else someone must still be able to move the stage they were asked to accredit."""
    record = _stage1(enrolment, people, StageState.WITH_ACCREDITOR, accrediting_supervisor_id=people["accreditor"].id)
    try:
        transactions.run(
            lambda: training.change_supervisor(people["admin"], enrolment, people["accreditor"], enrolment.version)
        )
    except DomainError as refusal:
        assert refusal.field == "supervisor"
        return
    db.session.expire_all()
    movers = [name for name, person in people.items() if workflow.offered(person, record)]
    assert movers, "the stage is with its accrediting supervisor and nobody is offered any action on it"


# --- what a move does next: who is told, which stage starts ---------------------------------------------


def _emails() -> list[tuple[str, str]]:
    return list(db.session.execute(select(OutboxMessage.to_address, OutboxMessage.subject)).tuples())


def test_the_person_a_stage_now_waits_for_is_emailed(enrolment, people):
    """Returning a stage tells the trainee, with the supervisor's comments."""
    record = _stage1(enrolment, people, StageState.SUBMITTED)
    signoff.return_stage(people["supervisor"], record, "Add your clip choices.", record.version)
    db.session.commit()
    assert _emails() == [("trainee@example.org", "Stage 1 has been returned to you")]


def test_nobody_is_emailed_when_there_is_no_supervisor_yet(app, people):
    """A trainee enrolled before a supervisor is chosen submits, and there is nobody to tell."""
    enrolment = make_enrolment(people["trainee"], None, start=date(2026, 1, 5), actor=people["admin"])
    itc = _put(enrolment.stages[0], StageState.IN_PROGRESS, course_sessions_attended=4)
    signoff.submit_stage(people["trainee"], itc, itc.version)
    db.session.commit()
    assert itc.state is StageState.SUBMITTED
    assert _emails() == []


def test_a_deactivated_person_is_not_emailed(enrolment, people):
    """A trainee whose account is deactivated is not told the stage came back."""
    record = _stage1(enrolment, people, StageState.SUBMITTED)
    people["trainee"].is_active_flag = False
    db.session.commit()
    signoff.return_stage(people["supervisor"], record, "Add your clip choices.", record.version)
    db.session.commit()
    assert record.state is StageState.RETURNED
    assert _emails() == []


def test_nobody_is_emailed_about_their_own_action(enrolment, people):
    """An administrator who accredits, asking themselves to hold the meeting, is not emailed about it."""
    people["admin"].set_roles({Role.ADMINISTRATOR, Role.ACCREDITING_SUPERVISOR})
    record = _stage1(enrolment, people, StageState.SIGNED_OFF)
    signoff.request_accreditor(people["admin"], record, people["admin"], record.version)
    db.session.commit()
    assert record.state is StageState.WITH_ACCREDITOR and record.accrediting_supervisor_id == people["admin"].id
    assert _emails() == []


def test_accrediting_a_stage_starts_the_next_one_that_is_not_exempt(enrolment, people):
    """A stage exempted in advance is passed over: the one after it starts on the meeting date."""
    record = _stage1(enrolment, people, StageState.WITH_ACCREDITOR, accrediting_supervisor_id=people["accreditor"].id)
    stage2, stage3 = enrolment.stages[2], enrolment.stages[3]
    signoff.record_exemption(
        people["admin"], stage2, "Completed the equivalent Dutch VIB course", TODAY, stage2.version
    )
    db.session.commit()
    assert stage2.state is StageState.EXEMPT and stage3.state is StageState.NOT_STARTED  # nothing started yet
    signoff.accredit_stage(people["accreditor"], record, date(2026, 3, 1), None, TODAY, record.version)
    db.session.commit()
    assert (stage3.state, stage3.started_on) == (StageState.IN_PROGRESS, date(2026, 3, 1))
    assert [t.to_state for t in stage3.transitions] == [StageState.IN_PROGRESS]
    assert stage2.state is StageState.EXEMPT and len(stage2.transitions) == 1


# The services always leave the stage after a current one not started (or exempt), and the final stage
# cannot be exempted, so the next two cases arise only from records corrected by hand; the chain must
# still not disturb them.


def test_a_next_stage_already_under_way_is_left_as_it_is(enrolment, people):
    """Finishing a stage does not restart one that is already in progress."""
    record = _stage1(enrolment, people, StageState.WITH_ACCREDITOR, accrediting_supervisor_id=people["accreditor"].id)
    stage2 = _put(enrolment.stages[2], StageState.IN_PROGRESS, started_on=date(2026, 2, 20))
    signoff.accredit_stage(people["accreditor"], record, date(2026, 3, 1), None, TODAY, record.version)
    db.session.commit()
    assert (stage2.state, stage2.started_on, stage2.transitions) == (StageState.IN_PROGRESS, date(2026, 2, 20), [])


def test_when_every_later_stage_is_exempt_nothing_starts(enrolment, people):
    """With nothing left to start, finishing a stage starts nothing."""
    record = _stage1(enrolment, people, StageState.WITH_ACCREDITOR, accrediting_supervisor_id=people["accreditor"].id)
    for later in enrolment.stages[2:]:
        _put(later, StageState.EXEMPT)
    signoff.accredit_stage(people["accreditor"], record, date(2026, 3, 1), None, TODAY, record.version)
    db.session.commit()
    assert record.state is StageState.ACCREDITED and record.ended_on == date(2026, 3, 1)
    assert [(stage.state, stage.transitions) for stage in enrolment.stages[2:]] == [(StageState.EXEMPT, [])] * 2
