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


def test_an_administrator_is_told_who_logs_supervision(browse_mobile):
    from datetime import date

    from tests.browser.test_small_screens import assert_fits
    from tests.factories import make_enrolment
    from vigtrain.accounts.models import Role

    admin = make_user("ada.admin@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    trainee = make_user("tia@example.org", name="Tia Trainee")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    page = browse_mobile.page
    browse_mobile.sign_in("ada.admin@example.org", PASSWORD)
    browse_mobile.visit(f"/supervision/new?enrolment={enrolment.id}", status=403)
    expect(page.get_by_role("heading", level=1)).to_have_text("Only the trainee or their supervisor logs supervision")
    expect(page.get_by_role("main")).to_contain_text("or by their personal supervisor, Sue Supervisor")
    assert_fits(page)
    browse_mobile.act(lambda: page.get_by_role("link", name="Go to Tia Trainee's supervision log").click())
    assert browse_mobile.path() == f"/supervision/trainees/{enrolment.id}"


def test_the_holder_of_a_revoked_certificate_is_told_why_it_cannot_be_downloaded(browse_mobile):
    from tests.browser.test_small_screens import assert_fits
    from tests.certificate_factories import make_certificate, make_holder
    from tests.factories import make_admin
    from vigtrain.certificates import services
    from vigtrain.extensions import db

    holder = make_holder(email="hana@example.org")
    certificate = make_certificate(make_admin(), holder)
    services.revoke_certificate(make_admin("abe@example.org"), certificate, "Issued in error to the wrong person")
    db.session.commit()
    page = browse_mobile.page
    browse_mobile.sign_in("hana@example.org", PASSWORD)
    browse_mobile.visit("/certificates")
    expect(page.get_by_role("main")).to_contain_text("No longer available, because they would present a certificate")
    expect(page.get_by_role("link", name="Download PDF")).to_have_count(0)
    assert_fits(page)
    browse_mobile.visit(f"/certificates/{certificate.number}.pdf", status=410)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Certificate {certificate.number} was revoked")
    expect(page.get_by_role("main")).to_contain_text("The reason given: Issued in error to the wrong person")
    assert_fits(page)
