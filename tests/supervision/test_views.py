"""The supervision log through the browser's eyes: logging, confirming, querying, correcting, bulk
confirming, every refusal, and that stage progress moves only when a supervisor confirms."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, select

from tests.factories import make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.supervision import sessions
from vigtrain.supervision.models import SessionFormat, SessionStatus, SupervisionSession
from vigtrain.supervision.sessions import SessionFacts
from vigtrain.training import signoff
from vigtrain.training.progress import stage_progress

TODAY = date(2026, 3, 2)  # the clock fixture's day


@pytest.fixture
def people(app, clock):
    trainee = make_user("tara@example.org", name="Tara Trainee")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    other_supervisor = make_user("omar@example.org", roles=(Role.SUPERVISOR,), name="Omar Other")
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    return trainee, supervisor, other_supervisor, admin, enrolment


@pytest.fixture
def stranger(app):
    """Another trainee, with another supervisor, and a session of their own."""
    other = make_user("sam@example.org", name="Sam Stranger")
    their_supervisor = make_user("hal@example.org", roles=(Role.SUPERVISOR,), name="Hal Hughes")
    enrolment = make_enrolment(other, their_supervisor, start=date(2026, 1, 5))
    session = make_supervision(enrolment, their_supervisor, 1, date(2026, 2, 3), confirmed=False)
    return enrolment, session


def _form(supervisor=None, **overrides) -> dict:
    data = {
        "session_date": ["10", "2", "2026"],
        "duration": "60",
        "format": "individual",
        "mode": "in_person",
    }
    if supervisor is not None:
        data["supervisor"] = str(supervisor.id)
    data.update(overrides)
    return data


def _sessions() -> list[SupervisionSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(SupervisionSession).order_by(SupervisionSession.id)))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SupervisionSession))


def _log(trainee, enrolment, **facts) -> SupervisionSession:
    facts.setdefault("session_date", date(2026, 2, 10))
    session = sessions.log_session(trainee, enrolment, SessionFacts(**facts), TODAY)
    db.session.commit()
    return session


def _confirmed(trainee, supervisor, enrolment, **facts) -> SupervisionSession:
    session = _log(trainee, enrolment, **facts)
    sessions.confirm_session(supervisor, session, session.version)
    db.session.commit()
    return session


def _stage1(enrolment, trainee, supervisor):
    """Finish the initial course on 1 February so Stage 1 (7 h of supervision) is current."""
    itc = enrolment.stages[0]
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    signoff.submit_stage(trainee, itc, itc.version)
    signoff.sign_off_stage(supervisor, itc, None, date(2026, 2, 1), itc.version)
    db.session.commit()
    return enrolment.stages[1]


def _hours(record) -> str:
    db.session.expire_all()
    progress = stage_progress(record)
    return progress.status_for(RequirementKind.SUPERVISION_HOURS).figure


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


# --- logging --------------------------------------------------------------------------------------


def test_log_form_is_filled_in_with_today_an_hour_and_my_supervisor(client, people):
    client.login("tara@example.org")
    html = _text(client.get("/supervision/new"))
    assert re.search(r'id="session_date" name="session_date" type="text" value="2"', html)
    assert re.search(r'id="session_date-month"[^>]*value="3"', html)
    assert re.search(r'id="session_date-year"[^>]*value="2026"', html)
    assert re.search(r'value="60"\s+checked', html)
    # The personal supervisor is already chosen; another is found by searching, never listed.
    assert re.search(r'name="supervisor"\s+type="radio" value="\d+"\s+checked[\s>]', html)
    assert re.search(r'<label class="govuk-label govuk-radios__label" for="supervisor-\d+">\s*Sue Supervisor', html)
    assert "Your personal supervisor is Sue Supervisor." in html
    # The optional details are folded away until used.
    assert '<details class="govuk-details">' in html


def test_trainee_logs_a_session(client, people):
    trainee, supervisor, _, _, _ = people
    client.login("tara@example.org")
    response = client.submit(
        "/supervision/new",
        _form(supervisor, duration_minutes="75", start_time="2.30pm", principles=["guiding"]),
    )
    assert response.status_code == 302
    (session,) = _sessions()
    assert response.headers["Location"] == f"/supervision/{session.id}"  # the session just logged
    assert (session.session_date, session.duration_minutes, session.start_time.isoformat()) == (
        date(2026, 2, 10),
        75,
        "14:30:00",
    )
    assert (session.supervisor_id, session.logged_by_id, session.status) == (
        supervisor.id,
        trainee.id,
        SessionStatus.LOGGED,
    )
    assert session.principles == ["guiding"]
    html = _text(client.get(response.headers["Location"]))
    assert "It counts once Sue Supervisor confirms it" in html
    assert "Awaiting confirmation" in html and "10 February 2026" in html
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "supervision.logged"))
    assert event.actor_id == trainee.id and event.after["start_time"] == "14:30"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"session_date": ["3", "3", "2026"]}, "session_date", "The date of the session must be today or in the past"),
        ({"session_date": ["4", "1", "2026"]}, "session_date", "must be on or after the training started, 5 January"),
        ({"session_date": ["30", "2", "2026"]}, "session_date", "The date of the session must be a real date"),
        ({"session_date": ["", "", ""]}, "session_date", "Enter the date of the session"),
        ({"duration_minutes": "14"}, "duration_minutes", "between 15 minutes and 8 hours (480 minutes)"),
        ({"duration_minutes": "481"}, "duration_minutes", "between 15 minutes and 8 hours (480 minutes)"),
        ({"duration_minutes": "an hour"}, "duration_minutes", "Enter the length as a whole number of minutes"),
        ({"duration": "600"}, "duration", "Select how long the session was, or enter the minutes"),
        ({"format": "group"}, "group_size", "Enter how many trainees were in the group"),
        ({"format": "group", "group_size": "31"}, "group_size", "a group has between 2 and 30"),
        (
            {"supervisor": "999999"},
            "supervisor",
            "Search for the supervisor who led the session again and choose them from the results",
        ),
        ({"start_time": "25:00"}, "start_time", "Enter the start time like 9:30 or 14:00"),
        ({"cycles": "999999"}, "cycles", "One of the cycles chosen is not in your casework"),
        ({"reflection": "Mum's number is 07700 900123"}, "reflection", "Remove a phone number"),
        ({"clips_reviewed": "99"}, "clips_reviewed", "Number of clips reviewed must be between 0 and 60"),
    ],
)
def test_each_refusal_is_a_422_with_a_message_beside_its_field_and_saves_nothing(
    client, people, overrides, field, message
):
    _, supervisor, _, _, _ = people
    client.login("tara@example.org")
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.submit("/supervision/new", {**_form(supervisor), **overrides})
    assert response.status_code == 422
    html = _text(response)
    assert "There is a problem" in html and "<title>Error:" in html
    assert re.search(rf'<a href="#{field}">[^<]*{re.escape(message)}', html), f"no summary link to #{field}"
    beside = rf'id="{field}(-date)?-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>[^<]*'
    assert re.search(beside + re.escape(message), html), f"no message beside #{field}"
    assert _count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_a_duplicate_session_is_refused_and_says_so(client, people):
    trainee, supervisor, _, _, enrolment = people
    _log(trainee, enrolment)
    client.login("tara@example.org")
    response = client.submit("/supervision/new", _form(supervisor, duration="90"))
    assert response.status_code == 422
    html = _text(response)
    assert "This session is already in Tara Trainee's log: with Sue Supervisor on 10 February 2026" in html
    assert "enter its start time" in html
    assert '<details class="govuk-details" open>' in html  # the start time field is in view
    assert _count() == 1


def test_the_personal_supervisor_logs_on_the_trainees_behalf(client, people):
    _, supervisor, _, _, enrolment = people
    client.login("sue@example.org")
    html = _text(client.get(f"/supervision/new?enrolment={enrolment.id}"))
    assert "Log a session for Tara Trainee" in html and 'name="supervisor"' not in html
    response = client.submit(f"/supervision/new?enrolment={enrolment.id}", _form())
    assert response.headers["Location"] == f"/supervision/trainees/{enrolment.id}"
    (session,) = _sessions()
    assert session.supervisor_id == supervisor.id and session.logged_by_id == supervisor.id


def test_someone_with_several_logs_chooses_which(client, people):
    _trainee, supervisor, _, _admin, _ = people
    supervisor.set_roles({Role.SUPERVISOR, Role.TRAINEE})
    make_enrolment(supervisor, make_user("mentor@example.org", roles=(Role.SUPERVISOR,)), code="vig-supervisor")
    client.login("sue@example.org")
    html = _text(client.get("/supervision/new"))
    assert "Which log is this session for?" in html
    assert "Your VIG Supervisor training" in html and "Tara Trainee, VIG Practitioner" in html


def test_without_a_training_record_there_is_nothing_to_log_in(client, app):
    make_user("pat@example.org", roles=(Role.PRACTITIONER,))
    client.login("pat@example.org")
    assert "You have no training record" in _text(client.get("/supervision/new"))
    assert "You have no training record" in _text(client.get("/supervision"))


def test_a_supervisor_without_their_own_log_goes_to_their_queue(client, people):
    client.login("sue@example.org")
    response = client.get("/supervision")
    assert response.status_code == 302 and response.headers["Location"] == "/supervision/queue"


# --- access ---------------------------------------------------------------------------------------


def test_someone_elses_log_and_sessions_are_not_found(client, people, stranger):
    their_enrolment, their_session = stranger
    client.login("tara@example.org")
    for url in (
        f"/supervision?enrolment={their_enrolment.id}",
        f"/supervision/new?enrolment={their_enrolment.id}",
        f"/supervision/trainees/{their_enrolment.id}",
        f"/supervision/{their_session.id}",
        f"/supervision/{their_session.id}/edit",
        f"/supervision/{their_session.id}/correct",
        f"/supervision/export.csv?enrolment={their_enrolment.id}",
        f"/supervision/record.pdf?enrolment={their_enrolment.id}",
        "/supervision/export.csv",
        "/supervision/99999",
    ):
        assert client.get(url).status_code == 404, url
    response = client.submit(f"/supervision/new?enrolment={their_enrolment.id}", _form(), page="/supervision/new")
    assert response.status_code == 404
    response = client.submit(
        f"/supervision/{their_session.id}/review", {"version": "1", "confirm": "y"}, page="/supervision/new"
    )
    assert response.status_code == 404
    assert _count() == 1


def test_another_supervisor_cannot_see_or_confirm_a_session_they_did_not_lead(client, people):
    trainee, _, _, _, enrolment = people
    session = _log(trainee, enrolment)
    client.login("omar@example.org")
    assert client.get(f"/supervision/{session.id}").status_code == 404
    assert client.get(f"/supervision/trainees/{enrolment.id}").status_code == 404
    response = client.submit(
        f"/supervision/{session.id}/review", {"version": "1", "confirm": "y"}, page="/supervision/queue"
    )
    assert response.status_code == 404
    assert _sessions()[0].status is SessionStatus.LOGGED


def test_the_trainee_cannot_confirm_their_own_session(client, people):
    trainee, _, _, _, enrolment = people
    session = _log(trainee, enrolment)
    client.login("tara@example.org")
    html = _text(client.get(f"/supervision/{session.id}"))
    assert "Confirm session" not in html
    response = client.submit(
        f"/supervision/{session.id}/review", {"version": "1", "confirm": "y"}, page=f"/supervision/{session.id}"
    )
    assert response.status_code == 403
    assert _sessions()[0].status is SessionStatus.LOGGED
    assert client.get("/supervision/queue").status_code == 403


def test_a_named_supervisor_who_is_not_the_personal_one_confirms_what_they_led(client, people):
    trainee, _, other_supervisor, _, enrolment = people
    session = sessions.log_session(trainee, enrolment, SessionFacts(), TODAY, supervisor=other_supervisor)
    db.session.commit()
    client.login("omar@example.org")
    html = _text(client.get("/supervision/queue"))
    assert "Tara Trainee" in html
    response = client.submit(
        f"/supervision/{session.id}/review", {"version": "1", "confirm": "y"}, page=f"/supervision/{session.id}"
    )
    assert response.status_code == 302
    assert _sessions()[0].status is SessionStatus.CONFIRMED
    assert client.get(f"/supervision/trainees/{enrolment.id}").status_code == 404  # the session, not the log


def test_administrators_read_any_log(client, people):
    trainee, _, _, _, enrolment = people
    _log(trainee, enrolment)
    client.login("ada@example.org")
    response = client.get(f"/supervision/trainees/{enrolment.id}")
    assert response.status_code == 200
    assert "Supervision log: Tara Trainee" in _text(response)


# --- confirming, and what counts ------------------------------------------------------------------


def test_progress_moves_only_when_the_supervisor_confirms(client, people):
    trainee, supervisor, _, _, enrolment = people
    stage1 = _stage1(enrolment, trainee, supervisor)
    client.login("tara@example.org")
    client.submit("/supervision/new", _form(supervisor, duration="90"))
    (session,) = _sessions()
    assert _hours(stage1) == "0 h of 7 h confirmed"

    supervisor_client = client.application.test_client()
    supervisor_client.login("sue@example.org")
    queue = _text(supervisor_client.get("/supervision/queue"))
    assert "1 session awaiting your confirmation" in queue and "Tara Trainee" in queue
    assert _hours(stage1) == "0 h of 7 h confirmed"
    response = supervisor_client.submit(
        f"/supervision/{session.id}/review",
        {"version": str(session.version), "comments": "Good film choices.", "confirm": "Confirm session"},
        page=f"/supervision/{session.id}",
    )
    assert response.status_code == 302 and response.headers["Location"] == "/supervision/queue"
    assert _hours(stage1) == "1.5 h of 7 h confirmed"
    confirmed = _sessions()[0]
    assert confirmed.status is SessionStatus.CONFIRMED and confirmed.supervisor_comments == "Good film choices."
    html = _text(client.get("/supervision"))
    assert "1.5 hours" in html and "Confirmed" in html


def test_a_stale_confirmation_is_a_conflict(client, people):
    trainee, _, _, _, enrolment = people
    session = _log(trainee, enrolment)
    client.login("sue@example.org")
    page = f"/supervision/{session.id}"
    token_page = client.get(page)
    assert token_page.status_code == 200
    sessions.resubmit_session(
        trainee, session, SessionFacts(session_date=date(2026, 2, 10), duration_minutes=90), TODAY, 1
    )
    db.session.commit()
    response = client.submit(f"/supervision/{session.id}/review", {"version": "1", "confirm": "y"}, page=page)
    assert response.status_code == 409
    assert _sessions()[0].status is SessionStatus.LOGGED


def test_query_then_resubmit(client, people):
    trainee, _, _, _, enrolment = people
    session = _log(trainee, enrolment)
    client.login("sue@example.org")
    page = f"/supervision/{session.id}"
    response = client.submit(f"{page}/review", {"version": "1", "comments": " ", "query": "Query session"}, page=page)
    assert response.status_code == 422
    assert "Write a comment saying what the trainee should check or change" in _text(response)
    assert _sessions()[0].status is SessionStatus.LOGGED
    response = client.submit(
        f"{page}/review", {"version": "1", "comments": "We met for 90 minutes.", "query": "Query session"}, page=page
    )
    assert response.status_code == 302
    assert _sessions()[0].status is SessionStatus.QUERIED

    trainee_client = client.application.test_client()
    trainee_client.login("tara@example.org")
    html = _text(trainee_client.get(page))
    assert "Sue Supervisor queried this session" in html and "We met for 90 minutes." in html
    form_page = _text(trainee_client.get(f"{page}/edit"))
    assert "Change and resubmit this session" in form_page and "Resubmit for confirmation" in form_page
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form_page).group(1)
    response = trainee_client.submit(f"{page}/edit", _form(session.supervisor, duration="90", version=version))
    assert response.status_code == 302
    resubmitted = _sessions()[0]
    assert (resubmitted.status, resubmitted.duration_minutes) == (SessionStatus.LOGGED, 90)
    assert "Session resubmitted to Sue Supervisor" in _text(trainee_client.get(page))


def test_a_confirmed_session_cannot_be_edited(client, people):
    trainee, supervisor, _, _, enrolment = people
    session = _confirmed(trainee, supervisor, enrolment)
    client.login("tara@example.org")
    response = client.get(f"/supervision/{session.id}/edit")
    assert response.status_code == 409
    assert "This session is confirmed and locked" in _text(response)
    response = client.submit(
        f"/supervision/{session.id}/edit",
        _form(duration="120", version=str(session.version)),
        page=f"/supervision/{session.id}",
    )
    assert response.status_code == 409
    unchanged = _sessions()[0]
    assert (unchanged.duration_minutes, unchanged.status) == (60, SessionStatus.CONFIRMED)


def test_a_correction_counts_instead_of_the_original_once_confirmed(client, people):
    trainee, supervisor, _, _, enrolment = people
    stage1 = _stage1(enrolment, trainee, supervisor)
    original = _confirmed(trainee, supervisor, enrolment)
    client.login("tara@example.org")
    page = f"/supervision/{original.id}"
    assert "Correct this session" in _text(client.get(page))
    form_page = _text(client.get(f"{page}/correct"))
    assert "Correct a confirmed session" in form_page and 'name="supervisor"' not in form_page
    data = _form(duration="90", version=str(original.version))
    response = client.submit(f"{page}/correct", data)
    assert response.status_code == 422
    assert "Explain what was wrong and what the correction changes" in _text(response)
    assert _count() == 1

    response = client.submit(f"{page}/correct", {**data, "amendment_reason": "It lasted 90 minutes, not 60."})
    assert response.status_code == 302
    original_now, correction = _sessions()
    assert (original_now.status, correction.status) == (SessionStatus.CONFIRMED, SessionStatus.LOGGED)
    assert correction.amends_id == original.id and correction.duration_minutes == 90
    assert _hours(stage1) == "1 h of 7 h confirmed"
    assert "is waiting for Sue Supervisor to confirm it" in _text(client.get(page))

    supervisor_client = client.application.test_client()
    supervisor_client.login("sue@example.org")
    html = _text(supervisor_client.get(f"/supervision/{correction.id}"))
    assert "It lasted 90 minutes, not 60." in html and "Correction" in html
    supervisor_client.submit(
        f"/supervision/{correction.id}/review",
        {"version": str(correction.version), "confirm": "y"},
        page=f"/supervision/{correction.id}",
    )
    original_now, correction = _sessions()
    assert (original_now.status, correction.status) == (SessionStatus.SUPERSEDED, SessionStatus.CONFIRMED)
    assert _hours(stage1) == "1.5 h of 7 h confirmed"
    assert "Replaced by a correction" in _text(client.get(page))


# --- the queue and bulk confirm -------------------------------------------------------------------


def test_bulk_confirm_refuses_what_is_not_mine_and_confirms_the_rest(client, people, stranger):
    trainee, _supervisor, other_supervisor, _, enrolment = people
    _, not_mine = stranger
    mine = [_log(trainee, enrolment, session_date=date(2026, 2, day)) for day in (3, 10)]
    led_by_other = sessions.log_session(
        trainee, enrolment, SessionFacts(session_date=date(2026, 2, 17)), TODAY, supervisor=other_supervisor
    )
    db.session.commit()
    client.login("sue@example.org")
    queue = _text(client.get("/supervision/queue"))
    assert "2 sessions awaiting your confirmation" in queue
    assert f'value="{mine[0].id}:1"' in queue and f'value="{led_by_other.id}:1"' not in queue
    chosen = [f"{mine[0].id}:1", f"{mine[1].id}:1", f"{led_by_other.id}:1", f"{not_mine.id}:1"]
    response = client.submit("/supervision/queue", {"sessions": chosen})
    assert response.status_code == 302
    html = _text(client.get("/supervision/queue"))
    assert "2 sessions confirmed." in html
    assert f"2 sessions were not confirmed: session {led_by_other.id}: it is not awaiting your confirmation" in html
    statuses = {s.id: s.status for s in _sessions()}
    assert statuses[mine[0].id] is statuses[mine[1].id] is SessionStatus.CONFIRMED
    assert statuses[led_by_other.id] is statuses[not_mine.id] is SessionStatus.LOGGED


def test_bulk_confirm_needs_a_selection(client, people):
    trainee, _, _, _, enrolment = people
    _log(trainee, enrolment)
    client.login("sue@example.org")
    response = client.submit("/supervision/queue", {})
    assert response.status_code == 422
    assert "Select the sessions to confirm" in _text(response)
    assert _sessions()[0].status is SessionStatus.LOGGED


def test_a_group_session_is_logged_for_each_trainee_selected(client, people):
    _, supervisor, _, admin, enrolment = people
    second = make_enrolment(make_user("ben@example.org", name="Ben Trainee"), supervisor, actor=admin)
    client.login("sue@example.org")
    html = _text(client.get("/supervision/group/new"))
    assert "Tara Trainee" in html and "Ben Trainee" in html
    data = {
        "session_date": ["12", "2", "2026"],
        "duration": "120",
        "mode": "remote",
        "trainees": [str(enrolment.id), str(second.id)],
        "group_size": "5",
    }
    response = client.submit("/supervision/group/new", {**data, "trainees": [str(enrolment.id), "99999"]})
    assert response.status_code == 422 and "Select trainees from the list" in _text(response)
    response = client.submit("/supervision/group/new", data)
    assert response.status_code == 302
    assert [(s.enrolment_id, s.format, s.group_size, s.duration_minutes) for s in _sessions()] == [
        (enrolment.id, SessionFormat.GROUP, 5, 120),
        (second.id, SessionFormat.GROUP, 5, 120),
    ]
    response = client.submit("/supervision/group/new", data)
    assert response.status_code == 422 and "already in Tara Trainee's log" in _text(response)
    assert _count() == 2


def test_only_supervisors_log_group_sessions(client, people):
    client.login("tara@example.org")
    assert client.get("/supervision/group/new").status_code == 403


# --- the log page ---------------------------------------------------------------------------------


def test_the_log_shows_totals_per_stage_and_format(client, people):
    trainee, supervisor, _, _, enrolment = people
    _stage1(enrolment, trainee, supervisor)
    _confirmed(trainee, supervisor, enrolment, session_date=date(2026, 1, 20), duration_minutes=90)
    _confirmed(trainee, supervisor, enrolment, format=SessionFormat.GROUP, group_size=4, duration_minutes=120)
    _log(trainee, enrolment, session_date=date(2026, 2, 20), duration_minutes=45)
    client.login("tara@example.org")
    html = re.sub(r"\s+", " ", _text(client.get("/supervision")))
    assert "3.5 hours</strong> from 2 confirmed sessions" in html
    assert re.search(r"Initial Training Course.*?1.5 h", html)
    assert re.search(r"Stage 1.*?2 h<br><span class=\"govuk-body-s\">1 session</span>.*?7 h.*?0.75 h", html)
    assert re.search(r"Group</th> <td[^>]*>1</td> <td[^>]*>2 h</td>", html)


def test_filters_narrow_the_log(client, people):
    trainee, supervisor, _, _, enrolment = people
    _confirmed(trainee, supervisor, enrolment, session_date=date(2026, 1, 20))
    _log(trainee, enrolment, session_date=date(2026, 2, 10), format=SessionFormat.GROUP, group_size=3)
    _log(trainee, enrolment, session_date=date(2026, 2, 24))
    client.login("tara@example.org")

    def shown(query: str) -> list[str]:
        html = _text(client.get(f"/supervision?enrolment={enrolment.id}&{query}"))
        return re.findall(r"(\d+ \w+ 2026)<span class=\"govuk-visually-hidden\"> session", html)

    assert shown("") == ["24 February 2026", "10 February 2026", "20 January 2026"]
    assert shown("status=confirmed") == ["20 January 2026"]
    assert shown("format=group") == ["10 February 2026"]
    assert shown("date_from=1&date_from=2&date_from=2026&date_to=20&date_to=2&date_to=2026") == ["10 February 2026"]
    response = client.get(f"/supervision?enrolment={enrolment.id}&date_from=31&date_from=2&date_from=2026")
    assert response.status_code == 422 and "The first date must be a real date" in _text(response)
    response = client.get(f"/supervision?enrolment={enrolment.id}&status=lost")
    assert response.status_code == 422 and "Select an option from the list" in _text(response)


def test_the_log_is_paginated_and_the_pages_keep_their_place(client, people):
    _trainee, supervisor, _, _, enrolment = people
    for day in range(1, 31):
        make_supervision(enrolment, supervisor, 1, date(2026, 1, 5).replace(day=min(day, 28)), confirmed=True)
    client.login("sue@example.org")
    first = _text(client.get(f"/supervision/trainees/{enrolment.id}"))
    assert "Showing 1 to 25 of 30" in first
    assert f'href="/supervision/trainees/{enrolment.id}?page=2"' in first
    second = _text(client.get(f"/supervision/trainees/{enrolment.id}?page=2&status=confirmed"))
    assert "Showing 26 to 30 of 30" in second


@contextmanager
def _statements():
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_pages_cost_the_same_number_of_queries_however_long_the_log(client, people):
    _trainee, supervisor, _, admin, enrolment = people
    second = make_enrolment(make_user("ben@example.org", name="Ben Trainee"), supervisor, actor=admin)
    client.login("sue@example.org")

    def cost() -> tuple[int, int]:
        with _statements() as log_page:
            assert client.get(f"/supervision/trainees/{enrolment.id}").status_code == 200
        with _statements() as queue_page:
            assert client.get("/supervision/queue").status_code == 200
        return len(log_page), len(queue_page)

    make_supervision(enrolment, supervisor, 1, date(2026, 2, 2), confirmed=False)
    few = cost()
    for day in range(3, 20):
        make_supervision(enrolment, supervisor, 1, date(2026, 2, day), confirmed=day % 2 == 0)
        make_supervision(second, supervisor, 1, date(2026, 2, day), confirmed=False)
    assert cost() == few
