"""Renewal on a phone (320 px): an accredited practitioner logs continuing supervision, their
supervisor confirms it, they ask AVIGuk to renew, and an administrator finds the request and renews.
Every page fits the width and passes axe."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import Browse
from tests.browser.test_small_screens import assert_fits
from tests.certificate_factories import make_accredited, make_supervisor
from tests.factories import PASSWORD, make_admin, make_supervision
from vigtrain.certificates.models import Certificate
from vigtrain.dates import add_months, today
from vigtrain.extensions import db


def test_continuing_supervision_then_renewal_at_320px(browse_mobile: Browse):
    admin = make_admin()
    sue = make_supervisor("Sue Supervisor")
    accredited = add_months(today(), -32)  # renewal opened two months ago
    certificate = make_accredited(admin, sue, accredited, email="nadia@example.org")
    make_supervision(certificate.enrolment, sue, 5, accredited + timedelta(days=200))
    page, main = browse_mobile.page, browse_mobile.page.get_by_role("main")

    browse_mobile.sign_in("nadia@example.org", PASSWORD)
    expect(main).to_contain_text("Continuing supervision since your accreditation")
    assert_fits(page)
    browse_mobile.act(lambda: main.get_by_role("link", name="Log continuing supervision").click())
    expect(main).to_contain_text("Continuing supervision since your accreditation")
    assert_fits(page)
    browse_mobile.act(lambda: page.get_by_role("button", name="Save session").click())
    # The saved session opens; its log shows how far the renewal has come.
    expect(main).to_contain_text("Awaiting confirmation")
    browse_mobile.act(lambda: main.get_by_role("link", name="Back to your supervision log").click())
    expect(main).to_contain_text("6 hours needed: 5 confirmed so far")
    expect(main).to_contain_text("1 session (1 hour)")
    assert_fits(page)
    browse_mobile.visit("/certificates")
    expect(main.get_by_role("heading", name="Renewal")).to_be_visible()
    expect(main.get_by_role("button", name="Ask AVIGuk to renew")).to_have_count(0)
    assert_fits(page)
    browse_mobile.sign_out()

    browse_mobile.sign_in(sue.email, PASSWORD)
    browse_mobile.visit("/supervision/queue")
    assert_fits(page)
    browse_mobile.act(lambda: main.get_by_role("link", name=today().strftime("%-d %B %Y")).click())
    assert_fits(page)
    browse_mobile.act(lambda: page.get_by_role("button", name="Confirm session").click())
    browse_mobile.sign_out()

    browse_mobile.sign_in("nadia@example.org", PASSWORD)
    browse_mobile.visit("/certificates")
    expect(main).to_contain_text("6 hours needed: 6 confirmed, done")
    assert_fits(page)
    browse_mobile.act(lambda: main.get_by_role("button", name="Ask AVIGuk to renew").click())
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You asked AVIGuk to renew")
    assert_fits(page)
    browse_mobile.sign_out()

    browse_mobile.sign_in(admin.email, PASSWORD)
    browse_mobile.visit("/admin/certificates?requested=y")
    expect(main).to_contain_text("Renewal asked for")
    assert_fits(page)
    browse_mobile.act(lambda: main.get_by_role("link", name=certificate.number).click())
    expect(main).to_contain_text("Nadia Hussain asked AVIGuk to renew this certificate")
    assert_fits(page)
    browse_mobile.act(lambda: main.get_by_role("link", name="Renew").click())
    assert_fits(page)
    page.get_by_label("Evidence you checked").fill("Continuing supervision confirmed in vigtrain: 6 hours")
    browse_mobile.act(lambda: page.get_by_role("button", name="Renew certificate").click())
    assert_fits(page)
    db.session.expire_all()
    assert db.session.scalar(select(Certificate).where(Certificate.replaces_id == certificate.id)) is not None
