"""A holder adds a certificate to a digital wallet from their phone-sized screen: the QR code fits."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Browse
from tests.certificate_factories import insert_certificate
from tests.factories import PASSWORD, make_user
from vigtrain.accounts.models import Role
from vigtrain.extensions import db


def test_a_holder_makes_a_wallet_offer_on_a_small_screen(browse_mobile: Browse):
    holder = make_user("hana@example.org", roles=(Role.TRAINEE, Role.PRACTITIONER), name="Hana Holder")
    certificate = insert_certificate(holder)
    db.session.commit()
    page = browse_mobile.page
    browse_mobile.sign_in(holder.email, PASSWORD)
    browse_mobile.visit("/certificates")
    browse_mobile.act(lambda: page.get_by_role("button", name="Add to a digital wallet").click())
    assert browse_mobile.path() == f"/certificates/{certificate.number}/wallet"
    expect(page.get_by_role("heading", level=1)).to_have_text("Add to a digital wallet")
    qr = page.locator(".app-qr svg")
    box = qr.bounding_box()
    # The whole code is on screen, and big enough for a phone's camera (at least 2 CSS pixels a module).
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320 and box["width"] >= 150
    link = page.get_by_role("link", name="Open this offer in your wallet app")
    assert link.get_attribute("href").startswith("openid-credential-offer://?credential_offer_uri=")
    page.get_by_text("Show the offer link").click()
    expect(page.locator("#offer-link")).to_contain_text("openid-credential-offer://")
    browse_mobile.check()
