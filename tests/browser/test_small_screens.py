"""320 CSS pixels wide (WCAG 1.4.10 Reflow): no sideways scrolling, and the menu still opens."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import horizontal_overflow
from tests.factories import PASSWORD, make_admin, make_enrolment, make_service, make_user
from vigtrain.accounts import services as accounts
from vigtrain.accounts.models import Role
from vigtrain.extensions import db


def assert_fits(page: Page) -> None:
    assert page.viewport_size["width"] == 320
    problem = horizontal_overflow(page)
    assert problem is None, f"{page.url} scrolls sideways at 320px: {problem}"


def test_pages_fit_320px_and_the_menu_opens(browse_mobile):
    make_user("tess.trainee@example.org", name="Tess Trainee With A Rather Long Name")
    page = browse_mobile.page

    browse_mobile.visit("/login")
    assert_fits(page)

    browse_mobile.sign_in("tess.trainee@example.org", PASSWORD)
    assert browse_mobile.path() == "/home"
    assert_fits(page)

    # The service navigation collapses behind a "Menu" button.
    nav = page.get_by_role("navigation", name="Main menu")
    menu = nav.get_by_role("button", name="Menu")
    account_link = nav.get_by_role("link", name="Your account")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(account_link).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(account_link).to_be_visible()
    browse_mobile.check()  # the open menu passes axe too
    assert_fits(page)

    browse_mobile.act(lambda: account_link.click())
    assert browse_mobile.path() == "/account"
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    assert_fits(page)
    expect(menu).to_have_attribute("aria-expanded", "false")  # closed again on the new page

    browse_mobile.sign_out()
    assert_fits(page)


def test_admin_pages_fit_320px(browse_mobile, live_server):
    """Wide tables scroll inside their own region; a long link in an email wraps. The page never scrolls."""
    admin = make_admin()
    northfield = make_service("Northfield Community Health NHS Trust")
    # A training record for the records list and the capacity page to show (stage-2 is a filter choice).
    make_enrolment(
        make_user("tariq.trainee@example.org", name="Tariq Trainee", service_id=northfield.id),
        make_user("sue.supervisor@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor"),
        actor=admin,
    )
    accounts.invite_user(
        admin,
        "nia.newcomer@example.org",
        "Nia Newcomer",
        {Role.TRAINEE},
        None,
        lambda token: f"{live_server}/invitation/{token}",
    )
    db.session.commit()
    page = browse_mobile.page
    browse_mobile.sign_in("admin@example.org", PASSWORD)

    too_wide = {}
    for path in (
        "/admin/users/",
        "/admin/services/",
        "/admin/audit",
        "/admin/records",
        "/admin/records?stage=stage-2",
        "/admin/capacity",
        "/enrolments/new",
        "/admin/outbox/",  # last: the invitation is opened from here
    ):
        browse_mobile.visit(path)
        too_wide[path] = horizontal_overflow(page)
    browse_mobile.act(lambda: page.get_by_role("link", name="You have been invited to vigtrain").click())
    too_wide[browse_mobile.path()] = horizontal_overflow(page)
    problems = [f"{path}: {problem}" for path, problem in too_wide.items() if problem]
    assert not problems, "pages wider than 320px:\n" + "\n".join(problems)
