"""The training-flow pages through the web: who may read which scope, the figures each page shows
for histories built by hand, the stuck-trainee list and its filter, the cost rates form, the
downloads, the refresh, and a page cost in statements that does not grow with the data."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.factories import count_statements, make_service, make_user, pathway_version
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db
from vigtrain.flow import services
from vigtrain.flow.models import CostRate, FlowCurrentStage, FlowSnapshot
from vigtrain.pathways.models import (
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training.services import new_enrolment

S = StageState
TODAY = date(2026, 3, 2)  # the `clock` fixture's day


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _enrol(trainee, supervisor, service, start: date, cohort: Cohort | None = None) -> Enrolment:
    enrolment = new_enrolment(trainee, pathway_version(), supervisor, service, start)
    enrolment.cohort_id = cohort.id if cohort else None
    db.session.add(enrolment)
    db.session.flush()
    return enrolment


def _stage(enrolment: Enrolment, code: str, moves: list[tuple[date, StageState]], actor) -> StageRecord:
    """Give a stage its dated history: each (day, state) a move from the state before it."""
    record = enrolment.stage_record(code)
    record.started_on = moves[0][0]
    state = S.NOT_STARTED
    for day, to in moves:
        record.transitions.append(
            StageTransition(from_state=state, to_state=to, actor_id=actor.id, occurred_at=_at(day))
        )
        state = to
    record.state, record.state_since = state, _at(moves[-1][0])
    return record


def _finish(enrolment: Enrolment, on: date) -> None:
    enrolment.status, enrolment.completed_on = EnrolmentStatus.COMPLETED, on
    enrolment.status_changes.append(EnrolmentStatusChange(status=EnrolmentStatus.COMPLETED, occurred_at=_at(on)))


def _through(enrolment: Enrolment, start: date, actor, months: list[int], waits=(3, 4, 20), ratify=10) -> date:
    """Take an enrolment through every stage: the course (28 days' work, 2 to sign off), then each
    stage `months[i]` x 30 days of work, `waits` days to sign-off, to asking, to accredited; the last
    ratified `ratify` days later. Returns the day it was accredited (ratified)."""
    day = start
    _stage(
        enrolment,
        "itc",
        [(day, S.IN_PROGRESS), (day + timedelta(28), S.SUBMITTED), (day + timedelta(30), S.COMPLETE)],
        actor,
    )
    enrolment.stage_record("itc").ended_on = day = day + timedelta(30)
    for code, work in zip(("stage-1", "stage-2", "stage-3"), months, strict=True):
        submitted = day + timedelta(work * 30)
        signed = submitted + timedelta(waits[0])
        asked = signed + timedelta(waits[1])
        accredited = asked + timedelta(waits[2])
        moves = [
            (day, S.IN_PROGRESS),
            (submitted, S.SUBMITTED),
            (signed, S.SIGNED_OFF),
            (asked, S.WITH_ACCREDITOR),
            (accredited, S.ACCREDITED),
        ]
        if code == "stage-3":
            moves.append((accredited + timedelta(ratify), S.RATIFIED))
        _stage(enrolment, code, moves, actor)
        enrolment.stage_record(code).ended_on = day = accredited
    ratified = day + timedelta(ratify)
    _finish(enrolment, ratified)
    enrolment.mark_current_stage()
    return ratified


@pytest.fixture
def world(app, clock):
    """Two services in different regions, a cohort, and five trainees with known histories.

    North: Ann (accredited on day 600 of her enrolment), Bea (accredited on day 660), Cal (in
    Stage 1 since 1 Sept 2025 with no cycle and no supervision: held up), Dee (withdrawn).
    South: Eve (in Stage 1, with supervision confirmed last week).
    """
    north = make_service("North Trust", region_code="E12000002")
    south = make_service("South Council", region_code="E12000008")
    admin = make_user("admin@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    sue = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor", service_id=north.id)
    lead = make_user("lea@example.org", roles=(Role.SERVICE_LEAD,), name="Lea Lead", service_id=north.id)
    other_lead = make_user("sol@example.org", roles=(Role.SERVICE_LEAD,), name="Sol Lead", service_id=south.id)
    course_lead = make_user("col@example.org", roles=(Role.SUPERVISOR,), name="Col Course", service_id=south.id)
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee", service_id=north.id)
    cohort = Cohort(
        name="ITC North 2024", pathway_version=pathway_version(), starts_on=date(2024, 1, 8), lead=course_lead
    )
    other_cohort = Cohort(name="ITC South 2025", pathway_version=pathway_version(), starts_on=date(2025, 1, 6))
    db.session.add_all([cohort, other_cohort])
    db.session.flush()
    people = {}
    for name, service in (("Ann", north), ("Bea", north), ("Cal", north), ("Dee", north), ("Eve", south)):
        people[name] = make_user(
            f"{name.lower()}@example.org",
            roles=(Role.TRAINEE,),
            name=f"{name} Trainee",
            service_id=service.id,
            commit=False,
        )
    start = date(2024, 1, 8)
    ann = _enrol(people["Ann"], sue, north, start, cohort)
    # Ann: 30 + (150+27)*3 + 10 = 571 days? Worked: itc 30; stages 5,5,5 months of 150 days + 27 days' waits.
    _through(ann, start, admin, [5, 5, 5])
    bea = _enrol(people["Bea"], sue, north, start, cohort)
    _through(bea, start, admin, [6, 6, 5])
    cal = _enrol(people["Cal"], sue, north, date(2025, 8, 1))
    _stage(
        cal,
        "itc",
        [(date(2025, 8, 1), S.IN_PROGRESS), (date(2025, 8, 29), S.SUBMITTED), (date(2025, 9, 1), S.COMPLETE)],
        admin,
    )
    cal.stage_record("itc").ended_on = date(2025, 9, 1)
    _stage(cal, "stage-1", [(date(2025, 9, 1), S.IN_PROGRESS)], admin)
    cal.mark_current_stage()
    dee = _enrol(people["Dee"], sue, north, date(2025, 1, 6))
    _stage(dee, "itc", [(date(2025, 1, 6), S.IN_PROGRESS)], admin)
    dee.status = EnrolmentStatus.WITHDRAWN
    dee.status_changes.append(
        EnrolmentStatusChange(status=EnrolmentStatus.WITHDRAWN, occurred_at=_at(date(2025, 3, 1)))
    )
    eve = _enrol(people["Eve"], sue, south, date(2025, 10, 1), other_cohort)
    _stage(
        eve,
        "itc",
        [(date(2025, 10, 1), S.IN_PROGRESS), (date(2025, 10, 29), S.SUBMITTED), (date(2025, 11, 1), S.COMPLETE)],
        admin,
    )
    _stage(eve, "stage-1", [(date(2025, 11, 1), S.IN_PROGRESS)], admin)
    eve.mark_current_stage()
    for day in (date(2025, 12, 1), date(2026, 2, 23)):
        db.session.add(
            SupervisionSession(
                enrolment=eve,
                supervisor_id=sue.id,
                session_date=day,
                duration_minutes=60,
                status=SessionStatus.CONFIRMED,
                logged_by_id=people["Eve"].id,
            )
        )
    for hours in range(30):  # Ann's confirmed supervision in training: 30 hours
        db.session.add(
            SupervisionSession(
                enrolment=ann,
                supervisor_id=sue.id,
                session_date=start + timedelta(days=40 + hours * 15),
                duration_minutes=60,
                status=SessionStatus.CONFIRMED,
                logged_by_id=people["Ann"].id,
            )
        )
    db.session.commit()
    return {
        "admin": admin,
        "lead": lead,
        "other_lead": other_lead,
        "course_lead": course_lead,
        "trainee": trainee,
        "north": north,
        "south": south,
        "cohort": cohort,
        "other_cohort": other_cohort,
        "ann": ann,
        "bea": bea,
        "cal": cal,
        "dee": dee,
        "eve": eve,
    }


def _signed_in(app, email: str):
    client = app.test_client()
    client.login(email)
    return client


def _text(response) -> str:
    """The page's words, tags and the charts left out, spaced once."""
    html = re.sub(r"<svg.*?</svg>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- who may read what -----------------------------------------------------------------------------


def test_an_administrator_reads_everyone_and_each_region_service_and_cohort(app, world):
    client = _signed_in(app, "admin@example.org")
    for scope in (
        "all",
        f"region:{world['north'].region_id}",
        f"service:{world['south'].id}",
        f"cohort:{world['cohort'].id}",
    ):
        response = client.get(f"/training-flow/?scope={scope}")
        assert response.status_code == 200, scope
    assert "Where the time goes: Everyone (all services)" in _text(client.get("/training-flow/"))


def test_a_service_lead_reads_their_own_service_and_nothing_else(app, world):
    client = _signed_in(app, "lea@example.org")
    page = _text(client.get("/training-flow/"))
    assert "Where the time goes: North Trust" in page
    assert "South Council" not in page  # the picker offers only their own service
    for scope in (
        "all",
        f"service:{world['south'].id}",
        f"region:{world['north'].region_id}",
        f"cohort:{world['cohort'].id}",
    ):
        assert client.get(f"/training-flow/?scope={scope}").status_code == 403, scope
        assert client.get(f"/training-flow/stage-times.csv?scope={scope}", buffered=True).status_code == 403, scope
        assert client.get(f"/training-flow/stuck?scope={scope}").status_code == 403, scope


def test_a_cohort_lead_reads_the_cohort_they_lead_only(app, world):
    client = _signed_in(app, "col@example.org")
    page = _text(client.get("/training-flow/"))
    assert "Where the time goes: ITC North 2024" in page
    assert client.get(f"/training-flow/?scope=cohort:{world['other_cohort'].id}").status_code == 403
    assert client.get(f"/training-flow/?scope=service:{world['south'].id}").status_code == 403


def test_others_are_refused_and_nonsense_scopes_are_not_found(app, world):
    assert _signed_in(app, "tia@example.org").get("/training-flow/").status_code == 403
    assert _signed_in(app, "sue@example.org").get("/training-flow/stuck").status_code == 403
    admin = _signed_in(app, "admin@example.org")
    for scope in ("service:999999", "cohort:abc", "planet:1", "region:", "service:99999999999999999999"):
        assert admin.get(f"/training-flow/?scope={scope}").status_code == 404, scope
    anonymous = app.test_client().get("/training-flow/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_menu_offers_training_flow_to_administrators_and_service_leads_only(app, world):
    assert 'href="/training-flow/"' in _signed_in(app, "admin@example.org").get("/home").get_data(as_text=True)
    assert 'href="/training-flow/"' in _signed_in(app, "lea@example.org").get("/home").get_data(as_text=True)
    assert 'href="/training-flow/"' not in _signed_in(app, "tia@example.org").get("/home").get_data(as_text=True)


# --- the figures -----------------------------------------------------------------------------------


def test_the_overview_shows_the_hand_worked_figures(app, world):
    page = _text(_signed_in(app, "admin@example.org").get(f"/training-flow/?scope=service:{world['north'].id}"))
    # North: Ann and Bea accredited, Cal in training, Dee withdrawn.
    assert "Enrolled 4: 1 in training, 0 paused now, 2 accredited, 1 withdrawn" in page
    assert "Withdrawn 25% (1 of 4)" in page
    # Ann: 30 + 3 x (150 + 27) + 10 = 571 days; Bea: 30 + (180 + 27) x 2 + 150 + 27 + 10 = 631 days.
    # Censored: Cal (day 213 on 2 Mar 2026), Dee (day 54, withdrawn). The curve halves at Ann (2 of 4
    # at risk... 1 - 1/2) so the median is day 571 = 18.8 months.
    assert "Median time to accreditation 18.8 months" in page
    # Stage 1 work: Ann 150, Bea 180 -> median 165; sign-off wait 3 days each.
    assert "Doing the work start to submission 2 165 days 157.5 to 172.5" in page
    assert "Waiting for the accrediting meeting asked to accredited 2 20 days 20 to 20" in page
    assert "Waiting for ratification accredited to ratified 2 10 days 10 to 10" in page
    # The longest wait of any step is the meeting's 20 days.
    assert "Longest wait Waiting for the accrediting meeting in Stage 1: a median of 20 days (2 stages)" in page


def test_cost_per_accreditation_uses_the_rates_an_administrator_sets(app, world):
    client = _signed_in(app, "admin@example.org")
    page = _text(client.get("/training-flow/?scope=all"))
    assert "No rates are set for this pathway version" in page
    version = pathway_version()
    form = f"/training-flow/rates/{version.id}"
    response = client.submit(form, {"supervision_hour": "£85.50", "course_fee": "1,200", "accreditation_fee": "150"})
    assert response.status_code == 302
    rate = db.session.scalar(select(CostRate))
    assert (rate.supervision_hour_pence, rate.course_fee_pence, rate.accreditation_fee_pence) == (8550, 120000, 15000)
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "cost_rate.set")) == 1
    )
    page = _text(client.get("/training-flow/?scope=all"))
    # Chargeable hours: Ann 30 h + 3 meetings = 33, Bea 0 + 3 = 3 -> median 18 h x £85.50 = £1,539
    # + £1,200 + £150 = £2,889; quartiles at 10.5 h (£2,247.75) and 25.5 h (£3,530.25).
    assert "A median of £2,889 (middle half £2,247.75 to £3,530.25)" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("supervision_hour", "", "Enter an amount in pounds"),
        ("course_fee", "twelve", "Enter an amount in pounds"),
        ("accreditation_fee", "-5", "Enter an amount of £0 or more"),
        ("supervision_hour", "85.555", "no more than two decimal places"),
        ("course_fee", "2000000", "£1,000,000 or less"),
    ],
)
def test_a_bad_rate_is_refused_beside_its_field_and_nothing_is_saved(app, world, field, value, message):
    client = _signed_in(app, "admin@example.org")
    form = f"/training-flow/rates/{pathway_version().id}"
    data = {"supervision_hour": "80", "course_fee": "1000", "accreditation_fee": "100", field: value}
    response = client.submit(form, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert db.session.scalar(select(func.count()).select_from(CostRate)) == 0


def test_only_administrators_set_rates_or_refresh(app, world):
    client = _signed_in(app, "lea@example.org")
    assert client.get("/training-flow/rates").status_code == 403
    assert client.get(f"/training-flow/rates/{pathway_version().id}").status_code == 403
    assert client.submit("/training-flow/refresh", {}, page="/training-flow/").status_code == 403
    assert _signed_in(app, "admin@example.org").get("/training-flow/rates/999999").status_code == 404


def test_refreshing_keeps_every_scope_and_the_page_says_how_fresh(app, world, clock):
    client = _signed_in(app, "admin@example.org")
    assert "the hourly refresh has not run yet" in _text(client.get("/training-flow/"))
    response = client.submit("/training-flow/refresh", {"scope": "all"}, page="/training-flow/")
    assert response.status_code == 302
    scopes = set(db.session.scalars(select(FlowSnapshot.scope)))
    north, south = world["north"], world["south"]
    assert {"all", "current", f"service:{north.id}", f"service:{south.id}", f"region:{north.region_id}"} <= scopes
    assert "Figures as of 2 March 2026 at 10:00am" in _text(client.get("/training-flow/"))
    clock.tick(3 * 3600)
    assert "The hourly refresh seems not to be running" in _text(client.get("/training-flow/"))


def test_the_overview_costs_the_same_statements_whatever_the_data(app, world):
    services.refresh(TODAY)
    db.session.commit()
    client = _signed_in(app, "admin@example.org")
    before = count_statements(client, "/training-flow/?scope=all")
    for number in range(6):
        person = make_user(
            f"more{number}@example.org", roles=(Role.TRAINEE,), commit=False, service_id=world["north"].id
        )
        _through(_enrol(person, None, world["north"], date(2023, 6, 5)), date(2023, 6, 5), world["admin"], [5, 6, 7])
    db.session.commit()
    services.refresh(TODAY)
    db.session.commit()
    assert count_statements(client, "/training-flow/?scope=all") == before


# --- stuck trainees --------------------------------------------------------------------------------


def test_stuck_trainees_are_listed_with_why_and_whom_they_wait_for(app, world):
    page = _text(_signed_in(app, "admin@example.org").get("/training-flow/stuck?scope=all&weeks=8"))
    # Cal: Stage 1 since 1 Sept 2025, nothing logged: 182 days = 26 weeks on 2 March 2026.
    assert "Cal Trainee" in page
    assert "No cycle for 26 weeks (none in this stage)" in page
    assert "No confirmed supervision for 26 weeks" in page
    assert "Cal Trainee (the trainee's own work)" in page
    # Eve had supervision confirmed a week ago, but no cycle since Stage 1 began on 1 Nov: 17 weeks.
    assert "Eve Trainee" in page and "No cycle for 17 weeks" in page
    assert "1 trainee" not in page and "2 trainees held up" in page
    # Withdrawn and accredited trainees are never listed.
    assert "Dee Trainee" not in page and "Ann Trainee" not in page


def test_the_weeks_filter_narrows_the_list_and_a_bad_value_is_refused(app, world):
    client = _signed_in(app, "admin@example.org")
    page = _text(client.get("/training-flow/stuck?scope=all&weeks=20"))
    assert "1 trainee held up" in page and "Cal Trainee" in page and "Eve Trainee" not in page
    for value, message in (("0", "from 1 to 104"), ("abc", "whole number"), ("", "Enter a number of weeks")):
        response = client.get(f"/training-flow/stuck?scope=all&weeks={value}")
        assert response.status_code == 400, value
        assert message in response.get_data(as_text=True)


def test_a_service_lead_sees_only_their_own_stuck_trainees(app, world):
    page = _text(_signed_in(app, "sol@example.org").get("/training-flow/stuck"))
    assert "Eve Trainee" in page and "Cal Trainee" not in page


# --- downloads -------------------------------------------------------------------------------------


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_stage_times_csv_has_one_row_per_stage_record_with_its_dates_and_days(app, world):
    url = f"/training-flow/stage-times.csv?scope=service:{world['north'].id}"
    rows = _csv(_signed_in(app, "admin@example.org").get(url, buffered=True))
    # North: four enrolments of four stage records each.
    assert len(rows) == 16
    ann_stage_1 = next(row for row in rows if row["enrolment_id"] == str(world["ann"].id) and row["stage"] == "stage-1")
    assert ann_stage_1 == {
        "enrolment_id": str(world["ann"].id),
        "pathway": "VIG Practitioner",
        "version": "2024.1",
        "stage": "stage-1",
        "state": "accredited",
        "started": "2024-02-07",
        "submitted": "2024-07-06",
        "signed_off": "2024-07-09",
        "accreditor_asked": "2024-07-13",
        "accredited": "2024-08-02",
        "ratified": "",
        "days_doing_work": "150",
        "days_waiting": "27",
        "days_paused": "0",
        "returns": "0",
        "exempt": "no",
    }
    cal_stage_1 = next(row for row in rows if row["enrolment_id"] == str(world["cal"].id) and row["stage"] == "stage-1")
    # Unfinished: counted to today, 1 Sept 2025 to 2 March 2026.
    assert cal_stage_1["days_doing_work"] == "182" and cal_stage_1["submitted"] == ""
    not_started = next(row for row in rows if row["enrolment_id"] == str(world["cal"].id) and row["stage"] == "stage-3")
    assert not_started["started"] == "" and not_started["days_doing_work"] == ""


def test_each_download_is_a_csv_of_the_scope(app, world):
    client = _signed_in(app, "lea@example.org")
    steps = _csv(client.get("/training-flow/steps.csv", buffered=True))
    assert {"pathway", "stage", "step", "median_days"} <= set(steps[0])
    survival = _csv(client.get("/training-flow/survival.csv", buffered=True))
    assert [row["accredited"] for row in survival if row["accredited"] != "0"] == ["1", "1"]
    costs = _csv(client.get("/training-flow/costs.csv", buffered=True))
    assert costs[0]["accreditations"] == "2"
    stuck = _csv(client.get("/training-flow/stuck.csv", buffered=True))
    assert [row["trainee"] for row in stuck] == ["Cal Trainee"]


def test_a_name_a_spreadsheet_would_run_is_defused_in_the_stuck_download(app, world):
    world["cal"].trainee.display_name = "=HYPERLINK(1)"
    db.session.commit()
    stuck = _csv(_signed_in(app, "admin@example.org").get("/training-flow/stuck.csv?scope=all", buffered=True))
    assert "'=HYPERLINK(1)" in [row["trainee"] for row in stuck]


def test_the_cohort_page_leads_its_course_lead_to_the_cohorts_figures(app, world):
    cohort = world["cohort"]
    html = _signed_in(app, "col@example.org").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert f'href="/training-flow/?scope=cohort:{cohort.id}"' in html


@pytest.mark.parametrize("refreshed", [False, True])
def test_everyones_page_compares_the_regions(app, world, refreshed):
    if refreshed:
        services.refresh(TODAY)
        db.session.commit()
    client = _signed_in(app, "admin@example.org")
    page = _text(client.get("/training-flow/?scope=all"))
    regions = page.split("By region")[1]
    # North West (North Trust: 4 enrolled, median 18.8 months, 1 of 4 withdrawn) and South East (Eve).
    assert "North West VIG Practitioner (version 2024.1) 4 18.8 months" in regions
    assert "25%" in regions.split("South East")[0]
    assert "South East VIG Practitioner (version 2024.1) 1 not reached" in regions
    assert "By region" not in _text(client.get(f"/training-flow/?scope=service:{world['north'].id}"))


def test_the_stuck_list_reads_the_same_from_the_kept_current_stages(app, world):
    """Once the hourly refresh has run, the list is found and paged in SQL over the current stages it
    kept: the same trainees, reasons and order as worked out live, in every scope and filter."""
    admin, lead = _signed_in(app, "admin@example.org"), _signed_in(app, "sol@example.org")
    urls = [
        (admin, "/training-flow/stuck?scope=all&weeks=8"),
        (admin, "/training-flow/stuck?scope=all&weeks=20"),
        (admin, f"/training-flow/stuck?scope=service:{world['north'].id}&weeks=2"),
        (lead, "/training-flow/stuck"),
        (admin, "/training-flow/stuck.csv?scope=all&weeks=1"),
    ]
    live = [client.get(url, buffered=True) for client, url in urls]
    assert "2 trainees held up" in _text(admin.get("/training-flow/stuck?scope=all&weeks=8"))
    services.refresh(TODAY)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(FlowCurrentStage)) > 0
    kept = [client.get(url, buffered=True) for client, url in urls]
    for (_client, url), before, after in zip(urls, live, kept, strict=True):
        assert before.status_code == after.status_code == 200, url
        if url.endswith("weeks=1"):
            assert before.get_data() == after.get_data(), url  # the download: byte for byte
        else:
            assert _text(before) == _text(after), url
