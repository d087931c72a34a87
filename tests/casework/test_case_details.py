"""A case's consents, dates and status: recorded with dates, screened, audited, and copied to its outcomes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case, CaseStatus, Cycle
from vigtrain.dcs import services
from vigtrain.dcs.models import CaseOutcome, Timepoint
from vigtrain.extensions import db
from vigtrain.organisations.models import Region

CASE = {
    "relationship_type": "parent_child",
    "child_age_band": "3-4y",
    "population": "early_years",
    "started_on": ["5", "1", "2026"],
}


def consents(*given: str) -> dict[str, str]:
    """The three consent questions answered: yes for each consent named, no for the rest."""
    return {f"consent_{name}": "yes" if name in given else "no" for name in ("filming", "supervision", "dcs")}


def _region() -> Region:
    return db.session.scalar(select(Region).where(Region.code == "E12000003"))


def _cases() -> list[Case]:
    db.session.expire_all()
    return list(db.session.scalars(select(Case)))


@pytest.fixture
def signed_in(client, app, clock):
    service = make_service("Riverside Family Service", region_code="E12000007")
    make_user("pat@example.org", roles=(Role.PRACTITIONER,), name="Pat Practitioner", service_id=service.id)
    client.login("pat@example.org")
    return client


def _create(client, given: tuple[str, ...] = (), **fields):
    return client.submit("/cases/new", {**CASE, **consents(*given), "region": str(_region().id), **fields})


def test_consents_are_recorded_with_their_date(signed_in):
    response = _create(signed_in, ("filming", "dcs"), consented_on=["6", "1", "2026"])
    assert response.status_code == 302
    (case,) = _cases()
    assert case.started_on == date(2026, 1, 5) and case.status is CaseStatus.OPEN
    assert (case.consent_filming, case.consent_filming_on) == (True, date(2026, 1, 6))
    assert (case.consent_supervision, case.consent_supervision_on) == (False, None)
    assert (case.consent_dcs, case.consent_dcs_on) == (True, date(2026, 1, 6))
    page = signed_in.get(response.headers["Location"])
    assert "Yes, given 6 January 2026" in page.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (consents("dcs"), "Enter the date consent was given"),
        ({**consents("dcs"), "consented_on": ["1", "4", "2026"]}, "must be today or in the past"),
        ({"started_on": ["1", "4", "2026"]}, "The start date must be today or in the past"),
        ({"started_on": ["", "", ""]}, "Enter the start date"),
        ({"consent_dcs": "maybe", "consented_on": ["6", "1", "2026"]}, "Select yes or no for consent to sharing"),
    ],
)
def test_bad_dates_and_consents_are_refused_and_nothing_is_saved(signed_in, fields, message):
    response = _create(signed_in, **fields)
    assert response.status_code == 422
    assert message in response.text
    assert _cases() == []


def _case_with_outcome(client) -> Case:
    _create(client, ("filming", "supervision", "dcs"), consented_on=["5", "1", "2026"])
    (case,) = _cases()
    user = case.practitioner
    services.record_administration(
        user, case, "PHQ-9", Timepoint.PRE, date(2026, 1, 6), dict.fromkeys("123456789", 1), date(2026, 3, 2)
    )
    db.session.commit()
    return case


def _edit(client, case: Case, given: tuple[str, ...] = (), **fields):
    data = {**CASE, **consents(*given), "region": str(case.region_id), **fields}
    return client.submit(f"/cases/{case.code}/edit", data)


def test_withdrawing_dcs_consent_takes_the_case_out_of_reports_at_once(signed_in):
    case = _case_with_outcome(signed_in)
    outcome = db.session.scalar(select(CaseOutcome))
    assert outcome.consent_dcs is True
    response = _edit(signed_in, case, ("filming", "supervision"), population="perinatal")
    assert response.status_code == 302
    db.session.expire_all()
    outcome = db.session.scalar(select(CaseOutcome))
    assert outcome.consent_dcs is False and outcome.population.value == "perinatal"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.updated"))
    assert event.before["consent_dcs"] is True and event.after["consent_dcs"] is False


def test_a_consent_already_held_keeps_the_date_it_was_given(signed_in):
    case = _case_with_outcome(signed_in)
    response = _edit(signed_in, case, ("filming", "supervision", "dcs"), consented_on=["1", "3", "2026"])
    assert response.status_code == 302
    (case,) = _cases()
    assert case.consent_dcs_on == date(2026, 1, 5)


def test_the_start_cannot_move_after_the_first_measure(signed_in):
    case = _case_with_outcome(signed_in)
    response = _edit(signed_in, case, ("dcs",), started_on=["10", "1", "2026"])
    assert response.status_code == 422 and "on or before the first filming or outcome measure" in response.text
    (case,) = _cases()
    assert case.started_on == date(2026, 1, 5) and case.consent_filming


def _close(client, case: Case, **fields):
    data = {"status": "ended_early", "ended_on": ["20", "2", "2026"], "end_reason": "client_moved", **fields}
    return client.submit(f"/cases/{case.code}/close", data)


@pytest.mark.parametrize(
    ("note", "found"),
    [
        ("Mum said email her at jo.bloggs@example.com", "email"),
        ("Call 07700 900123 if needed", "phone"),
        ("NHS 943 476 5919 on the referral", "NHS number"),
        ("They moved to LS1 4AP last week", "postcode"),
        ("Baby born 14/03/2025", "date"),
    ],
)
def test_an_identifying_end_note_is_refused_and_the_case_stays_open(signed_in, note, found):
    case = _case_with_outcome(signed_in)
    response = _close(signed_in, case, end_note=note)
    assert response.status_code == 422
    assert found in response.text
    (case,) = _cases()
    assert case.status is CaseStatus.OPEN and case.end_note is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"end_reason": ""}, "Select why the work ended early"),
        ({"ended_on": ["1", "1", "2026"]}, "on or after the start"),
        ({"ended_on": ["5", "1", "2026"]}, "on or after the last outcome measure"),
        ({"ended_on": ["1", "4", "2026"]}, "today or in the past"),
        ({"status": "paused"}, "Select how the work ended from the list"),
        ({"end_reason": "boredom"}, "Select a reason from the list"),
    ],
)
def test_closing_needs_a_sensible_end(signed_in, fields, message):
    case = _case_with_outcome(signed_in)
    response = _close(signed_in, case, **fields)
    assert response.status_code == 422 and message in response.text
    (case,) = _cases()
    assert case.status is CaseStatus.OPEN


def test_closing_and_reopening_a_case(signed_in):
    case = _case_with_outcome(signed_in)
    assert _close(signed_in, case, end_note="Family moved away for work.").status_code == 302
    (case,) = _cases()
    assert case.status is CaseStatus.ENDED_EARLY and case.ended_on == date(2026, 2, 20)
    page = signed_in.get(f"/cases/{case.code}")
    assert "Ended early" in page.text and "The client moved out of the area" in page.text
    # a post measure after the end is refused; a follow-up is fine
    late = signed_in.submit(
        f"/cases/{case.code}/measures/PHQ-9/post",
        {**{f"item_{n}": "0" for n in range(1, 10)}, "administered_on": ["25", "2", "2026"]},
    )
    assert late.status_code == 422 and "Record measures after the end as follow-up" in late.text
    assert signed_in.submit(f"/cases/{case.code}/reopen", {}, page=f"/cases/{case.code}").status_code == 302
    (case,) = _cases()
    assert case.status is CaseStatus.OPEN and case.ended_on is None and case.end_reason is None
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "Case")).all()
    assert {"case.created", "case.closed", "case.reopened"} <= set(actions)


def test_completed_cases_need_no_reason(signed_in):
    case = _case_with_outcome(signed_in)
    response = _close(signed_in, case, status="completed", end_reason="")
    assert response.status_code == 302
    (case,) = _cases()
    assert case.status is CaseStatus.COMPLETED and case.end_reason is None


def test_someone_elses_case_cannot_be_changed(signed_in, client):
    case = _case_with_outcome(signed_in)
    client.submit("/logout", {}, page="/home")
    make_user("other@example.org", roles=(Role.PRACTITIONER,))
    client.login("other@example.org")
    assert client.get(f"/cases/{case.code}/edit").status_code == 404
    assert client.get(f"/cases/{case.code}/close").status_code == 404
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.updated")) == 0
    )


# --- cycles need the case to be open, consent to filming, and dates inside the case ------------------


def _cycle(client, case: Case, filmed=("12", "1", "2026"), reviewed=("19", "1", "2026")):
    data = {"filmed_on": list(filmed), "shared_review_on": list(reviewed), "clips_count": "3", "principles": []}
    return client.submit(f"/cases/{case.code}/cycles/new", data)


def _cycle_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Cycle))


@pytest.mark.parametrize(
    ("given", "filmed", "message"),
    [
        (("supervision", "dcs"), ("12", "1", "2026"), "The client has not consented to filming"),
        (("filming",), ("2", "1", "2026"), "on or after the case started (5 January 2026)"),
        (("filming",), ("6", "1", "2026"), "on or after consent to filming was given (8 January 2026)"),
    ],
)
def test_a_cycle_needs_consent_to_filming_and_a_date_inside_the_case(signed_in, given, filmed, message):
    _create(signed_in, given, consented_on=["8", "1", "2026"])
    (case,) = _cases()
    response = _cycle(signed_in, case, filmed=filmed)
    assert response.status_code == 422 and message in response.text
    assert _cycle_count() == 0
    assert _cycle(signed_in, case, filmed=("8", "1", "2026")).status_code == (302 if "filming" in given else 422)


def test_a_closed_case_takes_no_new_cycles_until_it_is_reopened(signed_in):
    case = _case_with_outcome(signed_in)
    assert _close(signed_in, case).status_code == 302
    response = _cycle(signed_in, case)
    assert (
        response.status_code == 422 and "This case is closed (ended early): reopen it to add a cycle" in response.text
    )
    assert _cycle_count() == 0
    assert signed_in.submit(f"/cases/{case.code}/reopen", {}, page=f"/cases/{case.code}").status_code == 302
    assert _cycle(signed_in, case).status_code == 302 and _cycle_count() == 1


def test_the_start_cannot_move_after_the_first_filming(signed_in):
    _create(signed_in, ("filming",), consented_on=["5", "1", "2026"])
    (case,) = _cases()
    assert _cycle(signed_in, case, filmed=("7", "1", "2026")).status_code == 302
    response = _edit(signed_in, case, ("filming",), started_on=["8", "1", "2026"])
    assert response.status_code == 422
    assert "on or before the first filming or outcome measure (7 January 2026)" in response.text
    (case,) = _cases()
    assert case.started_on == date(2026, 1, 5)
