"""The enrolment and stage pages: every move of the sign-off chain and every refusal, through the client."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, select

from tests.factories import (
    complete_assessments,
    make_case,
    make_cycles,
    make_enrolment,
    make_supervision,
    make_user,
)
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import Assessment, AssessmentKind, EnrolmentStatus, StageState
from vigtrain.training import services as training
from vigtrain.training import signoff

ITC_SIGNED_OFF = date(2026, 2, 1)
WORK_DAY = date(2026, 2, 10)


def _client(app, user):
    client = app.test_client()
    client.login(user.email)
    return client


@pytest.fixture
def clients(app, people):
    return {name: _client(app, user) for name, user in people.items()}


@pytest.fixture
def enrolment(people):
    return make_enrolment(people["trainee"], people["supervisor"], start=date(2026, 1, 5), actor=people["admin"])


def _finish_itc(enrolment, people):
    itc = enrolment.stages[0]
    signoff.confirm_attendance(people["supervisor"], itc, 4, itc.version)
    signoff.submit_stage(people["trainee"], itc, itc.version)
    signoff.sign_off_stage(people["supervisor"], itc, None, ITC_SIGNED_OFF, itc.version)
    db.session.commit()
    return enrolment.stages[1]


def _ready(record, enrolment, people, cycles=6, clients=2, hours=7, on=WORK_DAY):
    make_cycles(people["trainee"], cycles, clients, on)
    make_supervision(enrolment, people["supervisor"], hours, on)
    training.save_statement_text(people["trainee"], record, "What I learned about receiving initiatives.")
    complete_assessments(record, people["trainee"], people["supervisor"])
    db.session.commit()
    return record


def _submitted(enrolment, people):
    stage1 = _ready(_finish_itc(enrolment, people), enrolment, people)
    signoff.submit_stage(people["trainee"], stage1, stage1.version)
    db.session.commit()
    return stage1


def _signed_off(enrolment, people):
    stage1 = _submitted(enrolment, people)
    signoff.sign_off_stage(people["supervisor"], stage1, None, date(2026, 3, 1), stage1.version)
    db.session.commit()
    return stage1


def _with_accreditor(enrolment, people):
    stage1 = _signed_off(enrolment, people)
    signoff.request_accreditor(people["admin"], stage1, people["accreditor"], stage1.version)
    db.session.commit()
    return stage1


def _url(record, suffix=""):
    return f"/enrolments/{record.enrolment_id}/stages/{record.stage_code}{suffix}"


def _post(client, record, action, data=None):
    """POST one of the stage page's action forms, with the version the page shows unless given."""
    db.session.expire_all()
    fields = {"version": record.version, **(data or {})}
    return client.submit(_url(record, f"/{action}"), fields, page=_url(record))


def _fresh(record):
    db.session.expire_all()
    return record


def _text(response) -> str:
    return response.get_data(as_text=True)


def _plain(response) -> str:
    """The page's text with tags removed and entities decoded, for matching messages."""
    import html

    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", _text(response))))


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


# --- the enrolment page -------------------------------------------------------------------------------


def test_enrolment_page_shows_the_stages_as_a_task_list(clients, enrolment):
    response = clients["trainee"].get(f"/enrolments/{enrolment.id}")
    page = _plain(response)
    assert response.status_code == 200
    assert 'class="govuk-task-list' in _text(response)
    for name in ("Initial Training Course", "Stage 1", "Stage 2", "Stage 3"):
        assert name in page
    assert "Typical length: 6 months" in page and "Typical length: 1 month." in page
    assert "In progress" in page and "Not started" in page
    assert "Sue Supervisor" in page and "5 January 2026" in page
    assert "What is left in Initial Training Course" in page
    assert "4 more course sessions confirmed as attended" in page
    assert f'href="/enrolments/{enrolment.id}/stages/stage-2"' in _text(response)
    assert "Provisional figures" not in page


def test_provisional_pathway_is_tagged(app, people, clients):
    enrolment = make_enrolment(people["trainee"], people["supervisor"], code="vig-supervisor", version="2024.1")
    page = _plain(clients["trainee"].get(f"/enrolments/{enrolment.id}"))
    assert "Provisional figures" in page


def test_growth_chart_and_its_table(clients, enrolment, people):
    stage1 = _ready(_finish_itc(enrolment, people), enrolment, people)
    response = clients["supervisor"].get(f"/enrolments/{enrolment.id}")
    html = _text(response)
    assert html.count("<svg") == len(principles().principles)
    assert "<title id=" in html and "<desc id=" in html
    assert "style=" not in html.split('id="main-content"')[1]
    assert "Show the ratings as a table" in html
    page = _plain(response)
    assert "Stage 1: self-assessment 3 (developing), supervisor 4 (consistent)" in page
    assert "Self: 3 (Developing) Supervisor: 4 (Consistent)" in page
    assert stage1.state is StageState.IN_PROGRESS


