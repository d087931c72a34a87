"""Signing in and out in a real browser, with the GOV.UK error summary on a refused sign-in."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import PASSWORD, make_admin


def test_sign_in_errors_then_success_then_sign_out(browse):
    make_admin()
    page = browse.page

    browse.visit("/login")
    expect(page).to_have_title("Sign in – vigtrain")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to vigtrain")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)

    # Nothing filled in: the error summary links to each field, each field shows its own message.
    browse.act(lambda: page.get_by_role("button", name="Sign in").click(), status=422)
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary on load
    email_link = summary.get_by_role("link", name="Enter your email address")
    expect(email_link).to_have_attribute("href", "#email")
    expect(summary.get_by_role("link", name="Enter your password")).to_have_attribute("href", "#password")
    for field, message in (("email", "Enter your email address"), ("password", "Enter your password")):
        expect(page.locator(f"#{field}-error")).to_contain_text(message)
        expect(page.locator(f"#{field}")).to_have_attribute("aria-describedby", re.compile(rf"\b{field}-error\b"))
        expect(page.locator(f"#{field}")).to_have_class(re.compile(r"govuk-input--error"))
    email_link.click()
    expect(page.locator("#email")).to_be_focused()

    # A wrong password: one message that does not say which part was wrong.
    page.get_by_label("Email address").fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill("not the password at all")
    browse.act(lambda: page.get_by_role("button", name="Sign in").click(), status=422)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a correct email address and password")
    expect(page.locator("#email-error")).to_contain_text("Enter a correct email address and password")
    expect(page.get_by_label("Email address")).to_have_value("admin@example.org")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")

    browse.sign_in("admin@example.org", PASSWORD)
    assert browse.path() == "/home"
    expect(page).to_have_title("Home – vigtrain")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ada Admin")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Ada Admin")
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", re.compile(r"^(page|true)$"))

    browse.act(lambda: nav.get_by_role("link", name="Your account").click())
    assert browse.path() == "/account"
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator(".govuk-summary-list")).to_contain_text("admin@example.org")
    expect(page.locator(".govuk-summary-list")).to_contain_text("AVIGuk administrator")

    browse.sign_out()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("You have signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    # The old session is gone: home sends you back to sign in.
    browse.visit("/home")
    assert browse.path().startswith("/login?next=")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Sign in to continue.")
