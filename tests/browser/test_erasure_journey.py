"""Erasing a person in a browser: the administrator's pages pass axe and fit a phone, a refusal is shown
beside its field, and the register of erasures lists the pseudonym afterwards."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_small_screens import assert_fits
from tests.factories import PASSWORD, make_admin, make_user

REASON = "Erasure request by letter of 1 December 2026; no retention duty applies."


def test_an_administrator_erases_a_person(browse, browse_mobile):
    make_admin()
    tess = make_user("tess.trainee@example.org", name="Tess Trainee")
    uma = make_user("uma.unhurried-longname@example.org", name="Uma Unhurried-Longname")
    page = browse.page
    browse.sign_in("admin@example.org", PASSWORD)
    browse.visit(f"/admin/users/{tess.id}")
    browse.act(lambda: page.get_by_role("link", name="Erase this person’s data").click())
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="What will be kept")).to_be_visible()

    page.get_by_label("Why are you erasing this person's data?").fill(REASON)
    page.get_by_label("Type the person's email address to confirm").fill("someone.else@example.org")
    browse.act(lambda: page.get_by_role("button", name="Erase this person's data").click(), status=422)
    expect(main.get_by_text("The email address does not match").first).to_be_visible()

    page.get_by_label("Type the person's email address to confirm").fill("tess.trainee@example.org")
    browse.act(lambda: page.get_by_role("button", name="Erase this person's data").click())
    assert browse.path() == "/admin/erasure/"
    expect(main.get_by_role("cell", name=REASON)).to_be_visible()
    expect(main.get_by_text("Tess Trainee")).to_have_count(0)

    browse_mobile.sign_in("admin@example.org", PASSWORD)
    for path in ("/admin/erasure/", f"/admin/erasure/{uma.id}", f"/admin/erasure/{tess.id}"):
        browse_mobile.visit(path)
        assert_fits(browse_mobile.page)
