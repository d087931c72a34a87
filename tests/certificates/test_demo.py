"""The demo has a certificate of every status, with the fixed numbers the README lists."""

from __future__ import annotations

from sqlalchemy import select

from vigtrain.certificates import services
from vigtrain.certificates.demo import DEMO_NUMBERS, EXPIRED, REISSUED, RENEWED, REVOKED, STAGE, VALID
from vigtrain.certificates.models import Certificate, CertificateStatus, ReplacementReason
from vigtrain.dates import today
from vigtrain.demo import DEMO_PASSWORD
from vigtrain.extensions import db


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


def test_demo_holders_and_administrator_see_the_certificates(app):
    app.test_cli_runner().invoke(args=["demo"])
    client = app.test_client()
    client.login("lucy.morgan@example.org", DEMO_PASSWORD)
    html = client.get("/certificates").get_data(as_text=True)
    assert REISSUED in html and "Lucy Grant" in html
    client.post("/logout", data={"csrf_token": client.csrf_token("/certificates")})
    client.login("admin@example.org", DEMO_PASSWORD)
    assert client.get(f"/admin/certificates/{VALID}").status_code == 200
    assert "Dev Malhotra" in client.get("/admin/certificates/to-issue").get_data(as_text=True)
