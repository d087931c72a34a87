"""An administrator invites a trainee; the trainee follows the emailed link and signs in."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import PASSWORD, make_admin

NEW_PASSWORD = "seven purple otters sing loudly"
INVITEE_EMAIL = "nia.newcomer@example.org"
INVITEE_NAME = "Nia Newcomer"


def test_invited_trainee_sets_a_password_and_signs_in(browse):
    make_admin()
    page = browse.page
    browse.sign_in("admin@example.org", PASSWORD)
    nav = page.get_by_role("navigation", name="Main menu")

    browse.act(lambda: nav.get_by_role("link", name="Users").click())
    assert browse.path() == "/admin/users/"
    browse.act(lambda: page.get_by_role("link", name="Invite someone").click())
    assert browse.path() == "/admin/users/invite"
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite someone to vigtrain")

    page.get_by_label("Email address").fill(INVITEE_EMAIL)
    page.get_by_label("Full name").fill(INVITEE_NAME)
    page.get_by_label("Trainee", exact=True).check()
    page.get_by_label("Employing service").select_option(label="No service")
    browse.act(lambda: page.get_by_role("button", name="Send invitation").click())
    assert browse.path() == "/admin/users/"
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(f"Invitation sent to {INVITEE_EMAIL}.")
    invitee_row = page.get_by_role("row").filter(has_text=INVITEE_NAME)
    expect(invitee_row).to_contain_text("Trainee")
    expect(invitee_row).to_contain_text("Invited")

    # No email server in tests: the message waits in the outbox, where an administrator can read it.
    browse.act(lambda: nav.get_by_role("link", name="Outbox").click())
    assert browse.path() == "/admin/outbox/"
    message_row = page.get_by_role("row").filter(has_text=INVITEE_EMAIL)
    browse.act(lambda: message_row.get_by_role("link", name="You have been invited to vigtrain").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("You have been invited to vigtrain")
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"Hello {INVITEE_NAME},")
    match = re.search(r"http://\S+/invitation/\S+", main.inner_text())
    assert match, f"no invitation link in: {main.inner_text()}"
    link = match.group(0)
    assert link.startswith(browse.base_url + "/invitation/")
    expect(main.get_by_role("link", name=link)).to_have_attribute("href", link)  # urlized, so it can be followed

    # Services and the audit trail render (and pass axe) with data in them.
    browse.act(lambda: nav.get_by_role("link", name="Services").click())
    assert browse.path() == "/admin/services/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Services")
    browse.act(lambda: nav.get_by_role("link", name="Audit trail").click())
    assert browse.path() == "/admin/audit"
    expect(page.get_by_role("table")).to_contain_text("user.invited")

    browse.sign_out()

    # The invitee opens the link, sets a password and signs in.
    browse.visit(link)
    expect(page).to_have_title("Set your password – vigtrain")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome to vigtrain, {INVITEE_NAME}")
    expect(page.get_by_role("main")).to_contain_text(INVITEE_EMAIL)

    # A mismatch first: the form comes back with errors, as a 422.
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD + " not")
    browse.act(lambda: page.get_by_role("button", name="Save password").click(), status=422)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Passwords do not match")

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    browse.act(lambda: page.get_by_role("button", name="Save password").click())
    assert browse.path() == "/login"
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your password is set. Sign in to continue."
    )

    browse.sign_in(INVITEE_EMAIL, NEW_PASSWORD)
    assert browse.path() == "/home"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {INVITEE_NAME}")
    expect(page.locator(".govuk-caption-l")).to_have_text("Trainee")
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link")).to_have_text(
        ["Home", "Cases", "Supervision", "Reports", "Your certificates", "Your account"]
    )

    # The link worked once.
    browse.sign_out()
    browse.visit(link, status=400)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(page.get_by_role("main")).to_contain_text("This link has already been used")
