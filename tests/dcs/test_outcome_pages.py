"""Recording outcome measures on a case: validation, scoring, change, risk alerts and who may see what."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import load_pathways, make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import AgeBand, Case, Population, Relationship
from vigtrain.casework.services import Consents, create_case
from vigtrain.dcs import services
from vigtrain.dcs.models import Administration, CaseOutcome, Timepoint
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.organisations.models import Region
from vigtrain.pathways.definitions import DATA_DIR
from vigtrain.training.progress import progress_for

START = date(2026, 1, 5)


def _administrations() -> int:
    return db.session.scalar(select(func.count()).select_from(Administration))


def _outcome(case: Case, code: str = "PHQ-9") -> CaseOutcome | None:
    db.session.expire_all()
    return db.session.scalar(
        select(CaseOutcome).where(CaseOutcome.case_id == case.id, CaseOutcome.measure_code == code)
    )


def _phq9(*answers: int, on: date = date(2026, 1, 6)) -> dict:
    data = {f"item_{number}": str(value) for number, value in enumerate(answers, start=1) if value is not None}
    data["administered_on"] = [str(on.day), str(on.month), str(on.year)]
    return data


@pytest.fixture
def people(app, clock):
    load_pathways()
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee")
    other = make_user("oli@example.org", roles=(Role.TRAINEE,), name="Oli Other")
    make_enrolment(trainee, supervisor, start=date(2025, 11, 1))
    db.session.commit()
    return {"supervisor": supervisor, "trainee": trainee, "other": other}


@pytest.fixture
def case(people):
    region = db.session.scalar(select(Region).where(Region.code == "E12000003"))
    created = create_case(
        people["trainee"],
        Relationship.PARENT_CHILD,
        AgeBand.THREE_TO_4,
        Population.EARLY_YEARS,
        region,
        START,
        Consents(filming=START, supervision=START, dcs=START),
    )
    db.session.commit()
    return created


@pytest.fixture
def trainee_client(client, people):
    client.login("tia@example.org")
    return client


def _entry(case: Case, measure: str = "PHQ-9", timepoint: str = "pre") -> str:
    return f"/cases/{case.code}/measures/{measure}/{timepoint}"


def test_choosing_a_measure_leads_to_its_entry_screen(trainee_client, case):
    page = trainee_client.get(f"/cases/{case.code}/measures/new")
    assert page.status_code == 200 and "PHQ-9" in page.text and "Goal Based Outcomes" in page.text
    response = trainee_client.submit(f"/cases/{case.code}/measures/new", {"measure": "PHQ-9", "timepoint": "pre"})
    assert response.status_code == 302 and response.headers["Location"].endswith(_entry(case))
    refused = trainee_client.submit(f"/cases/{case.code}/measures/new", {"measure": "SDQ", "timepoint": "pre"})
    assert refused.status_code == 422 and "Select a measure from the list" in refused.text
    missing = trainee_client.submit(f"/cases/{case.code}/measures/new", {"measure": "PHQ-9"})
    assert missing.status_code == 422 and "Select when in the work the measure is" in missing.text


def _chosen_timepoint(client, case: Case) -> str | None:
    html = client.get(f"/cases/{case.code}/measures/new").text
    found = re.search(r'name="timepoint" type="radio" value="([a-z_]+)" checked', html)
    return found.group(1) if found else None


def test_the_timepoint_likely_next_is_chosen_already(trainee_client, people, case):
    assert _chosen_timepoint(trainee_client, case) == "pre"  # nothing recorded yet
    trainee = people["trainee"]
    today = date(2026, 3, 2)
    services.record_administration(trainee, case, "PHQ-9", Timepoint.PRE, START, dict.fromkeys("123456789", 1), today)
    db.session.commit()
    assert _chosen_timepoint(trainee_client, case) == "post"  # every measure has its pre, one lacks its post
    services.record_administration(trainee, case, "PHQ-9", Timepoint.POST, START, dict.fromkeys("123456789", 0), today)
    db.session.commit()
    assert _chosen_timepoint(trainee_client, case) is None  # nothing obvious: the practitioner says


def test_entry_screen_shows_every_item_with_progress(trainee_client, case):
    page = trainee_client.get(_entry(case))
    assert page.status_code == 200
    assert "Question 1 of 9" in page.text and "Question 9 of 9" in page.text
    assert 'name="item_9"' in page.text and "data-measure-entry" in page.text


def test_a_complete_phq9_is_scored_banded_and_kept(trainee_client, case):
    response = trainee_client.submit(_entry(case), _phq9(2, 2, 2, 2, 2, 2, 2, 2, 0))
    assert response.status_code == 302
    administration = db.session.scalar(select(Administration))
    assert administration.total == 16 and administration.band and "severe" in administration.band.lower()
    assert administration.responses == {str(n): (2 if n < 9 else 0) for n in range(1, 10)}
    page = trainee_client.get(response.headers["Location"])
    assert "16" in page.text and administration.band in page.text
    assert "data-measure-saved" in page.text  # tells the browser to forget the draft answers
    outcome = _outcome(case)
    assert outcome.pre == 16 and outcome.post is None and outcome.consent_dcs is True


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_phq9(1, 1, 1, 1, 1, None, 1, 1, 0), "6"),  # PHQ-9 refuses a missing item, naming it
        (_phq9(1, 1, 1, 1, 1, 1, 1, 1, 7), "Choose one of the answers shown for question 9"),
        (_phq9(1, 1, 1, 1, 1, 1, 1, 1, 0, on=date(2026, 4, 1)), "today or in the past"),
        (_phq9(1, 1, 1, 1, 1, 1, 1, 1, 0, on=date(2025, 12, 1)), "on or after the case started"),
        ({**_phq9(1, 1, 1, 1, 1, 1, 1, 1, 0), "administered_on": ["31", "2", "2026"]}, "must be a real date"),
    ],
)
def test_bad_answers_or_dates_are_refused_and_nothing_is_saved(trainee_client, case, data, message):
    response = trainee_client.submit(_entry(case), data)
    assert response.status_code == 422
    assert message in response.text
    assert _administrations() == 0 and _outcome(case) is None


def test_post_before_pre_and_duplicates_are_refused(trainee_client, case):
    trainee_client.submit(_entry(case), _phq9(3, 3, 2, 2, 2, 2, 2, 2, 0, on=date(2026, 2, 1)))
    early = trainee_client.submit(
        _entry(case, timepoint="post"), _phq9(1, 1, 1, 1, 1, 1, 1, 1, 0, on=date(2026, 1, 20))
    )
    assert early.status_code == 422 and "must not be before the pre date" in early.text
    again = trainee_client.submit(_entry(case), _phq9(1, 1, 1, 1, 1, 1, 1, 1, 0, on=date(2026, 2, 1)))
    assert again.status_code == 422 and "already been recorded at pre" in again.text
    assert _administrations() == 1


def test_reliable_recovery_is_classified_and_shown(trainee_client, case):
    trainee_client.submit(_entry(case), _phq9(2, 2, 2, 2, 2, 2, 2, 2, 2, on=date(2026, 1, 6)))  # 18
    response = trainee_client.submit(
        _entry(case, timepoint="post"), _phq9(1, 1, 1, 1, 1, 1, 1, 1, 1, on=date(2026, 2, 20))
    )  # 9
    assert response.status_code == 302
    outcome = _outcome(case)
    assert (outcome.pre, outcome.post, outcome.change) == (18, 9, -9)
    assert outcome.classification == "reliable_improvement" and outcome.recovery and outcome.reliable_recovery
    page = trainee_client.get(f"/cases/{case.code}/outcomes")
    assert "Reliable improvement" in page.text and "Reliable recovery" in page.text
    assert "Consider whether the client needs further therapeutic input" not in page.text
    assert "<svg" in page.text and "PHQ-9 scores over time" in page.text


def test_a_post_score_still_at_caseness_prompts_further_input(trainee_client, case):
    trainee_client.submit(_entry(case), _phq9(2, 2, 2, 2, 2, 2, 2, 2, 2))  # 18
    trainee_client.submit(_entry(case, timepoint="post"), _phq9(2, 2, 2, 1, 1, 1, 1, 1, 0, on=date(2026, 2, 20)))  # 11
    outcome = _outcome(case)
    assert outcome.classification == "reliable_improvement" and outcome.recovery is False
    page = trainee_client.get(f"/cases/{case.code}/outcomes")
    assert "Consider whether the client needs further therapeutic input" in page.text


def test_a_positive_risk_item_shows_an_alert_and_tells_the_supervisor(trainee_client, case):
    response = trainee_client.submit(_entry(case), _phq9(1, 1, 1, 1, 1, 1, 1, 1, 1))
    page = trainee_client.get(response.headers["Location"])
    assert 'role="alert"' in page.text and "safeguarding and risk procedure" in page.text
    assert "Sue Supervisor has been told by email" in page.text
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "sue@example.org"))
    assert message is not None and case.code in message.subject
    assert "Tia Trainee" in message.body and case.code in message.body
    calm = trainee_client.submit(_entry(case, "GAD-7"), {**_phq9(1, 1, 1, 1, 1, 1, 1), "item_8": None})
    assert calm.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_deleting_an_administration_updates_the_outcome_and_is_audited(trainee_client, case):
    trainee_client.submit(_entry(case), _phq9(2, 2, 2, 2, 2, 2, 2, 2, 2))
    post = trainee_client.submit(_entry(case, timepoint="post"), _phq9(0, 0, 0, 0, 0, 0, 0, 0, 0, on=date(2026, 2, 1)))
    post_id = int(post.headers["Location"].split("?")[0].rsplit("/", 1)[1])
    url = f"/cases/{case.code}/measures/{post_id}/delete"
    assert trainee_client.submit(url, {}).status_code == 302
    outcome = _outcome(case)
    assert outcome.post is None and outcome.classification is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "administration.deleted")) is not None


def test_only_the_practitioner_records_and_others_see_nothing(client, people, case):
    client.login("oli@example.org")
    assert client.get(f"/cases/{case.code}/outcomes").status_code == 404
    assert client.get(_entry(case)).status_code == 404
    assert client.post(_entry(case), data=_phq9(0, 0, 0, 0, 0, 0, 0, 0, 0)).status_code in (400, 404)
    client.submit("/logout", {}, page="/home")
    client.login("sue@example.org")
    assert client.get(f"/cases/{case.code}/outcomes").status_code == 200  # the personal supervisor reads
    assert client.get(_entry(case)).status_code == 403  # but does not record
    assert _administrations() == 0


def test_unknown_measures_and_timepoints_are_not_found(trainee_client, case):
    assert trainee_client.get(_entry(case, "SDQ")).status_code == 404
    assert trainee_client.get(_entry(case, timepoint="during")).status_code == 404
    assert trainee_client.get(f"/cases/{case.code}/measures/99999").status_code == 404


def test_swemwbs_reports_the_metric_score_and_gbo_goal_progress(trainee_client, case):
    swemwbs = {f"item_{n}": "2" for n in range(1, 8)} | {"administered_on": ["6", "1", "2026"]}  # raw 21
    response = trainee_client.submit(_entry(case, "SWEMWBS"), swemwbs)
    assert response.status_code == 302
    row = db.session.scalar(select(Administration).where(Administration.measure_code == "SWEMWBS"))
    assert row.raw == 21 and row.total == pytest.approx(19.25)
    trainee_client.submit(_entry(case, "GBO"), {"item_1": "3", "item_2": "2", "administered_on": ["6", "1", "2026"]})
    trainee_client.submit(
        _entry(case, "GBO", "post"), {"item_1": "8", "item_2": "6", "administered_on": ["20", "2", "2026"]}
    )
    page = trainee_client.get(f"/cases/{case.code}/outcomes")
    assert "Goal progress" in page.text and "+5" in page.text and "+4" in page.text


def test_paired_cases_count_toward_a_stage_that_requires_them(app, people, tmp_path):
    """A pathway version may require cases with paired pre and post data; one paired case counts once."""
    folder = tmp_path / "pathways"
    shutil.copytree(DATA_DIR, folder)
    path = folder / "vig-practitioner-2024.toml"
    path.write_text(path.read_text().replace("enabled = false", "enabled = true").replace('"2024.1"', '"2024.2"', 1))
    assert app.test_cli_runner().invoke(args=["pathways", "sync", "--directory", str(folder)]).exit_code == 0
    trainee = make_user("tom@example.org", roles=(Role.TRAINEE,))
    enrolment = make_enrolment(trainee, people["supervisor"], version="2024.2", start=date(2025, 11, 1))
    for record in enrolment.stages:  # put the trainee in the final stage, where the requirement sits
        record.started_on, record.ended_on = date(2025, 11, 1), None
    for record in enrolment.stages[:-1]:
        record.ended_on = date(2025, 12, 1)
    enrolment.stages[-1].started_on = date(2025, 12, 1)
    region = db.session.scalar(select(Region).where(Region.code == "E12000003"))
    paired, pre_only = (
        create_case(trainee, Relationship.PARENT_CHILD, AgeBand.THREE_TO_4, Population.EARLY_YEARS, region, START)
        for _ in range(2)
    )
    today = date(2026, 3, 2)
    for measure in ("PHQ-9", "GAD-7"):  # two measures on one case still make one paired case
        items = {str(n): 2 for n in range(1, 10 if measure == "PHQ-9" else 8)}
        services.record_administration(trainee, paired, measure, Timepoint.PRE, date(2026, 1, 6), items, today)
        services.record_administration(trainee, paired, measure, Timepoint.POST, date(2026, 2, 20), items, today)
    services.record_administration(
        trainee, pre_only, "PHQ-9", Timepoint.PRE, date(2026, 1, 6), dict.fromkeys("123456789", 1), today
    )
    db.session.commit()
    final = progress_for([enrolment])[enrolment.id][-1]
    values = {status.requirement.kind.value: status.value for status in final.requirements}
    assert values["dcs_paired_cases"] == 1


def test_the_measure_library_explains_each_measure(trainee_client):
    listing = trainee_client.get("/measures")
    assert listing.status_code == 200
    for code in ("PHQ-9", "GAD-7", "EPDS", "WEMWBS", "SWEMWBS", "KPCS", "PBQ", "GBO", "VIG-SCALING"):
        assert f"/measures/{code}" in listing.text
    phq9 = trainee_client.get("/measures/PHQ-9")
    assert "Little interest or pleasure in doing things" in phq9.text and "10 or more" in phq9.text
    epds = trainee_client.get("/measures/EPDS")
    assert "does not allow the wording" in epds.text and "reverse-scored" in epds.text
    assert trainee_client.get("/measures/SDQ").status_code == 404


def test_a_practitioner_without_a_supervisor_is_told_who_to_tell(client, people, case):
    lone = make_user("lee@example.org", roles=(Role.PRACTITIONER,), name="Lee Lone")
    region = db.session.scalar(select(Region).where(Region.code == "E12000003"))
    own = create_case(lone, Relationship.PARENT_CHILD, AgeBand.THREE_TO_4, Population.EARLY_YEARS, region, START)
    db.session.commit()
    client.login("lee@example.org")
    response = client.submit(_entry(own), _phq9(0, 0, 0, 0, 0, 0, 0, 0, 2))
    page = client.get(response.headers["Location"])
    assert 'role="alert"' in page.text and "tell your service's safeguarding lead" in page.text
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    later = client.get(f"/cases/{own.code}/outcomes")
    assert 'role="alert"' not in later.text and "A risk item was answered at pre on 6 January 2026" in later.text
