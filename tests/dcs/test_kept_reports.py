"""The national and regional reports read the sums the hourly job keeps: the same figures as when worked
out from every outcome row, the page saying how fresh they are, and a withdrawn consent leaving at once."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.dcs.test_report_views import _csv, _rows
from tests.factories import make_admin, make_service, make_user
from tests.report_factories import outcome_rows, region, withdraw_dcs_consent
from vigtrain.accounts.models import Role
from vigtrain.casework.models import CaseStatus, Population, Relationship
from vigtrain.dcs import reports
from vigtrain.dcs.measures import get_measure
from vigtrain.dcs.models import ReportCell, ReportRefresh
from vigtrain.dcs.reports import LEVEL_BREAKDOWNS, Filters, Level, Scope
from vigtrain.dcs.services import refresh_report_cells
from vigtrain.extensions import db
from vigtrain.jobs import services as jobs
from vigtrain.jobs.registry import BY_NAME

REGIONS = ("E12000003", "E12000008", "E12000007")
MEASURES = ("PHQ-9", "WEMWBS")


@pytest.fixture
def admin(app, clock):
    return make_admin()


@pytest.fixture
def country(admin):
    """Cases in three regions and four services (one outside its region, some with no service), every
    population, relationship and stage, two measures, open and closed, some without consent."""
    rng = random.Random(7)
    services = [make_service(f"Service {n}", region_code=REGIONS[n % 3]) for n in range(4)]
    people = [
        make_user(f"p{n}@example.org", roles=(Role.PRACTITIONER,), service_id=services[n % 4].id) for n in range(6)
    ]
    for _ in range(40):
        measure = rng.choice(MEASURES)
        low, high = (0, 27) if measure == "PHQ-9" else (14, 70)
        pairs = [(rng.randint(low, high), rng.choice([None, rng.randint(low, high)])) for _ in range(rng.randint(1, 6))]
        outcome_rows(
            rng.choice(people),
            pairs,
            consent=rng.random() > 0.15,
            population=rng.choice(list(Population)),
            relationship=rng.choice(list(Relationship)),
            region_code=rng.choice(REGIONS),
            service_id=rng.choice([-1, -1, -1, None, services[0].id]),
            stage_number=rng.choice([None, 0, 1, 2, 3]),
            measure=measure,
            status=rng.choice(list(CaseStatus)),
        )
    db.session.commit()
    return services


def _scopes() -> list[Scope]:
    return [Scope(Level.NATIONAL), *(Scope(Level.REGION, region_id=region(code).id) for code in REGIONS)]


def _every_report() -> list[tuple[Scope, Filters]]:
    return [
        (scope, Filters(get_measure(code), breakdown))
        for scope in _scopes()
        for code in MEASURES
        for breakdown in LEVEL_BREAKDOWNS[scope.level]
    ]


def test_every_national_and_regional_report_from_the_kept_sums_is_the_one_worked_out_live(country):
    live = {key: reports.build_report(*key) for key in _every_report()}
    assert all(report.kept_at is None for report in live.values())
    assert sum(report.total.cases for report in live.values()) > 0

    cells = refresh_report_cells()
    db.session.commit()
    assert cells == db.session.scalar(select(func.count()).select_from(ReportCell)) > 0
    for key, worked_out in live.items():
        kept = reports.build_report(*key)
        assert kept.kept_at is not None, key
        assert kept.groups == worked_out.groups and kept.total == worked_out.total, key
        assert reports.publish(kept) == reports.publish(replace(worked_out, kept_at=kept.kept_at)), key


def test_lower_levels_and_filtered_reports_are_always_worked_out_now(country):
    refresh_report_cells()
    service = Scope(Level.SERVICE, service_id=country[0].id)
    assert reports.build_report(service, Filters(get_measure("PHQ-9"), reports.Breakdown.POPULATION)).kept_at is None
    filtered = Filters(get_measure("PHQ-9"), reports.Breakdown.REGION, population=Population.EARLY_YEARS)
    assert reports.build_report(Scope(Level.NATIONAL), filtered).kept_at is None


def test_the_page_reads_kept_figures_says_how_fresh_and_the_job_brings_new_cases_in(client, country, clock):
    client.login("admin@example.org")
    before = _rows(_csv(client.get("/reports/national?format=csv")))["All cases"]["Cases"]
    assert "Added up just now from the latest data." in client.get("/reports/national").get_data(as_text=True)

    run = jobs.run_job(BY_NAME["refresh-dcs-reports"], date(2026, 3, 2), "test")
    assert run.succeeded and run.run.result > 0
    page = client.get("/reports/national").get_data(as_text=True)
    assert "Figures as of 2 March 2026 at 10:00am; they are added up again every hour" in page
    assert "seems not to be running" not in page

    # Cases recorded after the refresh wait for the next one; the page has said so.
    pat = make_user("pat@example.org", roles=(Role.PRACTITIONER,), service_id=country[0].id)
    outcome_rows(pat, [(18, 8)] * 20, region_code=REGIONS[0])
    db.session.commit()
    assert _rows(_csv(client.get("/reports/national?format=csv")))["All cases"]["Cases"] == before
    clock.tick(3 * 3600)
    assert "The hourly refresh seems not to be running" in client.get("/reports/national").get_data(as_text=True)

    assert jobs.run_job(BY_NAME["refresh-dcs-reports"], date(2026, 3, 2), "test").succeeded
    after = _rows(_csv(client.get("/reports/national?format=csv")))["All cases"]["Cases"]
    assert int(after) >= int(before) + 15  # 20 more cases, both figures rounded to 5
    assert db.session.scalar(select(func.count()).select_from(ReportRefresh)) == 1


def test_withdrawing_consent_takes_a_case_out_of_the_national_report_at_once(client, admin):
    tia = make_user("tia@example.org", roles=(Role.TRAINEE,), service_id=make_service("North").id)
    cases = outcome_rows(tia, [(18, 8)] * 10)
    refresh_report_cells()
    db.session.commit()
    client.login("admin@example.org")
    assert _rows(_csv(client.get("/reports/national?format=csv")))["All cases"]["Cases"] == "10"

    withdraw_dcs_consent(tia, cases[0])
    # Nine cases are still published as 10 (rounded to 5): the kept sums were dropped, and the report
    # worked out again holds nine.
    assert db.session.scalar(select(func.count()).select_from(ReportRefresh)) == 0
    report = reports.build_report(Scope(Level.NATIONAL), Filters(get_measure("PHQ-9"), reports.Breakdown.REGION))
    assert report.kept_at is None and report.total.cases == 9
    assert "Added up just now" in client.get("/reports/national").get_data(as_text=True)
