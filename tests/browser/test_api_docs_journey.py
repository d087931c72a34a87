"""A developer reads the API documentation and tries an operation with their token: the page and the
interactive reference (Swagger UI) run under the strict Content-Security-Policy (any refusal fails
the test), every state is scanned with axe, and the page fits a 320px screen.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.api.conftest import issue_token
from tests.browser.test_small_screens import horizontal_overflow
from tests.factories import make_user


def test_a_developer_reads_the_reference_and_tries_an_operation(browse):
    person = make_user("pat@example.org", name="Pat Practitioner")
    token = issue_token(person, "cases:read")
    browse.visit("/api/v1/docs")
    page = browse.page
    expect(page.get_by_role("heading", name="The vigtrain API", level=1)).to_be_visible()
    # The viewer read the OpenAPI document and lists every operation.
    expect(page.locator(".opblock")).to_have_count(16)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/cases/{code}/administrations")).to_be_visible()

    page.locator(".opblock-summary", has_text="/api/v1/me").first.click()
    expect(page.get_by_text("Who the token acts for").first).to_be_visible()
    browse.check()

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.get_by_label("Value").fill(token)
    browse.check()
    dialog.get_by_role("button", name="Apply credentials").click()
    dialog.get_by_role("button", name="Close", exact=True).click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tbody .response-col_status").first).to_contain_text("200")
    expect(page.locator(".live-responses-table").get_by_text("pat@example.org").first).to_be_visible()
    browse.check()


def test_the_api_documentation_fits_a_small_screen(browse_mobile):
    browse_mobile.visit("/api/v1/docs")
    expect(browse_mobile.page.locator(".opblock").first).to_be_visible()
    browse_mobile.check()
    assert horizontal_overflow(browse_mobile.page) is None
