"""The demo has a certificate of every status, with the fixed numbers the README lists, and an
accredited practitioner whose renewal a demo user can carry through."""

from __future__ import annotations

from sqlalchemy import select

from vigtrain.accounts.models import User
from vigtrain.certificates import services, transcripts
from vigtrain.certificates.demo import (
    DEMO_NUMBERS,
    EXPIRED,
    REISSUED,
    RENEWAL_DUE,
    RENEWED,
    REVOKED,
    STAGE,
    TRANSCRIPT,
    VALID,
)
from vigtrain.certificates.models import Certificate, CertificateStatus, ReplacementReason
from vigtrain.dates import today
from vigtrain.demo import DEMO_PASSWORD
from vigtrain.extensions import db
from vigtrain.notifications.models import Notification, NotificationKind
from vigtrain.supervision.models import SessionStatus, SupervisionSession


def test_demo_certificates_cover_every_status(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    status = {
        number: services.effective_status(services.find_certificate(number), today()) for number, _ in DEMO_NUMBERS
    }
    assert status[VALID] is CertificateStatus.VALID and status[STAGE] is CertificateStatus.VALID
    assert status[EXPIRED] is CertificateStatus.EXPIRED and status[REVOKED] is CertificateStatus.REVOKED
    superseded = [number for number, state in status.items() if state is CertificateStatus.SUPERSEDED]
    assert len(superseded) == 2
    renewed, reissued = services.find_certificate(RENEWED), services.find_certificate(REISSUED)
    assert renewed.replacement_reason is ReplacementReason.RENEWAL and renewed.replaces.number in superseded
    assert reissued.replacement_reason is ReplacementReason.NAME_CHANGE and reissued.holder_name == "Lucy Morgan"
    assert reissued.replaces.holder_name == "Lucy Grant"
    assert services.find_certificate(REVOKED).status_reason.startswith("Withdrawn at the holder's request")
    # Stage completions of the trainees are left for the administrator to issue (one at a time or in bulk).
    assert len(services.awaiting_issue_ids()) >= 5
    assert len(set(db.session.scalars(select(Certificate.number)))) == db.session.query(Certificate).count()


def test_demo_holders_and_administrator_see_the_certificates_and_the_transcript(app):
    app.test_cli_runner().invoke(args=["demo"])
    # Dev's transcript: made by him before today, his whole training with ratings, his valid certificate.
    transcript = transcripts.find_transcript(TRANSCRIPT)
    assert transcript.holder.email == "dev.malhotra@example.org" and transcript.issued_by_id == transcript.holder_id
    contents = transcripts.contents_of(transcript)
    assert contents.issued_on < today() and transcript.issued_at.date() < today()
    [enrolment] = contents.enrolments
    assert enrolment.pathway.startswith("VIG Practitioner") and len(enrolment.stages) == 3
    assert all(stage.status == "Completed" for stage in enrolment.stages) and enrolment.stages[1].ratings
    assert (VALID, "Valid") in [(line.number, line.status) for line in contents.certificates]
    page = app.test_client().get(f"/verify/{TRANSCRIPT}").get_data(as_text=True)
    assert "AVIGuk issued this transcript" in page and "Dev Malhotra" in page
    assert TRANSCRIPT in _signed_in(app, "dev.malhotra@example.org").get("/certificates/transcripts").get_data(
        as_text=True
    )
    client = app.test_client()
    client.login("lucy.morgan@example.org", DEMO_PASSWORD)
    html = client.get("/certificates").get_data(as_text=True)
    assert REISSUED in html and "Lucy Grant" in html
    client.post("/logout", data={"csrf_token": client.csrf_token("/certificates")})
    client.login("admin@example.org", DEMO_PASSWORD)
    assert client.get(f"/admin/certificates/{VALID}").status_code == 200
    assert "Sam Patel" in client.get("/admin/certificates/to-issue").get_data(as_text=True)


def _signed_in(app, email: str):
    client = app.test_client()
    client.login(email, DEMO_PASSWORD)
    return client


def test_the_demo_practitioner_confirms_asks_and_is_renewed(app):
    """The renewal story the demo sets up, end to end: Daniel confirms Nadia's waiting session, her
    hours then meet the rule, she asks AVIGuk to renew, and the administrator renews."""
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    due = services.find_certificate(RENEWAL_DUE)
    progress = services.renewal_progress(due, today())
    assert progress.window_open and not progress.met and progress.awaiting_sessions == 1
    assert progress.summary == "6 hours needed: 5 confirmed so far"

    nadia = _signed_in(app, "nadia.hussain@example.org")
    html = nadia.get("/certificates").get_data(as_text=True)
    assert "6 hours needed: 5 confirmed so far (4 sessions)" in html and "Ask AVIGuk to renew" not in html
    assert "Continuing supervision since your accreditation on" in nadia.get("/supervision").get_data(as_text=True)

    daniel = _signed_in(app, "daniel.okafor@example.org")
    waiting = db.session.scalar(
        select(SupervisionSession).where(
            SupervisionSession.enrolment_id == due.enrolment_id, SupervisionSession.status == SessionStatus.LOGGED
        )
    )
    assert "Nadia Hussain" in daniel.get("/supervision/queue").get_data(as_text=True)
    response = daniel.submit(
        f"/supervision/{waiting.id}/review",
        {"version": str(waiting.version), "confirm": "y"},
        page="/supervision/queue",
    )
    assert response.status_code == 302

    html = nadia.get("/certificates").get_data(as_text=True)
    assert "6 hours needed: 6 confirmed, done (5 sessions)" in html and "Ask AVIGuk to renew" in html
    response = nadia.submit(f"/certificates/{RENEWAL_DUE}/renewal-request", page="/certificates")
    assert response.status_code == 302
    admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    told = db.session.scalars(
        select(Notification).where(
            Notification.kind == NotificationKind.RENEWAL_REQUESTED, Notification.recipient_id == admin.id
        )
    ).all()
    assert [n.link for n in told] == [f"/admin/certificates/{RENEWAL_DUE}"]

    amira = _signed_in(app, "admin@example.org")
    assert RENEWAL_DUE in amira.get("/admin/certificates?requested=y").get_data(as_text=True)
    response = amira.submit(
        f"/admin/certificates/{RENEWAL_DUE}/renew", {"evidence_note": "Continuing supervision confirmed in vigtrain"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert services.find_certificate(RENEWAL_DUE).status is CertificateStatus.SUPERSEDED
    assert services.find_certificate(RENEWAL_DUE).replaced_by.number in nadia.get("/certificates").get_data(
        as_text=True
    )
