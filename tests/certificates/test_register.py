"""The public register: only practitioners who opted in and hold a current accreditation; their choice."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.certificate_factories import insert_certificate, make_holder
from tests.factories import PASSWORD, count_statements
from vigtrain.audit import AuditEvent
from vigtrain.certificates.models import CertificateKind, CertificateStatus
from vigtrain.extensions import db
from vigtrain.organisations.models import Region

NORTH_EAST, WALES = "E12000001", "W92000004"


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def listed_names(response) -> list[str]:
    """The names in the register table's first column, in order."""
    html = response.get_data(as_text=True)
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0] if "<tbody" in html else ""
    rows = re.findall(r"<tr class=\"govuk-table__row\">\s*<td class=\"govuk-table__cell\">([^<]+)</td>", body)
    return [unescape(name) for name in rows]


def region_id(code: str) -> int:
    return db.session.scalar(select(Region.id).where(Region.code == code))


def listed(name: str, region: str = NORTH_EAST, **certificate):
    holder = make_holder(name, region_code=region, listed=True)
    insert_certificate(holder, **certificate)
    return holder


# --- who appears ---------------------------------------------------------------------------------


def test_only_opted_in_holders_of_a_current_accreditation_appear(client):
    listed("Amara Listed")
    insert_certificate(make_holder("Nadia Notlisted", listed=False))
    listed("Eddie Expired", issued_on=date(2020, 1, 6), valid_until=date(2023, 1, 5))  # overdue, not yet marked
    listed("Eve Expired", status=CertificateStatus.EXPIRED, valid_until=date(2025, 1, 1))
    listed("Rory Revoked", status=CertificateStatus.REVOKED, reason="Revoked for the register test.")
    listed("Stella Stage", kind=CertificateKind.STAGE)
    listed("Dora Deactivated").is_active_flag = False
    db.session.commit()
    renewed = make_holder("Sam Superseded", listed=True)
    insert_certificate(renewed, replaces=insert_certificate(renewed))

    response = client.get("/register")
    assert response.status_code == 200
    # Sam appears once, for the certificate that replaced the superseded one.
    assert listed_names(response) == ["Amara Listed", "Sam Superseded"]


def test_the_register_shows_name_credential_region_and_status_only(client):
    holder = make_holder("Priya Public", region_code=WALES, listed=True, email="priya.private@example.org")
    certificate = insert_certificate(holder, valid_until=date(2029, 3, 1))
    response = client.get("/register")
    page = text(response)
    assert "Priya Public Accredited VIG Practitioner Wales Valid until 1 March 2029" in page
    html = response.get_data(as_text=True)
    assert "priya.private" not in html
    assert holder.service.name not in html
    assert certificate.number not in html


def test_a_holder_with_two_current_accreditations_appears_for_each(client):
    holder = make_holder("Tomasz Twice", listed=True)
    insert_certificate(holder)
    insert_certificate(holder, code="vig-supervisor", version="2024.1")
    page = text(client.get("/register"))
    assert "Tomasz Twice Accredited VIG Practitioner" in page
    assert "Tomasz Twice Accredited VIG Supervisor" in page


# --- searching -----------------------------------------------------------------------------------


def test_search_by_any_part_of_the_name_ignoring_case(client):
    for name in ("Grace Hopper", "Ada Lovelace", "Alan Turing"):
        listed(name)
    assert listed_names(client.get("/register", query_string={"name": "  LOVE "})) == ["Ada Lovelace"]
    assert listed_names(client.get("/register", query_string={"name": "a"})) == [
        "Ada Lovelace",
        "Alan Turing",
        "Grace Hopper",
    ]


def test_wildcards_in_a_search_are_plain_characters(client):
    listed("Ada Lovelace")
    listed("Percy 100% Smith")
    assert listed_names(client.get("/register", query_string={"name": "%"})) == ["Percy 100% Smith"]
    assert listed_names(client.get("/register", query_string={"name": "_"})) == []


def test_filter_by_region(client):
    listed("Nell North", region=NORTH_EAST)
    listed("Wyn Wales", region=WALES)
    response = client.get("/register", query_string={"region": region_id(WALES)})
    assert listed_names(response) == ["Wyn Wales"]
    assert "1 practitioner found" in text(response)


