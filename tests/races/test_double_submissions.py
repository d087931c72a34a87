"""The same change sent twice at the same moment (a double click, two tabs, two administrators):
exactly one row, one audit event and one email; the other request is answered with the first's
outcome, a clear refusal or 409, never a 500."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.api.conftest import issue_token
from tests.certificate_factories import make_certificate
from tests.factories import load_pathways, make_case, make_enrolment, make_user
from tests.races.helpers import at_once, audit_count, row_count
from vigtrain.accounts.models import Role
from vigtrain.casework.models import Case, Cycle
from vigtrain.casework.services import Consents
from vigtrain.certificates.models import CertificateStatus
from vigtrain.dcs.models import Administration
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.pathways.models import Enrolment
from vigtrain.supervision.models import SupervisionSession

START = date(2026, 1, 5)
SESSION = {"session_date": ["10", "2", "2026"], "duration": "60", "format": "individual", "mode": "in_person"}


@pytest.fixture
def world(app, clock):
    load_pathways()
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    make_user("abe@example.org", roles=(Role.ADMINISTRATOR,), name="Abe Admin")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee")
    enrolment = make_enrolment(trainee, supervisor, start=START, actor=admin)
    case = make_case(trainee, started_on=START, consents=Consents(filming=START, supervision=START, dcs=START))
    db.session.commit()
    return {"admin": admin, "supervisor": supervisor, "trainee": trainee, "enrolment": enrolment, "case": case}


def _clients(app, email: str, count: int = 2) -> list:
    clients = [app.test_client() for _ in range(count)]
    for client in clients:
        client.login(email)
    return clients


def _double(client, url: str, data: dict, copies: int = 2) -> list:
    """One page's form sent `copies` times at once, with the same hidden fields, as a double click does."""
    form = {**client.hidden_fields(url), **data}
    return at_once([lambda: client.post(url, data=form) for _ in range(copies)])


def _statuses(answers) -> list[int]:
    return sorted(answer.status_code for answer in answers)


def test_a_supervision_session_sent_twice_at_once_is_logged_once(app, world):
    (client,) = _clients(app, "tia@example.org", 1)
    answers = _double(client, "/supervision/new", {**SESSION, "supervisor": str(world["supervisor"].id)}, 3)
    assert _statuses(answers) == [302, 302, 302]
    assert row_count(SupervisionSession) == 1
    (session_id,) = db.session.scalars(select(SupervisionSession.id))
    # Every answer leads to the one session saved, the repeats included.
    assert {answer.headers["Location"] for answer in answers} == {f"/supervision/{session_id}"}
    assert audit_count("supervision.logged") == 1


def test_the_same_session_from_two_tabs_at_once_is_logged_once(app, world):
    clients = _clients(app, "tia@example.org", 2)
    data = {**SESSION, "supervisor": str(world["supervisor"].id)}
    forms = [{**client.hidden_fields("/supervision/new"), **data} for client in clients]
    answers = at_once(
        [lambda c=c, f=f: c.post("/supervision/new", data=f) for c, f in zip(clients, forms, strict=True)]
    )
    assert _statuses(answers) == [302, 422]
    refused = next(answer for answer in answers if answer.status_code == 422).get_data(as_text=True)
    assert "This session is already in Tia Trainee&#39;s log" in refused or "already in Tia Trainee's log" in refused
    assert row_count(SupervisionSession) == 1


def test_a_repeat_long_after_is_answered_with_the_first_outcome(app, world):
    (client,) = _clients(app, "tia@example.org", 1)
    form = {**client.hidden_fields("/supervision/new"), **SESSION, "supervisor": str(world["supervisor"].id)}
    first = client.post("/supervision/new", data=form)
    again = client.post("/supervision/new", data=form, follow_redirects=True)
    assert first.status_code == 302 and again.status_code == 200
    assert "This was already saved, so it was not saved again." in again.get_data(as_text=True)
    assert row_count(SupervisionSession) == 1


def test_a_creating_form_without_its_key_is_refused(app, world):
    (client,) = _clients(app, "tia@example.org", 1)
    form = {**client.hidden_fields("/supervision/new"), **SESSION, "supervisor": str(world["supervisor"].id)}
    del form["submission_key"]
    response = client.post("/supervision/new", data=form)
    assert response.status_code == 422
    assert "This page is out of date. Reload it and try again" in response.get_data(as_text=True)
    assert row_count(SupervisionSession) == 0


def test_a_case_and_a_cycle_sent_twice_at_once_are_added_once(app, world):
    (client,) = _clients(app, "tia@example.org", 1)
    before = row_count(Case)
    case_form = {
        "relationship_type": "parent_child",
        "child_age_band": "3-4y",
        "population": "early_years",
        "region": str(world["case"].region_id),
        "started_on": ["6", "1", "2026"],
        "consent_filming": "yes",
        "consent_supervision": "yes",
        "consent_dcs": "no",
        "consented_on": ["6", "1", "2026"],
    }
    answers = _double(client, "/cases/new", case_form)
    assert _statuses(answers) == [302, 302]
    assert len({answer.headers["Location"] for answer in answers}) == 1
    assert row_count(Case) == before + 1
    code = world["case"].code
    cycle = {"filmed_on": ["10", "2", "2026"], "shared_review_on": ["17", "2", "2026"], "clips_count": "3"}
    assert _statuses(_double(client, f"/cases/{code}/cycles/new", cycle)) == [302, 302]
    assert row_count(Cycle) == 1
    assert audit_count("cycle.added") == 1


