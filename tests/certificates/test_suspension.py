"""Suspending a certificate: the rules, the pages, both published status lists, what verifiers and the
holder are shown, and the daily job that lifts a suspension on its end date."""

from __future__ import annotations

import base64
import json
import re
from datetime import date
from html import unescape

import jwt
import pytest
from sqlalchemy import func, select

from tests.certificate_factories import make_certificate, make_holder
from tests.factories import make_admin, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.certificates import badges, services
from vigtrain.certificates.models import CertificateStatus
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.jobs import services as jobs
from vigtrain.jobs.registry import BY_NAME
from vigtrain.notifications.models import OutboxMessage

# The clock fixture's day; certificates are issued on it and valid until 1 March 2029.
TODAY = date(2026, 3, 2)
UNTIL = date(2026, 6, 1)
REASON = "Suspended while a complaint about practice is investigated."
NOTE = "The investigation closed with no further action."


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def told(holder) -> list[str]:
    """The subjects of the emails queued for the holder, oldest first."""
    return list(
        db.session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.to_address == holder.email).order_by(OutboxMessage.id)
        )
    )


def text(response) -> str:
    """The page's visible words, tags removed and spaces collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def admin(app, clock):
    return make_admin()


@pytest.fixture
def holder(app):
    return make_user("hana@example.org", roles=(Role.TRAINEE, Role.PRACTITIONER), name="Hana Holder")


@pytest.fixture
def certificate(admin, holder):
    return make_certificate(admin, holder)


def suspend(admin, certificate, until: date | None = UNTIL, reason: str = REASON, on: date = TODAY) -> None:
    services.suspend_certificate(admin, certificate, reason, until, on)
    db.session.commit()


# --- the rules ------------------------------------------------------------------------------------


def test_suspend_then_reinstate_each_audited_and_told(admin, holder, certificate):
    suspend(admin, certificate)
    assert certificate.status is CertificateStatus.SUSPENDED
    assert (certificate.suspension_reason, certificate.suspended_until) == (REASON, UNTIL)
    assert certificate.suspended_by_id == admin.id and certificate.suspended_at is not None
    (event,) = events("certificate.suspended")
    assert event.actor_id == admin.id
    assert event.before == {
        "status": "valid",
        "suspension_reason": None,
        "suspended_until": None,
        "suspended_by_id": None,
    }
    assert event.after["status"] == "suspended" and event.after["suspended_until"] == "2026-06-01"
    assert told(holder)[-1] == f"Your certificate {certificate.number} has been suspended"

    services.reinstate_certificate(admin, certificate, f"  {NOTE}  ", TODAY)
    db.session.commit()
    assert certificate.status is CertificateStatus.VALID
    assert certificate.suspension_reason is None and certificate.suspended_until is None
    assert certificate.suspended_at is None and certificate.suspended_by_id is None
    (event,) = events("certificate.reinstated")
    assert event.before["status"] == "suspended" and event.after == {
        "status": "valid",
        "suspension_reason": None,
        "suspended_until": None,
        "suspended_by_id": None,
        "note": NOTE,
    }
    assert told(holder)[-1] == f"Your certificate {certificate.number} has been reinstated"


def test_each_suspension_is_told_even_when_a_certificate_is_suspended_twice(admin, holder, certificate, clock):
    suspend(admin, certificate, until=None)
    services.reinstate_certificate(admin, certificate, NOTE, TODAY)
    db.session.commit()
    clock.tick(60)
    suspend(admin, certificate, until=None)
    subjects = told(holder)
    assert subjects.count(f"Your certificate {certificate.number} has been suspended") == 2


@pytest.mark.parametrize(
    ("reason", "until", "field", "message"),
    [
        ("too short", UNTIL, "reason", r"Give the reason for suspending \(verifiers will see it\) in at least 10"),
        ("x" * 1001, UNTIL, "reason", "1000 characters or fewer"),
        ("Complaint from parent jane.doe@example.com upheld", UNTIL, "reason", "email address"),
        (REASON, TODAY, "suspended_until", "The date the suspension ends must be in the future"),
        (REASON, date(2026, 3, 1), "suspended_until", "must be in the future"),
        (REASON, date(2028, 3, 3), "suspended_until", "must be within 2 years, on or before 2 March 2028"),
    ],
)
def test_a_bad_suspension_is_refused_beside_its_field_and_changes_nothing(
    admin, certificate, reason, until, field, message
):
    with pytest.raises(DomainError, match=message) as refused:
        services.suspend_certificate(admin, certificate, reason, until, TODAY)
    assert refused.value.field == field
    db.session.rollback()
    assert certificate.status is CertificateStatus.VALID and certificate.suspension_reason is None
    assert events("certificate.suspended") == []


def test_the_end_date_may_be_tomorrow_or_two_years_ahead(admin, holder):
    for until in (date(2026, 3, 3), date(2028, 3, 2)):
        certificate = make_certificate(admin, holder)
        suspend(admin, certificate, until=until)
        assert certificate.suspended_until == until


def test_only_a_valid_certificate_is_suspended_and_only_by_another_administrator(admin, holder, certificate):
    with pytest.raises(PermissionDenied):
        services.suspend_certificate(holder, certificate, REASON, UNTIL, TODAY)
    own = make_user("self@example.org", roles=(Role.ADMINISTRATOR, Role.PRACTITIONER, Role.TRAINEE))
    with pytest.raises(PermissionDenied):
        services.suspend_certificate(own, make_certificate(admin, own), REASON, UNTIL, TODAY)
    db.session.rollback()
    suspend(admin, certificate)
    with pytest.raises(DomainError, match="Only a valid certificate can be suspended; this one is suspended"):
        services.suspend_certificate(admin, certificate, REASON, UNTIL, TODAY)
    db.session.rollback()
    # Expired by its date, before the nightly job has marked it.
    with pytest.raises(DomainError, match="this one is expired"):
        services.suspend_certificate(admin, make_certificate(admin, holder), REASON, None, date(2029, 3, 2))
    db.session.rollback()
    with pytest.raises(DomainError, match="Only a suspended certificate can be reinstated; this one is valid"):
        services.reinstate_certificate(admin, make_certificate(admin, holder), NOTE, TODAY)
    db.session.rollback()
    with pytest.raises(DomainError, match="note on why it is reinstated in at least 10") as refused:
        services.reinstate_certificate(admin, certificate, "ok", TODAY)
    assert refused.value.field == "note"


def test_a_suspended_certificate_is_not_renewed_or_reissued_but_can_be_revoked(admin, holder, certificate):
    suspend(admin, certificate, until=None)
    late = date(2029, 1, 15)  # inside the renewal window
    assert services.renewal_problem(certificate, late) == "A suspended certificate cannot be renewed"
    assert not services.renewable(certificate, late)
    with pytest.raises(DomainError, match="A suspended certificate cannot be renewed"):
        services.renew_certificate(admin, certificate, late, "Supervision log checked")
    db.session.rollback()
    holder.display_name = "Hana Newname"
    db.session.commit()
    with pytest.raises(DomainError, match="Only a valid certificate can be reissued; this one is suspended"):
        services.reissue_for_name_change(admin, certificate, TODAY)
    db.session.rollback()

    services.revoke_certificate(admin, certificate, "Accreditation withdrawn after a conduct hearing")
    db.session.commit()
    assert certificate.status is CertificateStatus.REVOKED and certificate.suspension_reason is None
    (event,) = events("certificate.revoked")
    assert event.before["status"] == "suspended" and event.before["suspension_reason"] == REASON
    assert event.after["suspension_reason"] is None


def test_once_its_end_date_has_come_a_suspended_certificate_can_be_reissued(admin, holder, certificate):
    suspend(admin, certificate)
    holder.display_name = "Hana Newname"
    db.session.commit()
    new = services.reissue_for_name_change(admin, certificate, UNTIL)  # before the daily job has run
    db.session.commit()
    assert new.status is CertificateStatus.VALID and certificate.status is CertificateStatus.SUPERSEDED
    assert certificate.suspension_reason is None and certificate.suspended_until is None
    assert services.lift_ended_suspensions(UNTIL) == 0


def test_a_suspension_outranks_expiry_and_reads_as_lifted_on_its_end_date(admin, certificate):
    suspend(admin, certificate)
    assert certificate.effective_status(date(2026, 5, 31)) is CertificateStatus.SUSPENDED
    assert certificate.effective_status(UNTIL) is CertificateStatus.VALID  # before the job has run
    open_ended = make_certificate(admin)
    suspend(admin, open_ended, until=None)
    assert open_ended.effective_status(date(2030, 1, 1)) is CertificateStatus.SUSPENDED
    certificate.suspended_until = date(2029, 6, 1)  # ends after the certificate itself has
    assert certificate.effective_status(date(2029, 6, 1)) is CertificateStatus.EXPIRED


# --- the daily job --------------------------------------------------------------------------------


def test_the_job_lifts_suspensions_on_their_end_date_as_the_system(admin, holder, certificate):
    open_ended = make_certificate(admin, holder)
    suspend(admin, certificate)
    suspend(admin, open_ended, until=None)
    job = BY_NAME["lift-ended-suspensions"]
    early = jobs.run_job(job, date(2026, 5, 31), "test")
    assert early.succeeded and early.run.result == 0
    assert certificate.status is CertificateStatus.SUSPENDED

    report = jobs.run_job(job, UNTIL, "test")
    assert report.succeeded and report.run.result == 1
    db.session.expire_all()
    assert certificate.status is CertificateStatus.VALID and certificate.suspended_until is None
    assert open_ended.status is CertificateStatus.SUSPENDED
    (event,) = events("certificate.suspension_lifted")
    assert event.actor_id is None and event.actor_label == "system"
    assert event.before["suspended_until"] == "2026-06-01" and event.after["status"] == "valid"
    assert told(holder)[-1] == f"The suspension of your certificate {certificate.number} has ended"
    assert services.lift_ended_suspensions(date(2026, 6, 2)) == 0  # nothing left to lift


def test_a_suspension_that_ends_after_the_certificate_lifts_it_as_expired(admin, certificate):
    suspend(admin, certificate, until=date(2027, 3, 1))
    certificate.valid_until = date(2027, 1, 31)
    db.session.commit()
    assert services.lift_ended_suspensions(date(2027, 3, 1)) == 1
    db.session.commit()
    assert certificate.status is CertificateStatus.EXPIRED


# --- both status lists ----------------------------------------------------------------------------


def published_list(client, purpose: str) -> tuple[dict, bytes]:
    """The signed list at /status/<purpose>, checked with the published key: its credential and bits."""
    response = client.get(f"/status/{purpose}")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    token = response.get_data(as_text=True)
    key_set = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").get_json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(each for each in key_set.keys if each.key_id == kid).key
    data = jwt.decode(token, key, algorithms=["EdDSA"])
    return data, badges.decode_status_list(data["credentialSubject"]["encodedList"])


def test_each_list_sets_the_bits_of_its_own_purpose(client, admin, holder, certificate, clock):
    revoked, kept, ended = (make_certificate(admin, holder) for _ in range(3))
    services.revoke_certificate(admin, revoked, "Accreditation withdrawn after a conduct hearing")
    suspend(admin, certificate)
    suspend(admin, ended, until=date(2026, 3, 3))
    clock.move_to("2026-03-03 10:00:00")  # `ended` reads as lifted, though the job has not run

    revocation, revoked_bits = published_list(client, "revocation")
    suspension, suspended_bits = published_list(client, "suspension")
    assert revocation["credentialSubject"]["statusPurpose"] == "revocation"
    assert suspension["id"] == "http://localhost/status/suspension"
    assert suspension["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert suspension["credentialSubject"]["statusPurpose"] == "suspension"
    assert suspension["credentialSubject"]["id"] == "http://localhost/status/suspension#list"
    for each, revoked_bit, suspended_bit in (
        (revoked, True, False),
        (certificate, False, True),
        (ended, False, False),
        (kept, False, False),
    ):
        assert badges.is_set(revoked_bits, each.status_index) is revoked_bit
        assert badges.is_set(suspended_bits, each.status_index) is suspended_bit


def test_the_suspension_list_uses_the_place_the_credential_names(app, client, admin, certificate):
    with app.test_request_context():
        token = badges.credential_jwt(certificate)
    entry = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["credentialStatus"]
    # Open Badges 3.0 allows one status entry: the revocation list's; the suspension list shares its place.
    assert entry["statusPurpose"] == "revocation" and entry["statusListIndex"] == str(certificate.status_index)
    facts = client.get(f"/verify/{certificate.number}.json").get_json()["credential_status"]
    assert facts == {
        "status_list": entry["statusListCredential"],
        "suspension_list": "http://localhost/status/suspension",
        "index": certificate.status_index,
    }
    suspend(admin, certificate)
    _, revoked_bits = published_list(client, "revocation")
    _, suspended_bits = published_list(client, "suspension")
    index = int(entry["statusListIndex"])
    assert badges.is_set(suspended_bits, index) and not badges.is_set(revoked_bits, index)


# --- what verifiers and the holder see ------------------------------------------------------------


def test_verifiers_see_suspended_with_the_reason_and_until_when(app, client, admin, certificate):
    with app.test_request_context():
        token = badges.credential_jwt(certificate)
    suspend(admin, certificate)
    page = text(client.get(f"/verify/{certificate.number}"))
    assert "AVIGuk has suspended this certificate. It is not valid until 1 June 2026." in page
    assert "Suspended" in page and f"Reason: {REASON}" in page and "Suspended until 1 June 2026" in page

    facts = client.get(f"/verify/{certificate.number}.json").get_json()
    assert facts["status"] == "suspended" and facts["status_label"] == "Suspended"
    assert facts["suspension_reason"] == REASON and facts["suspended_until"] == "2026-06-01"
    assert facts["credential_status"]["suspension_list"] == "http://localhost/status/suspension"
    api = client.get(f"/api/v1/certificates/{certificate.number}")
    assert api.status_code == 200
    assert {key: api.get_json()[key] for key in ("status", "suspension_reason", "suspended_until")} == {
        "status": "suspended",
        "suspension_reason": REASON,
        "suspended_until": "2026-06-01",
    }

    checked = text(client.submit("/verify/credential", {"credential": token}))
    assert "This credential is genuine, but the certificate is now suspended." in checked
    assert REASON in checked and "not valid until 1 June 2026" in checked


def test_an_open_ended_suspension_says_until_reinstated(client, admin, certificate):
    suspend(admin, certificate, until=None)
    page = text(client.get(f"/verify/{certificate.number}"))
    assert "It is not valid until AVIGuk reinstates it." in page
    assert client.get(f"/verify/{certificate.number}.json").get_json()["suspended_until"] is None


def test_the_register_leaves_out_a_suspended_certificate_until_its_end_date(client, admin, clock):
    listed = make_holder("Lola Listed", listed=True, email="lola@example.org", roles=(Role.TRAINEE, Role.PRACTITIONER))
    certificate = make_certificate(admin, listed)
    assert "Lola Listed" in text(client.get("/register"))
    suspend(admin, certificate)
    assert "Lola Listed" not in text(client.get("/register"))
    clock.move_to("2026-06-01 10:00:00")  # the end date: listed again before the job has run
    assert "Lola Listed" in text(client.get("/register"))


def test_the_holder_sees_the_suspension_among_their_certificates(client, admin, holder, certificate):
    suspend(admin, certificate)
    client.login(holder.email)
    page = text(client.get("/certificates"))
    assert "Suspended" in page and REASON in page
    assert "Suspended until 1 June 2026. It is valid again from that day." in page


# --- the pages ------------------------------------------------------------------------------------


def test_suspend_through_the_page(client, admin, certificate):
    client.login(admin.email)
    url = f"/admin/certificates/{certificate.number}/suspend"
    assert "on or before 2 March 2028" in text(client.get(url))
    for data, message in (
        ({"reason": "too short"}, "at least 10 characters"),
        (
            {"reason": REASON, "suspended_until": ["31", "2", "2027"]},
            "The date the suspension ends must be a real date",
        ),
        ({"reason": REASON, "suspended_until": ["1", "", "2027"]}, "must include a month"),
        ({"reason": REASON, "suspended_until": ["1", "3", "2026"]}, "must be in the future"),
        ({"reason": REASON, "suspended_until": ["1", "3", "2099"]}, "must be within 2 years"),
    ):
        response = client.submit(url, data)
        assert response.status_code == 422, data
        html = response.get_data(as_text=True)
        assert "govuk-error-summary" in html and message in unescape(html)
        field = "suspended_until-date" if "suspended_until" in data else "reason"
        assert f'id="{field}-error"' in html, data  # the message sits beside its field
    both = client.submit(url, {"reason": "x" * 1001, "suspended_until": ["1", "3", "2026"]})
    html = unescape(both.get_data(as_text=True))
    assert both.status_code == 422 and 'id="reason-error"' in html and 'id="suspended_until-date-error"' in html
    assert "must be 1000 characters or fewer" in html and "must be in the future" in html  # every mistake at once
    db.session.expire_all()
    assert certificate.status is CertificateStatus.VALID and events("certificate.suspended") == []

    response = client.submit(url, {"reason": REASON, "suspended_until": ["1", "6", "2026"]})
    assert response.status_code == 302 and response.headers["Location"].endswith(certificate.number)
    db.session.expire_all()
    assert certificate.status is CertificateStatus.SUSPENDED and certificate.suspended_until == UNTIL
    page = text(client.get(f"/admin/certificates/{certificate.number}"))
    assert f"Reason for suspending {REASON}" in page and "Suspended until 1 June 2026" in page
    assert "by Ada Admin" in page and "Reinstate" in page and "Revoke" in page
    html = client.get(f"/admin/certificates/{certificate.number}").get_data(as_text=True)
    assert "/suspend" not in html and "/renew" not in html
    assert "Only a valid certificate can be suspended" in text(client.get(url))


def test_reinstate_through_the_page(client, admin, certificate):
    client.login(admin.email)
    url = f"/admin/certificates/{certificate.number}/reinstate"
    assert "This certificate is not suspended" in text(client.get(url))
    response = client.submit(url, {"note": NOTE})
    assert response.status_code == 422 and "Only a suspended certificate can be reinstated" in text(response)
    suspend(admin, certificate)
    assert REASON in text(client.get(url))
    response = client.submit(url, {"note": "ok"})
    assert response.status_code == 422 and 'id="note-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert certificate.status is CertificateStatus.SUSPENDED
    response = client.submit(url, {"note": NOTE})
    assert response.status_code == 302
    db.session.expire_all()
    assert certificate.status is CertificateStatus.VALID
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "certificate.reinstated")
        )
        == 1
    )


def test_administrators_cannot_suspend_their_own_certificate(client, admin):
    own = make_user("self@example.org", roles=(Role.ADMINISTRATOR, Role.PRACTITIONER, Role.TRAINEE))
    certificate = make_certificate(admin, own)
    client.login(own.email)
    for action in ("suspend", "reinstate"):
        assert client.get(f"/admin/certificates/{certificate.number}/{action}").status_code == 403


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("²", "3", "2027", "must be a real date"),  # a superscript passes str.isdigit but is no number
        ("1", "3", "9" * 30, "The year must include 4 numbers"),
        ("1e3", "3", "2027", "must be a real date, in numbers"),
        ("0", "0", "2027", "must be a real date"),
    ],
)
def test_a_crafted_end_date_is_refused_beside_the_field(client, admin, certificate, day, month, year, message):
    client.login(admin.email)
    url = f"/admin/certificates/{certificate.number}/suspend"
    response = client.submit(url, {"reason": REASON, "suspended_until": [day, month, year]})
    assert response.status_code == 422 and message in text(response)
    assert 'id="suspended_until-date-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert certificate.status is CertificateStatus.VALID