def test_an_unknown_region_means_every_region(client):
    listed("Nell North")
    response = client.get("/register", query_string={"region": "999999"})
    assert response.status_code == 200
    assert listed_names(response) == ["Nell North"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=150), region=st.text(max_size=12), page=st.text(max_size=8))
@example(name="Ada\x00", region="\x00", page="\x00")  # PostgreSQL refuses NUL in text
def test_any_search_gets_a_page_never_an_error(app, client, name, region, page):
    app.config["VERIFY_RATE_LIMIT"] = "1000 per minute"
    response = client.get("/register", query_string={"name": name, "region": region, "page": page})
    assert response.status_code == 200


def test_nothing_found_says_so(client):
    listed("Nell North")
    response = client.get("/register", query_string={"name": "Zebedee"})
    assert response.status_code == 200
    assert "No practitioners found" in text(response)
    assert listed_names(response) == []


def test_the_register_is_paginated_keeping_the_search(app, client):
    app.config["PAGE_SIZE"] = 2
    for name in ("Anna One", "Anna Two", "Anna Three", "Bob Other"):
        listed(name)
    first = client.get("/register", query_string={"name": "anna"})
    assert listed_names(first) == ["Anna One", "Anna Three"]
    assert "name=anna" in first.get_data(as_text=True) and "page=2" in first.get_data(as_text=True)
    second = client.get("/register", query_string={"name": "anna", "page": 2})
    assert listed_names(second) == ["Anna Two"]


def test_the_register_costs_the_same_number_of_statements_whatever_its_size(client):
    listed("First Person")
    small = count_statements(client, "/register")
    for number in range(8):
        listed(f"Person {number}", region=WALES if number % 2 else NORTH_EAST)
    assert len(listed_names(client.get("/register"))) == 9
    assert count_statements(client, "/register") == small


# --- the practitioner's choice -------------------------------------------------------------------


def test_choosing_needs_a_sign_in(client):
    response = client.get("/register/you")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_holder_opts_in_and_out_and_each_change_is_audited(client):
    holder = make_holder("Olivia Optin", password=PASSWORD)
    insert_certificate(holder)
    client.login(holder.email)
    assert "Olivia Optin" not in listed_names(client.get("/register"))

    response = client.submit("/register/you", {"listed": "yes"})
    assert response.status_code == 302
    assert "You have chosen to appear in the public register." in text(client.get("/register/you"))
    assert listed_names(client.get("/register")) == ["Olivia Optin"]

    client.submit("/register/you", {"listed": "no"})
    assert listed_names(client.get("/register")) == []

    client.submit("/register/you", {"listed": "no"})  # no change, nothing to audit
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "register.opt_in_changed")).all()
    assert [(event.before, event.after) for event in events] == [
        ({"register_opt_in": False}, {"register_opt_in": True}),
        ({"register_opt_in": True}, {"register_opt_in": False}),
    ]
    assert all(event.actor_id == holder.id and event.entity_id == str(holder.id) for event in events)


@pytest.mark.parametrize(("choice", "message"), [(None, "Select whether you want"), ("maybe", "Select yes or no")])
def test_a_missing_or_invalid_choice_is_refused(client, choice, message):
    holder = make_holder(password=PASSWORD)
    client.login(holder.email)
    response = client.submit("/register/you", {"listed": choice} if choice else {})
    assert response.status_code == 422
    assert message in text(response)
    db.session.refresh(holder)
    assert holder.register_opt_in is False
    assert db.session.query(AuditEvent).filter_by(action="register.opt_in_changed").count() == 0


def test_someone_without_a_current_accreditation_is_told_they_will_not_appear(client):
    holder = make_holder(password=PASSWORD)
    insert_certificate(holder, kind=CertificateKind.STAGE)
    client.login(holder.email)
    page = text(client.get("/register/you"))
    assert "You do not hold a current accreditation certificate" in page


def test_an_accredited_holder_is_not_warned(client):
    holder = make_holder(password=PASSWORD)
    insert_certificate(holder)
    client.login(holder.email)
    assert "You do not hold a current accreditation certificate" not in text(client.get("/register/you"))
