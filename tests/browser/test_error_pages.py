"""The 404 and 403 pages, as a browser sees them."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user


def test_page_not_found(browse):
    page = browse.page
    browse.visit("/no-such-page", status=404)
    expect(page).to_have_title("Page not found – vigtrain")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    browse.act(lambda: page.get_by_role("link", name="Go to your home page").click())
    assert browse.path() == "/login"  # nobody is signed in


def test_trainee_cannot_open_user_administration(browse):
    make_user("tess.trainee@example.org", name="Tess Trainee")
    page = browse.page
    browse.sign_in("tess.trainee@example.org", PASSWORD)

    browse.visit("/admin/users/", status=403)
    expect(page).to_have_title("You cannot open this page – vigtrain")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
    expect(page.get_by_role("main")).not_to_contain_text("Users")
    # Still signed in, with only the menu items a trainee may use.
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link")).to_have_text(
        ["Home", "Cases", "Supervision", "Reports", "Your certificates", "Your account"]
    )
    browse.act(lambda: page.get_by_role("link", name="Go to your home page").click())
    assert browse.path() == "/home"