def test_a_double_click_deletes_a_cycle_once(app, world):
    (client,) = _clients(app, "tia@example.org", 1)
    code = world["case"].code
    client.submit(
        f"/cases/{code}/cycles/new",
        {"filmed_on": ["10", "2", "2026"], "shared_review_on": ["17", "2", "2026"], "clips_count": "3"},
    )
    cycle_id = db.session.scalar(select(Cycle.id))
    answers = _double(client, f"/cases/{code}/cycles/{cycle_id}/delete", {})
    assert _statuses(answers) in ([302, 409], [302, 404])
    assert row_count(Cycle) == 0
    assert audit_count("cycle.deleted") == 1


def test_a_double_click_reopens_a_case_once(app, world):
    from vigtrain.casework.models import CaseStatus
    from vigtrain.casework.services import close_case

    case = world["case"]
    close_case(world["trainee"], case, CaseStatus.COMPLETED, date(2026, 2, 20), None, None, date(2026, 3, 2))
    db.session.commit()
    (client,) = _clients(app, "tia@example.org", 1)
    token = client.csrf_token(f"/cases/{case.code}")
    answers = at_once([lambda: client.post(f"/cases/{case.code}/reopen", data={"csrf_token": token}) for _ in range(2)])
    assert all(answer.status_code < 500 for answer in answers)
    assert audit_count("case.reopened") == 1


PHQ9 = {f"item_{n}": "1" for n in range(1, 10)} | {"administered_on": ["6", "1", "2026"]}


def test_a_measure_saved_three_times_at_once_saves_once_and_never_fails(app, world):
    (client,) = _clients(app, "tia@example.org", 1)
    code = world["case"].code
    url = f"/cases/{code}/measures/PHQ-9/pre"
    clients = [client, *_clients(app, "tia@example.org", 2)]
    forms = [{**c.hidden_fields(url), **PHQ9} for c in clients]
    answers = at_once([lambda c=c, f=f: c.post(url, data=f) for c, f in zip(clients, forms, strict=True)])
    assert all(answer.status_code in (302, 409, 422) for answer in answers), _statuses(answers)
    assert _statuses(answers).count(302) >= 1
    assert row_count(Administration) == 1
    assert audit_count("administration.recorded") == 1


def test_a_measure_sent_three_times_at_once_through_the_api_saves_once(app, world):
    token = issue_token(world["trainee"])
    code = world["case"].code
    body = {"measure": "GAD-7", "timepoint": "pre", "date": "2026-01-06", "responses": {str(n): 1 for n in range(1, 8)}}
    clients = [app.test_client() for _ in range(3)]
    answers = at_once(
        [
            lambda c=c: c.post(
                f"/api/v1/cases/{code}/administrations", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            for c in clients
        ]
    )
    assert all(answer.status_code in (201, 409, 422) for answer in answers), _statuses(answers)
    assert row_count(Administration) == 1


def test_a_double_click_deletes_a_measure_once(app, world):
    (client,) = _clients(app, "tia@example.org", 1)
    code = world["case"].code
    client.submit(f"/cases/{code}/measures/PHQ-9/pre", PHQ9)
    administration_id = db.session.scalar(select(Administration.id))
    answers = _double(client, f"/cases/{code}/measures/{administration_id}/delete", {})
    assert _statuses(answers) in ([302, 409], [302, 404])
    assert row_count(Administration) == 0
    assert audit_count("administration.deleted") == 1


def test_two_administrators_enrolling_one_trainee_at_once_enrol_once(app, world):
    trainee = make_user("tom@example.org", roles=(Role.TRAINEE,), name="Tom Trainee")
    first, second = _clients(app, "ada@example.org", 1)[0], _clients(app, "abe@example.org", 1)[0]
    version_id = world["enrolment"].pathway_version_id
    data = {
        "trainee": str(trainee.id),
        "pathway": str(version_id),
        "supervisor": str(world["supervisor"].id),
        "start_date": ["5", "1", "2026"],
    }
    forms = [{**c.hidden_fields("/enrolments/new"), **data} for c in (first, second)]
    answers = at_once(
        [lambda c=c, f=f: c.post("/enrolments/new", data=f) for c, f in ((first, forms[0]), (second, forms[1]))]
    )
    assert _statuses(answers) == [302, 422]
    refused = next(answer for answer in answers if answer.status_code == 422).get_data(as_text=True)
    assert "Tom Trainee is already enrolled on" in refused
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.trainee_id == trainee.id)) == 1


def test_two_administrators_revoking_one_certificate_at_once_revoke_once(app, world):
    certificate = make_certificate(world["admin"])
    db.session.commit()
    url = f"/admin/certificates/{certificate.number}/revoke"
    first, second = _clients(app, "ada@example.org", 1)[0], _clients(app, "abe@example.org", 1)[0]
    emails = row_count(OutboxMessage)
    forms = [
        {**first.hidden_fields(url), "reason": "Accreditation withdrawn after a conduct hearing"},
        {**second.hidden_fields(url), "reason": "Certificate issued in error to the wrong person"},
    ]
    answers = at_once([lambda: first.post(url, data=forms[0]), lambda: second.post(url, data=forms[1])])
    assert all(answer.status_code < 500 for answer in answers), _statuses(answers)
    assert _statuses(answers).count(302) == 1
    assert audit_count("certificate.revoked") == 1
    assert row_count(OutboxMessage) == emails + 1
    db.session.refresh(certificate)
    assert certificate.status is CertificateStatus.REVOKED
    loser = next(answer for answer in answers if answer.status_code != 302).get_data(as_text=True)
    assert "cannot be revoked" in loser  # and the loser is told why, so no reason is silently lost
