"""Turning on two-factor authentication, then signing in with a recovery code."""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user


def test_set_up_two_factor_then_sign_in_with_a_recovery_code(browse):
    make_user("tess.trainee@example.org", name="Tess Trainee")
    page = browse.page
    browse.sign_in("tess.trainee@example.org", PASSWORD)
    assert browse.path() == "/home"

    browse.act(
        lambda: page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Your account").click()
    )
    expect(page.get_by_role("main")).to_contain_text("Off. Two-factor authentication asks for a code")
    browse.act(lambda: page.get_by_role("link", name="Set up two-factor authentication").click())
    assert browse.path() == "/account/two-factor"
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.locator(".app-qr svg")).to_be_visible()

    # The key is behind "I cannot scan the QR code"; open it and scan the page again as it is now.
    key = page.locator(".govuk-details .app-code")
    expect(key).to_be_hidden()
    page.get_by_text("I cannot scan the QR code").click()
    expect(key).to_be_visible()
    browse.check()
    secret = key.inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret

    # A wrong code is refused with the error summary.
    totp = pyotp.TOTP(secret)
    accepted_now = {totp.at(time.time() + drift * totp.interval) for drift in (-1, 0, 1, 2)}
    wrong = next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in accepted_now)
    page.get_by_label("Code from your authenticator app").fill(wrong)
    browse.act(lambda: page.get_by_role("button", name="Turn on two-factor authentication").click(), status=422)
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not correct")
    # The same key is offered again, so the app the person already set up still works.
    expect(page.locator(".govuk-details .app-code")).to_have_text(secret)

    page.get_by_label("Code from your authenticator app").fill(totp.now())
    browse.act(lambda: page.get_by_role("button", name="Turn on two-factor authentication").click())
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Two-factor authentication is on")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1, name="Your recovery codes")).to_be_visible()
    codes = [code.strip() for code in page.locator(".app-recovery-codes .app-code").all_inner_texts()]
    assert len(codes) == 10
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{8}", code) for code in codes), codes

    browse.act(lambda: page.get_by_role("link", name="I have saved my codes").click())
    assert browse.path() == "/home"
    browse.sign_out()

    # Signing in again asks for a security code. A TOTP code from the step just used would be a
    # replay (refused), so use a recovery code, as someone without their phone would.
    browse.sign_in("tess.trainee@example.org", PASSWORD)
    assert browse.path() == "/login/security-code"
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")

    page.get_by_label("Security code").fill("12345678")
    browse.act(lambda: page.get_by_role("button", name="Continue").click(), status=422)
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not correct")

    page.get_by_label("Security code").fill(codes[0])
    browse.act(lambda: page.get_by_role("button", name="Continue").click())
    assert browse.path() == "/home"
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Tess Trainee")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You used a recovery code. You have 9 left.")

    browse.act(
        lambda: page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Your account").click()
    )
    expect(page.get_by_role("main")).to_contain_text("You have 9 unused recovery codes.")
    expect(page.get_by_role("link", name="Set up two-factor authentication")).to_have_count(0)