def test_no_assessments_means_no_chart(clients, enrolment):
    response = clients["trainee"].get(f"/enrolments/{enrolment.id}")
    assert "<svg" not in _text(response)
    assert "No assessments yet" in _plain(response)


def test_only_people_on_the_enrolment_see_it(app, clients, enrolment, people):
    assert clients["stranger"].get(f"/enrolments/{enrolment.id}").status_code == 404
    assert clients["stranger"].get(f"/enrolments/{enrolment.id}/stages/itc").status_code == 404
    assert clients["stranger"].get(f"/enrolments/{enrolment.id}/stages/itc/assessments").status_code == 404
    assert clients["trainee"].get("/enrolments/999").status_code == 404
    assert clients["trainee"].get(f"/enrolments/{enrolment.id}/stages/no-such-stage").status_code == 404
    # The accrediting supervisor sees the enrolment only once asked to accredit one of its stages.
    assert clients["accreditor"].get(f"/enrolments/{enrolment.id}").status_code == 404
    anonymous = app.test_client().get(f"/enrolments/{enrolment.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("who", ["trainee", "supervisor", "accreditor", "admin"])
def test_every_role_on_the_chain_sees_both_pages(clients, enrolment, people, who):
    stage1 = _with_accreditor(enrolment, people)
    for url in (f"/enrolments/{enrolment.id}", _url(stage1), _url(stage1, "/assessments"), _url(enrolment.stages[0])):
        response = clients[who].get(url)
        assert response.status_code == 200, url
        assert "Tara Trainee" in _text(response)


@contextmanager
def _counting_statements():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _statements_for(client, url) -> int:
    with _counting_statements() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


@pytest.mark.parametrize("who", ["trainee", "supervisor", "accreditor", "admin"])
def test_sql_statements_do_not_grow_with_the_data(clients, enrolment, people, who):
    stage1 = _with_accreditor(enrolment, people)
    cases = [make_case(people["trainee"]) for _ in range(3)]
    make_cycles(people["trainee"], 5, 3, WORK_DAY, case_list=cases)
    pages = (f"/enrolments/{enrolment.id}", _url(stage1))
    before = [_statements_for(clients[who], url) for url in pages]
    make_cycles(people["trainee"], 45, 3, WORK_DAY, case_list=cases + [make_case(people["trainee"]) for _ in range(20)])
    for _ in range(10):
        make_supervision(enrolment, people["supervisor"], 1, WORK_DAY)
    after = [_statements_for(clients[who], url) for url in pages]
    assert before == after


# --- who sees which actions ------------------------------------------------------------------------


def test_each_person_sees_only_the_actions_open_to_them(clients, enrolment, people):
    stage1 = _submitted(enrolment, people)
    trainee_page = _text(clients["trainee"].get(_url(stage1)))
    assert "Sign off stage" not in trainee_page and "Submit stage for sign-off" not in trainee_page
    supervisor_page = _text(clients["supervisor"].get(_url(stage1)))
    assert "Sign off stage" in supervisor_page and "Return to trainee" in supervisor_page
    assert "Ratify accreditation" not in supervisor_page and "Record an exemption" not in supervisor_page
    admin_page = _text(clients["admin"].get(_url(stage1)))
    assert "Sign off stage" not in admin_page and "Record an exemption" not in admin_page
    # Every action form carries the version the page showed.
    assert f'name="version" type="hidden" value="{stage1.version}"' in supervisor_page


def test_trainee_sees_what_is_missing_instead_of_a_dead_button(clients, enrolment, people):
    stage1 = _finish_itc(enrolment, people)
    make_cycles(people["trainee"], 4, 2, WORK_DAY)
    response = clients["trainee"].get(_url(stage1))
    page = _plain(response)
    assert "Submit stage for sign-off" not in page
    assert "2 more VIG cycles with a shared review" in page
    assert "Complete your self-assessment" in page
    assert "4 of 6 cycles" in page
    assert 'value="66" max="100"' in _text(response)


# --- the ITC: attendance, submission, sign-off -------------------------------------------------------


def test_itc_attendance_submit_and_sign_off(clients, enrolment, people):
    itc = enrolment.stages[0]
    response = _post(clients["supervisor"], itc, "attendance", {"sessions": "4"})
    assert response.status_code == 302
    assert "Course attendance confirmed: 4 sessions" in _plain(clients["supervisor"].get(response.headers["Location"]))
    assert _fresh(itc).course_sessions_attended == 4

    response = _post(clients["trainee"], itc, "submit")
    assert response.status_code == 302
    assert _fresh(itc).state is StageState.SUBMITTED

    response = _post(clients["supervisor"], itc, "sign-off", {"comments": "Well done."})
    assert response.status_code == 302
    assert "Stage signed off" in _plain(clients["supervisor"].get(response.headers["Location"]))
    assert _fresh(itc).state is StageState.COMPLETE
    assert enrolment.stages[1].state is StageState.IN_PROGRESS
    assert itc.transitions[-1].comments == "Well done."


def test_attendance_refusals(clients, enrolment):
    itc = enrolment.stages[0]
    for sessions, message in (
        ("", "Enter the number of sessions attended"),
        ("four", "Enter the number of sessions as a whole number"),
        ("60", "Enter a number of sessions between 0 and 50"),
    ):
        response = _post(clients["supervisor"], itc, "attendance", {"sessions": sessions})
        assert response.status_code == 422, sessions
        assert message in _plain(response)
    assert _post(clients["trainee"], itc, "attendance", {"sessions": "4"}).status_code == 403
    assert _fresh(itc).course_sessions_attended == 0


def test_submit_refused_until_requirements_are_met(clients, enrolment, people):
    stage1 = _finish_itc(enrolment, people)
    make_cycles(people["trainee"], 4, 2, WORK_DAY)
    before, audits = stage1.version, _audit_count()
    response = _post(clients["trainee"], stage1, "submit")
    page = _plain(response)
    assert response.status_code == 422
    assert "This stage is not ready to submit" in page
    assert "2 more VIG cycles with a shared review" in page and "7 more hours of supervision" in page
    assert _fresh(stage1).state is StageState.IN_PROGRESS and stage1.version == before
    assert _audit_count() == audits


def test_only_the_trainee_submits(clients, enrolment, people):
    stage1 = _ready(_finish_itc(enrolment, people), enrolment, people)
    for who in ("supervisor", "admin"):
        assert _post(clients[who], stage1, "submit").status_code == 403
    assert _post(clients["stranger"], stage1, "submit").status_code == 404
    assert _fresh(stage1).state is StageState.IN_PROGRESS


# --- sign-off and return ---------------------------------------------------------------------------------


def test_only_the_personal_supervisor_signs_off_or_returns(clients, enrolment, people):
    stage1 = _submitted(enrolment, people)
    for who in ("trainee", "admin"):
        assert _post(clients[who], stage1, "sign-off").status_code == 403
        assert _post(clients[who], stage1, "return", {"comments": "No"}).status_code == 403
    assert _post(clients["stranger"], stage1, "sign-off").status_code == 404
    assert _fresh(stage1).state is StageState.SUBMITTED


def test_sign_off_in_the_wrong_state_is_refused_with_a_message(clients, enrolment, people):
    stage1 = _ready(_finish_itc(enrolment, people), enrolment, people)
    before = stage1.version
    response = _post(clients["supervisor"], stage1, "sign-off")
    assert response.status_code == 422
    assert "Only a submitted stage can be signed off; this one is in progress" in _plain(response)
    assert _fresh(stage1).state is StageState.IN_PROGRESS and stage1.version == before


def test_return_needs_comments_and_the_trainee_reads_them(clients, enrolment, people):
    stage1 = _submitted(enrolment, people)
    response = _post(clients["supervisor"], stage1, "return", {"comments": "  "})
    assert response.status_code == 422
    assert "Write comments for the trainee explaining what to do next" in _plain(response)
    assert 'href="#return-comments"' in _text(response)
    assert _fresh(stage1).state is StageState.SUBMITTED

    response = _post(clients["supervisor"], stage1, "return", {"comments": "Add more on <deepening> discussion."})
    assert response.status_code == 302
    assert _fresh(stage1).state is StageState.RETURNED

    trainee_page = clients["trainee"].get(_url(stage1))
    assert "Your supervisor returned this stage" in _plain(trainee_page)
    assert "Add more on &lt;deepening&gt; discussion." in _text(trainee_page)
    assert "Submit stage for sign-off" in _text(trainee_page)
    enrolment_page = _plain(clients["trainee"].get(f"/enrolments/{enrolment.id}"))
    assert "Returned with comments" in enrolment_page

    assert _post(clients["trainee"], stage1, "submit").status_code == 302
    assert _fresh(stage1).state is StageState.SUBMITTED


def test_comments_are_screened_for_client_details(clients, enrolment, people):
    stage1 = _submitted(enrolment, people)
    response = _post(clients["supervisor"], stage1, "return", {"comments": "Ring the mum on 07700 900123."})
    assert response.status_code == 422
    assert "Remove a phone number" in _plain(response)
    assert _fresh(stage1).state is StageState.SUBMITTED


def test_sign_off_waits_for_the_supervisor_assessment(clients, enrolment, people):
    stage1 = _finish_itc(enrolment, people)
    make_cycles(people["trainee"], 6, 2, WORK_DAY)
    make_supervision(enrolment, people["supervisor"], 7, WORK_DAY)
    training.save_statement_text(people["trainee"], stage1, "What I learned.")
    complete_assessments(stage1, people["trainee"], None)
    signoff.submit_stage(people["trainee"], stage1, stage1.version)
    db.session.commit()
    page = _text(clients["supervisor"].get(_url(stage1)))
    assert "Sign off stage" not in page
    assert "Complete your assessment against the attunement principles" in page
    response = _post(clients["supervisor"], stage1, "sign-off")
    assert response.status_code == 422
    assert "Requirements are not all met yet" in _plain(response)
    assert _fresh(stage1).state is StageState.SUBMITTED


# --- the accrediting supervisor ---------------------------------------------------------------------------


def test_full_chain_through_stage_1(clients, enrolment, people):
    stage1 = _ready(_finish_itc(enrolment, people), enrolment, people)
    assert _post(clients["trainee"], stage1, "submit").status_code == 302
    assert _post(clients["supervisor"], stage1, "sign-off").status_code == 302
    assert _fresh(stage1).state is StageState.SIGNED_OFF

    page = _text(clients["supervisor"].get(_url(stage1)))
    assert "Ask an accrediting supervisor" in page
    search = f"/people/search?for=accreditor&context={stage1.id}&q="
    found = {
        person["id"]
        for query in ("al", "sue", "tara")
        for person in clients["supervisor"].get(search + query).json["results"]
    }
    assert found == {people["accreditor"].id}  # never the personal supervisor or the trainee

    response = _post(clients["supervisor"], stage1, "accreditor", {"accreditor": str(people["accreditor"].id)})
    assert response.status_code == 302
    assert "Al Accreditor has been asked" in _plain(clients["supervisor"].get(response.headers["Location"]))
    assert _fresh(stage1).state is StageState.WITH_ACCREDITOR

    page = _text(clients["accreditor"].get(_url(stage1)))
    assert "Record the meeting" in page and "Read the" not in page.split("Record the meeting")[1].split("</form>")[0]
    response = _post(
        clients["accreditor"],
        stage1,
        "meeting",
        {"meeting_date": ["2", "3", "2026"], "outcome": "accredit", "comments": "A thoughtful stage."},
    )
    assert response.status_code == 302
    assert "Meeting recorded: the stage is accredited" in _plain(
        clients["accreditor"].get(response.headers["Location"])
    )
    assert _fresh(stage1).state is StageState.ACCREDITED
    assert stage1.meeting_date == date(2026, 3, 2) and stage1.meeting_comments == "A thoughtful stage."
    assert enrolment.stages[2].state is StageState.IN_PROGRESS
    history = _plain(clients["trainee"].get(_url(stage1)))
    for entry in ("Signed off by supervisor Was: submitted to supervisor", "Al Accreditor", "A thoughtful stage."):
        assert entry in history


def test_asking_for_an_accreditor_refusals(clients, enrolment, people):
    stage1 = _signed_off(enrolment, people)
    for choice in (people["supervisor"].id, people["trainee"].id, people["plain"].id, 9999):
        response = _post(clients["admin"], stage1, "accreditor", {"accreditor": str(choice)})
        assert response.status_code == 422
        assert "Search for the accrediting supervisor again and choose them from the results" in _plain(response)
    response = _post(clients["admin"], stage1, "accreditor", {"accreditor": ""})
    assert "Search for the accrediting supervisor and choose them" in _plain(response)
    assert stage1.state is StageState.SIGNED_OFF
    assert (
        _post(clients["trainee"], stage1, "accreditor", {"accreditor": str(people["accreditor"].id)}).status_code == 403
    )
    assert (
        _post(clients["accreditor"], stage1, "accreditor", {"accreditor": str(people["accreditor"].id)}).status_code
        == 404
    )
    assert _fresh(stage1).state is StageState.SIGNED_OFF and stage1.accrediting_supervisor_id is None


def test_accreditor_only_asked_for_this_stage_records_the_meeting(clients, enrolment, people):
    stage1 = _with_accreditor(enrolment, people)
    data = {"meeting_date": ["1", "3", "2026"], "outcome": "accredit"}
    for who in ("supervisor", "admin", "trainee"):
        assert _post(clients[who], stage1, "meeting", data).status_code == 403
    assert _post(clients["stranger"], stage1, "meeting", data).status_code == 404
    assert _fresh(stage1).state is StageState.WITH_ACCREDITOR


def test_the_accreditor_sees_the_record_only_while_their_part_lasts(clients, enrolment, people):
    stage1 = _with_accreditor(enrolment, people)
    accreditor = clients["accreditor"]
    record_page, log = f"/enrolments/{enrolment.id}", f"/supervision/trainees/{enrolment.id}"
    for url in (record_page, _url(stage1), log):
        assert accreditor.get(url).status_code == 200, url
    # Without the role they are not an accrediting supervisor any more.
    people["accreditor"].set_roles({Role.SUPERVISOR})
    db.session.commit()
    assert accreditor.get(record_page).status_code == 404
    people["accreditor"].set_roles({Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR})
    db.session.commit()
    # Accrediting an intermediate stage ends their part: back to their queue, and the record closes.
    response = _post(accreditor, stage1, "meeting", {"meeting_date": ["1", "3", "2026"], "outcome": "accredit"})
    assert response.status_code == 302 and response.headers["Location"] == "/accreditation"
    assert _fresh(stage1).state is StageState.ACCREDITED
    assert "Meeting recorded: the stage is accredited." in _plain(accreditor.get("/accreditation"))
    for url in (record_page, _url(stage1), log):
        assert accreditor.get(url).status_code == 404, url


@pytest.mark.parametrize(
    ("data", "message", "anchor"),
    [
        ({"outcome": "accredit"}, "Enter the date of the meeting", "meeting_date"),
        ({"meeting_date": ["31", "2", "2026"], "outcome": "accredit"}, "must be a real date", "meeting_date"),
        ({"meeting_date": ["", "3", "2026"], "outcome": "accredit"}, "must include a day", "meeting_date"),
        ({"meeting_date": ["3", "4", "2026"], "outcome": "accredit"}, "must be today or in the past", "meeting_date"),
        (
            {"meeting_date": ["1", "1", "2026"], "outcome": "accredit"},
            "cannot be before the stage started",
            "meeting_date",
        ),
        ({"meeting_date": ["1", "3", "2026"]}, "Choose the outcome of the meeting", "outcome"),
        (
            {"meeting_date": ["1", "3", "2026"], "outcome": "return"},
            "Write comments for the trainee",
            "meeting-comments",
        ),
    ],
)
def test_meeting_form_refusals(clients, enrolment, people, data, message, anchor):
    stage1 = _with_accreditor(enrolment, people)
    before = stage1.version
    response = _post(clients["accreditor"], stage1, "meeting", data)
    assert response.status_code == 422
    assert message in _plain(response)
    assert f'href="#{anchor}"' in _text(response)
    assert _fresh(stage1).state is StageState.WITH_ACCREDITOR and stage1.version == before
    assert stage1.meeting_date is None


def test_accreditor_returns_the_stage_after_the_meeting(clients, enrolment, people):
    stage1 = _with_accreditor(enrolment, people)
    response = _post(
        clients["accreditor"],
        stage1,
        "meeting",
        {"meeting_date": ["1", "3", "2026"], "outcome": "return", "comments": "Bring two more films on guiding."},
    )
    assert response.status_code == 302
    assert _fresh(stage1).state is StageState.RETURNED
    page = _plain(clients["trainee"].get(_url(stage1)))
    assert "Your accrediting supervisor returned this stage" in page
    assert "Bring two more films on guiding." in page


def test_final_stage_reminds_the_accreditor_to_read_the_statement_then_admin_ratifies(clients, enrolment, people):
    _finish_itc(enrolment, people)
    windows = [(6, 2, 7, date(2026, 2, 3)), (9, 3, 8, date(2026, 2, 10)), (12, 3, 8, date(2026, 2, 20))]
    meetings = [date(2026, 2, 5), date(2026, 2, 15)]
    for index, record in enumerate(enrolment.stages[1:]):
        cycles, clients_needed, hours, on = windows[index]
        _ready(record, enrolment, people, cycles, clients_needed, hours, on)
        signoff.submit_stage(people["trainee"], record, record.version)
        signoff.sign_off_stage(people["supervisor"], record, None, date(2026, 3, 2), record.version)
        signoff.request_accreditor(people["admin"], record, people["accreditor"], record.version)
        if index < 2:
            signoff.accredit_stage(
                people["accreditor"], record, meetings[index], None, date(2026, 3, 2), record.version
            )
        db.session.commit()
    final = enrolment.stages[-1]
    page = clients["accreditor"].get(_url(final))
    assert "before the accreditation meeting" in _plain(page)
    assert 'href="#statement"' in _text(page) and 'id="statement"' in _text(page)
    assert "What I learned about receiving initiatives." in _text(page)

    response = _post(
        clients["accreditor"], final, "meeting", {"meeting_date": ["2", "3", "2026"], "outcome": "accredit"}
    )
    assert response.status_code == 302
    assert _fresh(final).state is StageState.ACCREDITED

    assert _post(clients["supervisor"], final, "ratify").status_code == 403
    assert _post(clients["accreditor"], final, "ratify").status_code == 403
    assert "Ratify accreditation" in _text(clients["admin"].get(_url(final)))
    response = _post(clients["admin"], final, "ratify")
    assert response.status_code == 302
    assert "Accreditation ratified" in _plain(clients["admin"].get(response.headers["Location"]))
    assert _fresh(final).state is StageState.RATIFIED
    assert enrolment.status is EnrolmentStatus.COMPLETED
    assert "every stage is finished" in _plain(clients["trainee"].get(f"/enrolments/{enrolment.id}"))


def test_ratifying_a_stage_that_is_not_an_accredited_final_stage_is_refused(clients, enrolment, people):
    stage1 = _with_accreditor(enrolment, people)
    signoff.accredit_stage(people["accreditor"], stage1, date(2026, 3, 1), None, date(2026, 3, 2), stage1.version)
    db.session.commit()
    response = _post(clients["admin"], stage1, "ratify")
    assert response.status_code == 422
    assert "Only an accredited final stage can be ratified" in _plain(response)
    assert _fresh(stage1).state is StageState.ACCREDITED


# --- exemptions ---------------------------------------------------------------------------------------


def test_administrator_records_an_exemption_with_a_reason(clients, enrolment, people):
    itc = enrolment.stages[0]
    assert "Record an exemption for prior learning" not in _text(clients["supervisor"].get(_url(itc)))
    assert (
        _post(clients["supervisor"], itc, "exemption", {"reason": "Did the Dutch VIB course in 2019"}).status_code
        == 403
    )
    response = _post(clients["admin"], itc, "exemption", {"reason": "short"})
    assert response.status_code == 422
    assert "Give the reason for the exemption" in _plain(response)
    assert _fresh(itc).state is StageState.IN_PROGRESS
    response = _post(
        clients["admin"], itc, "exemption", {"reason": "Completed the equivalent Dutch VIB course in 2019"}
    )
    assert response.status_code == 302
    assert _fresh(itc).state is StageState.EXEMPT
    assert enrolment.stages[1].state is StageState.IN_PROGRESS
    assert "Exempt (prior learning)" in _plain(clients["trainee"].get(f"/enrolments/{enrolment.id}"))


def test_final_stage_cannot_be_exempted(clients, enrolment):
    final = enrolment.stages[-1]
    assert "Record an exemption" not in _text(clients["admin"].get(_url(final)))
    response = _post(clients["admin"], final, "exemption", {"reason": "Completed the equivalent course in 2019"})
    assert response.status_code == 422
    assert "The final stage cannot be exempted" in _plain(response)
    assert _fresh(final).state is StageState.NOT_STARTED


# --- stale pages -----------------------------------------------------------------------------------------


def test_stale_version_is_a_conflict_and_changes_nothing(clients, enrolment, people):
    itc = enrolment.stages[0]
    signoff.confirm_attendance(people["supervisor"], itc, 4, itc.version)
    db.session.commit()
    stale = itc.version - 1
    audits = _audit_count()
    response = _post(clients["trainee"], itc, "submit", {"version": stale})
    assert response.status_code == 409
    assert "Someone else changed this" in _plain(response)
    assert _fresh(itc).state is StageState.IN_PROGRESS and itc.version == stale + 1
    assert _audit_count() == audits

    response = _post(clients["supervisor"], itc, "attendance", {"version": stale, "sessions": "2"})
    assert response.status_code == 409
    assert _fresh(itc).course_sessions_attended == 4


def test_a_page_without_its_version_is_refused(clients, enrolment):
    itc = enrolment.stages[0]
    response = clients["trainee"].submit(_url(itc, "/submit"), {"version": "x"}, page=_url(itc))
    assert response.status_code == 422
    assert "This page is out of date" in _plain(response)
    assert _fresh(itc).state is StageState.IN_PROGRESS


def test_two_people_acting_on_the_same_page(clients, enrolment, people):
    stage1 = _submitted(enrolment, people)
    seen = stage1.version
    assert (
        _post(clients["supervisor"], stage1, "return", {"version": seen, "comments": "More on guiding."}).status_code
        == 302
    )
    response = _post(clients["supervisor"], stage1, "sign-off", {"version": seen})
    assert response.status_code == 409
    assert _fresh(stage1).state is StageState.RETURNED


# --- managing the enrolment --------------------------------------------------------------------------------


def test_pause_needs_a_reason_and_stops_the_chain(clients, enrolment, people):
    url = f"/enrolments/{enrolment.id}/status"
    assert clients["trainee"].get(url).status_code == 403
    assert clients["stranger"].get(url).status_code == 404
    assert "Pause or withdraw" in _text(clients["supervisor"].get(f"/enrolments/{enrolment.id}"))
    response = clients["supervisor"].submit(url, {"version": enrolment.version, "status": "paused", "reason": ""})
    assert response.status_code == 422
    assert "Give a reason for pausing or withdrawing" in _plain(response)
    response = clients["supervisor"].submit(url, {"version": enrolment.version, "status": "completed"})
    assert response.status_code == 422
    assert _fresh(enrolment).status is EnrolmentStatus.ACTIVE

    response = clients["supervisor"].submit(
        url, {"version": enrolment.version, "status": "paused", "reason": "Parental leave until June"}
    )
    assert response.status_code == 302
    assert _fresh(enrolment).status is EnrolmentStatus.PAUSED
    assert "Parental leave until June" in _plain(clients["trainee"].get(f"/enrolments/{enrolment.id}"))

    itc = enrolment.stages[0]
    signoff.confirm_attendance(people["supervisor"], itc, 4, itc.version)
    db.session.commit()
    assert "Submit stage for sign-off" not in _text(clients["trainee"].get(_url(itc)))
    response = _post(clients["trainee"], itc, "submit")
    assert response.status_code == 422
    assert "This enrolment is paused" in _plain(response)
    assert _fresh(itc).state is StageState.IN_PROGRESS


def test_stale_status_change_is_a_conflict(clients, enrolment, people):
    seen = enrolment.version
    training.change_supervisor(people["admin"], enrolment, people["accreditor"], seen)
    db.session.commit()
    response = clients["admin"].submit(
        f"/enrolments/{enrolment.id}/status", {"version": seen, "status": "withdrawn", "reason": "Left the service"}
    )
    assert response.status_code == 409
    assert _fresh(enrolment).status is EnrolmentStatus.ACTIVE


def test_change_supervisor(clients, enrolment, people):
    url = f"/enrolments/{enrolment.id}/supervisor"
    search = f"/people/search?for=change_supervisor&context={enrolment.id}&q="
    inactive = make_user("gone@example.org", roles=(Role.SUPERVISOR,), name="Gone Away", is_active_flag=False)
    found = {
        person["id"]
        for query in ("al", "ta", "gone")
        for person in clients["admin"].get(search + query).json["results"]
    }
    assert people["accreditor"].id in found
    assert people["trainee"].id not in found and inactive.id not in found
    # Without JavaScript: search, and the people found are offered as choices on the page.
    found_page = clients["admin"].submit(
        url, {"version": enrolment.version, "supervisor-q": "al", "find": "supervisor"}
    )
    assert found_page.status_code == 200 and "Al Accreditor" in _plain(found_page)
    for choice in (people["trainee"].id, inactive.id, people["admin"].id):
        response = clients["admin"].submit(url, {"version": enrolment.version, "supervisor": str(choice)})
        assert response.status_code == 422
        assert "Search for the supervisor again and choose them from the results" in _plain(response)
    assert clients["trainee"].get(url).status_code == 403
    assert clients["accreditor"].get(url).status_code == 404

    response = clients["admin"].submit(url, {"version": enrolment.version, "supervisor": str(people["accreditor"].id)})
    assert response.status_code == 302
    assert "Al Accreditor is now the personal supervisor" in _plain(clients["admin"].get(response.headers["Location"]))
    assert _fresh(enrolment).supervisor_id == people["accreditor"].id


# --- assessments -----------------------------------------------------------------------------------------


def _ratings(value="3", **overrides):
    data = {}
    for code in principles().codes:
        data[f"rating_{code}"] = value
        data[f"evidence_{code}"] = ""
    data.update(overrides)
    return data


def test_assessment_form_lists_every_principle_with_its_descriptors(clients, enrolment, people):
    stage1 = _finish_itc(enrolment, people)
    response = clients["trainee"].get(_url(stage1, "/assessment/self"))
    html = _text(response)
    assert response.status_code == 200
    for principle in principles().principles:
        assert principle.name in html
        assert principle.descriptors[0].replace("'", "&#39;") in html
    for point in principles().scale:
        assert point.label in html
    assert 'maxlength="1000"' in html or 'data-maxlength="1000"' in html


def test_assessment_validation(clients, enrolment, people):
    stage1 = _finish_itc(enrolment, people)
    url = _url(stage1, "/assessment/self")
    response = clients["trainee"].submit(url, _ratings(rating_attentive="", rating_guiding=""))
    page = _plain(response)
    assert response.status_code == 422
    assert "Choose a rating for Being attentive" in page and "Choose a rating for Guiding" in page
    assert 'href="#rating_attentive"' in _text(response)

    response = clients["trainee"].submit(url, _ratings(rating_receiving="9"))
    assert response.status_code == 422
    assert "Choose a rating for Receiving initiatives" in _plain(response)

    response = clients["trainee"].submit(url, _ratings(evidence_attentive="x" * 1001))
    assert response.status_code == 422
    assert "Evidence notes must be 1,000 characters or fewer" in _plain(response)

    response = clients["trainee"].submit(url, _ratings(evidence_guiding="Mum's number is 07700 900123"))
    assert response.status_code == 422
    assert "Remove a phone number" in _plain(response)
    assert 'href="#evidence_guiding"' in _text(response)
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == 0

    response = clients["trainee"].submit(url, _ratings("4", evidence_guiding="Waited for the parent's initiatives."))
    assert response.status_code == 302
    assert "Your self-assessment has been saved" in _plain(clients["trainee"].get(response.headers["Location"]))
    saved = db.session.scalar(select(Assessment).where(Assessment.kind == AssessmentKind.SELF))
    assert saved.ratings["guiding"] == {"rating": 4, "evidence": "Waited for the parent's initiatives."}
    again = _text(clients["trainee"].get(url))
    assert 'value="4" checked' in again and "Waited for the parent&#39;s initiatives." in again


def test_only_the_right_person_edits_each_assessment(clients, enrolment, people):
    stage1 = _finish_itc(enrolment, people)
    assert clients["supervisor"].get(_url(stage1, "/assessment/self")).status_code == 403
    assert clients["trainee"].get(_url(stage1, "/assessment/supervisor")).status_code == 403
    assert clients["admin"].get(_url(stage1, "/assessment/supervisor")).status_code == 403
    assert clients["stranger"].get(_url(stage1, "/assessment/self")).status_code == 404
    assert clients["trainee"].get(_url(stage1, "/assessment/peer")).status_code == 404
    assert (
        clients["supervisor"].submit(_url(stage1, "/assessment/self"), _ratings(), page=_url(stage1)).status_code == 403
    )
    response = clients["supervisor"].submit(_url(stage1, "/assessment/supervisor"), _ratings("5"))
    assert response.status_code == 302
    assert db.session.scalar(select(Assessment.kind)) is AssessmentKind.SUPERVISOR


def test_self_assessment_cannot_change_once_submitted(clients, enrolment, people):
    stage1 = _submitted(enrolment, people)
    assert "/assessment/self" not in _text(clients["trainee"].get(_url(stage1)))
    assert "/assessment/supervisor" in _text(clients["supervisor"].get(_url(stage1)))
    page = clients["trainee"].get(_url(stage1, "/assessment/self"))
    assert "cannot change while the stage is submitted to supervisor" in _plain(page)
    assert "Save assessment" not in _text(page)
    response = clients["trainee"].submit(_url(stage1, "/assessment/self"), _ratings("5"), page=_url(stage1))
    assert response.status_code == 422
    assert "The assessment cannot change while the stage is submitted to supervisor" in _plain(response)
    saved = db.session.scalar(select(Assessment).where(Assessment.kind == AssessmentKind.SELF))
    assert saved.ratings["attentive"]["rating"] == 3


def test_assessments_side_by_side(clients, enrolment, people):
    stage1 = _finish_itc(enrolment, people)
    training.save_assessment(
        people["trainee"], stage1, AssessmentKind.SELF, dict.fromkeys(principles().codes, (2, "Trainee <notes>"))
    )
    db.session.commit()
    for who in ("trainee", "supervisor", "admin"):
        response = clients[who].get(_url(stage1, "/assessments"))
        assert response.status_code == 200
        page = _plain(response)
        assert "Being attentive 2 (Emerging) Not yet rated Trainee: Trainee <notes>" in page
        assert "Trainee &lt;notes&gt;" in _text(response)
