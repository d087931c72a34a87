"""DCS reports through the web: who sees which level, consent, disclosure control on pages and CSVs, filters."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from tests.factories import make_admin, make_service, make_user
from tests.report_factories import START, outcome_rows, record_case, region, withdraw_dcs_consent
from vigtrain.accounts.models import Role
from vigtrain.casework.models import CaseStatus, Population, Relationship
from vigtrain.casework.services import close_case, reopen_case
from vigtrain.extensions import db


@pytest.fixture
def people(app, clock):
    north = make_service("North Family Service", region_code="E12000003")
    south = make_service("South Parenting Team", region_code="E12000008")
    return {
        "north": north,
        "south": south,
        "tia": make_user("tia@example.org", roles=(Role.TRAINEE,), service_id=north.id),
        "pat": make_user("pat@example.org", roles=(Role.PRACTITIONER,), service_id=north.id),
        "sol": make_user("sol@example.org", roles=(Role.TRAINEE,), service_id=south.id),
        "lea": make_user("lea@example.org", roles=(Role.SERVICE_LEAD,), service_id=north.id),
        "sue": make_user("sue@example.org", roles=(Role.SUPERVISOR,)),
        "admin": make_admin(),
    }


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _rows(table: list[list[str]]) -> dict[str, dict[str, str]]:
    header, *rows = table
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rows}


# --- who sees what -------------------------------------------------------------------------------------


def test_a_trainee_sees_their_own_cases_and_their_own_service_only(client, people):
    north, south = people["north"], people["south"]
    client.login("tia@example.org")
    page = client.get("/reports")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Outcomes for your cases" in text and "North Family Service" in text
    assert "National report" not in text and "Research export" not in text
    assert client.get("/reports/practitioner").status_code == 200
    response = client.get("/reports/service")
    assert response.status_code == 302 and response.location.endswith(f"/reports/service/{north.id}")
    assert client.get(f"/reports/service/{north.id}").status_code == 200
    assert client.get(f"/reports/service/{south.id}").status_code == 404
    assert client.get(f"/reports/service?service={south.id}", follow_redirects=True).status_code == 404
    assert client.get("/reports/service/999999").status_code == 404
    assert client.get("/reports/national").status_code == 403
    assert client.get(f"/reports/region/{north.region_id}").status_code == 403
    assert client.get("/reports/export").status_code == 403
    assert client.get("/reports/export/dictionary.csv").status_code == 403
    assert client.get("/home").get_data(as_text=True).count('href="/reports"') == 1  # in the navigation


def test_a_service_lead_sees_their_service_report_and_nothing_else(client, people):
    client.login("lea@example.org")
    assert client.get(f"/reports/service/{people['north'].id}").status_code == 200
    assert client.get(f"/reports/service/{people['south'].id}").status_code == 404
    assert client.get("/reports/practitioner").status_code == 403  # keeps no cases
    assert client.get("/reports/national").status_code == 403


def test_someone_with_no_cases_and_no_service_has_no_reports(client, people):
    client.login("sue@example.org")
    assert client.get("/reports").status_code == 403
    response = client.get("/reports/service")
    assert response.status_code == 302 and response.location.endswith("/reports")
    assert 'href="/reports"' not in client.get("/home").get_data(as_text=True)


def test_an_administrator_sees_every_level(client, people):
    client.login("admin@example.org")
    text = client.get("/reports").get_data(as_text=True)
    assert "National report" in text and "Yorkshire and The Humber" in text and "South Parenting Team" in text
    response = client.get(f"/reports/service?service={people['south'].id}")
    assert response.location.endswith(f"/reports/service/{people['south'].id}")
    for path in (
        "/reports/national",
        f"/reports/region/{people['north'].region_id}",
        f"/reports/service/{people['south'].id}",
        "/reports/export",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/reports/region/999999").status_code == 404


def test_signing_in_is_needed(client, people):
    response = client.get("/reports/national")
    assert response.status_code == 302 and "/login" in response.location


# --- consent -----------------------------------------------------------------------------------------------


def test_a_case_without_dcs_consent_never_appears_at_any_level(client, people, sign_in):
    """The unconsented case is the only one in its population, so wherever it leaked it would show."""
    tia = people["tia"]
    for pre, post in [(18, 9), (15, 12), (20, 8), (12, 4), (16, 10), (19, 11), (14, 6), (17, 9), (13, 12)]:
        record_case(tia, pre, post)
    hidden = record_case(tia, 22, 21, consent=False, population=Population.CHILD_PROTECTION)
    label = "Child protection and safeguarding"
    client.login("tia@example.org")
    own = _rows(_csv(client.get("/reports/practitioner?format=csv")))
    assert own[label]["Cases"] == "0"
    assert own["All cases"]["Cases"] == "9"
    service = _rows(_csv(client.get(f"/reports/service/{people['north'].id}?format=csv")))
    assert service[label]["Cases"] == "0"
    client = sign_in("admin@example.org")
    for path in (
        "/reports/national?by=population&format=csv",
        f"/reports/region/{people['north'].region_id}?by=population&format=csv",
    ):
        rows = _rows(_csv(client.get(path)))
        assert rows[label]["Cases"] == "0", path
        assert rows["All cases"]["Cases"] == "10", path  # 9 rounded to the nearest 5
    assert hidden.code not in client.submit("/reports/export", {"measure": ""}, buffered=True).get_data(as_text=True)


def test_withdrawing_consent_takes_a_case_out_of_reports_at_once(client, people):
    tia = people["tia"]
    case = record_case(tia, 18, 9)
    client.login("tia@example.org")
    assert _rows(_csv(client.get("/reports/practitioner?format=csv")))["All cases"]["Cases"] == "1"
    withdraw_dcs_consent(tia, case)
    assert _rows(_csv(client.get("/reports/practitioner?format=csv")))["All cases"]["Cases"] == "0"


# --- figures and disclosure control ---------------------------------------------------------------------


def test_the_practitioners_report_is_exact_and_explained(client, people):
    tia = people["tia"]
    for pre, post in [(18, 9), (12, 8), (10, 17), (5, 3)]:
        record_case(tia, pre, post)
    record_case(tia, 15, None)
    client.login("tia@example.org")
    page = client.get("/reports/practitioner")
    text = page.get_data(as_text=True)
    assert "The score fell by 6 points or more" in text
    assert "started in the clinical range (10 or more)" in text
    assert '<svg class="app-chart"' in text and "style=" not in text
    total = _rows(_csv(client.get("/reports/practitioner?format=csv")))["All cases"]
    assert total["Cases"] == "5"
    assert total["With pre and post (%)"] == "80"
    assert total["Mean before"] == "11.2"  # 45 / 4 = 11.25, two decimal places shown to one
    assert total["Mean after"] == "9.2"
    assert total["Reliable improvement (%)"] == "25"
    assert total["No reliable change (%)"] == "50"
    assert total["Reliable deterioration (%)"] == "25"
    assert total["Recovery (%)"] == "67"
    assert total["Reliable recovery (%)"] == "33"
    assert float(total["Effect size"]) > 0


def test_suppression_holds_on_every_figure_of_the_page_and_the_csv(client, people, sign_in):
    """3 cases in one population (withheld), 12 in another (withheld to protect it), 20 with only 5 paired."""
    pat = people["pat"]
    outcome_rows(pat, [(18, 8)] * 3, population=Population.PERINATAL)
    outcome_rows(pat, [(16, 9)] * 12, population=Population.EDUCATION)
    outcome_rows(pat, [(15, 6)] * 5 + [(14, None)] * 15, population=Population.EARLY_YEARS)
    client.login("tia@example.org")
    url = f"/reports/service/{people['north'].id}"
    rows = _rows(_csv(client.get(url + "?format=csv")))
    for label in ("Perinatal mental health", "Schools and education"):
        assert set(rows[label].values()) == {"*"}, label
    early = rows["Early years and health visiting"]
    assert early["Cases"] == "20"
    assert early["With pre and post"] == early["With pre and post (%)"] == "*"  # 5 paired, and its share
    assert early["Mean before"] == early["Reliable improvement (%)"] == early["Effect size"] == "*"
    total = rows["All cases"]
    assert total["Cases"] == "35"
    assert total["Mean before"] not in ("*", "") and total["Recovery (%)"] == "100"
    assert rows["Other"]["Cases"] == "0"
    page = client.get(url).get_data(as_text=True)
    assert "* means the figure is withheld to protect anonymity" in page and ">*</td>" in page
    assert ">3<" not in page and ">12<" not in page and ">15.0<" not in page

    client = sign_in("pat@example.org")  # the practitioner's own report of the same cases is exact
    own = _rows(_csv(client.get("/reports/practitioner?format=csv")))
    assert own["Perinatal mental health"]["Cases"] == "3"
    assert own["Schools and education"]["Cases"] == "12"
    assert own["All cases"]["Cases"] == "35"


def test_the_breakdown_goes_when_it_would_narrow_the_headline(client, people):
    """Nine services with a case each: nine *s, each at least 1, would say the "10" is at least 9."""
    admin = people["admin"]
    for number in range(9):
        service = make_service(f"Tiny service {number}", region_code="E12000001")
        outcome_rows(people["pat"], [(15, 5)], service_id=service.id, region_code="E12000001")
    client.login(admin.email)
    url = f"/reports/region/{region('E12000001').id}"
    rows = _rows(_csv(client.get(url + "?format=csv")))
    assert list(rows) == ["All cases"] and rows["All cases"]["Cases"] == "10"
    assert "These figures are not broken down by service" in client.get(url).get_data(as_text=True)


def test_national_report_breaks_down_by_region(client, people):
    outcome_rows(people["pat"], [(18, 8)] * 9, region_code="E12000003")
    outcome_rows(people["sol"], [(16, 12)] * 30, region_code="E12000008")
    client.login("admin@example.org")
    page = client.get("/reports/national")
    assert page.status_code == 200
    rows = _rows(_csv(client.get("/reports/national?format=csv")))
    assert rows["Yorkshire and The Humber"]["Cases"] == "10"
    assert rows["South East"]["Cases"] == "30"
    assert rows["London"]["Cases"] == "0"
    assert rows["All cases"]["Cases"] == "40"
    regional = _rows(_csv(client.get(f"/reports/region/{region('E12000008').id}?format=csv")))
    assert regional["South Parenting Team"]["Cases"] == "30"
    assert "North Family Service" not in regional  # based elsewhere and with no cases here
    assert "No service recorded" not in regional


# --- filters ---------------------------------------------------------------------------------------------------


def test_filters_narrow_the_practitioners_own_cases(client, people):
    pat = people["pat"]
    outcome_rows(pat, [(18, 8)] * 10, population=Population.PERINATAL, stage_number=1, pre_on=date(2025, 6, 1))
    outcome_rows(pat, [(18, 8)] * 20, relationship=Relationship.EDUCATION, pre_on=date(2026, 1, 10))
    outcome_rows(pat, [(12, 10)] * 3, measure="GAD-7")
    client.login(pat.email)

    def total(query: str) -> str:
        return _rows(_csv(client.get(f"/reports/practitioner?format=csv&{query}")))["All cases"]["Cases"]

    assert total("") == "30"
    assert total("population=perinatal") == "10"
    assert total("relationship=education") == "20"
    assert total("stage=1") == "10"
    assert total("stage=none") == "20"
    assert total("pre_from=1&pre_from=1&pre_from=2026") == "20"
    assert total("pre_to=31&pre_to=12&pre_to=2025") == "10"
    assert total("measure=GAD-7") == "3"
    by_stage = _rows(_csv(client.get("/reports/practitioner?format=csv&by=stage")))
    assert by_stage["Stage 1"]["Cases"] == "10" and by_stage["Not in training (accredited)"]["Cases"] == "20"


def test_reports_above_the_practitioner_are_broken_down_not_filtered(client, people):
    """A filter would make each page a slice of a larger table whose other slices are other pages."""
    outcome_rows(people["pat"], [(18, 8)] * 10, population=Population.PERINATAL, stage_number=1)
    outcome_rows(people["pat"], [(18, 8)] * 20, relationship=Relationship.EDUCATION)
    client.login("admin@example.org")
    for url in (
        "/reports/national",
        f"/reports/region/{region('E12000001').id}",
        f"/reports/service/{people['north'].id}",
    ):
        page = client.get(url + "?population=perinatal&stage=1&pre_from=1&pre_from=1&pre_from=2026")
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert 'name="population"' not in text and 'name="pre_from"' not in text and "Filter the cases" not in text
    rows = _rows(_csv(client.get("/reports/national?format=csv&population=perinatal")))
    assert rows["All cases"]["Cases"] == "30"  # the filter is not applied
    by_stage = _rows(_csv(client.get("/reports/national?format=csv&by=stage")))
    assert by_stage["Stage 1"]["Cases"] == "10" and by_stage["Not in training (accredited)"]["Cases"] == "20"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("measure=NOPE", "measure", "Select a measure from the list"),
        ("population=aliens", "population", "Select a population from the list"),
        ("relationship=x", "relationship", "Select a relationship from the list"),
        ("stage=9", "stage", "Select a stage from the list"),
        ("by=practitioner", "by", "Select a breakdown from the list"),
        ("pre_from=31&pre_from=2&pre_from=2026", "pre_from", "The first date must be a real date"),
        ("pre_from=1&pre_from=&pre_from=2026", "pre_from", "The first date must include a month"),
        (
            "pre_from=1&pre_from=3&pre_from=2026&pre_to=1&pre_to=2&pre_to=2026",
            "pre_to",
            "The last date must be the same as or after the first date",
        ),
    ],
)
def test_bad_filters_get_a_message_beside_the_field(client, people, query, field, message):
    client.login("pat@example.org")
    for url in (f"/reports/practitioner?{query}", f"/reports/practitioner?{query}&format=csv"):
        response = client.get(url)
        assert response.status_code == 422, url
        text = response.get_data(as_text=True)
        assert message in text and f'href="#{field}"' in text
        assert "Correct the filters above to see the report" in text


def test_a_breakdown_a_level_does_not_offer_is_refused(client, people, sign_in):
    client.login("tia@example.org")
    response = client.get(f"/reports/service/{people['north'].id}?by=region")
    assert response.status_code == 422
    assert "Select a breakdown from the list" in response.get_data(as_text=True)
    assert sign_in("admin@example.org").get("/reports/national?by=service").status_code == 422


def test_an_unknown_output_format_is_a_bad_request(client, people):
    client.login("tia@example.org")
    assert client.get("/reports/practitioner?format=xlsx").status_code == 400


def test_reports_show_how_complete_closed_cases_are_and_closing_a_case_counts_at_once(client, people, sign_in):
    pat = people["pat"]
    outcome_rows(pat, [(18, 8)] * 12 + [(17, None)] * 3, status=CaseStatus.COMPLETED)
    outcome_rows(pat, [(16, None)] * 6)
    open_case = outcome_rows(pat, [(15, 5)] * 9)
    client.login("pat@example.org")
    own = _rows(_csv(client.get("/reports/practitioner?format=csv")))["All cases"]
    assert (own["Closed cases"], own["Closed with pre and post"], own["Closed with pre and post (%)"]) == (
        "15",
        "12",
        "80",
    )
    assert own["With pre and post (%)"] == "70"  # 21 of 30, open cases included
    page = client.get("/reports/practitioner").get_data(as_text=True)
    assert "Closed with pre and post" in page and "80% (12 of 15)" in page
    service = _rows(_csv(sign_in("tia@example.org").get(f"/reports/service/{people['north'].id}?format=csv")))
    assert service["All cases"]["Closed cases"] == "15" and service["All cases"]["Closed with pre and post"] == "10"
    assert service["All cases"]["Closed with pre and post (%)"] == "67"  # 10 of 15, as published

    # Closing a case through the service moves it into the closed figures straight away.
    close_case(pat, open_case[0], CaseStatus.COMPLETED, START, None, None, START)
    db.session.commit()
    own = _rows(_csv(client.get("/reports/practitioner?format=csv")))["All cases"]
    assert (own["Closed cases"], own["Closed with pre and post"]) == ("16", "13")
    reopen_case(pat, open_case[0])
    db.session.commit()
    assert _rows(_csv(client.get("/reports/practitioner?format=csv")))["All cases"]["Closed cases"] == "15"
