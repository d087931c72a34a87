"""An administrator issues certificates in bulk and watches the progress bar; a holder downloads theirs."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import Browse
from tests.certificate_factories import make_certificate, make_earned_record
from tests.factories import PASSWORD, make_admin, make_user
from vigtrain.accounts.models import Role
from vigtrain.certificates.models import Certificate
from vigtrain.extensions import db


def test_bulk_issue_with_a_live_progress_bar_then_revoke(browse: Browse):
    admin = make_admin()
    records = [make_earned_record(make_user(name=f"Trainee {n}")) for n in range(3)]
    page = browse.page
    browse.sign_in(admin.email, PASSWORD)
    browse.visit("/admin/certificates/to-issue")
    expect(page.get_by_role("main")).to_contain_text("Trainee 0")
    for record in records[:2]:
        page.locator(f"#record-{record.id}").check()
    browse.act(lambda: page.get_by_role("button", name="Issue selected certificates").click())
    assert browse.path().startswith("/admin/certificates/bulk/")
    expect(page.locator("#bulk-progress-status")).to_contain_text("Finished.", timeout=30_000)
    expect(page.locator("#bulk-progress-status")).to_contain_text("2 of 2 done: 2 issued, 0 failed")
    browse.check()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 2

    browse.visit("/admin/certificates")
    number = db.session.scalar(select(Certificate.number).order_by(Certificate.id))
    browse.act(lambda: page.get_by_role("link", name=number).click())
    browse.act(lambda: page.get_by_role("link", name="Revoke").click())
    browse.act(lambda: page.get_by_role("button", name="Revoke certificate").click(), status=422)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Give the reason")
    page.get_by_label("Reason for revoking").fill("Issued in error to the wrong person")
    browse.act(lambda: page.get_by_role("button", name="Revoke certificate").click())
    expect(page.get_by_role("main")).to_contain_text("Issued in error to the wrong person")

    # The other pages an administrator meets, each scanned.
    browse.visit(f"/admin/certificates/issue/{records[2].id}")
    browse.act(lambda: page.get_by_role("button", name="Issue certificate").click())
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Trainee 2")
    other = db.session.scalar(select(Certificate.number).order_by(Certificate.id.desc()))
    browse.visit(f"/admin/certificates/{other}/renew")
    expect(page.get_by_role("main")).to_contain_text("can be renewed from")
    browse.visit(f"/admin/certificates/{other}/reissue")
    browse.act(lambda: page.get_by_role("button", name="Reissue certificate").click(), status=422)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Change the name on the holder")

    # Suspend it (until reinstated), then reinstate it.
    browse.visit(f"/admin/certificates/{other}/suspend")
    page.get_by_label("Reason for suspending").fill("Suspended while a complaint is investigated")
    browse.act(lambda: page.get_by_role("button", name="Suspend certificate").click())
    expect(page.get_by_role("main")).to_contain_text("Until an administrator reinstates it")
    browse.act(lambda: page.get_by_role("link", name="Reinstate").click())
    page.get_by_label("Why it is reinstated").fill("The complaint was withdrawn")
    browse.act(lambda: page.get_by_role("button", name="Reinstate certificate").click())
    expect(page.locator(".govuk-notification-banner")).to_contain_text("reinstated")


def test_a_holder_sees_their_certificates_on_a_small_screen(browse_mobile: Browse):
    admin = make_admin()
    holder = make_user("hana@example.org", roles=(Role.TRAINEE, Role.PRACTITIONER), name="Hana Holder")
    certificate = make_certificate(admin, holder)
    page = browse_mobile.page
    browse_mobile.sign_in(holder.email, PASSWORD)
    browse_mobile.visit("/certificates")
    expect(page.get_by_role("main")).to_contain_text(certificate.number)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"certificate-{certificate.number}.pdf"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download digital badge (JSON)").click()
    assert download.value.suggested_filename == f"certificate-{certificate.number}.json"
