"""An administrator enters a service's licensed SWEMWBS wording on a 320 px screen; a client of that
service then reads it on their phone.

The administrator is first refused beside the fields, then adds the wording; the practitioner makes a
link for the client, who answers statements in words rather than numbered items. Every page is
screenshotted and scanned with axe (`Browse.check`), and none may scroll sideways.
"""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, MOBILE, Browse
from tests.browser.test_outcome_entry_journey import _seed_case
from tests.browser.test_self_completion_journey import assert_fits
from tests.factories import PASSWORD, load_pathways, make_admin, make_enrolment, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.dates import today
from vigtrain.dcs import invitations
from vigtrain.dcs.models import Timepoint
from vigtrain.extensions import db

SWEMWBS = "Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS)"
REFERENCE = "Warwick Medical School licence WMS-1234, registered 2026-03-01"


def test_an_administrator_adds_licensed_wording_and_the_services_client_reads_it(
    app, browser, browse_mobile, live_server
):
    load_pathways()
    service = make_service("North Family Service")
    admin = make_admin()
    practitioner = make_user("tess.trainee@example.org", roles=(Role.TRAINEE,), name="Tess", service_id=service.id)
    supervisor = make_user("sue.sup@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    make_enrolment(practitioner, supervisor, start=today() - timedelta(weeks=30), actor=admin)
    case = _seed_case(practitioner, today() - timedelta(weeks=10))

    browse = browse_mobile
    page = browse.page
    browse.sign_in("admin@example.org", PASSWORD)
    browse.visit(f"/admin/services/{service.id}/edit")
    browse.act(lambda: page.get_by_role("link", name="Licensed measure wording").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Licensed measure wording")
    assert_fits(page)
    browse.act(lambda: page.get_by_role("link", name="Add wording for SWEMWBS").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Add SWEMWBS wording")
    assert_fits(page)

    page.get_by_label("Question 1", exact=True).fill("A licensed statement about feeling optimistic")
    browse.act(lambda: page.get_by_role("button", name="Add the wording").click(), status=422)
    expect(page.get_by_role("alert")).to_contain_text("Enter the wording of question 2")
    expect(page.locator("#question_2-error")).to_contain_text("Enter the wording of question 2")
    assert_fits(page)

    page.get_by_label("Licence reference").fill(REFERENCE)
    page.get_by_label("Instructions for the client (optional)").fill(
        "Below are some statements about feelings and thoughts."
    )
    for number in range(1, 8):
        page.get_by_label(f"Question {number}", exact=True).fill(f"A licensed statement, number {number}")
    browse.act(lambda: page.get_by_role("button", name="Add the wording").click())
    expect(page.get_by_role("main")).to_contain_text(REFERENCE)

    _invitation, token = invitations.create_invitation(practitioner, case, ["SWEMWBS"], Timepoint.POST)
    db.session.commit()
    context = browser.new_context(viewport=MOBILE, has_touch=True, is_mobile=True, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        client = Browse(context.new_page(), live_server, "licensed-wording-client-320")
        phone = client.page
        client.visit(f"/respond/{token}")
        expect(phone.get_by_role("main")).to_contain_text(SWEMWBS)
        client.act(lambda: phone.get_by_role("button", name="Start now").click())
        expect(phone.get_by_role("main")).to_contain_text("A licensed statement, number 7")
        expect(phone.get_by_role("main")).to_contain_text("Below are some statements about feelings and thoughts.")
        expect(phone.get_by_role("main")).not_to_contain_text("Item 1")
        assert_fits(phone)
    finally:
        context.close()
