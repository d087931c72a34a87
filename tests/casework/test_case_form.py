"""The case form, built for a phone: short selects instead of long lists of radios, each consent its own
yes-or-no question, every mistake beside its field with nothing saved, and one case however often it is sent."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import (
    AGE_BAND_LABELS,
    POPULATION_LABELS,
    RELATIONSHIP_LABELS,
    AgeBand,
    Case,
    Population,
    Relationship,
)
from vigtrain.extensions import db
from vigtrain.organisations.models import Region

CONSENTS = ("filming", "supervision", "dcs")


def _region(code: str = "E12000003") -> Region:
    return db.session.scalar(select(Region).where(Region.code == code))


def _cases() -> list[Case]:
    db.session.expire_all()
    return list(db.session.scalars(select(Case)))


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("case.%")))


def _answers(*given: str, **fields) -> dict:
    """A whole, valid form (the clock says 2 March 2026): yes for each consent named, no for the rest."""
    answers = {
        "relationship_type": "foster_or_adoptive",
        "child_age_band": "5-10y",
        "population": "looked_after",
        "region": str(_region().id),
        "started_on": ["5", "1", "2026"],
        "consented_on": ["6", "1", "2026"],
        **{f"consent_{name}": "yes" if name in given else "no" for name in CONSENTS},
    }
    answers.update(fields)
    return {name: value for name, value in answers.items() if value is not None}


def _error_beside(html: str, field_id: str, message: str) -> bool:
    """The GOV.UK error message inside the field's own group, and the control described by it."""
    shown = re.search(
        rf'id="{field_id}-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>\s*{re.escape(message)}', html
    )
    described = re.search(rf'aria-describedby="[^"]*\b{field_id}-error\b', html)
    return shown is not None and described is not None


@pytest.fixture
def pat(client, app, clock):
    service = make_service("Riverside Family Service", region_code="E12000007")
    user = make_user("pat@example.org", roles=(Role.PRACTITIONER,), name="Pat Practitioner", service_id=service.id)
    client.login("pat@example.org")
    return user


# --- the page ------------------------------------------------------------------------------------


def test_the_long_lists_are_selects_that_choose_nothing_for_the_practitioner(client, pat):
    html = client.get("/cases/new").text
    for name, labels in (
        ("relationship_type", RELATIONSHIP_LABELS),
        ("child_age_band", AGE_BAND_LABELS),
        ("population", POPULATION_LABELS),
    ):
        select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
        # The empty option comes first and nothing is selected, so the phone shows "Choose ..."
        assert re.search(r'<select[^>]*>\s*<option value="">Choose', select_html), name
        assert "selected" not in select_html, name
        for value, label in labels.items():
            assert f'<option value="{value.value}">{label}</option>' in select_html
    assert 'type="radio" name="relationship_type"' not in html


def test_the_new_form_defaults_to_the_service_region_and_today_and_asks_each_consent(client, pat):
    html = client.get("/cases/new").text
    london = _region("E12000007")
    assert re.search(rf'<option value="{london.id}" selected', html)
    for part, value in (("day", "2"), ("month", "3"), ("year", "2026")):
        assert re.search(rf'name="started_on"[^>]*value="{value}"|value="{value}"[^>]*name="started_on"', html), part
    for name in CONSENTS:
        assert html.count(f'name="consent_{name}"') == 2  # its own yes and no
    assert "checked" not in html  # no consent answered for the practitioner
    assert re.search(
        r'<input[^>]*name="submission_key"[^>]*type="hidden"|type="hidden"[^>]*name="submission_key"', html
    )


# --- every mistake beside its field, a 4xx, nothing saved -----------------------------------------


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"relationship_type": None}, "relationship_type", "Select who the guidance is for"),
        ({"relationship_type": "wizard"}, "relationship_type", "Select who the guidance is for from the list"),
        ({"child_age_band": ""}, "child_age_band", "Select the age of the child or young person"),
        ({"child_age_band": "1990-01-01"}, "child_age_band", "Select an age band from the list"),
        ({"population": ""}, "population", "Select the area of work"),
        ({"population": "x"}, "population", "Select an area of work from the list"),
        ({"region": ""}, "region", "Select the region or nation"),
        ({"region": "99999"}, "region", "Select a region or nation from the list"),
        ({"started_on": ["", "", ""]}, "started_on-date", "Enter the start date"),
        ({"started_on": ["31", "2", "2026"]}, "started_on-date", "The start date must be a real date"),
        ({"started_on": ["1", "4", "2026"]}, "started_on-date", "The start date must be today or in the past"),
        ({"consent_filming": None}, "consent_filming", "Select yes or no for consent to filming"),
        (
            {"consent_supervision": "maybe"},
            "consent_supervision",
            "Select yes or no for consent to clips being shown in supervision",
        ),
        ({"consent_dcs": ""}, "consent_dcs", "Select yes or no for consent to sharing outcome data"),
        (
            {"consent_dcs": "yes", "consented_on": ["", "", ""]},
            "consented_on-date",
            "Enter the date consent was given",
        ),
        (
            {"consent_filming": "yes", "consented_on": ["6", "", "2026"]},
            "consented_on-date",
            "The date consent was given must include a month",
        ),
        (
            {"consent_filming": "yes", "consented_on": ["1", "4", "2026"]},
            "consented_on-date",
            "The date consent was given must be today or in the past",
        ),
    ],
)
def test_each_mistake_is_shown_beside_its_field_and_nothing_is_saved(client, pat, fields, field_id, message):
    before = _audit_count()
    response = client.submit("/cases/new", _answers(**fields))
    assert response.status_code == 422
    assert _error_beside(response.text, field_id, message)
    assert f'href="#{field_id.removesuffix("-date")}"' in response.text  # the summary links to it
    assert _cases() == [] and _audit_count() == before


