"""API tokens in a real browser: create one (seen once), a mistake on the form, revoke; an administrator
revokes someone's; and the pages at 320 px."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_small_screens import assert_fits
from tests.factories import PASSWORD, make_admin, make_user
from vigtrain.api_tokens.services import TokenRejected, authenticate_bearer, create_token
from vigtrain.dates import today
from vigtrain.extensions import db

TOKEN = re.compile(r"vgt_[A-Za-z0-9_-]{43}")


def _reason(plaintext: str) -> str | None:
    db.session.expire_all()
    try:
        authenticate_bearer(f"Bearer {plaintext}")
    except TokenRejected as rejected:
        return rejected.reason
    return None


def test_create_a_token_see_it_once_then_revoke_it(browse):
    make_user("tess.trainee@example.org", name="Tess Trainee")
    page = browse.page
    browse.sign_in("tess.trainee@example.org", PASSWORD)
    browse.act(
        lambda: page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Your account").click()
    )
    browse.act(lambda: page.get_by_role("link", name="Manage your API tokens").click())
    assert browse.path() == "/account/tokens"
    expect(page.get_by_role("main")).to_contain_text("You have no tokens.")
    browse.act(lambda: page.get_by_role("link", name="Create a token").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an API token")

    # A mistake first: no scope chosen and a wrong password, both listed and beside their fields.
    page.get_by_label("Name").fill("Trust records system")
    page.get_by_label("Your password").fill("not my password")
    browse.act(lambda: page.get_by_role("button", name="Create token").click(), status=422)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select what the token may do")
    expect(summary).to_contain_text("Your password is not correct")
    expect(page).to_have_title(re.compile(r"^Error: "))
    # The summary's link moves focus to the first checkbox (GOV.UK Frontend's error summary).
    summary.get_by_role("link", name="Select what the token may do").click()
    expect(page.get_by_label("cases:read")).to_be_focused()
    expect(page.get_by_label("Your password")).to_have_value("")  # never sent back to the browser

    page.get_by_label("cases:read").check()
    page.get_by_label("cases:write").check()
    page.get_by_label("30 days").check()
    page.get_by_label("Your password").fill(PASSWORD)
    browse.act(lambda: page.get_by_role("button", name="Create token").click())
    expect(page.locator(".govuk-panel")).to_contain_text("Token created")
    expect(page.get_by_role("main")).to_contain_text("This is the only time the token is shown")
    plaintext = page.locator(".govuk-inset-text .app-code").inner_text().strip()
    assert TOKEN.fullmatch(plaintext), plaintext
    assert _reason(plaintext) is None

    browse.act(lambda: page.get_by_role("link", name="I have copied my token").click())
    assert browse.path() == "/account/tokens"
    assert plaintext not in page.content()
    card = page.locator(".govuk-summary-card", has_text="Trust records system")
    expect(card).to_contain_text(f"vgt_{plaintext[4:12]}")
    expect(card).to_contain_text("Active")

    browse.act(lambda: card.get_by_role("link", name="Revoke token Trust records system").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke the token ‘Trust records system’?")
    browse.act(lambda: page.get_by_role("button", name="Revoke token").click())
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("revoked")
    expect(page.locator(".govuk-summary-card", has_text="Trust records system")).to_contain_text("Revoked")
    assert _reason(plaintext) == "revoked"


def test_an_administrator_revokes_someones_token(browse):
    tess = make_user("tess.trainee@example.org", name="Tess Trainee")
    _, plaintext = create_token(tess, tess, "Nightly export", ["supervision:read"], None, today())
    db.session.commit()
    make_admin()
    page = browse.page
    browse.sign_in("admin@example.org", PASSWORD)
    browse.visit(f"/admin/users/{tess.id}")
    browse.act(lambda: page.get_by_role("link", name="See or revoke this account’s API tokens").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    browse.act(lambda: page.get_by_role("link", name="Revoke token Nightly export").click())
    expect(page.get_by_role("main")).to_contain_text("Tess Trainee will be emailed")
    browse.act(lambda: page.get_by_role("button", name="Revoke token").click())
    assert browse.path() == f"/admin/users/{tess.id}/tokens"
    expect(page.locator(".govuk-summary-card")).to_contain_text("Revoked")
    expect(page.locator(".govuk-summary-card")).to_contain_text("by Ada Admin")
    assert _reason(plaintext) == "revoked"


def test_token_pages_fit_320px(browse_mobile):
    tess = make_user("tess.trainee@example.org", name="Tess Trainee")
    create_token(tess, tess, "A system with a long name that wraps onto several lines", ["cases:read"], None, today())
    db.session.commit()
    page = browse_mobile.page
    browse_mobile.sign_in("tess.trainee@example.org", PASSWORD)
    for path in ("/account/tokens", "/account/tokens/1/revoke", "/account/tokens/new"):
        browse_mobile.visit(path)
        assert_fits(page)
    page.get_by_label("Name").fill("Phone")
    page.get_by_label("enrolments:read").check()
    page.get_by_label("Your password").fill(PASSWORD)
    browse_mobile.act(lambda: page.get_by_role("button", name="Create token").click())
    expect(page.locator(".govuk-inset-text .app-code")).to_have_text(TOKEN)
    assert_fits(page)
