"""The supervision log and training progress through the API: trainees log, supervisors confirm."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.api.conftest import Api, issue_token
from tests.factories import make_case, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role
from vigtrain.api_tokens.models import SCOPES
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Cycle
from vigtrain.extensions import db
from vigtrain.pathways.models import EnrolmentStatus
from vigtrain.security import TRAINING_SCOPES
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training.progress import progress_for

SESSION = {"session_date": "2026-02-10", "start_time": "14:00", "duration_minutes": 90}


@pytest.fixture
def people(app, clock):
    supervisor = make_user("sian@example.org", roles=(Role.SUPERVISOR,), name="Sian Supervisor")
    other_supervisor = make_user("owen@example.org", roles=(Role.SUPERVISOR,), name="Owen Other")
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
    return {"supervisor": supervisor, "other": other_supervisor, "trainee": trainee, "enrolment": enrolment}


@pytest.fixture
def tia(client, people) -> Api:
    return Api(client, issue_token(people["trainee"]))


@pytest.fixture
def sian(client, people) -> Api:
    return Api(client, issue_token(people["supervisor"]))


def _sessions() -> list[SupervisionSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(SupervisionSession).order_by(SupervisionSession.id)))


def _errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    return {error["field"]: error["message"] for error in response.get_json()["errors"]}


# --- logging --------------------------------------------------------------------------------------


def test_a_trainee_logs_a_session_with_their_personal_supervisor(tia, people):
    response = tia.post("/api/v1/supervision-sessions", json={**SESSION, "principles": ["attentive", "guiding"]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    (session,) = _sessions()
    assert body["id"] == session.id and body["enrolment_id"] == people["enrolment"].id
    assert body["trainee"] == {"id": people["trainee"].id, "name": "Tia Trainee"}
    assert body["supervisor"] == {"id": people["supervisor"].id, "name": "Sian Supervisor"}
    assert (body["session_date"], body["start_time"], body["duration_minutes"]) == ("2026-02-10", "14:00", 90)
    assert (body["status"], body["version"], body["format"], body["mode"]) == ("logged", 1, "individual", "in_person")
    assert body["principles"] == ["attentive", "guiding"]
    assert session.logged_by_id == people["trainee"].id
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "supervision.logged")).one()


@pytest.mark.parametrize("naming", ["email", "id"])
def test_the_trainee_can_name_another_supervisor(tia, people, naming):
    other = people["other"]
    chosen = {"supervisor_email": " OWEN@example.org "} if naming == "email" else {"supervisor_id": other.id}
    response = tia.post("/api/v1/supervision-sessions", json={**SESSION, **chosen})
    assert response.status_code == 201
    assert response.get_json()["supervisor"]["id"] == other.id


def test_unknown_people_and_non_supervisors_get_the_same_answer(tia, people):
    make_user("pip@example.org", roles=(Role.PRACTITIONER,))
    nobody = _errors(
        tia.post("/api/v1/supervision-sessions", json={**SESSION, "supervisor_email": "nobody@example.org"})
    )
    practitioner = _errors(
        tia.post("/api/v1/supervision-sessions", json={**SESSION, "supervisor_email": "pip@example.org"})
    )
    assert nobody == practitioner == {"supervisor_email": "There is no active supervisor with this email"}
    by_id = _errors(tia.post("/api/v1/supervision-sessions", json={**SESSION, "supervisor_id": 999}))
    assert by_id == {"supervisor_id": "There is no active supervisor with this id"}
    both = {**SESSION, "supervisor_id": people["other"].id, "supervisor_email": "owen@example.org"}
    assert "not both" in _errors(tia.post("/api/v1/supervision-sessions", json=both))["supervisor_email"]
    assert _sessions() == []


def test_the_page_offers_exactly_the_supervisors_the_api_accepts(client, tia, people):
    """Who a trainee may name is one rule: the log page's choices and the API's answers agree."""
    gone = make_user("gil@example.org", roles=(Role.SUPERVISOR,), name="Gil Gone", is_active_flag=False)
    practitioner = make_user("pip@example.org", roles=(Role.PRACTITIONER,), name="Pip Practitioner")
    client.login("tia@example.org")
    search = f"/people/search?for=session_supervisor&context={people['enrolment'].id}&q="
    candidates = (people["supervisor"], people["other"], gone, practitioner)
    offered = {
        found["id"]
        for person in candidates
        for found in client.get(search + person.display_name[:5]).get_json()["results"]
    }
    accepted = {
        person.id
        for person in (people["supervisor"], people["other"], gone, practitioner)
        if tia.post("/api/v1/supervision-sessions", json={**SESSION, "supervisor_id": person.id}).status_code == 201
    }
    assert offered == accepted == {people["supervisor"].id, people["other"].id}


def test_the_page_and_the_api_choose_the_same_record_to_log_in(client, tia, people):
    """Both take the trainee's one active record when none is named, and ask which when there are several."""
    client.login("tia@example.org")
    assert "<title>Log a supervision session" in client.get("/supervision/new").get_data(as_text=True)
    assert tia.post("/api/v1/supervision-sessions", json=SESSION).get_json()["enrolment_id"] == people["enrolment"].id
    second = make_enrolment(people["trainee"], people["supervisor"], code="verp-practitioner", start=date(2026, 1, 5))
    choose = client.get("/supervision/new").get_data(as_text=True)
    assert "<title>Which log is this session for?" in choose
    offered = [int(value) for value in re.findall(r'name="enrolment" type="radio" value="(\d+)"', choose)]
    asked = _errors(tia.post("/api/v1/supervision-sessions", json={**SESSION, "start_time": "15:00"}))
    assert sorted(offered) == [people["enrolment"].id, second.id]
    assert f"({', '.join(str(enrolment_id) for enrolment_id in offered)})" in asked["enrolment_id"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"session_date": "2026-03-03"}, "session_date", "today or in the past"),
        ({"session_date": "2026-01-04"}, "session_date", "on or after the training started"),
        ({"duration_minutes": 10}, "duration_minutes", "greater than or equal to 15"),
        ({"format": "group"}, "group_size", "how many trainees took part"),
        ({"principles": ["charisma"]}, "principles.0", "Input should be"),
        ({"start_time": "25:00"}, "start_time", "should match pattern"),
        ({"case_codes": ["VC-0000-0000"]}, "case_codes", "not one of your case codes"),
        ({"cycle_ids": [999999]}, "cycle_ids", "not in your casework"),
        ({"cycle_ids": ["first"]}, "cycle_ids.0", "integer"),
        ({"reflection": "Met mum at 07700 900123"}, "reflection", "Remove"),
        ({"reflection": "nul\u0000byte"}, "reflection", "control characters"),
        ({"duration_minutes": "90"}, "duration_minutes", "integer"),
    ],
)
def test_broken_rules_are_named_beside_their_field(tia, change, field, words):
    errors = _errors(tia.post("/api/v1/supervision-sessions", json={**SESSION, **change}))
    assert words in errors[field], errors
    assert _sessions() == []


