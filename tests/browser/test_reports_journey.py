"""An administrator breaks the national report down; a trainee reads their service's report on a phone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Browse
from tests.factories import PASSWORD, make_admin, make_service, make_user
from tests.report_factories import outcome_rows
from vigtrain.accounts.models import Role
from vigtrain.casework.models import Population

PHONE = {"width": 375, "height": 740}


def _cases(app):
    north = make_service("North Family Service", region_code="E12000003")
    south = make_service("South Parenting Team", region_code="E12000008")
    tia = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee", service_id=north.id)
    sol = make_user("sol@example.org", roles=(Role.TRAINEE,), name="Sol Trainee", service_id=south.id)
    make_admin()
    outcome_rows(tia, [(18, 8), (16, 9), (20, 14), (12, 11), (15, 4)] * 4, population=Population.PERINATAL)
    outcome_rows(tia, [(14, 6), (11, 12), (19, 9)], population=Population.EARLY_YEARS)
    outcome_rows(sol, [(17, 7), (13, 10), (21, 12), (10, 16)] * 5, region_code="E12000008")
    return north


def test_an_administrator_breaks_the_national_report_down(app, browse: Browse):
    _cases(app)
    page = browse.page
    browse.sign_in("admin@example.org", PASSWORD)
    browse.visit("/reports")
    browse.act(lambda: page.get_by_role("link", name="National report").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes across all services")
    expect(page.get_by_role("region", name="By region")).to_contain_text("Yorkshire and The Humber")
    expect(page.get_by_text("Filter the cases")).to_have_count(0)  # broken down, never filtered
    page.get_by_label("Break the figures down by").select_option(label="Population")
    browse.act(lambda: page.get_by_role("button", name="Show the report").click())
    assert "by=population" in browse.path()
    table = page.get_by_role("region", name="By population")
    expect(table.get_by_role("row", name="Perinatal mental health")).to_contain_text("20")
    expect(page.get_by_role("img", name="Mean PHQ-9 score before and after")).to_be_visible()
    page.get_by_text("How figures are protected").click()
    expect(page.get_by_text("worked out from the rounded counts shown beside it")).to_be_visible()
    browse.visit("/reports")
    browse.act(lambda: page.get_by_role("link", name="Research export").click())
    expect(page.get_by_role("region", name="Data dictionary")).to_contain_text("case_code")


def test_a_trainee_reads_their_service_report_on_a_phone(app, browser, live_server):
    north = _cases(app)
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    context.set_default_timeout(10_000)
    tia = Browse(context.new_page(), live_server, "reports-trainee-phone")
    page = tia.page
    tia.sign_in("tia@example.org", PASSWORD)
    tia.visit("/reports/service")
    assert tia.path() == f"/reports/service/{north.id}"
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes for North Family Service")
    expect(page.get_by_role("region", name="By population")).to_contain_text("Early years and health visiting")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    table = page.get_by_role("region", name="By population")
    expect(table.get_by_role("row", name="Early years and health visiting")).to_contain_text("*")
    page.get_by_text("What these figures mean").click()
    expect(page.get_by_text("The score fell by 6 points or more")).to_be_visible()
    tia.check()
    context.close()


def test_the_national_report_reflows_at_320_pixels(app, browse_mobile: Browse):
    _cases(app)
    browse_mobile.sign_in("admin@example.org", PASSWORD)
    browse_mobile.visit("/reports/national?by=relationship")
    page = browse_mobile.page
    expect(page.get_by_role("region", name="By relationship")).to_contain_text("Parent and child")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
