"""Renewal by the numbers: how far a holder is (renewal_progress), the holder asking AVIGuk to renew
(refused early, unmet, twice, or by anyone else), administrators told, finding and renewing what was
asked for, renewal refused while the rule is not met, and certificate news as notifications."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.certificate_factories import make_accredited, make_supervisor
from tests.factories import make_admin, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.certificates import services
from vigtrain.certificates.models import Certificate, CertificateStatus
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.notifications import inbox
from vigtrain.notifications.inbox import set_preferences
from vigtrain.notifications.models import Delivery, Notification, NotificationKind, OutboxMessage
from vigtrain.pathways.definitions import load_pathway_files
from vigtrain.pathways.services import sync_pathways
from vigtrain.supervision.models import SessionStatus, SupervisionSession

TODAY = date(2026, 3, 2)  # the clock fixture's day
# Accredited on 2 June 2023: valid until 1 June 2026, so renewal opened on 1 December 2025.
ACCREDITED = date(2023, 6, 2)


@pytest.fixture
def admin(app, clock):
    return make_admin()


@pytest.fixture
def sue(app):
    return make_supervisor("Sue Supervisor")


@pytest.fixture
def nadia(admin, sue) -> Certificate:
    return make_accredited(admin, sue, ACCREDITED, email="nadia@example.org")


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _notifications(kind: NotificationKind) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


def _ask(client, certificate: Certificate):
    return client.submit(f"/certificates/{certificate.number}/renewal-request", page="/certificates")


# --- the figures ----------------------------------------------------------------------------------


def test_progress_counts_confirmed_hours_in_the_period_and_what_waits(nadia, sue):
    enrolment = nadia.enrolment
    make_supervision(enrolment, sue, 3, date(2023, 5, 1))  # before the certificate: not counted
    make_supervision(enrolment, sue, 3, date(2024, 5, 1))
    make_supervision(enrolment, sue, 1.5, date(2025, 10, 6))
    make_supervision(enrolment, sue, 1, date(2026, 2, 10), confirmed=False)
    progress = services.renewal_progress(nadia, TODAY)
    assert (progress.period_start, progress.period_end) == (ACCREDITED, TODAY)
    assert (progress.sessions, progress.hours, progress.hours_needed) == (2, 4.5, 6.0)
    assert (progress.awaiting_sessions, progress.awaiting_hours) == (1, 1.0)
    assert progress.waiting_summary == "1 session (1 hour)"
    assert (progress.opens_on, progress.expires_on) == (date(2025, 12, 1), date(2026, 6, 1))
    assert progress.window_open and not progress.met and not progress.can_request
    assert progress.summary == "6 hours needed: 4.5 confirmed so far"

    make_supervision(enrolment, sue, 2.5, date(2026, 2, 17))
    progress = services.renewal_progress(nadia, TODAY)
    assert progress.met and progress.can_request and progress.summary == "6 hours needed: 7 confirmed, done"
    # Supervision after the certificate's end is not in its period.
    assert services.renewal_progress(nadia, date(2026, 6, 10)).period_end == date(2026, 6, 1)


def test_any_of_the_holders_records_counts_but_no_one_elses(nadia, sue, admin):
    other = make_accredited(admin, sue, ACCREDITED, email="omar@example.org", name="Omar Other")
    make_supervision(other.enrolment, sue, 6, date(2025, 1, 6))
    nadia.holder.set_roles({Role.PRACTITIONER, Role.TRAINEE})
    training = make_enrolment(nadia.holder, sue, code="vig-supervisor", start=date(2025, 9, 1), actor=admin)
    make_supervision(training, sue, 2, date(2025, 10, 1))
    assert services.renewal_progress(nadia, TODAY).hours == 2.0


def test_the_rule_is_the_pathways(admin, sue):
    verp = make_accredited(admin, sue, ACCREDITED, email="vera@example.org", code="verp-practitioner")
    make_supervision(verp.enrolment, sue, 4, date(2024, 5, 1))
    progress = services.renewal_progress(verp, TODAY)
    assert progress.met and progress.summary == "4 hours needed: 4 confirmed, done"
    assert progress.asks_for == "At least 4 hours of confirmed supervision in the last 3 years"


def test_a_version_without_the_number_needs_some_confirmed_supervision(admin, sue):
    shipped = next(p for p in load_pathway_files() if p.code == "vig-practitioner" and p.version == "2024.1")
    sync_pathways([shipped.model_copy(update={"code": "older-rules", "renewal_supervision_hours": None})])
    db.session.commit()
    older = make_accredited(admin, sue, ACCREDITED, email="olu@example.org", code="older-rules")
    progress = services.renewal_progress(older, TODAY)
    assert progress.hours_needed is None and not progress.met
    assert progress.summary == "Confirmed supervision needed: 0 confirmed so far"
    make_supervision(older.enrolment, sue, 1, date(2024, 5, 1))
    assert services.renewal_progress(older, TODAY).met


# --- the holder's page ------------------------------------------------------------------------------


def test_the_holder_sees_how_far_they_are(client, nadia, sue):
    make_supervision(nadia.enrolment, sue, 4.5, date(2024, 5, 1))
    make_supervision(nadia.enrolment, sue, 1.5, date(2026, 2, 10), confirmed=False)
    client.login("nadia@example.org")
    html = _text(client.get("/certificates"))
    section = html[html.index(f'id="renewal-{nadia.number}"') :]
    assert "At least 6 hours of confirmed supervision in the last 3 years" in section
    assert "6 hours needed: 4.5 confirmed so far (1 session)" in section
    assert "2 June 2023, when this certificate was issued" in section
    assert "1 session (1.5 hours)" in section
    assert "Open since 1 December 2025" in section and "1 June 2026" in section
    assert f'href="/supervision/new?enrolment={nadia.enrolment_id}">Log continuing supervision' in section
    assert "Ask AVIGuk to renew" not in html
    assert "once the supervisors who led it confirm enough, you can ask AVIGuk to renew" in section


def test_the_holder_asks_once_the_rule_is_met_and_administrators_are_told(client, nadia, sue, admin):
    other_admin = make_user("abe@example.org", roles=(Role.ADMINISTRATOR,), name="Abe Admin")
    make_user("gone@example.org", roles=(Role.ADMINISTRATOR,), name="Gone Admin", is_active_flag=False)
    make_supervision(nadia.enrolment, sue, 5, date(2024, 5, 1))
    waiting = make_supervision(nadia.enrolment, sue, 1, date(2026, 2, 10), confirmed=False)

    client.login("nadia@example.org")
    response = _ask(client, nadia)
    assert response.status_code == 422
    assert "Not yet: 6 hours needed: 5 confirmed so far" in _text(response)
    assert nadia.renewal_requested_at is None and _notifications(NotificationKind.RENEWAL_REQUESTED) == []

    # Sue confirms the session waiting for her, through her queue.
    client.post("/logout", data={"csrf_token": client.csrf_token("/certificates")})
    client.login(sue.email)
    confirmed = client.submit(
        f"/supervision/{waiting.id}/review",
        {"version": str(waiting.version), "confirm": "y"},
        page="/supervision/queue",
    )
    assert confirmed.status_code == 302
    client.post("/logout", data={"csrf_token": client.csrf_token("/home")})

    client.login("nadia@example.org")
    html = _text(client.get("/certificates"))
    assert "6 hours needed: 6 confirmed, done (2 sessions)" in html and "Ask AVIGuk to renew" in html
    response = _ask(client, nadia)
    assert response.status_code == 302
    assert "You asked AVIGuk to renew your accreditation" in _text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert nadia.renewal_requested_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.renewal_requested"))
    assert event.before == {"renewal_requested_at": None} and event.after["confirmed_hours"] == 6.0

    told = _notifications(NotificationKind.RENEWAL_REQUESTED)
    assert {n.recipient.email for n in told} == {admin.email, other_admin.email}  # active administrators only
    assert all(n.link == f"/admin/certificates/{nadia.number}" for n in told)
    assert told[0].title == "Nadia Hussain asks AVIGuk to renew their accreditation"
    assert "6 hours needed: 6 confirmed, done" in told[0].body

    response = _ask(client, nadia)  # twice
    assert response.status_code == 422
    assert "You asked AVIGuk to renew this certificate on 2 March 2026" in _text(response)
    assert _count(AuditEvent, AuditEvent.action == "certificate.renewal_requested") == 1
    assert len(_notifications(NotificationKind.RENEWAL_REQUESTED)) == 2


def test_asking_before_the_renewal_window_opens_is_refused(client, admin, sue):
    early = make_accredited(admin, sue, date(2025, 1, 10), email="nadia@example.org")
    make_supervision(early.enrolment, sue, 7, date(2025, 6, 2))
    client.login("nadia@example.org")
    html = _text(client.get("/certificates"))
    assert "Opens on 9 July 2027" in html and "You can ask AVIGuk to renew from 9 July 2027" in html
    assert "Ask AVIGuk to renew" not in html
    response = _ask(client, early)
    assert response.status_code == 422
    html = _text(response)
    assert "There is a problem" in html and "<title>Error:" in html
    assert "This certificate can be renewed from 9 July 2027, 6 months before it expires" in html
    assert early.renewal_requested_at is None and _count(Notification) == 1  # only the news of its issue


def test_only_the_holder_asks(client, nadia, sue, admin):
    make_supervision(nadia.enrolment, sue, 6, date(2024, 5, 1))
    make_user("omar@example.org", roles=(Role.PRACTITIONER,), name="Omar Other")
    client.login("omar@example.org")
    assert _ask(client, nadia).status_code == 404
    client.post("/logout", data={"csrf_token": client.csrf_token("/home")})
    client.login(admin.email)
    assert client.submit(f"/certificates/{nadia.number}/renewal-request", page="/home").status_code == 403
    assert nadia.renewal_requested_at is None and _count(AuditEvent, AuditEvent.action.like("%renewal%")) == 0
    with pytest.raises(PermissionDenied, match="Only the holder"):
        services.request_renewal(admin, nadia, TODAY)


# --- administrators ---------------------------------------------------------------------------------


def test_administrators_find_requests_and_renew_from_the_renewal_page(client, nadia, sue, admin):
    make_supervision(nadia.enrolment, sue, 6.5, date(2024, 5, 1))
    unasked = make_accredited(admin, sue, ACCREDITED, email="omar@example.org", name="Omar Other")
    services.request_renewal(nadia.holder, nadia, TODAY)
    inbox.notify(
        nadia.holder, NotificationKind.CERTIFICATE_EXPIRING, f"certificate:{nadia.id}", "90-days", "Expiring", "Renew."
    )
    db.session.commit()
    client.login(admin.email)

    listing = _text(client.get("/admin/certificates", query_string={"requested": "y"}))
    assert nadia.number in listing and unasked.number not in listing
    assert "Renewal asked for 2 March 2026" in listing
    assert unasked.number in _text(client.get("/admin/certificates"))

    shown = _text(client.get(f"/admin/certificates/{nadia.number}"))
    assert "Nadia Hussain asked AVIGuk to renew this certificate on 2 March 2026" in shown
    assert "6 hours needed: 6.5 confirmed, done (1 session)" in shown
    url = f"/admin/certificates/{nadia.number}/renew"
    assert "6 hours needed: 6.5 confirmed, done" in _text(client.get(url))
    response = client.submit(url, {"evidence_note": "Continuing supervision log checked"})
    assert response.status_code == 302
    renewed = db.session.scalar(select(Certificate).where(Certificate.replaces_id == nadia.id))
    assert renewed.valid_until == date(2029, 6, 1)
    assert f"replaces {nadia.number}" in _text(client.get(response.headers["Location"]))
    # The request is done: off the list, and the administrators' notices about it are read.
    assert nadia.number not in _text(client.get("/admin/certificates", query_string={"requested": "y"}))
    assert all(n.read_at is not None for n in _notifications(NotificationKind.RENEWAL_REQUESTED))
    assert all(n.read_at is not None for n in _notifications(NotificationKind.CERTIFICATE_EXPIRING))
    news = _notifications(NotificationKind.CERTIFICATE_UPDATE)
    assert [(n.recipient_id, n.period) for n in news if n.subject == f"certificate:{renewed.id}"] == [
        (nadia.holder_id, "renewed")
    ]


def test_renewal_is_refused_while_the_rule_is_not_met(client, nadia, sue, admin):
    make_supervision(nadia.enrolment, sue, 5.75, date(2024, 5, 1))
    client.login(admin.email)
    url = f"/admin/certificates/{nadia.number}/renew"
    assert "does not yet meet what the pathway asks" in _text(client.get(url))
    response = client.submit(url, {"evidence_note": "Supervision log checked"})
    assert response.status_code == 422
    assert "does not yet meet the renewal rule (6 hours needed: 5.75 confirmed so far)" in _text(response)
    assert _count(Certificate) == 1
    with pytest.raises(DomainError, match="does not yet meet the renewal rule"):
        services.renew_certificate(admin, nadia, TODAY, "Supervision log checked")


# --- certificate news ---------------------------------------------------------------------------


def test_certificate_news_reaches_the_holder_as_they_choose(nadia, admin, sue):
    issued = _notifications(NotificationKind.CERTIFICATE_UPDATE)
    assert [(n.recipient_id, n.subject, n.period) for n in issued] == [
        (nadia.holder_id, f"certificate:{nadia.id}", "issued")
    ]
    assert issued[0].link == "/certificates" and issued[0].title == f"Your certificate {nadia.number} is ready"
    email = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "nadia@example.org"))
    assert email.subject == issued[0].title and nadia.number in email.body
    assert "Open it in vigtrain: http://localhost/certificates" in email.body

    set_preferences(nadia.holder, {NotificationKind.CERTIFICATE_UPDATE: Delivery.APP})
    services.revoke_certificate(admin, nadia, "Issued to the wrong person in error")
    db.session.commit()
    revoked = _notifications(NotificationKind.CERTIFICATE_UPDATE)[-1]
    assert revoked.period == "revoked" and "Issued to the wrong person in error" in revoked.body
    assert _count(OutboxMessage, OutboxMessage.to_address == "nadia@example.org") == 1  # in the app only
    assert nadia.status is CertificateStatus.REVOKED


def test_the_log_and_the_certificate_page_agree(client, nadia, sue):
    make_supervision(nadia.enrolment, sue, 2, date(2025, 2, 3))
    db.session.add(
        SupervisionSession(
            enrolment=nadia.enrolment,
            supervisor=sue,
            session_date=date(2026, 1, 12),
            duration_minutes=45,
            status=SessionStatus.LOGGED,
            logged_by_id=nadia.holder_id,
        )
    )
    db.session.commit()
    client.login("nadia@example.org")
    figures = "6 hours needed: 2 confirmed so far (1 session)"
    assert figures in _text(client.get("/certificates")) and figures in _text(client.get("/supervision"))
    assert re.search(r"1 session \(0\.75 hours\)", _text(client.get("/supervision")))


def test_revoking_settles_the_request_to_renew_it_and_its_expiry_reminders(nadia, sue, admin):
    make_supervision(nadia.enrolment, sue, 6.5, date(2024, 5, 1))
    services.request_renewal(nadia.holder, nadia, TODAY)
    inbox.notify(nadia.holder, NotificationKind.CERTIFICATE_EXPIRING, f"certificate:{nadia.id}", "90-days", "Soon", ".")
    db.session.commit()
    assert _notifications(NotificationKind.RENEWAL_REQUESTED)[0].read_at is None
    services.revoke_certificate(admin, nadia, "Withdrawn at the practitioner's request")
    db.session.commit()
    for kind in (NotificationKind.RENEWAL_REQUESTED, NotificationKind.CERTIFICATE_EXPIRING):
        assert all(n.read_at is not None for n in _notifications(kind))