def test_the_trainees_own_case_codes_are_kept(tia, people):
    case = make_case(people["trainee"])
    db.session.commit()
    response = tia.post("/api/v1/supervision-sessions", json={**SESSION, "case_codes": [case.code.lower()]})
    assert response.get_json()["case_codes"] == [case.code]


def test_the_cycles_reviewed_are_named_and_kept(tia, people):
    case = make_case(people["trainee"])
    cycle = Cycle(
        case=case, filmed_on=date(2026, 2, 2), shared_review_on=date(2026, 2, 9), clips_count=2, principles=[]
    )
    db.session.add(cycle)
    db.session.commit()
    response = tia.post("/api/v1/supervision-sessions", json={**SESSION, "cycle_ids": [cycle.id]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["case_codes"] == [case.code]
    assert body["reviewed"] == [{"case_code": case.code, "cycle_id": cycle.id, "filmed_on": "2026-02-02"}]


def test_the_same_session_is_not_logged_twice(tia):
    assert tia.post("/api/v1/supervision-sessions", json=SESSION).status_code == 201
    assert "already in" in _errors(tia.post("/api/v1/supervision-sessions", json=SESSION))["start_time"]
    assert len(_sessions()) == 1


def test_a_paused_training_record_is_a_conflict(tia, people):
    people["enrolment"].status = EnrolmentStatus.PAUSED
    db.session.commit()
    response = tia.post("/api/v1/supervision-sessions", json={**SESSION, "enrolment_id": people["enrolment"].id})
    assert response.status_code == 409
    assert response.get_json()["type"].endswith("#problem-conflict")
    assert "paused" in response.get_json()["detail"]
    # Without an id there is no active record to choose.
    assert (
        "no active training record" in _errors(tia.post("/api/v1/supervision-sessions", json=SESSION))["enrolment_id"]
    )


def test_with_two_active_records_the_trainee_says_which(tia, people):
    second = make_enrolment(people["trainee"], people["supervisor"], code="verp-practitioner", start=date(2026, 1, 5))
    errors = _errors(tia.post("/api/v1/supervision-sessions", json=SESSION))
    assert "give enrolment_id" in errors["enrolment_id"] and str(second.id) in errors["enrolment_id"]
    response = tia.post("/api/v1/supervision-sessions", json={**SESSION, "enrolment_id": second.id})
    assert response.status_code == 201
    assert response.get_json()["enrolment_id"] == second.id


def test_the_api_logs_only_in_the_token_owners_own_record(sian, client, people):
    # The supervisor may see the trainee's record, but logs on their behalf only on the pages.
    response = sian.post("/api/v1/supervision-sessions", json={**SESSION, "enrolment_id": people["enrolment"].id})
    assert response.status_code == 403
    stranger = Api(client, issue_token(make_user("sam@example.org", roles=(Role.TRAINEE,))))
    response = stranger.post("/api/v1/supervision-sessions", json={**SESSION, "enrolment_id": people["enrolment"].id})
    assert response.status_code == 404
    assert (
        "no active training record" in _errors(sian.post("/api/v1/supervision-sessions", json=SESSION))["enrolment_id"]
    )
    assert _sessions() == []


# --- reading the log -------------------------------------------------------------------------------


def test_each_person_lists_the_sessions_that_are_theirs(tia, sian, client, people):
    led_by_sian = make_supervision(people["enrolment"], people["supervisor"], 1, date(2026, 2, 1), confirmed=False)
    led_by_owen = make_supervision(people["enrolment"], people["other"], 1, date(2026, 2, 8))
    owen = Api(client, issue_token(people["other"]))
    assert [item["id"] for item in tia.get("/api/v1/supervision-sessions").get_json()["items"]] == [
        led_by_owen.id,
        led_by_sian.id,
    ]
    assert [item["id"] for item in sian.get("/api/v1/supervision-sessions").get_json()["items"]] == [led_by_sian.id]
    assert [item["id"] for item in owen.get("/api/v1/supervision-sessions").get_json()["items"]] == [led_by_owen.id]
    # The personal supervisor reads the whole log of their trainee's record; Owen may not.
    whole = sian.get(f"/api/v1/supervision-sessions?enrolment={people['enrolment'].id}").get_json()
    assert [item["id"] for item in whole["items"]] == [led_by_owen.id, led_by_sian.id]
    assert whole["links"]["self"] == f"/api/v1/supervision-sessions?enrolment={people['enrolment'].id}&page=1"
    assert owen.get(f"/api/v1/supervision-sessions?enrolment={people['enrolment'].id}").status_code == 404
    awaiting = tia.get("/api/v1/supervision-sessions?status=logged").get_json()["items"]
    assert [item["id"] for item in awaiting] == [led_by_sian.id]


# --- confirming ---------------------------------------------------------------------------------------


def _logged(people) -> SupervisionSession:
    return make_supervision(people["enrolment"], people["supervisor"], 1.5, date(2026, 2, 10), confirmed=False)


def test_the_supervisor_confirms_a_session_they_led(sian, people):
    session = _logged(people)
    response = sian.post(
        f"/api/v1/supervision-sessions/{session.id}/confirm", json={"version": 1, "comments": "Good use of clips."}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["version"], body["supervisor_comments"]) == ("confirmed", 2, "Good use of clips.")
    assert body["confirmed_at"] == "2026-03-02T10:00:00Z"
    (stored,) = _sessions()
    assert stored.status is SessionStatus.CONFIRMED
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "supervision.confirmed")).one()


