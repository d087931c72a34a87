"""The everyday actions from the home page: add a cycle and record a measure with the case chosen on
the form (open cases, the latest worked on first), and log supervision, each one tap from home."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import make_case, make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import CaseStatus, Cycle
from vigtrain.extensions import db

CYCLE = {
    "filmed_on": ["3", "2", "2026"],
    "shared_review_on": ["10", "2", "2026"],
    "clips_count": "3",
}


@pytest.fixture
def tara(app, clock):
    trainee = make_user("tara@example.org", name="Tara Trainee")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
    return trainee


def _cycle(case, shared_on: date) -> None:
    db.session.add(Cycle(case=case, filmed_on=shared_on, shared_review_on=shared_on, clips_count=2, principles=[]))
    db.session.commit()


def _counts() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(Cycle)),
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
    )


def _beside(html: str, field: str, message: str) -> bool:
    pattern = rf'id="{field}-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>[^<]*{re.escape(message)}'
    return re.search(pattern, html) is not None


def _options(html: str) -> list[str]:
    select_html = html[html.find('<select class="govuk-select" id="case"') :].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)"', select_html)


def test_home_offers_the_everyday_actions_one_tap_away(client, tara):
    make_case(tara)
    db.session.commit()
    client.login("tara@example.org")
    html = client.get("/home").get_data(as_text=True)
    actions = html[html.find('id="record-your-work"') :].split("</nav>")[0]
    assert re.findall(r'href="([^"]+)">([^<]+)</a>', actions) == [
        ("/cycles/new", "Add a cycle"),
        ("/supervision/new", "Log supervision"),
        ("/measures/record", "Record a measure"),
        ("/cases/new", "Add a case"),
    ]


def test_a_supervisor_with_no_cases_sees_no_everyday_actions(client, tara):
    client.login("sue@example.org")
    assert 'id="record-your-work"' not in client.get("/home").get_data(as_text=True)


def test_add_a_cycle_offers_open_cases_latest_worked_on_first(client, tara):
    older, newer, quiet = make_case(tara), make_case(tara), make_case(tara, started_on=date(2025, 12, 1))
    closed = make_case(tara)
    theirs = make_case(make_user("sam@example.org", name="Sam Stranger"))
    _cycle(older, date(2026, 1, 10))
    _cycle(newer, date(2026, 2, 20))
    closed.status = CaseStatus.COMPLETED
    closed.ended_on = date(2026, 2, 25)
    db.session.commit()
    client.login("tara@example.org")
    html = client.get("/cycles/new").get_data(as_text=True)
    assert _options(html) == ["", newer.code, older.code, quiet.code]
    assert closed.code not in html and theirs.code not in html


def test_add_a_cycle_from_home_saves_it_on_the_case_chosen(client, tara):
    case = make_case(tara)
    db.session.commit()
    client.login("tara@example.org")
    # One open case is chosen for them.
    assert re.search(rf'<option value="{case.code}" selected', client.get("/cycles/new").get_data(as_text=True))
    response = client.submit("/cycles/new", {**CYCLE, "case": case.code})
    assert response.status_code == 302 and response.location.endswith(f"/cases/{case.code}")
    cycle = db.session.scalars(select(Cycle)).one()
    assert (cycle.case_id, cycle.shared_review_on, cycle.clips_count) == (case.id, date(2026, 2, 10), 3)


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("none", "Select the case the cycle belongs to"),
        ("someone else's", "Select one of your open cases from the list"),
        ("closed", "Select one of your open cases from the list"),
        ("made up", "Select one of your open cases from the list"),
    ],
)
def test_a_case_that_is_not_an_open_one_of_theirs_is_refused_beside_the_field(client, tara, which, message):
    make_case(tara)
    closed = make_case(tara)
    closed.status = CaseStatus.COMPLETED
    closed.ended_on = date(2026, 2, 25)
    theirs = make_case(make_user("sam@example.org", name="Sam Stranger"))
    db.session.commit()
    code = {"none": "", "someone else's": theirs.code, "closed": closed.code, "made up": "VC-0000-0000"}[which]
    client.login("tara@example.org")
    before = _counts()
    response = client.submit("/cycles/new", {**CYCLE, "case": code})
    assert response.status_code == 422
    assert _beside(response.get_data(as_text=True), "case", message)
    assert _counts() == before


def test_with_no_open_case_add_a_cycle_says_to_add_a_case_first(client, tara):
    client.login("tara@example.org")
    html = client.get("/cycles/new").get_data(as_text=True)
    assert "You have no open cases" in html and 'href="/cases/new"' in html and '<form method="post"' not in html


def test_record_a_measure_from_home_goes_to_its_questions(client, tara):
    case = make_case(tara)
    theirs = make_case(make_user("sam@example.org", name="Sam Stranger"))
    db.session.commit()
    client.login("tara@example.org")
    html = client.get("/measures/record").get_data(as_text=True)
    assert _options(html) == ["", case.code]
    response = client.submit("/measures/record", {"case": case.code, "measure": "PHQ-9", "timepoint": "pre"})
    assert response.status_code == 302
    assert response.location.endswith(f"/cases/{case.code}/measures/PHQ-9/pre")
    refused = client.submit("/measures/record", {"case": theirs.code, "measure": "PHQ-9", "timepoint": "pre"})
    assert refused.status_code == 422
    assert _beside(refused.get_data(as_text=True), "case", "Select one of your open cases from the list")


def test_only_people_who_keep_cases_reach_the_everyday_forms(app, tara):
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    assert admin.id
    client = app.test_client()
    client.login("ada@example.org")
    assert client.get("/cycles/new").status_code == 403
    assert client.get("/measures/record").status_code == 403
