"""The role-aware home page and the queues: each person sees their own work, and only theirs."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event

from tests.factories import (
    complete_assessments,
    make_case,
    make_cycles,
    make_enrolment,
    make_supervision,
    make_user,
)
from vigtrain.accounts.models import Role
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.training import services as training
from vigtrain.training import signoff

TODAY = date(2026, 11, 1)


@pytest.fixture
def people(app):
    return {
        "admin": make_user("admin@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin"),
        "sue": make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor"),
        "otto": make_user("otto@example.org", roles=(Role.SUPERVISOR,), name="Otto Other"),
        "al": make_user("al@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Al Accreditor"),
        "tara": make_user("tara@example.org", roles=(Role.TRAINEE,), name="Tara Trainee"),
        "tim": make_user("tim@example.org", roles=(Role.TRAINEE,), name="Tim Othertrainee"),
        "lucy": make_user("lucy@example.org", roles=(Role.PRACTITIONER,), name="Lucy Practitioner"),
    }


def _client(app, email):
    client = app.test_client()
    client.login(email)
    return client


def _home(app, email) -> str:
    response = _client(app, email).get("/home")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _finish_itc(enrolment, supervisor):
    itc = enrolment.stages[0]
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    signoff.submit_stage(enrolment.trainee, itc, itc.version)
    signoff.sign_off_stage(supervisor, itc, None, date(2026, 2, 1), itc.version)
    db.session.commit()
    return enrolment.stages[1]


def _submit_stage_1(enrolment, supervisor):
    """Stage 1 done and submitted to the personal supervisor."""
    record = _finish_itc(enrolment, supervisor)
    trainee = enrolment.trainee
    make_cycles(trainee, 6, 2, date(2026, 3, 1))
    make_supervision(enrolment, supervisor, 7, date(2026, 3, 1))
    training.save_statement_text(trainee, record, "What I learned about receiving initiatives this stage.")
    complete_assessments(record, trainee, supervisor)
    signoff.submit_stage(trainee, record, record.version)
    db.session.commit()
    return record


def _put(record, state: StageState, **fields) -> None:
    """Place a stage in a state directly (the chain itself is tested in tests/training/test_signoff.py)."""
    record.state = state
    for name, value in fields.items():
        setattr(record, name, value)
    db.session.commit()


# --- the home page, role by role ------------------------------------------------------------------


def test_trainee_sees_their_stage_progress_and_what_is_left(app, people):
    enrolment = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    _finish_itc(enrolment, people["sue"])
    make_cycles(people["tara"], 4, 2, date(2026, 2, 10))
    html = _home(app, "tara@example.org")
    assert "Your training" in html and "VIG Practitioner (version 2024.1)" in html
    assert "Stage 1" in html and "In progress" in html
    assert re.search(r'<progress class="app-progress[^"]*" value="\d+" max="100"', html)
    assert "What is left for this stage" in html
    assert "2 more VIG cycles with a shared review" in html
    assert "7 more hours of supervision confirmed by your supervisor" in html
    assert "and 2 more" in html  # capped at three, the rest are on the progress page
    assert f'href="/enrolments/{enrolment.id}"' in html and "View your progress" in html
    assert 'href="/cases"' in html and 'href="/supervision/new"' in html
    assert "Your cases" in html and "You have 2 cases." in html
    assert "Your trainees" not in html and "Waiting for you" not in html and "Ratification" not in html


def test_trainee_sees_comments_when_a_stage_is_returned(app, people):
    enrolment = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    record = _submit_stage_1(enrolment, people["sue"])
    signoff.return_stage(people["sue"], record, "Say more about deepening the discussion.", record.version)
    db.session.commit()
    html = _home(app, "tara@example.org")
    assert "Returned with comments" in html
    assert "Returned by Sue Supervisor" in html and "Say more about deepening the discussion." in html


def test_trainee_with_no_enrolment_is_told_so(app, people):
    html = _home(app, "tara@example.org")
    assert "You are not enrolled on a pathway yet" in html


def test_accredited_practitioner_sees_their_cases_only(app, people):
    make_case(people["lucy"])
    db.session.commit()
    html = _home(app, "lucy@example.org")
    assert "Your cases" in html and "You have 1 case." in html
    for absent in ("Your training", "Your trainees", "Waiting for you", "Stages to accredit", "Ratification"):
        assert absent not in html


def test_supervisor_sees_their_trainees_and_nobody_elses(app, people):
    mine = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    theirs = make_enrolment(people["tim"], people["otto"], actor=people["admin"])
    make_supervision(mine, people["sue"], 1.5, date(2026, 2, 3))
    make_supervision(mine, people["sue"], 1, date(2026, 2, 17))
    make_supervision(mine, people["sue"], 1, date(2026, 2, 24), confirmed=False)
    _submit_stage_1(theirs, people["otto"])
    make_supervision(theirs, people["otto"], 1, date(2026, 2, 20), confirmed=False)
    html = _home(app, "sue@example.org")
    assert "Your trainees" in html
    assert "Tara Trainee" in html and f'href="/enrolments/{mine.id}"' in html
    assert "Initial Training Course" in html and "In progress" in html
    assert "17 February 2026" in html  # the last confirmed session, not the unconfirmed one after it
    assert "Tim Othertrainee" not in html and f"/enrolments/{theirs.id}" not in html
    assert "Waiting for you" in html
    assert "1 supervision session to confirm" in html and 'href="/supervision/queue"' in html
    assert "submitted for you to sign off" not in html
    assert "Your training" not in html and "Your cases" not in html


def test_supervisor_is_told_which_stages_wait_for_sign_off(app, people):
    enrolment = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    record = _submit_stage_1(enrolment, people["sue"])
    html = _home(app, "sue@example.org")
    assert "1 stage submitted for you to sign off" in html
    assert f'href="/enrolments/{enrolment.id}/stages/{record.stage_code}"' in html
    assert "Submitted to supervisor" in html
    assert "Nothing is waiting for you" not in html
    other = _home(app, "otto@example.org")
    assert "Nothing is waiting for you" in other and "Tara Trainee" not in other


def test_supervisor_home_caps_the_trainee_list(app, people):
    for number in range(12):
        trainee = make_user(f"t{number:02d}@example.org", name=f"Trainee {number:02d}")
        make_enrolment(trainee, people["sue"], actor=people["admin"])
    html = _home(app, "sue@example.org")
    assert "Trainee 09" in html and "Trainee 10" not in html
    assert "See all 12 of your trainees" in html and 'href="/supervisor/trainees"' in html


def test_accrediting_supervisor_sees_only_stages_they_were_asked_to_accredit(app, people):
    mine = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    theirs = make_enrolment(people["tim"], people["otto"], actor=people["admin"])
    other_accreditor = make_user("ann@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Ann Accreditor")
    for enrolment, accreditor in ((mine, people["al"]), (theirs, other_accreditor)):
        record = _submit_stage_1(enrolment, enrolment.supervisor)
        signoff.sign_off_stage(enrolment.supervisor, record, None, TODAY, record.version)
        signoff.request_accreditor(people["admin"], record, accreditor, record.version)
        db.session.commit()
    html = _home(app, "al@example.org")
    assert "Stages to accredit" in html
    assert "Tara Trainee: VIG Practitioner, Stage 1" in html
    assert f'href="/enrolments/{mine.id}/stages/stage-1"' in html
    assert "Tim Othertrainee" not in html
    assert "Your trainees" not in html  # an accrediting supervisor only, with no trainees of their own


def test_administrator_sees_ratification_and_accreditor_figures(app, people):
    final = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    waiting = make_enrolment(people["tim"], people["otto"], actor=people["admin"])
    _put(final.stages[-1], StageState.ACCREDITED, accredited_at=utcnow(), accrediting_supervisor_id=people["al"].id)
    _put(final.stages[1], StageState.ACCREDITED, accredited_at=utcnow())  # not final: nothing to ratify
    _put(waiting.stages[2], StageState.SIGNED_OFF, signed_off_at=utcnow())
    html = _home(app, "admin@example.org")
    assert re.search(r">1</span>accredited final stage waiting for ratification", html)
    assert re.search(r">1</span>signed-off stage waiting for an accrediting supervisor", html)
    assert 'href="/admin/ratification#ratify"' in html and 'href="/admin/ratification#waiting"' in html
    assert "Manage users" in html  # the account figures stay


# --- the queues ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "url"),
    [
        ("tara@example.org", "/accreditation"),
        ("sue@example.org", "/accreditation"),
        ("admin@example.org", "/accreditation"),
        ("tara@example.org", "/admin/ratification"),
        ("sue@example.org", "/admin/ratification"),
        ("al@example.org", "/admin/ratification"),
        ("tara@example.org", "/supervisor/trainees"),
        ("al@example.org", "/supervisor/trainees"),
        ("admin@example.org", "/supervisor/trainees"),
        ("lucy@example.org", "/supervisor/trainees"),
    ],
)
def test_queues_are_only_for_the_right_people(app, people, email, url):
    assert _client(app, email).get(url).status_code == 403


@pytest.mark.parametrize("url", ["/accreditation", "/admin/ratification", "/supervisor/trainees"])
def test_queues_need_sign_in(client, people, url):
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_accreditation_queue_lists_my_requests_with_the_date_asked(app, people, clock):
    mine = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    record = _submit_stage_1(mine, people["sue"])
    signoff.sign_off_stage(people["sue"], record, None, TODAY, record.version)
    signoff.request_accreditor(people["admin"], record, people["al"], record.version)
    db.session.commit()
    other = make_enrolment(people["tim"], people["otto"], actor=people["admin"])
    _put(other.stages[1], StageState.WITH_ACCREDITOR, accrediting_supervisor_id=people["admin"].id)
    html = _client(app, "al@example.org").get("/accreditation").get_data(as_text=True)
    assert "Tara Trainee" in html and "VIG Practitioner (version 2024.1)" in html
    assert f'href="/enrolments/{mine.id}/stages/stage-1"' in html
    assert "2 March 2026" in html  # asked on the frozen day
    assert "Tim Othertrainee" not in html


def test_ratification_queue_lists_final_accredited_stages_and_stages_needing_an_accreditor(app, people):
    final = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    _put(
        final.stages[-1],
        StageState.ACCREDITED,
        accredited_at=utcnow(),
        accrediting_supervisor_id=people["al"].id,
    )
    not_final = make_enrolment(people["tim"], people["otto"], actor=people["admin"])
    _put(not_final.stages[1], StageState.ACCREDITED, accredited_at=utcnow())
    waiting_trainee = make_user("wes@example.org", name="Wes Waiting")
    waiting = make_enrolment(waiting_trainee, people["otto"], actor=people["admin"])
    _put(waiting.stages[2], StageState.SIGNED_OFF, signed_off_at=utcnow())
    html = _client(app, "admin@example.org").get("/admin/ratification").get_data(as_text=True)
    ratify, needing = html.split("Waiting for an accrediting supervisor</h2>")
    assert "Tara Trainee" in ratify and "Accredited VIG Practitioner" in ratify and "Al Accreditor" in ratify
    assert f'href="/enrolments/{final.id}/stages/stage-3"' in ratify
    assert "Tim Othertrainee" not in html  # an accredited stage 1 is not for ratification
    assert "Wes Waiting" in needing and "VIG Practitioner: Stage 2" in needing and "Otto Other" in needing


def test_ratification_queue_paginates_each_list_on_its_own(app, people):
    for number in range(27):
        trainee = make_user(f"w{number:02d}@example.org", name=f"Waiting {number:02d}")
        enrolment = make_enrolment(trainee, people["sue"], actor=people["admin"])
        _put(enrolment.stages[1], StageState.SIGNED_OFF, signed_off_at=utcnow())
    admin = _client(app, "admin@example.org")
    html = admin.get("/admin/ratification").get_data(as_text=True)
    assert "Showing 1 to 25 of 27" in html and "waiting_page=2#waiting" in html
    assert "Showing 26 to 27 of 27" in admin.get("/admin/ratification?waiting_page=2").get_data(as_text=True)


def test_my_trainees_is_paginated_and_mine_only(app, people):
    for number in range(27):
        trainee = make_user(f"t{number:02d}@example.org", name=f"Trainee {number:02d}")
        make_enrolment(trainee, people["sue"], actor=people["admin"])
    make_enrolment(people["tim"], people["otto"], actor=people["admin"])
    sue = _client(app, "sue@example.org")
    first = sue.get("/supervisor/trainees").get_data(as_text=True)
    assert "Showing 1 to 25 of 27" in first and "Trainee 00" in first and "Tim Othertrainee" not in first
    assert "Trainee 26" in sue.get("/supervisor/trainees?page=2").get_data(as_text=True)


def test_withdrawn_and_completed_trainees_leave_the_list(app, people):
    enrolment = make_enrolment(people["tara"], people["sue"], actor=people["admin"])
    training.set_enrolment_status(
        people["admin"], enrolment, EnrolmentStatus.WITHDRAWN, "Left the service", enrolment.version
    )
    db.session.commit()
    html = _client(app, "sue@example.org").get("/supervisor/trainees").get_data(as_text=True)
    assert "Tara Trainee" not in html and "Nobody has you as their personal supervisor yet" in html


# --- constant cost ---------------------------------------------------------------------------------


def _statements(client, url: str) -> int:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def _add_trainees(people, first: int, count: int) -> None:
    """Trainees of Sue's with casework, confirmed and logged supervision, and a submitted stage."""
    for number in range(first, first + count):
        trainee = make_user(f"t{number:02d}@example.org", name=f"Trainee {number:02d}")
        enrolment = make_enrolment(trainee, people["sue"], actor=people["admin"])
        _submit_stage_1(enrolment, people["sue"])
        make_supervision(enrolment, people["sue"], 1, date(2026, 3, 8), confirmed=False)


def test_supervisor_pages_cost_the_same_with_2_or_12_trainees(app, people):
    sue = _client(app, "sue@example.org")
    _add_trainees(people, 0, 2)
    few = {url: _statements(sue, url) for url in ("/home", "/supervisor/trainees")}
    _add_trainees(people, 2, 10)
    many = {url: _statements(sue, url) for url in ("/home", "/supervisor/trainees")}
    assert "See all 12 of your trainees" in sue.get("/home").get_data(as_text=True)
    assert many == few