def test_a_stale_version_is_a_conflict_and_changes_nothing(sian, people):
    session = _logged(people)
    for version in (2, 7):
        response = sian.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json={"version": version})
        assert response.status_code == 409
        assert response.get_json()["type"].endswith("#problem-conflict")
    (stored,) = _sessions()
    assert (stored.status, stored.version) == (SessionStatus.LOGGED, 1)


def test_a_confirmed_session_cannot_be_confirmed_again(sian, people):
    session = _logged(people)
    assert sian.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json={"version": 1}).status_code == 200
    again = sian.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json={"version": 2})
    assert again.status_code == 409
    assert "awaiting confirmation" in again.get_json()["detail"]


def test_only_the_sessions_supervisor_confirms_it(tia, client, people):
    session = _logged(people)
    # The trainee sees the session but may not confirm it; someone unconnected is told it does not exist.
    assert tia.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json={"version": 1}).status_code == 403
    owen = Api(client, issue_token(people["other"]))
    assert owen.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json={"version": 1}).status_code == 404
    assert owen.post("/api/v1/supervision-sessions/99999/confirm", json={"version": 1}).status_code == 404
    (stored,) = _sessions()
    assert stored.status is SessionStatus.LOGGED


def test_confirming_needs_the_version(sian, people):
    session = _logged(people)
    errors = _errors(sian.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json={}))
    assert errors == {"version": "Field required"}
    comments = {"version": 1, "comments": "Seen at SW1A 1AA"}
    assert (
        "Remove" in _errors(sian.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json=comments))["comments"]
    )
    assert _sessions()[0].status is SessionStatus.LOGGED


