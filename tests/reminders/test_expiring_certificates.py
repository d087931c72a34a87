"""Rule 5: a valid accreditation tells its holder 90 and 30 days before its last valid day (only the
nearest threshold crossed), with what renewal needs and how much of it vigtrain holds."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.certificate_factories import VALID_UNTIL, insert_certificate, make_holder, supervise
from tests.reminders.helpers import Told, counting_notify, emails_to, prefer, recipients, run, told
from vigtrain.certificates.models import CertificateKind, CertificateStatus
from vigtrain.dates import UK
from vigtrain.extensions import db
from vigtrain.notifications.models import Delivery, NotificationKind
from vigtrain.reminders.services import remind_expiring_certificates

KIND = NotificationKind.CERTIFICATE_EXPIRING
NINETY = VALID_UNTIL - timedelta(days=90)
THIRTY = VALID_UNTIL - timedelta(days=30)


def test_the_holder_is_told_at_ninety_days_then_at_thirty_each_once(app):
    certificate = insert_certificate(make_holder("Hana Holder"))
    supervise(certificate, date(2028, 5, 10), hours=1.5)
    supervise(certificate, date(2028, 9, 1), hours=2.0, confirmed=False)  # not confirmed: not counted
    assert run(remind_expiring_certificates, NINETY - timedelta(days=1)) == 0

    assert run(remind_expiring_certificates, NINETY) == 1
    (item,) = told()
    assert item == Told(
        certificate.holder.email,
        KIND,
        f"certificate:{certificate.id}",
        "90-days",
        "Your accreditation (Accredited VIG Practitioner) expires on 1 March 2029",
        "/certificates",
        item.body,
    )
    assert f"Certificate {certificate.number} is valid until 1 March 2029 (it ends in 90 days)" in item.body
    assert "AVIGuk asks for: At least 6 hours of confirmed supervision in the last 3 years" in item.body
    assert "Since 2 March 2026: 6 hours needed: 1.5 confirmed so far." in item.body
    assert "Waiting for your supervisor to confirm: 1 session (2 hours)." in item.body
    assert "Log the supervision you have had so that it can be confirmed" in item.body
    assert run(remind_expiring_certificates, NINETY) == 0
    assert run(remind_expiring_certificates, NINETY + timedelta(days=1)) == 0

    assert run(remind_expiring_certificates, THIRTY - timedelta(days=1)) == 0
    assert run(remind_expiring_certificates, THIRTY) == 1
    assert [item.period for item in told()] == ["90-days", "30-days"]
    assert run(remind_expiring_certificates, THIRTY + timedelta(days=1)) == 0
    assert run(remind_expiring_certificates, VALID_UNTIL) == 0


def test_the_text_says_what_to_do_next_as_the_renewal_rule_is_met_and_asked_for(app):
    certificate = insert_certificate()
    supervise(certificate, date(2028, 5, 10), hours=6)
    assert run(remind_expiring_certificates, NINETY) == 1
    assert "6 hours needed: 6 confirmed, done. Ask AVIGuk to renew it from your certificates page." in told()[0].body
    certificate.renewal_requested_at = datetime(2028, 12, 20, 10, tzinfo=UK)
    db.session.commit()
    assert run(remind_expiring_certificates, THIRTY) == 1
    assert told()[1].body.endswith("You asked AVIGuk to renew it on 20 December 2028.")


def test_a_certificate_first_found_inside_thirty_days_is_told_the_thirty_day_reminder_only(app):
    insert_certificate()
    assert run(remind_expiring_certificates, VALID_UNTIL - timedelta(days=25)) == 1
    assert [item.period for item in told()] == ["30-days"]
    assert run(remind_expiring_certificates, VALID_UNTIL - timedelta(days=24)) == 0


def test_revoked_superseded_expired_and_stage_certificates_and_deactivated_holders_are_not_told(app):
    insert_certificate(make_holder("Rae Revoked"), status=CertificateStatus.REVOKED, reason="Revoked for a reason")
    old = insert_certificate(make_holder("Sam Superseded"))
    insert_certificate(old.holder, replaces=old, valid_until=VALID_UNTIL + timedelta(days=400))
    insert_certificate(make_holder("Stu Stage"), kind=CertificateKind.STAGE)
    insert_certificate(make_holder("Pat Past"), valid_until=THIRTY - timedelta(days=1))
    gone = make_holder("Gus Gone")
    insert_certificate(gone)
    gone.is_active_flag = False
    db.session.commit()
    assert run(remind_expiring_certificates, THIRTY) == 0
    assert told() == []


def test_email_follows_each_holders_choice(app):
    emailed = insert_certificate(make_holder("Eve Emailed", email="eve@example.org"))
    quiet = make_holder("Quin Quiet", email="quin@example.org")
    insert_certificate(quiet)
    prefer(quiet, KIND, Delivery.APP)
    assert run(remind_expiring_certificates, NINETY) == 2
    assert recipients() == ["eve@example.org", "quin@example.org"]
    (email,) = emails_to("eve@example.org")
    assert email.subject == "Your accreditation (Accredited VIG Practitioner) expires on 1 March 2029"
    assert emailed.number in email.body
    assert emails_to("quin@example.org") == []


def test_a_second_run_asks_nothing_of_the_inbox(app, monkeypatch):
    insert_certificate()
    assert run(remind_expiring_certificates, THIRTY) == 1
    calls = counting_notify(monkeypatch)
    assert run(remind_expiring_certificates, THIRTY + timedelta(days=2)) == 0
    assert calls == []
