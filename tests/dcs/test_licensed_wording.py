"""A service's licensed measure wording: entered by administrators as data, shown only to that service.

An administrator adds the wording of a measure whose data file may not hold it (refused beside the
field, 422 and nothing saved, when anything is missing or too long); then that service's clients, and
no other service's, can be sent the measure to answer on their phone and read it in words. Removing
the wording stops links that were waiting for it.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.api.conftest import Api, issue_token
from tests.dcs.test_invitations import _case, _count, _invite, _invite_page, _items, _made, _send
from tests.factories import load_pathways, make_admin, make_enrolment, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.dcs import invitations, services, wording
from vigtrain.dcs.measures import get_measure
from vigtrain.dcs.models import Administration, LicensedWording, Timepoint
from vigtrain.dcs.queries import post_measures_to_invite
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db

REFERENCE = "Warwick Medical School licence WMS-1234, registered 2026-03-01"
STEM = "Below are some statements about feelings and thoughts."
SWEMWBS = {str(number): f"Licensed SWEMWBS statement number {number}" for number in range(1, 8)}


@pytest.fixture
def people(app, clock):
    load_pathways()
    north = make_service("North Family Service")
    south = make_service("South Parenting Team")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    tia = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee", service_id=north.id)
    sol = make_user("sol@example.org", roles=(Role.TRAINEE,), name="Sol South", service_id=south.id)
    lea = make_user("lea@example.org", roles=(Role.SERVICE_LEAD,), name="Lea Lead", service_id=north.id)
    for trainee in (tia, sol):
        make_enrolment(trainee, supervisor, start=date(2025, 11, 1))
    return {"north": north, "south": south, "tia": tia, "sol": sol, "lea": lea, "admin": make_admin()}


@pytest.fixture
def admin(sign_in, people):
    return sign_in("admin@example.org")


@pytest.fixture
def phone(app):
    return app.test_client()


def _list_page(service) -> str:
    return f"/admin/services/{service.id}/licensed-wording/"


def _add_page(service, code: str) -> str:
    return f"/admin/services/{service.id}/licensed-wording/{code}/new"


def _form(texts: dict[str, str], reference: str | None = REFERENCE, stem: str = STEM, **extra: str) -> dict:
    data = {wording.question_field(number): text for number, text in texts.items()}
    if reference is not None:
        data["licence_reference"] = reference
    return {**data, "stem": stem, **extra}


def _add(client, service, code: str = "SWEMWBS", data: dict | None = None):
    return client.submit(_add_page(service, code), _form(SWEMWBS) if data is None else data)


def _added(client, service, code: str = "SWEMWBS", data: dict | None = None) -> LicensedWording:
    response = _add(client, service, code, data)
    assert response.status_code == 302, response.text
    db.session.expire_all()
    return db.session.scalar(
        select(LicensedWording).where(
            LicensedWording.service_id == service.id,
            LicensedWording.measure_code == code,
            LicensedWording.removed_at.is_(None),
        )
    )


def _remove(client, service, row: LicensedWording, page: str | None = None):
    return client.submit(f"/admin/services/{service.id}/licensed-wording/{row.id}/remove", page=page)


def _checkboxes(page: str) -> set[str]:
    return set(re.findall(r'type="checkbox"[^>]*value="([^"]+)"', page)) | set(
        re.findall(r'value="([^"]+)"[^>]*type="checkbox"', page)
    )


# --- who may ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["tia@example.org", "lea@example.org", "sue@example.org"])
def test_only_administrators_see_or_change_licensed_wording(sign_in, admin, people, email):
    row = _added(admin, people["north"])
    client = sign_in(email)
    assert client.get(_list_page(people["north"])).status_code == 403
    assert client.get(_add_page(people["north"], "EPDS")).status_code == 403
    assert client.post(_add_page(people["north"], "EPDS"), data=_form(SWEMWBS)).status_code in (400, 403)
    assert client.get(f"/admin/services/{people['north'].id}/licensed-wording/{row.id}/remove").status_code == 403
    db.session.refresh(row)
    assert row.is_live
    with pytest.raises(PermissionDenied):
        wording.add_wording(people["tia"], people["south"], "SWEMWBS", SWEMWBS, None, REFERENCE)
    with pytest.raises(PermissionDenied):
        wording.remove_wording(people["tia"], row)


def test_signed_out_people_are_sent_to_sign_in(app, people):
    response = app.test_client().get(_list_page(people["north"]))
    assert response.status_code == 302 and "/login" in response.location


def test_the_service_page_leads_to_its_licensed_wording(admin, people):
    page = admin.get(f"/admin/services/{people['north'].id}/edit").text
    assert f'href="{_list_page(people["north"])}"' in page and "Licensed measure wording" in page
    listing = admin.get(_list_page(people["north"]))
    assert listing.status_code == 200
    for name in ("Edinburgh Postnatal Depression Scale", "Warwick-Edinburgh", "Postpartum Bonding"):
        assert name in listing.text
    assert "Patient Health Questionnaire" not in listing.text  # its wording is in its data file already
    assert f'href="{_add_page(people["north"], "EPDS")}"' in listing.text


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"question_3": ""}, "question_3", "Enter the wording of question 3"),
        ({"question_7": "   "}, "question_7", "Enter the wording of question 7"),
        ({"question_2": "x" * 501}, "question_2", "Question 2 must be 500 characters or fewer"),
        ({"licence_reference": ""}, "licence_reference", "Enter the licence reference"),
        ({"licence_reference": "x" * 301}, "licence_reference", "Licence reference must be 300 characters or fewer"),
        ({"stem": "x" * 2001}, "stem", "Instructions must be 2000 characters or fewer"),
    ],
)
def test_bad_wording_is_refused_beside_its_field_and_nothing_is_saved(admin, people, change, field, message):
    response = _add(admin, people["north"], data={**_form(SWEMWBS), **change})
    assert response.status_code == 422
    beside = response.text.split(f'id="{field}-error"')[1][:300]
    assert message in beside
    assert "There is a problem" in response.text and f'href="#{field}"' in response.text
    assert _count(LicensedWording) == 0
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("licensed_wording.%"))).all()


def test_every_empty_box_is_shown_at_once(admin, people):
    """An administrator copying a licensed form fixes every empty box in one go, not one per submit."""
    data = {**_form(SWEMWBS), "question_2": "", "question_6": "", "licence_reference": ""}
    response = _add(admin, people["north"], data=data)
    assert response.status_code == 422
    for field in ("question_2", "question_6", "licence_reference"):
        assert f'id="{field}-error"' in response.text and f'href="#{field}"' in response.text
    assert _count(LicensedWording) == 0


def test_a_missing_question_field_is_refused_too(admin, people):
    texts = dict(SWEMWBS)
    del texts["5"]
    response = _add(admin, people["north"], data=_form(texts))
    assert response.status_code == 422 and "Enter the wording of question 5" in response.text
    assert _count(LicensedWording) == 0


@pytest.mark.parametrize(
    ("answer", "message"),
    [("", "Enter answer 2 of question 4 as printed"), ("x" * 121, "must be 120 characters or fewer")],
)
def test_measures_with_answers_printed_under_each_question_need_those_answers_in_words(admin, people, answer, message):
    form = admin.get(_add_page(people["north"], "EPDS")).text
    assert 'name="answer_1_0"' in form and 'name="answer_10_3"' in form
    assert 'name="answer_1_0"' not in admin.get(_add_page(people["north"], "SWEMWBS")).text
    data = _epds_form()
    data["answer_4_1"] = answer
    response = _add(admin, people["north"], "EPDS", data)
    assert response.status_code == 422
    assert message in response.text.split('id="answer_4_1-error"')[1][:300]
    assert _count(LicensedWording) == 0


def test_a_second_live_wording_for_the_same_measure_is_refused_until_the_first_is_removed(admin, people):
    first = _added(admin, people["north"])
    again = _add(admin, people["north"])
    assert again.status_code == 422
    assert "North Family Service already has wording for SWEMWBS. Remove it first" in again.text
    assert _count(LicensedWording) == 1
    assert _remove(admin, people["north"], first).status_code == 302
    second = _added(admin, people["north"])
    assert second.id != first.id
    db.session.refresh(first)
    assert first.removed_at is not None and first.removed_by_id == people["admin"].id
    assert _count(LicensedWording) == 2  # the removed one stays on record
    listing = admin.get(_list_page(people["north"])).text
    assert "Removed" in listing and "SWEMWBS version 1" in listing
    # Another service's wording is its own affair.
    assert _added(admin, people["south"]) is not None


def test_removing_twice_is_refused(admin, people):
    row = _added(admin, people["north"])
    _remove(admin, people["north"], row)
    assert (
        "This wording was removed"
        in admin.get(f"/admin/services/{people['north'].id}/licensed-wording/{row.id}/remove").text
    )
    response = _remove(admin, people["north"], row, page=_list_page(people["north"]))
    assert response.status_code == 422 and "This wording for SWEMWBS has already been removed." in response.text


def test_unknown_measures_and_measures_already_in_words_have_no_form(admin, people):
    assert admin.get(_add_page(people["north"], "NOPE")).status_code == 404
    assert admin.get(_add_page(people["north"], "PHQ-9")).status_code == 404
    assert admin.get("/admin/services/999999/licensed-wording/").status_code == 404
    with pytest.raises(DomainError) as unknown:
        wording.add_wording(people["admin"], people["north"], "NOPE", SWEMWBS, None, REFERENCE)
    assert unknown.value.field == "measure"
    with pytest.raises(DomainError) as free:
        wording.add_wording(people["admin"], people["north"], "PHQ-9", SWEMWBS, None, REFERENCE)
    assert free.value.field == "measure" and "nothing to add" in free.value.message
    db.session.rollback()
    assert _count(LicensedWording) == 0


def test_the_database_keeps_one_live_wording_per_service_and_measure(people):
    def row(**fields) -> LicensedWording:
        return LicensedWording(
            service_id=people["north"].id,
            measure_code="SWEMWBS",
            measure_version="1",
            item_texts=SWEMWBS,
            answer_texts={},
            licence_reference=REFERENCE,
            added_by_id=people["admin"].id,
            **fields,
        )

    db.session.add_all([row(), row(removed_at=wording.utcnow()), row(removed_at=wording.utcnow())])
    db.session.commit()
    db.session.add(row())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_adding_and_removing_are_audited(admin, people):
    row = _added(admin, people["north"])
    _remove(admin, people["north"], row)
    events = {event.action: event for event in db.session.scalars(select(AuditEvent))}
    added, removed = events["licensed_wording.added"], events["licensed_wording.removed"]
    assert added.actor_id == removed.actor_id == people["admin"].id
    assert added.after["licence_reference"] == REFERENCE and added.after["item_texts"] == SWEMWBS
    assert added.after["measure_version"] == "1" and removed.before == {"removed_at": None}
    assert removed.after["removed_at"] is not None


# --- using it -----------------------------------------------------------------------------------------


def test_the_measure_is_offered_for_the_services_cases_and_no_others(admin, sign_in, people):
    north_case, south_case = _case(people["tia"]), _case(people["sol"])
    tia, sol = sign_in("tia@example.org"), sign_in("sol@example.org")
    assert "SWEMWBS" not in _checkboxes(tia.get(_invite_page(north_case)).text)
    refused = _invite(tia, north_case, ("SWEMWBS",))
    assert refused.status_code == 422 and "an administrator can add its wording" in refused.text

    _added(admin, people["north"])
    offered = tia.get(_invite_page(north_case)).text
    assert _checkboxes(offered) == {"PHQ-9", "GAD-7", "GBO", "VIG-SCALING", "SWEMWBS"}
    withheld = offered.split("Not available for the client to answer alone")[1]
    assert "Short Warwick-Edinburgh" not in withheld and "Edinburgh Postnatal" in withheld
    assert _made(tia, north_case, ("SWEMWBS",))

    elsewhere = sol.get(_invite_page(south_case)).text
    assert "SWEMWBS" not in _checkboxes(elsewhere)
    assert "Short Warwick-Edinburgh" in elsewhere.split("Not available for the client to answer alone")[1]
    refused = _invite(sol, south_case, ("SWEMWBS",))
    assert refused.status_code == 422 and "SWEMWBS cannot be sent to the client" in refused.text


def test_wording_entered_for_an_older_version_of_the_data_file_is_not_used(admin, sign_in, phone, people):
    row = _added(admin, people["north"])
    north_case = _case(people["tia"])
    token = _made(sign_in("tia@example.org"), north_case, ("SWEMWBS",))
    row.measure_version = "0"
    db.session.commit()
    assert phone.get(f"/respond/{token}").status_code == 410
    assert "SWEMWBS" not in {measure.code for measure in invitations.client_measures(north_case)}
    assert "not shown" in admin.get(_list_page(people["north"])).text.lower()


def test_the_client_reads_the_licensed_wording_and_their_answers_are_scored(admin, sign_in, phone, people):
    _added(admin, people["north"])
    north_case = _case(people["tia"])
    token = _made(sign_in("tia@example.org"), north_case, ("SWEMWBS",))
    page = phone.get(f"/respond/{token}/SWEMWBS")
    assert page.status_code == 200
    for text in SWEMWBS.values():
        assert text in page.text
    assert STEM in page.text and "Item 1" not in page.text
    assert "licensed SWEMWBS form" not in page.text  # the data file's note for practitioners is not shown
    sent = _send(phone, token, "SWEMWBS", [2, 2, 2, 2, 2, 2, 2])
    assert sent.status_code == 302 and sent.headers["Location"] == "/respond/thank-you"
    row = db.session.scalar(select(Administration))
    assert row.measure_code == "SWEMWBS" and row.raw == 21 and row.self_completed


def test_printed_answers_are_shown_in_words_and_instructions_default_to_the_recall_period(
    admin, sign_in, phone, people
):
    _added(admin, people["north"], "EPDS", _epds_form(stem=""))
    north_case = _case(people["tia"])
    token = _made(sign_in("tia@example.org"), north_case, ("EPDS",))
    page = phone.get(f"/respond/{token}/EPDS").text
    assert "EPDS question 10 in words" in page and "Question 4, answer 2 in words" in page
    assert "as printed" not in page and "Item 1" not in page
    assert "Thinking about the past 7 days, choose the answer to each question that fits you best." in page


def test_removing_the_wording_stops_links_waiting_for_it(admin, sign_in, phone, people):
    row = _added(admin, people["north"])
    north_case = _case(people["tia"])
    tia = sign_in("tia@example.org")
    only = _made(tia, north_case, ("SWEMWBS",))
    both = _made(tia, north_case, ("PHQ-9", "SWEMWBS"))
    confirm = admin.get(f"/admin/services/{people['north'].id}/licensed-wording/{row.id}/remove")
    assert confirm.status_code == 200 and "Remove the SWEMWBS wording?" in confirm.text
    assert _remove(admin, people["north"], row).status_code == 302

    gone = phone.get(f"/respond/{only}")
    assert gone.status_code == 410 and "This link is no longer needed" in gone.text
    assert phone.post(f"/respond/{only}/SWEMWBS", data=_items(2, 2, 2, 2, 2, 2, 2)).status_code == 410
    start = phone.get(f"/respond/{both}")
    assert start.status_code == 200 and f'href="/respond/{both}/PHQ-9"' in start.text
    assert "SWEMWBS" not in start.text and phone.get(f"/respond/{both}/SWEMWBS").status_code == 404
    assert _count(Administration) == 0


def test_the_home_page_offers_a_post_link_for_a_licensed_measure(admin, people):
    north_case = _case(people["tia"])
    responses = {str(number): 3 for number in range(1, 8)}
    services.record_administration(
        people["tia"], north_case, "SWEMWBS", Timepoint.PRE, date(2026, 1, 6), responses, date(2026, 1, 6)
    )
    db.session.commit()
    assert post_measures_to_invite(north_case) == []
    _added(admin, people["north"])
    assert [measure.code for measure in post_measures_to_invite(north_case)] == ["SWEMWBS"]


def test_the_api_sends_a_licensed_measure_only_for_the_services_cases(client, admin, people):
    _added(admin, people["north"])
    north_case, south_case = _case(people["tia"]), _case(people["sol"])
    body = {"measures": ["SWEMWBS"], "timepoint": "post"}
    made = Api(client, issue_token(people["tia"])).post(f"/api/v1/cases/{north_case.code}/invitations", json=body)
    assert made.status_code == 201, made.get_json()
    refused = Api(client, issue_token(people["sol"])).post(f"/api/v1/cases/{south_case.code}/invitations", json=body)
    assert refused.status_code == 422
    errors = {error["field"]: error["message"] for error in refused.get_json()["errors"]}
    assert "SWEMWBS cannot be sent to the client" in errors["measures"]


def _epds_form(stem: str = STEM) -> dict:
    measure = get_measure("EPDS")
    texts = {number: f"EPDS question {number} in words" for number in measure.item_numbers}
    answers = {
        wording.answer_field(number, position): f"Question {number}, answer {position + 1} in words"
        for number in measure.item_numbers
        for position in wording.printed_positions(measure, number)
    }
    return _form(texts, stem=stem, **answers)


def test_the_services_practitioners_read_the_wording_during_live_entry(admin, sign_in, people):
    _added(admin, people["north"])
    north_case, south_case = _case(people["tia"]), _case(people["sol"])
    page = sign_in("tia@example.org").get(f"/cases/{north_case.code}/measures/SWEMWBS/pre").text
    assert SWEMWBS["1"] in page and "Item 1" not in page and REFERENCE in page
    elsewhere = sign_in("sol@example.org").get(f"/cases/{south_case.code}/measures/SWEMWBS/pre").text
    assert SWEMWBS["1"] not in elsewhere and "Item 1" in elsewhere and "does not allow its wording" in elsewhere