# --- progress --------------------------------------------------------------------------------------


def test_progress_has_the_figures_the_task_list_shows(tia, sian, people):
    enrolment = people["enrolment"]
    session = _logged(people)
    sian.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json={"version": 1})
    response = tia.get(f"/api/v1/enrolments/{enrolment.id}/progress")
    assert response.status_code == 200
    body = response.get_json()
    db.session.expire_all()
    expected = progress_for([enrolment])[enrolment.id]
    assert body["enrolment"]["id"] == enrolment.id and body["trainee"]["id"] == people["trainee"].id
    assert body["enrolment"]["pathway"] == {
        "code": "vig-practitioner",
        "version": "2024.1",
        "name": enrolment.pathway_version.name,
    }
    assert [stage["code"] for stage in body["stages"]] == [stage.record.stage_code for stage in expected]
    assert body["current_stage"] == enrolment.current_stage.stage_code
    for stage, progress in zip(body["stages"], expected, strict=True):
        assert (stage["state"], stage["percent"], stage["all_met"]) == (
            progress.record.state.value,
            progress.percent,
            progress.all_met,
        )
        assert [(r["kind"], r["value"], r["met"], r["figure"], r["left"]) for r in stage["requirements"]] == [
            (s.kind.value, s.value, s.met, s.figure, s.left) for s in progress.requirements
        ]
    assert body["overall_percent"] == round(sum(p.percent for p in expected) / len(expected))


def test_progress_is_read_by_the_trainee_and_supervisor_only(sian, client, people):
    path = f"/api/v1/enrolments/{people['enrolment'].id}/progress"
    assert sian.get(path).status_code == 200
    owen = Api(client, issue_token(people["other"]))
    assert owen.get(path).status_code == 404
    assert owen.get("/api/v1/enrolments/99999/progress").status_code == 404


def test_me_lists_the_trainees_own_records_with_links_to_progress(tia, people):
    body = tia.get("/api/v1/me").get_json()
    enrolment = people["enrolment"]
    assert body["enrolments"] == [
        {
            "id": enrolment.id,
            "pathway": {"code": "vig-practitioner", "version": "2024.1", "name": enrolment.pathway_version.name},
            "status": "active",
            "start_date": "2026-01-05",
            "supervisor": {"id": people["supervisor"].id, "name": "Sian Supervisor"},
            "links": {"progress": f"/api/v1/enrolments/{enrolment.id}/progress"},
        }
    ]
    assert body["roles"] == ["trainee"]


def test_sessions_count_is_untouched_by_refusals(sian, people):
    session = _logged(people)
    sian.post(f"/api/v1/supervision-sessions/{session.id}/confirm", json={"version": 5})
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("supervision.%")))
        == 0
    )


@pytest.mark.parametrize(
    ("scopes", "listed"),
    [
        (("cases:read", "cases:write"), False),
        (("enrolments:read",), True),
        (("supervision:write",), True),
        (("supervision:read",), True),
    ],
)
def test_me_lists_training_records_only_to_a_token_that_may_read_them(client, people, scopes, listed):
    response = Api(client, issue_token(people["trainee"], *scopes)).get("/api/v1/me")
    assert response.status_code == 200
    enrolments = response.get_json()["enrolments"]
    assert [item["id"] for item in enrolments] == ([people["enrolment"].id] if listed else [])


def test_the_scopes_that_list_training_records_are_real_scopes():
    assert set(SCOPES) >= TRAINING_SCOPES
