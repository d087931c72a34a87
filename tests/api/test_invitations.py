"""Links for the client to answer on their phone, through the API: made, listed and revoked by the same
rules as the pages; the link is returned once and never again."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.api.conftest import Api, issue_token
from tests.factories import load_pathways, make_case, make_enrolment, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case, CaseStatus
from vigtrain.casework.services import Consents, close_case
from vigtrain.dcs.models import MeasureInvitation, Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db

START = date(2026, 1, 5)
URL = re.compile(r"^http://localhost/respond/([A-Za-z0-9_-]{43})$")
INVITATION = {"measures": ["GAD-7", "PHQ-9"], "timepoint": "post"}


@pytest.fixture
def practitioner(app, clock):
    service = make_service("Riverside Family Service", region_code="E12000007")
    return make_user("pat@example.org", roles=(Role.PRACTITIONER,), name="Pat Practitioner", service_id=service.id)


@pytest.fixture
def pat(client, practitioner) -> Api:
    return Api(client, issue_token(practitioner))


def _case(practitioner, dcs: bool = True) -> Case:
    consents = Consents(filming=START, supervision=START, dcs=START if dcs else None)
    created = make_case(practitioner, started_on=START, consents=consents)
    db.session.commit()
    return created


@pytest.fixture
def case(practitioner) -> Case:
    return _case(practitioner)


def _path(case: Case, suffix: str = "") -> str:
    return f"/api/v1/cases/{case.code}/invitations{suffix}"


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(MeasureInvitation))


def _field_errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return {error["field"]: error["message"] for error in response.get_json()["errors"]}


def test_a_new_link_is_returned_once_with_its_expiry(pat, case):
    response = pat.post(_path(case), json=INVITATION)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {
        "id",
        "url",
        "expires_at",
        "measures",
        "timepoint",
        "status",
        "created_at",
        "used_at",
        "revoked_at",
    }
    assert body["measures"] == ["PHQ-9", "GAD-7"] and body["timepoint"] == "post" and body["status"] == "pending"
    assert body["expires_at"] == "2026-03-17T00:00:00Z"  # the end of 16 March, UK time (GMT)
    assert body["used_at"] is None and body["revoked_at"] is None
    token = URL.match(body["url"]).group(1)
    invitation = db.session.get(MeasureInvitation, body["id"])
    assert invitation.token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert invitation.case_id == case.id and invitation.timepoint is Timepoint.POST
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "measure_invitation.created"))
    assert event.actor_id == case.practitioner_id
    # The link works for the client.
    assert pat.client.application.test_client().get(f"/respond/{token}").status_code == 200


def test_the_list_never_shows_the_link_again(pat, case):
    made = pat.post(_path(case), json=INVITATION).get_json()
    pat.post(_path(case), json={"measures": ["VIG-SCALING"], "timepoint": "mid"})
    response = pat.get(_path(case))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2 and [item["measures"] for item in body["items"]] == [["VIG-SCALING"], ["PHQ-9", "GAD-7"]]
    assert all("url" not in item for item in body["items"])
    assert URL.match(made["url"]).group(1) not in response.get_data(as_text=True)
    assert "Link" in response.headers


def test_a_link_is_revoked_once(pat, case):
    made = pat.post(_path(case), json=INVITATION).get_json()
    token = URL.match(made["url"]).group(1)
    response = pat.delete(_path(case, f"/{made['id']}"))
    assert response.status_code == 204 and response.get_data() == b""
    listed = pat.get(_path(case)).get_json()["items"][0]
    assert listed["status"] == "revoked" and listed["revoked_at"] is not None
    again = pat.delete(_path(case, f"/{made['id']}"))
    assert again.status_code == 409 and "already been revoked" in again.get_json()["detail"]
    assert pat.client.application.test_client().get(f"/respond/{token}").status_code == 410


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"measures": ["EPDS"], "timepoint": "post"}, "measures", "its licence does not allow its wording"),
        ({"measures": ["PHQ-9", "PHQ-9"], "timepoint": "post"}, "measures", "PHQ-9 is listed more than once"),
        ({"measures": ["PHQ-9"], "timepoint": "pre"}, "measures", "PHQ-9 has already been recorded at pre"),
        ({"measures": [], "timepoint": "post"}, "measures", "at least 1 item"),
        ({"measures": ["SDQ"], "timepoint": "post"}, "measures.0", "PHQ-9"),
        ({"measures": ["PHQ-9"], "timepoint": "later"}, "timepoint", "pre"),
        ({"measures": ["PHQ-9"]}, "timepoint", "required"),
        ({"measures": ["PHQ-9"], "timepoint": "post", "url": "mine"}, "url", "not permitted"),
    ],
)
def test_refusals_are_422_problems_naming_the_field(pat, case, body, field, message):
    record_administration(
        case.practitioner,
        case,
        "PHQ-9",
        Timepoint.PRE,
        date(2026, 1, 6),
        dict.fromkeys("123456789", 0),
        date(2026, 3, 2),
    )
    db.session.commit()
    errors = _field_errors(pat.post(_path(case), json=body))
    assert field in errors and message in errors[field]
    assert _count() == 0


@pytest.mark.parametrize("closed", [True, False])
def test_a_closed_case_or_one_without_dcs_consent_is_a_409(pat, practitioner, closed):
    case = _case(practitioner, dcs=closed)
    if closed:
        close_case(practitioner, case, CaseStatus.COMPLETED, date(2026, 3, 1), None, None, date(2026, 3, 2))
        db.session.commit()
    response = pat.post(_path(case), json=INVITATION)
    assert response.status_code == 409
    assert ("case is closed" if closed else "not consented to the Data Collection System") in response.get_json()[
        "detail"
    ]
    assert _count() == 0


def test_other_peoples_cases_are_not_found_and_a_supervisor_may_only_read(client, pat, practitioner, case):
    made = pat.post(_path(case), json=INVITATION).get_json()
    stranger = Api(client, issue_token(make_user("sam@example.org", roles=(Role.PRACTITIONER,))))
    assert stranger.post(_path(case), json=INVITATION).status_code == 404
    assert stranger.get(_path(case)).status_code == 404
    assert stranger.delete(_path(case, f"/{made['id']}")).status_code == 404
    load_pathways()
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,))
    practitioner.set_roles({Role.PRACTITIONER, Role.TRAINEE})
    make_enrolment(practitioner, supervisor, start=date(2025, 11, 1))
    sue = Api(client, issue_token(supervisor))
    assert sue.get(_path(case)).status_code == 200
    assert sue.post(_path(case), json=INVITATION).status_code == 403
    assert sue.delete(_path(case, f"/{made['id']}")).status_code == 403
    assert _count() == 1 and db.session.get(MeasureInvitation, made["id"]).revoked_at is None


def test_a_link_of_another_case_is_not_found_under_this_one(pat, practitioner, case):
    other = _case(practitioner)
    made = pat.post(_path(other), json=INVITATION).get_json()
    assert pat.delete(_path(case, f"/{made['id']}")).status_code == 404
    assert pat.delete(_path(case, "/999999")).status_code == 404
    assert db.session.get(MeasureInvitation, made["id"]).revoked_at is None


def test_writes_need_the_write_scope(client, practitioner, case):
    reader = Api(client, issue_token(practitioner, "cases:read"))
    assert reader.get(_path(case)).status_code == 200
    assert reader.post(_path(case), json=INVITATION).status_code == 403
    assert _count() == 0
