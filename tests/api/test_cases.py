"""Cases, outcome measures and outcomes through the API: the same rules and permissions as the pages."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.api.conftest import Api, issue_token
from tests.factories import make_case, make_enrolment, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case, Cycle
from vigtrain.dcs.measures import get_measure
from vigtrain.dcs.models import Administration
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.pathways.models import EnrolmentStatus

CASE = {
    "relationship": "parent_infant",
    "age_band": "0-11m",
    "population": "perinatal",
    "region": "E12000007",
    "started_on": "2026-02-02",
    "consents": {"filming": "2026-02-02", "dcs": "2026-02-03"},
}
PHQ9_PRE = {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 2, "9": 0}  # 16


@pytest.fixture
def practitioner(app, clock):
    service = make_service("Riverside Family Service", region_code="E12000007")
    return make_user("pat@example.org", roles=(Role.PRACTITIONER,), name="Pat Practitioner", service_id=service.id)


@pytest.fixture
def pat(client, practitioner) -> Api:
    return Api(client, issue_token(practitioner))


@pytest.fixture
def case(practitioner) -> Case:
    created = make_case(practitioner)
    created.started_on = date(2026, 1, 5)
    db.session.commit()
    return created


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("#problem-validation")
    return {error["field"]: error["message"] for error in problem["errors"]}


def _pointers(response) -> dict[str, str | None]:
    return {error["field"]: error["pointer"] for error in response.get_json()["errors"]}


# --- creating a case --------------------------------------------------------------------------------


def test_a_new_case_gets_a_code_and_is_audited(pat, practitioner):
    response = pat.post("/api/v1/cases", json=CASE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/cases/{body['code']}"
    case = db.session.scalars(select(Case)).one()
    assert body["code"] == case.code and case.code.startswith("VC-")
    assert case.practitioner_id == practitioner.id
    assert body["context"] == {
        "relationship": "parent_infant",
        "age_band": "0-11m",
        "population": "perinatal",
        "region": {"code": "E12000007", "name": "London"},
        "service": {"id": practitioner.service_id, "name": "Riverside Family Service"},
        "stage_number": None,
    }
    assert body["consents"] == {"filming": "2026-02-02", "supervision": None, "dcs": "2026-02-03"}
    assert (body["status"], body["started_on"], body["ended_on"], body["cycle_count"]) == (
        "open",
        "2026-02-02",
        None,
        0,
    )
    assert (case.consent_dcs, case.consent_dcs_on, case.consent_supervision) == (True, date(2026, 2, 3), False)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.created")).one()
    assert event.actor_id == practitioner.id


def test_the_start_date_defaults_to_today(pat):
    response = pat.post(
        "/api/v1/cases", json={key: CASE[key] for key in ("relationship", "age_band", "population", "region")}
    )
    assert response.status_code == 201
    assert response.get_json()["started_on"] == "2026-03-02"
    assert response.get_json()["consents"] == {"filming": None, "supervision": None, "dcs": None}


@pytest.mark.parametrize(
    ("change", "field", "pointer", "words"),
    [
        ({"started_on": "2026-03-03"}, "started_on", "#/started_on", "today or in the past"),
        ({"consents": {"dcs": "2026-04-01"}}, "consents", "#/consents", "consent was given"),
        ({"relationship": "neighbours"}, "relationship", "#/relationship", "Input should be"),
        ({"region": "SW1A 1AA"}, "region", "#/region", "Input should be"),
        ({"started_on": "2 February 2026"}, "started_on", "#/started_on", "date"),
        ({"started_on": 20260202}, "started_on", "#/started_on", "date"),
        ({"consents": {"dcs": True}}, "consents.dcs", "#/consents/dcs", "date"),
        ({"client_name": "Jane"}, "client_name", "#/client_name", "Extra inputs are not permitted"),
    ],
)
def test_bad_fields_are_named_with_a_pointer_and_nothing_is_saved(pat, change, field, pointer, words):
    response = pat.post("/api/v1/cases", json={**CASE, **change})
    errors = _errors(response)
    assert words in errors[field]
    assert _pointers(response)[field] == pointer
    assert _count(Case) == 0


def test_every_missing_field_is_listed_at_once(pat):
    errors = _errors(pat.post("/api/v1/cases", json={}))
    assert set(errors) == {"relationship", "age_band", "population", "region"}


@pytest.mark.parametrize(
    ("data", "content_type", "words"),
    [
        ('{"relationship": ', "application/json", "not valid JSON"),
        ("", "application/json", "not valid JSON"),
        ("relationship=parent_infant", "application/x-www-form-urlencoded", "Content-Type: application/json"),
        ("{}", "text/plain", "Content-Type: application/json"),
    ],
)
def test_a_body_that_is_not_json_is_a_400(pat, data, content_type, words):
    response = pat.post("/api/v1/cases", data=data, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert words in response.get_json()["detail"]
    assert _count(Case) == 0


def test_a_json_value_that_is_not_an_object_is_a_422(pat):
    errors = _errors(pat.post("/api/v1/cases", json=["parent_infant"]))
    assert list(errors) == ["body"]


def test_people_who_keep_no_cases_cannot_add_them(client, app, clock):
    lead = make_user("lead@example.org", roles=(Role.SERVICE_LEAD,))
    response = Api(client, issue_token(lead)).post("/api/v1/cases", json=CASE)
    assert response.status_code == 403
    assert response.get_json()["type"].endswith("#problem-forbidden")
    assert _count(Case) == 0


# --- reading cases ---------------------------------------------------------------------------------


def test_the_list_is_the_practitioners_own_cases_newest_first_with_cycle_counts(pat, practitioner, case, clock):
    other = make_user("sam@example.org", roles=(Role.TRAINEE,))
    make_case(other)
    clock.tick(60)
    newer = make_case(practitioner)
    db.session.add(Cycle(case=case, filmed_on=date(2026, 2, 1), shared_review_on=date(2026, 2, 2), clips_count=3))
    db.session.commit()
    body = pat.get("/api/v1/cases").get_json()
    assert [item["code"] for item in body["items"]] == [newer.code, case.code]
    assert [item["cycle_count"] for item in body["items"]] == [0, 1]
    assert body["total"] == 2


def test_lists_are_paginated_with_links_and_a_link_header(app, pat, practitioner, clock):
    codes = []
    for _ in range(5):
        codes.append(make_case(practitioner).code)
        clock.tick(60)
    db.session.commit()
    codes.reverse()
    first = pat.get("/api/v1/cases?per_page=2")
    body = first.get_json()
    assert [item["code"] for item in body["items"]] == codes[:2]
    assert (body["total"], body["page"], body["per_page"]) == (5, 1, 2)
    assert body["links"] == {
        "self": "/api/v1/cases?per_page=2&page=1",
        "first": "/api/v1/cases?per_page=2&page=1",
        "last": "/api/v1/cases?per_page=2&page=3",
        "prev": None,
        "next": "/api/v1/cases?per_page=2&page=2",
    }
    assert first.headers["Link"] == (
        '</api/v1/cases?per_page=2&page=1>; rel="first", </api/v1/cases?per_page=2&page=3>; rel="last", '
        '</api/v1/cases?per_page=2&page=2>; rel="next"'
    )
    last = pat.get(body["links"]["last"]).get_json()
    assert [item["code"] for item in last["items"]] == codes[4:]
    assert (last["links"]["prev"], last["links"]["next"]) == ("/api/v1/cases?per_page=2&page=2", None)
    beyond = pat.get("/api/v1/cases?per_page=2&page=9").get_json()
    assert beyond["items"] == [] and beyond["links"]["prev"] == "/api/v1/cases?per_page=2&page=3"


def test_filters_stay_in_the_page_links(pat, practitioner, case):
    body = pat.get("/api/v1/cases?status=open").get_json()
    assert body["links"]["self"] == "/api/v1/cases?status=open&page=1"
    assert [item["code"] for item in body["items"]] == [case.code]
    assert pat.get("/api/v1/cases?status=completed").get_json()["items"] == []


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=101", "per_page=0", "status=lost", "page=100001"])
def test_bad_query_parameters_are_a_422_naming_the_parameter(pat, query):
    response = pat.get(f"/api/v1/cases?{query}")
    errors = _errors(response)
    assert list(errors) == [query.split("=")[0]]
    assert _pointers(response) == {query.split("=")[0]: None}


def test_one_case_by_its_code_read_leniently(pat, case):
    response = pat.get(f"/api/v1/cases/{case.code.lower().replace('-', '')}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == case.code
    assert body["links"] == {
        "self": f"/api/v1/cases/{case.code}",
        "outcomes": f"/api/v1/cases/{case.code}/outcomes",
        "administrations": f"/api/v1/cases/{case.code}/administrations",
    }


def _without_occurrence(response) -> dict:
    problem = response.get_json()
    return {key: value for key, value in problem.items() if key not in ("instance", "request_id")}


def test_another_trainees_case_answers_exactly_as_a_case_that_does_not_exist(client, case):
    other = make_user("sam@example.org", roles=(Role.TRAINEE,))
    sam = Api(client, issue_token(other))
    body = {"measure": "GAD-7", "timepoint": "pre", "date": "2026-03-01", "responses": dict.fromkeys("1234567", 0)}
    for method, suffix in (("GET", ""), ("GET", "/outcomes"), ("POST", "/administrations")):
        theirs = sam.request(method, f"/api/v1/cases/{case.code}{suffix}", json=body)
        missing = sam.request(method, f"/api/v1/cases/VC-0000-0000{suffix}", json=body)
        assert theirs.status_code == missing.status_code == 404, suffix
        assert _without_occurrence(theirs) == _without_occurrence(missing)
        assert theirs.get_json()["type"].endswith("#problem-not-found")
    assert sam.get("/api/v1/cases").get_json()["items"] == []
    assert _count(Administration) == 0


@pytest.mark.parametrize("code", ["VC-0000-0000", "nonsense", "VC-" + "9" * 40])
def test_a_malformed_or_unknown_code_is_not_found(pat, code):
    assert pat.get(f"/api/v1/cases/{code}").status_code == 404


def test_a_supervisor_reads_a_trainees_case_but_records_nothing_on_it(client, clock):
    supervisor = make_user("sian@example.org", roles=(Role.SUPERVISOR,))
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,))
    make_enrolment(trainee, supervisor)
    case = make_case(trainee)
    db.session.commit()
    sian = Api(client, issue_token(supervisor))
    assert sian.get(f"/api/v1/cases/{case.code}").status_code == 200
    assert sian.get(f"/api/v1/cases/{case.code}/outcomes").status_code == 200
    response = sian.post(
        f"/api/v1/cases/{case.code}/administrations",
        json={"measure": "GAD-7", "timepoint": "pre", "date": "2026-03-01", "responses": dict.fromkeys("1234567", 0)},
    )
    assert response.status_code == 403
    assert _count(Administration) == 0


@pytest.mark.parametrize("status", [EnrolmentStatus.COMPLETED, EnrolmentStatus.WITHDRAWN])
def test_a_former_supervisor_no_longer_reads_the_cases(client, clock, status):
    supervisor = make_user("sian@example.org", roles=(Role.SUPERVISOR,))
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE, Role.PRACTITIONER))
    enrolment = make_enrolment(trainee, supervisor)
    case = make_case(trainee)
    enrolment.status = status
    db.session.commit()
    sian = Api(client, issue_token(supervisor))
    assert sian.get(f"/api/v1/cases/{case.code}").status_code == 404
    client.login(supervisor.email)
    assert client.get(f"/cases/{case.code}").status_code == 404


# --- outcome measures --------------------------------------------------------------------------------


def _record(api, case, measure, timepoint, day, responses):
    return api.post(
        f"/api/v1/cases/{case.code}/administrations",
        json={"measure": measure, "timepoint": timepoint, "date": day, "responses": responses},
    )


def test_recording_a_measure_scores_it(pat, case, practitioner):
    response = _record(pat, case, "PHQ-9", "pre", "2026-01-06", PHQ9_PRE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    row = db.session.scalars(select(Administration)).one()
    assert body == {
        "id": row.id,
        "case": case.code,
        "measure": "PHQ-9",
        "measure_version": row.measure_version,
        "timepoint": "pre",
        "date": "2026-01-06",
        "scores": {"total": 16.0, "raw": None, "subscales": {}},
        "band": row.band,
        "flags": [],
        "prorated": False,
    }
    assert row.band == "Moderately severe" and row.entered_by_id == practitioner.id
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "administration.recorded")).one()


def test_a_risk_answer_comes_back_as_a_flag_and_the_supervisor_is_told(client, clock):
    supervisor = make_user("sian@example.org", roles=(Role.SUPERVISOR,))
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,))
    make_enrolment(trainee, supervisor)
    case = make_case(trainee)
    case.started_on = date(2026, 1, 5)
    db.session.commit()
    response = _record(Api(client, issue_token(trainee)), case, "PHQ-9", "pre", "2026-01-06", {**PHQ9_PRE, "9": 1})
    assert response.status_code == 201
    flags = response.get_json()["flags"]
    assert [(flag["code"], flag["item"]) for flag in flags] == [("phq9_item9", "9")]
    assert "safeguarding" in flags[0]["message"]
    alert = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == "sian@example.org")).one()
    assert case.code in alert.subject


def test_swemwbs_gives_the_metric_total_and_the_raw_sum(pat, case):
    body = _record(pat, case, "SWEMWBS", "pre", "2026-01-06", dict.fromkeys("1234567", 2)).get_json()
    assert body["scores"]["raw"] == 21.0
    assert body["scores"]["total"] == get_measure("SWEMWBS").conversion_table[21] == 19.25


def test_goal_based_outcomes_key_each_goal(pat, case):
    body = _record(pat, case, "GBO", "pre", "2026-01-06", {"1": 3, "3": 5}).get_json()
    assert body["scores"]["subscales"] == {"goal_1": 3.0, "goal_3": 5.0}
    assert body["scores"]["total"] == 4.0


@pytest.mark.parametrize(
    ("measure", "timepoint", "day", "responses", "field", "pointer", "words"),
    [
        (
            "PHQ-9",
            "pre",
            "2026-01-06",
            {**PHQ9_PRE, "3": 4},
            "responses.3",
            "#/responses/3",
            "Choose one of the answers",
        ),
        (
            "PHQ-9",
            "pre",
            "2026-01-06",
            {**PHQ9_PRE, "3": 12},
            "responses.3",
            "#/responses/3",
            "less than or equal to 11",
        ),
        ("PHQ-9", "pre", "2026-01-06", {**PHQ9_PRE, "10": 0}, "responses", "#/responses", "no item '10'"),
        ("PHQ-9", "pre", "2026-01-06", {**PHQ9_PRE, "3": None}, "responses.3", "#/responses/3", "not answered"),
        ("PHQ-9", "pre", "2026-01-06", {**PHQ9_PRE, "3": "2"}, "responses.3", "#/responses/3", "integer"),
        ("PHQ-9", "pre", "2026-01-04", PHQ9_PRE, "date", "#/date", "on or after the case started"),
        ("PHQ-9", "pre", "2026-03-03", PHQ9_PRE, "date", "#/date", "today or in the past"),
        ("PHQ-99", "pre", "2026-01-06", PHQ9_PRE, "measure", "#/measure", "Input should be"),
        ("PHQ-9", "during", "2026-01-06", PHQ9_PRE, "timepoint", "#/timepoint", "Input should be"),
    ],
)
def test_answers_that_cannot_be_scored_are_named_and_nothing_is_saved(
    pat, case, measure, timepoint, day, responses, field, pointer, words
):
    response = _record(pat, case, measure, timepoint, day, responses)
    errors = _errors(response)
    assert words in errors[field], errors
    assert _pointers(response)[field] == pointer
    assert _count(Administration) == 0


def test_a_timepoint_is_recorded_once_and_in_order(pat, case):
    assert _record(pat, case, "PHQ-9", "pre", "2026-01-10", PHQ9_PRE).status_code == 201
    again = _record(pat, case, "PHQ-9", "pre", "2026-01-11", PHQ9_PRE)
    assert "already been recorded" in _errors(again)["timepoint"]
    early_post = _record(pat, case, "PHQ-9", "post", "2026-01-09", PHQ9_PRE)
    assert "must not be before the pre date" in _errors(early_post)["date"]
    assert _count(Administration) == 1


def test_outcomes_show_pre_post_change_and_classification(pat, case):
    _record(pat, case, "PHQ-9", "pre", "2026-01-06", PHQ9_PRE)
    _record(pat, case, "PHQ-9", "post", "2026-02-20", {**PHQ9_PRE, **dict.fromkeys("12345678", 0)})
    _record(pat, case, "GBO", "pre", "2026-01-06", {"1": 2})
    _record(pat, case, "GBO", "post", "2026-02-20", {"1": 8})
    body = pat.get(f"/api/v1/cases/{case.code}/outcomes").get_json()
    assert body["case"] == case.code
    phq9, gbo = body["measures"]
    assert {key: phq9[key] for key in ("measure", "pre", "post", "change", "classification")} == {
        "measure": "PHQ-9",
        "pre": 16.0,
        "post": 0.0,
        "change": -16.0,
        "classification": "reliable_improvement",
    }
    assert (phq9["recovery"], phq9["reliable_recovery"], phq9["consider_further_input"]) == (True, True, False)
    assert [row["timepoint"] for row in phq9["administrations"]] == ["pre", "post"]
    # Goal Based Outcomes have no clinical cut-off: no recovery either way.
    assert (gbo["measure"], gbo["change"], gbo["classification"]) == ("GBO", 6.0, "reliable_improvement")
    assert (gbo["recovery"], gbo["reliable_recovery"]) == (None, None)


def test_outcomes_without_a_pair_have_no_change(pat, case):
    _record(pat, case, "GAD-7", "pre", "2026-01-06", dict.fromkeys("1234567", 3))
    (gad7,) = pat.get(f"/api/v1/cases/{case.code}/outcomes").get_json()["measures"]
    assert (gad7["pre"], gad7["post"], gad7["change"], gad7["classification"], gad7["recovery"]) == (
        21.0,
        None,
        None,
        None,
        None,
    )