def test_every_mistake_is_shown_at_once(client, pat):
    response = client.submit("/cases/new", {"region": ""})
    assert response.status_code == 422
    for field_id in ("relationship_type", "child_age_band", "population", "region", "started_on-date"):
        assert f'id="{field_id}-error"' in response.text
    for name in CONSENTS:
        assert f'id="consent_{name}-error"' in response.text
    assert _cases() == []


# --- a valid case ------------------------------------------------------------------------------------


def test_a_valid_case_is_saved_with_every_answer(client, pat):
    response = client.submit("/cases/new", _answers("filming", "dcs"))
    (case,) = _cases()
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.code}"
    assert case.practitioner_id == pat.id and case.service_id == pat.service_id
    assert case.relationship_type is Relationship.FOSTER_OR_ADOPTIVE
    assert case.child_age_band is AgeBand.FIVE_TO_10
    assert case.population is Population.LOOKED_AFTER
    assert case.region.code == "E12000003"
    assert case.started_on == date(2026, 1, 5)
    assert (case.consent_filming, case.consent_filming_on) == (True, date(2026, 1, 6))
    assert (case.consent_supervision, case.consent_supervision_on) == (False, None)
    assert (case.consent_dcs, case.consent_dcs_on) == (True, date(2026, 1, 6))


def test_sent_twice_with_the_same_page_the_case_is_added_once(client, pat):
    page = client.get("/cases/new").text
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="submission_key"', page)
    answers = _answers("filming", submission_key=key.group(1) or key.group(2))
    first = client.submit("/cases/new", answers)
    again = client.submit("/cases/new", answers)
    (case,) = _cases()
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"] == f"/cases/{case.code}"


# --- each consent explicit -------------------------------------------------------------------------


@pytest.mark.parametrize("given", CONSENTS)
def test_each_consent_is_recorded_on_its_own(client, pat, given):
    assert client.submit("/cases/new", _answers(given)).status_code == 302
    (case,) = _cases()
    for name in CONSENTS:
        expected = (True, date(2026, 1, 6)) if name == given else (False, None)
        assert (getattr(case, f"consent_{name}"), getattr(case, f"consent_{name}_on")) == expected, name


def test_no_to_every_consent_needs_no_date_and_records_none(client, pat):
    assert client.submit("/cases/new", _answers(consented_on=["", "", ""])).status_code == 302
    (case,) = _cases()
    assert not (case.consent_filming or case.consent_supervision or case.consent_dcs)
    assert case.consent_filming_on is case.consent_supervision_on is case.consent_dcs_on is None


def test_a_date_without_a_yes_records_no_consent(client, pat):
    assert client.submit("/cases/new", _answers()).status_code == 302
    (case,) = _cases()
    assert not (case.consent_filming or case.consent_supervision or case.consent_dcs)


# --- changing a case uses the same fields ----------------------------------------------------------


@pytest.fixture
def case(client, pat) -> Case:
    client.submit("/cases/new", _answers("filming", "supervision", consented_on=["5", "1", "2026"]))
    (created,) = _cases()
    return created


def test_the_change_form_shows_each_answer_and_each_consent_held_with_its_date(client, case):
    html = client.get(f"/cases/{case.code}/edit").text
    for name, value in (("relationship_type", "foster_or_adoptive"), ("child_age_band", "5-10y")):
        select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
        assert f'<option value="{value}" selected>' in select_html
    for name, answer in (("filming", "yes"), ("supervision", "yes"), ("dcs", "no")):
        assert re.search(rf'name="consent_{name}" type="radio" value="{answer}" checked', html), name
    assert html.count("Given on 5 January 2026") == 2
    assert 'name="submission_key"' not in html


def test_changing_a_case_records_a_new_consent_with_its_date_and_keeps_the_others(client, case):
    answers = _answers("filming", "supervision", "dcs", population="perinatal", consented_on=["1", "3", "2026"])
    response = client.submit(f"/cases/{case.code}/edit", answers)
    assert response.status_code == 302
    (case,) = _cases()
    assert case.population is Population.PERINATAL
    assert case.consent_filming_on == case.consent_supervision_on == date(2026, 1, 5)
    assert case.consent_dcs_on == date(2026, 3, 1)


def test_changing_a_case_refuses_a_new_consent_without_its_date_and_changes_nothing(client, case):
    before = _audit_count()
    answers = _answers("filming", "supervision", "dcs", population="perinatal", consented_on=["", "", ""])
    response = client.submit(f"/cases/{case.code}/edit", answers)
    assert response.status_code == 422
    assert _error_beside(response.text, "consented_on-date", "Enter the date consent was given")
    (case,) = _cases()
    assert not case.consent_dcs and case.population is Population.LOOKED_AFTER
    assert _audit_count() == before


def test_changing_a_case_to_no_withdraws_that_consent_only(client, case):
    response = client.submit(f"/cases/{case.code}/edit", _answers("filming", consented_on=["", "", ""]))
    assert response.status_code == 302
    (case,) = _cases()
    assert (case.consent_filming, case.consent_filming_on) == (True, date(2026, 1, 5))
    assert (case.consent_supervision, case.consent_supervision_on) == (False, None)
