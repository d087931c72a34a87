"""A service lead's home: their own service's staff in training and its outcome report, never another's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.factories import count_statements, make_enrolment, make_service, make_supervision, make_user
from vigtrain.accounts.models import Role
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.training import services as training


@pytest.fixture
def people(app):
    north = make_service("North Family Service")
    south = make_service("South Parenting Team", region_code="E12000008")
    return {
        "north": north,
        "south": south,
        "admin": make_user("admin@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin"),
        "sue": make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor"),
        "lena": make_user("lena@example.org", roles=(Role.SERVICE_LEAD,), name="Lena Lead", service_id=north.id),
        "sam": make_user("sam@example.org", roles=(Role.SERVICE_LEAD,), name="Sam Southlead", service_id=south.id),
        "lou": make_user("lou@example.org", roles=(Role.SERVICE_LEAD,), name="Lou Unlinked"),
        "nia": make_user("nia@example.org", name="Nia North", service_id=north.id),
        "ned": make_user("ned@example.org", name="Ned North", service_id=north.id),
        "sol": make_user("sol@example.org", name="Sol South", service_id=south.id),
    }


def _client(app, email):
    client = app.test_client()
    client.login(email)
    return client


def _get(app, email, url="/home") -> str:
    response = _client(app, email).get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _enrol(people, trainee):
    return make_enrolment(people[trainee], people["sue"], actor=people["admin"])


def _place(record, state: StageState, days_ago: int) -> None:
    """Put a stage in a state since some days ago (the chain itself is tested in tests/training)."""
    record.state, record.state_since = state, utcnow() - timedelta(days=days_ago)
    record.enrolment.mark_current_stage()
    db.session.commit()


def _staff_section(html: str) -> str:
    start = html.index('id="service-staff"')
    return html[start : html.index("</section>", start)]


# --- who sees what -------------------------------------------------------------------------------


def test_each_lead_sees_their_own_service_staff_and_nobody_elses(app, people):
    nia = _enrol(people, "nia")
    make_supervision(nia, people["sue"], 1, date(2026, 2, 17))
    make_supervision(nia, people["sue"], 1, date(2026, 2, 24), confirmed=False)
    ned = _enrol(people, "ned")
    sol = _enrol(people, "sol")

    north = _staff_section(_get(app, "lena@example.org"))
    assert "Nia North" in north and "Ned North" in north and "Sol South" not in north
    assert "2 active or paused training records at North Family Service" in north
    assert "VIG Practitioner" in north and "Initial Training Course" in north
    assert "govuk-tag--light-blue" in north and "In progress" in north
    assert "17 February 2026" in north  # the last confirmed session, not the unconfirmed one after it
    assert "/enrolments/" not in north  # a service lead opens nobody's training record

    south = _staff_section(_get(app, "sam@example.org"))
    assert "Sol South" in south and "Nia North" not in south and "Ned North" not in south
    assert "1 active or paused training record at South Parenting Team" in south
    for enrolment in (nia, ned, sol):
        assert _client(app, "lena@example.org").get(f"/enrolments/{enrolment.id}").status_code in (403, 404)


def test_the_service_is_the_enrolments_not_the_trainees_current_one(app, people):
    enrolment = _enrol(people, "nia")
    people["nia"].service_id = people["south"].id  # moved on; the training stays with North
    db.session.commit()
    assert enrolment.service_id == people["north"].id
    assert "Nia North" in _staff_section(_get(app, "lena@example.org"))
    assert "Nia North" not in _staff_section(_get(app, "sam@example.org"))


def test_withdrawn_trainees_leave_the_list_and_paused_ones_are_marked(app, people):
    nia = _enrol(people, "nia")
    ned = _enrol(people, "ned")
    training.set_enrolment_status(people["admin"], nia, EnrolmentStatus.WITHDRAWN, "Left the service", nia.version)
    training.set_enrolment_status(people["admin"], ned, EnrolmentStatus.PAUSED, "Parental leave", ned.version)
    db.session.commit()
    section = _staff_section(_get(app, "lena@example.org"))
    assert "Nia North" not in section
    assert "Ned North" in section and "Paused" in section


@pytest.mark.parametrize("email", ["nia@example.org", "sue@example.org", "admin@example.org"])
def test_people_who_are_not_service_leads_see_no_service_section(app, people, email):
    _enrol(people, "nia")
    html = _get(app, email)
    assert "Your service's staff in training" not in html and 'id="service-staff"' not in html
    assert "Your service's outcome report" not in html


def test_a_lead_who_also_supervises_sees_both_lists(app, people):
    people["lena"].set_roles({Role.SERVICE_LEAD, Role.SUPERVISOR})
    db.session.commit()
    make_enrolment(people["sol"], people["lena"], actor=people["admin"])
    _enrol(people, "nia")
    html = _get(app, "lena@example.org")
    assert "Your trainees" in html and "Sol South" in html  # as Sol's personal supervisor
    section = _staff_section(html)
    assert "Nia North" in section and "Sol South" not in section


def test_a_lead_without_a_service_is_told_an_administrator_must_set_it(app, people):
    _enrol(people, "nia")
    html = _get(app, "lou@example.org")
    assert "An administrator must set your service" in html
    assert "Nia North" not in html and "/reports/service" not in html
    page = _get(app, "lou@example.org", "/service/staff")
    assert "An administrator must set your service" in page and "Nia North" not in page


# --- what each record waits on -------------------------------------------------------------------


def test_each_record_says_what_it_waits_on_and_for_how_long(app, people, clock):
    trainees = {
        name: make_user(f"{name.lower()}@example.org", name=f"{name} North", service_id=people["north"].id)
        for name in ("Amy", "Ben", "Cat", "Dan", "Eve", "Fay")
    }
    records = {name: make_enrolment(user, people["sue"], actor=people["admin"]) for name, user in trainees.items()}
    _place(records["Amy"].stages[0], StageState.SUBMITTED, 12)
    _place(records["Ben"].stages[0], StageState.SIGNED_OFF, 20)
    _place(records["Cat"].stages[0], StageState.WITH_ACCREDITOR, 5)
    _place(records["Dan"].stages[0], StageState.RETURNED, 0)
    _place(records["Eve"].stages[0], StageState.IN_PROGRESS, 1)
    for stage in records["Fay"].stages[:-1]:
        stage.state = StageState.ACCREDITED
    _place(records["Fay"].stages[-1], StageState.ACCREDITED, 9)

    section = _staff_section(_get(app, "lena@example.org"))
    rows = {name: section[section.index(f"{name} North") :] for name in trainees}
    assert "Submitted to supervisor 12 days ago" in rows["Amy"].split("</tr>")[0]
    assert "Waiting 20 days for an accrediting supervisor" in rows["Ben"].split("</tr>")[0]
    assert "With accrediting supervisor for 5 days" in rows["Cat"].split("</tr>")[0]
    assert "Returned to the trainee today" in rows["Dan"].split("</tr>")[0]
    assert "In progress with the trainee for 1 day<" in rows["Eve"].split("</tr>")[0]
    fay = rows["Fay"].split("</tr>")[0]
    assert "All stages finished" in fay and "Waiting 9 days for AVIGuk to ratify" in fay
    assert "govuk-tag--yellow" in rows["Amy"].split("</tr>")[0]  # the same state colours as every table


# --- the home page's first ten and the full page -------------------------------------------------


def test_home_shows_the_first_ten_and_links_to_every_page_of_them(app, people):
    for number in range(27):
        trainee = make_user(f"t{number:02d}@example.org", name=f"Trainee {number:02d}", service_id=people["north"].id)
        make_enrolment(trainee, people["sue"], actor=people["admin"])
    _enrol(people, "sol")
    lena = _client(app, "lena@example.org")
    section = _staff_section(lena.get("/home").get_data(as_text=True))
    assert "Trainee 09" in section and "Trainee 10" not in section
    assert "See all 27 training records at North Family Service" in section and 'href="/service/staff"' in section
    first = lena.get("/service/staff").get_data(as_text=True)
    assert "Showing 1 to 25 of 27" in first and "Trainee 24" in first and "Trainee 25" not in first
    second = lena.get("/service/staff?page=2").get_data(as_text=True)
    assert "Trainee 26" in second and "Sol South" not in first + second
    assert "/enrolments/" not in first


def test_the_full_page_shows_nobody_from_another_service_whatever_the_request_says(app, people):
    _enrol(people, "nia")
    _enrol(people, "sol")
    south = people["south"].id
    for url in (f"/service/staff?service_id={south}", f"/service/staff?service={south}", "/service/staff?page=x"):
        html = _get(app, "lena@example.org", url)
        assert "Nia North" in html and "Sol South" not in html
    assert _client(app, "lena@example.org").get(f"/service/staff/{south}").status_code == 404


@pytest.mark.parametrize("email", ["nia@example.org", "sue@example.org", "admin@example.org"])
def test_the_full_page_is_for_service_leads_only(app, people, email):
    assert _client(app, email).get("/service/staff").status_code == 403


def test_the_full_page_needs_sign_in(client, people):
    response = client.get("/service/staff")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_service_with_nobody_in_training_says_so(app, people):
    assert "Nobody at North Family Service is in training at the moment" in _get(app, "lena@example.org")
    assert "Nobody at North Family Service is in training" in _get(app, "lena@example.org", "/service/staff")


# --- the outcome report --------------------------------------------------------------------------


def test_home_links_to_the_leads_own_disclosure_controlled_service_report(app, people):
    north, south = people["north"].id, people["south"].id
    html = _get(app, "lena@example.org")
    assert "Your service's outcome report" in html
    assert f'href="/reports/service/{north}"' in html and f"/reports/service/{south}" not in html
    lena = _client(app, "lena@example.org")
    assert lena.get(f"/reports/service/{north}").status_code == 200
    assert lena.get(f"/reports/service/{south}").status_code == 404


# --- constant cost ---------------------------------------------------------------------------------


def _add_staff(people, first: int, count: int) -> None:
    for number in range(first, first + count):
        trainee = make_user(f"t{number:02d}@example.org", name=f"Trainee {number:02d}", service_id=people["north"].id)
        enrolment = make_enrolment(trainee, people["sue"], actor=people["admin"])
        make_supervision(enrolment, people["sue"], 1, date(2026, 2, 3))
        _place(enrolment.stages[0], StageState.SUBMITTED, number)


def test_service_lead_pages_cost_the_same_with_2_or_12_records(app, people):
    lena = _client(app, "lena@example.org")
    _add_staff(people, 0, 2)
    few = {url: count_statements(lena, url) for url in ("/home", "/service/staff")}
    _add_staff(people, 2, 10)
    many = {url: count_statements(lena, url) for url in ("/home", "/service/staff")}
    assert "See all 12 training records" in lena.get("/home").get_data(as_text=True)
    assert many == few
