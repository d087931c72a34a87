"""Certificate pages: holders' downloads, the issue queue and bulk issue, and the lifecycle actions."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, select

from tests.certificate_factories import issue, make_certificate, make_earned_record, supervise
from tests.factories import make_admin, make_user
from vigtrain.accounts.models import Role
from vigtrain.certificates import bulk
from vigtrain.certificates.models import BulkIssue, BulkIssueState, Certificate, CertificateStatus
from vigtrain.errors import DomainError
from vigtrain.extensions import db


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def admin(app, clock):
    app.config["BULK_ISSUE_IN_BACKGROUND"] = False
    return make_admin()


@pytest.fixture
def holder(app):
    return make_user("hana@example.org", roles=(Role.TRAINEE, Role.PRACTITIONER), name="Hana Holder")


def page(response) -> str:
    return response.get_data(as_text=True)


# --- holders --------------------------------------------------------------------------------------


def test_holders_see_and_download_their_certificates(client, admin, holder):
    certificate = make_certificate(admin, holder)
    stage = issue(make_earned_record(holder, final=False), admin)
    client.login(holder.email)
    listing = client.get("/certificates")
    assert listing.status_code == 200
    html = page(listing)
    assert certificate.number in html and stage.number in html
    assert "Accredited VIG Practitioner" in html and "Stage 1 of the VIG Practitioner pathway" in html
    assert "Does not expire" in html and "1 March 2029" in html
    assert 'href="/certificates"' in html  # the navigation item

    response = client.get(f"/certificates/{certificate.number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="certificate-{certificate.number}.pdf"'
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "Hana Holder" in text and certificate.number in text
    assert client.get(f"/certificates/{certificate.number}.pdf").data == response.data


def test_a_trainee_without_certificates_is_told_how_they_are_earned(client, holder):
    client.login(holder.email)
    assert "You have no certificates yet" in page(client.get("/certificates"))


def test_nobody_else_can_download_a_certificate(client, admin, holder):
    certificate = make_certificate(admin, holder)
    other = make_user("other@example.org", roles=(Role.TRAINEE, Role.SUPERVISOR))
    assert client.get(f"/certificates/{certificate.number}.pdf").status_code == 302  # sign in first
    client.login(other.email)
    assert client.get(f"/certificates/{certificate.number}.pdf").status_code == 404
    assert client.get(f"/certificates/{certificate.number}/credential.jwt").status_code == 404
    assert client.get("/certificates/AV-0000-0000.pdf").status_code == 404
    assert certificate.number not in page(client.get("/certificates"))


def test_a_revoked_certificate_is_not_downloadable_by_its_holder_who_is_told_why(client, admin, holder):
    from vigtrain.certificates import services

    certificate = make_certificate(admin, holder)
    services.revoke_certificate(admin, certificate, "Issued in error to the wrong person")
    db.session.commit()
    client.login(holder.email)
    for address in (f"/certificates/{certificate.number}.pdf", f"/certificates/{certificate.number}/credential.jwt"):
        gone = client.get(address)
        assert gone.status_code == 410 and gone.mimetype == "text/html"
        told = page(gone)
        assert f"Certificate {certificate.number} was revoked" in told
        assert "Issued in error to the wrong person" in told and "can no longer be downloaded" in told
    html = page(client.get("/certificates"))
    assert "Revoked" in html and "Issued in error to the wrong person" in html
    assert "No longer available, because they would present a certificate that is no longer valid" in html
    assert f"/certificates/{certificate.number}.pdf" not in html
    client.post("/logout", data={"csrf_token": client.csrf_token("/certificates")})
    client.login(admin.email)
    assert client.get(f"/certificates/{certificate.number}.pdf").status_code == 200


def test_the_digital_badge_downloads_as_a_signed_credential(client, admin, holder):
    certificate = make_certificate(admin, holder)
    client.login(holder.email)
    response = client.get(f"/certificates/{certificate.number}/credential.jwt")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    assert response.headers["Content-Disposition"] == f'attachment; filename="certificate-{certificate.number}.jwt"'
    assert response.get_data(as_text=True).count(".") == 2


# --- administrators: issuing ----------------------------------------------------------------------


def test_only_administrators_reach_the_admin_pages(client, admin, holder):
    certificate = make_certificate(admin, holder)
    assert client.get("/admin/certificates").status_code == 302
    client.login(holder.email)
    for url in (
        "/admin/certificates",
        "/admin/certificates/to-issue",
        f"/admin/certificates/{certificate.number}",
        f"/admin/certificates/{certificate.number}/revoke",
        "/admin/certificates/bulk/1/progress.json",
    ):
        assert client.get(url).status_code == 403, url


def test_issue_one_certificate_from_the_queue(client, admin, holder):
    record = make_earned_record(holder)
    client.login(admin.email)
    queue = page(client.get("/admin/certificates/to-issue"))
    assert "Hana Holder" in queue and f"/admin/certificates/issue/{record.id}" in queue
    confirm = client.get(f"/admin/certificates/issue/{record.id}")
    assert confirm.status_code == 200 and "Issue the accreditation certificate" in page(confirm)
    response = client.submit(f"/admin/certificates/issue/{record.id}")
    certificate = db.session.scalar(select(Certificate))
    assert response.status_code == 302 and response.headers["Location"].endswith(certificate.number)
    assert certificate.holder_id == holder.id
    again = client.submit(f"/admin/certificates/issue/{record.id}", page="/admin/certificates/to-issue")
    assert again.status_code == 302 and count(Certificate) == 1
    assert f'/admin/certificates/issue/{record.id}"' not in page(client.get("/admin/certificates/to-issue"))


def test_a_stage_that_has_not_earned_a_certificate_cannot_be_issued(client, admin, holder):
    from vigtrain.pathways.models import StageState

    record = make_earned_record(holder)
    record.state = StageState.ACCREDITED
    db.session.commit()
    client.login(admin.email)
    response = client.get(f"/admin/certificates/issue/{record.id}")
    assert response.status_code == 422 and "has not earned a certificate" in page(response)
    assert client.get("/admin/certificates/issue/999999").status_code == 404


def test_bulk_issue_of_selected_records(client, admin):
    records = [make_earned_record() for _ in range(3)]
    client.login(admin.email)
    response = client.submit(
        "/admin/certificates/to-issue", {"records": [str(records[0].id), str(records[2].id)], "submit": "Issue"}
    )
    job = db.session.scalar(select(BulkIssue))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/certificates/bulk/{job.id}")
    assert job.state is BulkIssueState.FINISHED and (job.total, job.issued_count, job.failed_count) == (2, 2, 0)
    assert count(Certificate) == 2
    progress = client.get(f"/admin/certificates/bulk/{job.id}/progress.json").get_json()
    assert progress == {
        "id": job.id,
        "state": "finished",
        "total": 2,
        "issued": 2,
        "failed": 0,
        "done": 2,
        "percent": 100,
        "finished": True,
    }
    html = page(client.get(f"/admin/certificates/bulk/{job.id}"))
    assert '<progress class="app-progress"' in html and 'value="2"' in html and "Finished." in html


def test_issue_all_covers_every_page_of_the_queue(client, admin, app):
    app.config["PAGE_SIZE"] = 2
    from vigtrain.certificates.services import awaiting_issue_ids

    for _ in range(2):
        make_earned_record(final=False)
    awaiting = len(awaiting_issue_ids())
    assert awaiting == 6  # each: the ITC, Stage 1 and Stage 2
    client.login(admin.email)
    assert "Issue all 6" in page(client.get("/admin/certificates/to-issue"))
    response = client.submit("/admin/certificates/to-issue", {"issue_all": "Issue all"})
    assert response.status_code == 302
    assert count(Certificate) == 6 and awaiting_issue_ids() == []


def test_bulk_issue_needs_a_selection(client, admin):
    make_earned_record()
    client.login(admin.email)
    response = client.submit("/admin/certificates/to-issue", {"submit": "Issue"})
    assert response.status_code == 422
    assert "Select at least one person" in page(response)
    response = client.submit("/admin/certificates/to-issue", {"records": ["abc", "999999"], "submit": "Issue"})
    assert response.status_code == 422 and "already been issued" in page(response)
    assert count(BulkIssue) == 0 and count(Certificate) == 0


def test_bulk_failures_are_listed_per_person_and_the_rest_are_issued(client, admin):
    admin_trainee = make_user("self@example.org", roles=(Role.ADMINISTRATOR, Role.TRAINEE), name="Ada Self")
    own = make_earned_record(admin_trainee)
    others = [make_earned_record() for _ in range(2)]
    client.login(admin_trainee.email)
    client.submit("/admin/certificates/to-issue", {"records": [str(r.id) for r in [own, *others]], "submit": "Go"})
    job = db.session.scalar(select(BulkIssue))
    assert (job.issued_count, job.failed_count) == (2, 1)
    html = page(client.get(f"/admin/certificates/bulk/{job.id}"))
    assert "Not issued" in html and "Ada Self" in html and "who is not the holder" in html


def test_bulk_issue_runs_in_the_background(client, admin, app, monkeypatch):
    app.config["BULK_ISSUE_IN_BACKGROUND"] = True
    threads = []
    real = bulk.run_in_background
    monkeypatch.setattr(bulk, "run_in_background", lambda a, j: threads.append(real(a, j)) or threads[-1])
    records = [make_earned_record() for _ in range(4)]
    client.login(admin.email)
    client.submit("/admin/certificates/to-issue", {"records": [str(r.id) for r in records], "submit": "Go"})
    threads[0].join(timeout=60)
    db.session.expire_all()
    job = db.session.scalar(select(BulkIssue))
    assert job.state is BulkIssueState.FINISHED and job.issued_count == 4
    assert count(Certificate) == 4


def test_the_progress_page_works_without_javascript_while_running(client, admin):
    records = [make_earned_record() for _ in range(3)]
    job = bulk.start_bulk_issue(admin, [r.id for r in records])
    db.session.commit()
    bulk.process(job.id, limit=1)
    client.login(admin.email)
    html = page(client.get(f"/admin/certificates/bulk/{job.id}"))
    assert 'max="3" value="1"' in html and "Still working." in html
    assert f'href="/admin/certificates/bulk/{job.id}">Refresh' in html
    assert 'data-url="/admin/certificates/bulk/' in html
    assert client.get("/admin/certificates/bulk/999/progress.json").status_code == 404


# --- administrators: every certificate ------------------------------------------------------------


def test_search_filter_and_paginate(client, admin, app):
    app.config["PAGE_SIZE"] = 2
    lucy = make_certificate(admin, make_user(name="Lucy Morgan"))
    for _ in range(3):
        make_certificate(admin)
    client.login(admin.email)
    html = page(client.get("/admin/certificates"))
    assert "Showing 1 to 2 of 4" in html
    html = page(client.get("/admin/certificates", query_string={"q": lucy.number.lower()}))
    assert "Lucy Morgan" in html and "Person" not in html
    html = page(client.get("/admin/certificates", query_string={"q": "MORGAN"}))
    assert lucy.number in html
    html = page(client.get("/admin/certificates", query_string={"status": "revoked"}))
    assert "No certificates match" in html
    response = client.get("/admin/certificates", query_string={"status": "nonsense"})
    assert response.status_code == 422 and "Select a status from the list" in page(response)


def test_detail_page_shows_the_lineage(client, admin, holder):
    from vigtrain.certificates import services

    first = make_certificate(admin, holder, on=date(2023, 6, 2))
    supervise(first, date(2024, 5, 1), hours=6)
    second = services.renew_certificate(admin, first, date(2026, 1, 15), "Supervision log checked")
    db.session.commit()
    client.login(admin.email)
    html = page(client.get(f"/admin/certificates/{first.number}"))
    assert "Lineage" in html and second.number in html and "Superseded" in html
    assert f'<a class="govuk-link" href="http://localhost/verify/{first.number}">' in html
    assert "Change this certificate" not in html  # a superseded certificate is not changed
    html = page(client.get(f"/admin/certificates/{second.number}"))
    assert first.number in html and "renewal of " + first.number in html


def test_revoke_through_the_page(client, admin, holder):
    certificate = make_certificate(admin, holder)
    client.login(admin.email)
    url = f"/admin/certificates/{certificate.number}/revoke"
    response = client.submit(url, {"reason": "too short"})
    assert response.status_code == 422 and "at least 10 characters" in page(response)
    response = client.submit(url, {"reason": "x" * 1001})
    assert response.status_code == 422 and "1,000 characters or fewer" in page(response)
    db.session.expire_all()
    assert certificate.status is CertificateStatus.VALID
    response = client.submit(url, {"reason": "Accreditation withdrawn after a conduct hearing"})
    assert response.status_code == 302
    db.session.expire_all()
    assert certificate.status is CertificateStatus.REVOKED
    html = page(client.get(f"/admin/certificates/{certificate.number}"))
    assert "Accreditation withdrawn after a conduct hearing" in html and "/revoke" not in html


def test_renew_through_the_page(client, admin, holder, clock):
    clock.move_to("2026-01-15 10:00:00")
    certificate = make_certificate(admin, holder, on=date(2023, 6, 2))
    client.login(admin.email)
    url = f"/admin/certificates/{certificate.number}/renew"
    html = page(client.get(url))
    assert (
        "At least 6 hours of confirmed supervision" in html
        and "6 hours needed: 0 confirmed so far (0 sessions)" in html
    )
    response = client.submit(url, {"evidence_note": "Supervision log checked"})
    assert response.status_code == 422 and "does not yet meet the renewal rule" in page(response)
    supervise(certificate, date(2024, 5, 1), hours=6)
    assert "6 hours needed: 6 confirmed, done (1 session)" in page(client.get(url))
    response = client.submit(url, {"evidence_note": "Supervision log checked"})
    assert response.status_code == 302
    new = db.session.scalar(select(Certificate).where(Certificate.replaces_id == certificate.id))
    assert response.headers["Location"].endswith(new.number) and new.valid_until == date(2029, 6, 1)


def test_renewal_is_not_offered_too_early(client, admin, holder):
    certificate = make_certificate(admin, holder)
    client.login(admin.email)
    html = page(client.get(f"/admin/certificates/{certificate.number}"))
    assert "/renew" not in html and "can be renewed from 1 September 2028" in html
    response = client.submit(
        f"/admin/certificates/{certificate.number}/renew", {"evidence_note": "Supervision log checked"}
    )
    assert response.status_code == 422 and count(Certificate) == 1


def test_reissue_after_a_change_of_name(client, admin, holder):
    certificate = make_certificate(admin, holder)
    client.login(admin.email)
    url = f"/admin/certificates/{certificate.number}/reissue"
    response = client.submit(url)
    assert response.status_code == 422 and "Change the name on the holder" in page(response)
    holder.display_name = "Hana Newname"
    db.session.commit()
    assert "Reissue in the name Hana Newname" in page(client.get(f"/admin/certificates/{certificate.number}"))
    response = client.submit(url)
    new = db.session.scalar(select(Certificate).where(Certificate.replaces_id == certificate.id))
    assert response.status_code == 302 and new.holder_name == "Hana Newname"


def test_administrators_cannot_change_their_own_certificate(client, admin):
    own = make_user("self@example.org", roles=(Role.ADMINISTRATOR, Role.PRACTITIONER, Role.TRAINEE))
    certificate = make_certificate(admin, own)
    client.login(own.email)
    assert client.get(f"/admin/certificates/{certificate.number}").status_code == 200
    for action in ("revoke", "renew", "reissue"):
        assert client.get(f"/admin/certificates/{certificate.number}/{action}").status_code == 403


def _failed_bulk_issue(admin, monkeypatch, people: int) -> BulkIssue:
    records = [make_earned_record() for _ in range(people)]
    job = bulk.start_bulk_issue(admin, [record.id for record in records])
    db.session.commit()

    def refuse(actor, record, on):
        raise DomainError("The holder's name needs checking first")

    monkeypatch.setattr(bulk, "issue_certificate", refuse)
    bulk.process(job.id)
    return job


def _statements(client, url: str) -> tuple[int, str]:
    statements = []

    def note(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
        assert response.status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return len(statements), page(response)


def test_bulk_failures_are_paginated_and_cost_the_same_however_many(app, client, admin, monkeypatch):
    app.config["PAGE_SIZE"] = 3
    small = _failed_bulk_issue(admin, monkeypatch, 2)
    large = _failed_bulk_issue(admin, monkeypatch, 7)
    client.login(admin.email)
    few, _ = _statements(client, f"/admin/certificates/bulk/{small.id}")
    many, html = _statements(client, f"/admin/certificates/bulk/{large.id}")
    assert few == many
    assert html.count("The holder&#39;s name needs checking first") == 3 and "Showing 1 to 3 of 7" in html
    last = page(client.get(f"/admin/certificates/bulk/{large.id}", query_string={"page": 3}))
    assert last.count("The holder&#39;s name needs checking first") == 1 and "Showing 7 to 7 of 7" in last
    assert f'href="/admin/certificates/bulk/{large.id}?page=2"' in html
