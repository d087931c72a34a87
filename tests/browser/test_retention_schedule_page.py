"""The administrators' retention schedule page in a browser: accessible, and readable at 320 px."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_small_screens import assert_fits
from tests.factories import PASSWORD, make_admin


def test_the_retention_schedule_page_passes_axe_and_fits_a_phone(browse, browse_mobile):
    make_admin()
    for visitor, fits in ((browse, False), (browse_mobile, True)):
        visitor.sign_in("admin@example.org", PASSWORD)
        visitor.visit("/admin/erasure/retention")
        if fits:
            assert_fits(visitor.page)
        main = visitor.page.get_by_role("main")
        expect(main.get_by_role("heading", name="Retention schedule")).to_be_visible()
        expect(main.get_by_role("rowheader", name="Audit events")).to_be_visible()
        visitor.act(lambda page=visitor.page: page.get_by_role("link", name="apply-retention-schedule").click())
        assert visitor.path() == "/admin/jobs/apply-retention-schedule"
