"""Cases and cycles through the browser's eyes: who may see what, and every refusal."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event, func, select

from tests.factories import make_admin, make_case, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import AgeBand, Case, Cycle, Population, Relationship
from vigtrain.extensions import db
from vigtrain.organisations.models import Region

CASE = {
    "relationship_type": "parent_infant",
    "child_age_band": "0-11m",
    "population": "perinatal",
    "started_on": ["2", "2", "2026"],
    "consent_filming": "no",
    "consent_supervision": "no",
    "consent_dcs": "no",
}
CODE = re.compile(r"VC-[0-9A-Z]{4}-[0-9A-Z]{4}")


def _region(code: str = "E12000003") -> Region:
    return db.session.scalar(select(Region).where(Region.code == code))


def _cases() -> list[Case]:
    db.session.expire_all()
    return list(db.session.scalars(select(Case)))


def _cycle_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Cycle))


@pytest.fixture
def practitioner(app):
    service = make_service("Riverside Family Service", region_code="E12000007")
    user = make_user("pat@example.org", roles=(Role.PRACTITIONER,), name="Pat Practitioner", service_id=service.id)
    return user


@pytest.fixture
def signed_in(client, practitioner):
    client.login("pat@example.org")
    return practitioner


@pytest.fixture
def case(signed_in):
    created = make_case(signed_in)
    db.session.commit()
    return created


def _cycle(**overrides) -> dict:
    data = {
        "filmed_on": ["16", "2", "2026"],
        "shared_review_on": ["23", "2", "2026"],
        "clips_count": "4",
        "principles": ["attentive", "receiving"],
        "note": "Parent noticed the baby's initiatives for the first time.",
    }
    data.update(overrides)
    return data


# --- cases ---------------------------------------------------------------------------------------


def test_people_without_a_caseload_cannot_keep_cases(client, app):
    make_user("sup@example.org", roles=(Role.SUPERVISOR,))
    client.login("sup@example.org")
    assert client.get("/cases").status_code == 403
    assert client.get("/cases/new").status_code == 403
    response = client.post("/cases/new", data={**CASE, "region": str(_region().id)})
    assert response.status_code in (400, 403)
    assert _cases() == []


def test_signed_out_people_are_sent_to_sign_in(client, app):
    response = client.get("/cases")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_new_case_form_explains_anonymity_and_defaults_to_the_service_region(client, signed_in):
    html = client.get("/cases/new").get_data(as_text=True)
    assert "never stores names, dates of birth, addresses or contact details" in html
    assert "your own service&#39;s records" in html or "your own service's records" in html
    london = _region("E12000007")
    assert re.search(rf'<option value="{london.id}" selected', html)
    assert "Parent and baby (under 2)" in html and "Perinatal mental health" in html


def test_case_is_created_with_a_system_generated_code(client, signed_in):
    response = client.submit(
        "/cases/new", {**CASE, "region": str(_region().id), "code": "VC-0000-0000", "practitioner_id": "999"}
    )
    assert response.status_code == 302
    (case,) = _cases()
    assert CODE.fullmatch(case.code) and case.code != "VC-0000-0000"
    assert case.practitioner_id == signed_in.id
    assert case.relationship_type is Relationship.PARENT_INFANT
    assert case.child_age_band is AgeBand.UNDER_1
    assert case.population is Population.PERINATAL
    assert case.region.code == "E12000003"
    assert case.service_id == signed_in.service_id
    assert response.headers["Location"] == f"/cases/{case.code}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Case {case.code} added" in page
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.created")) is not None


def test_case_needs_every_choice(client, signed_in):
    response = client.submit("/cases/new", {"region": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Select who the guidance is for",
        "Select the age of the child or young person",
        "Select the area of work",
        "Select the region or nation",
    ):
        assert message in html
    assert "There is a problem" in html and html.startswith("<!DOCTYPE html>")
    assert "<title>Error: Add a case" in html
    assert _cases() == []


def test_case_refuses_choices_not_offered(client, signed_in):
    response = client.submit(
        "/cases/new",
        {"relationship_type": "wizard", "child_age_band": "1990-01-01", "population": "x", "region": "99999"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Select who the guidance is for from the list" in html
    assert "Select an age band from the list" in html
    assert "Select an area of work from the list" in html
    assert "Select a region or nation from the list" in html
    assert _cases() == []


def test_my_cases_newest_first_with_cycle_figures_and_nobody_elses(client, clock, signed_in):
    older = make_case(signed_in)
    db.session.commit()
    clock.tick(60)
    newer = make_case(signed_in)
    db.session.add_all(
        [
            Cycle(case=older, filmed_on=date(2026, 1, 5), shared_review_on=date(2026, 1, 12), clips_count=3),
            Cycle(case=older, filmed_on=date(2026, 2, 2), shared_review_on=date(2026, 2, 9), clips_count=3),
        ]
    )
    other = make_case(make_user("other@example.org", roles=(Role.PRACTITIONER,)))
    db.session.commit()
    html = client.get("/cases").get_data(as_text=True)
    assert html.index(newer.code) < html.index(older.code)
    assert other.code not in html
    assert "9 February 2026" in html and "None yet" in html
    assert re.search(r"numeric\">2</td>", html) and re.search(r"numeric\">0</td>", html)


def test_case_list_is_paginated(client, signed_in):
    for _ in range(27):
        make_case(signed_in)
    db.session.commit()
    assert "Showing 1 to 25 of 27" in client.get("/cases").get_data(as_text=True)
    assert "Showing 26 to 27 of 27" in client.get("/cases?page=2").get_data(as_text=True)


def _count_statements(client, url: str) -> int:
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_case_list_costs_the_same_with_more_cases_and_cycles(client, signed_in):
    for _ in range(2):
        db.session.add(
            Cycle(
                case=make_case(signed_in), filmed_on=date(2026, 1, 5), shared_review_on=date(2026, 1, 6), clips_count=2
            )
        )
    db.session.commit()
    few = _count_statements(client, "/cases")
    for _ in range(10):
        case = make_case(signed_in)
        for _ in range(3):
            db.session.add(
                Cycle(case=case, filmed_on=date(2026, 1, 5), shared_review_on=date(2026, 1, 6), clips_count=2)
            )
    db.session.commit()
    assert _count_statements(client, "/cases") == few


def test_someone_elses_case_is_not_found(client, signed_in):
    theirs = make_case(make_user("other@example.org", roles=(Role.PRACTITIONER,)))
    db.session.commit()
    assert client.get(f"/cases/{theirs.code}").status_code == 404
    assert client.get(f"/cases/{theirs.code}/cycles/new").status_code == 404
    response = client.post(f"/cases/{theirs.code}/cycles/new", data=_cycle())
    assert response.status_code in (400, 404)
    assert _cycle_count() == 0


@pytest.mark.parametrize("code", ["nonsense", "VC-0000-0001", "VC-", "%00", "VC-" + "A" * 300])
def test_malformed_or_unknown_codes_are_not_found(client, signed_in, code):
    assert client.get(f"/cases/{code}").status_code == 404


def test_codes_are_read_forgivingly(client, case):
    lower = case.code.lower().replace("-", " ")
    assert client.get(f"/cases/{lower}").status_code == 200


def test_case_page_shows_summary_and_cycles(client, case):
    db.session.add(
        Cycle(
            case=case,
            filmed_on=date(2026, 1, 5),
            shared_review_on=date(2026, 1, 12),
            clips_count=5,
            principles=["attentive", "guiding"],
            note="Lovely turn-taking.",
        )
    )
    db.session.commit()
    html = client.get(f"/cases/{case.code}").get_data(as_text=True)
    assert "Parent and child" in html and "3 to 4 years" in html and "Early years and health visiting" in html
    assert "5 January 2026" in html and "12 January 2026" in html
    assert "Being attentive" in html and "Guiding" in html and "Lovely turn-taking." in html
    assert "Add a cycle" in html and "Delete" in html


def _admin_client(app):
    make_admin()
    admin = app.test_client()
    admin.login("admin@example.org")
    return admin


def test_administrators_read_cases_but_do_not_change_them(app, case):
    client = _admin_client(app)
    html = client.get(f"/cases/{case.code}").get_data(as_text=True)
    assert case.code in html and "Add a cycle" not in html
    assert client.get(f"/cases/{case.code}/cycles/new").status_code == 403


# --- cycles --------------------------------------------------------------------------------------


def test_cycle_form_prefills_todays_shared_review(client, clock, case):
    html = client.get(f"/cases/{case.code}/cycles/new").get_data(as_text=True)
    assert re.search(r'id="shared_review_on"[^>]*value="2"', html)
    assert re.search(r'id="shared_review_on-month"[^>]*value="3"', html)
    assert re.search(r'id="shared_review_on-year"[^>]*value="2026"', html)
    assert "Being attentive" in html and "Deepening discussion" in html
    assert 'data-maxlength="500"' in html


def test_cycle_is_added(client, clock, case):
    response = client.submit(f"/cases/{case.code}/cycles/new", _cycle(principles=["receiving", "attentive"]))
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.code}"
    db.session.expire_all()
    (cycle,) = db.session.scalars(select(Cycle))
    assert cycle.case_id == case.id
    assert (cycle.filmed_on, cycle.shared_review_on, cycle.clips_count) == (date(2026, 2, 16), date(2026, 2, 23), 4)
    assert cycle.principles == ["attentive", "receiving"]
    assert cycle.note == "Parent noticed the baby's initiatives for the first time."
    assert "Cycle added" in client.get(f"/cases/{case.code}").get_data(as_text=True)


def test_cycle_on_today_with_no_principles_or_note(client, clock, case):
    response = client.submit(
        f"/cases/{case.code}/cycles/new",
        _cycle(filmed_on=["2", "3", "2026"], shared_review_on=["2", "3", "2026"], principles=[], note=""),
    )
    assert response.status_code == 302
    db.session.expire_all()
    (cycle,) = db.session.scalars(select(Cycle))
    assert cycle.principles == [] and cycle.note is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"filmed_on": ["3", "3", "2026"], "shared_review_on": ["3", "3", "2026"]},
            "The filming date must be today or in the past",
        ),
        ({"shared_review_on": ["10", "3", "2026"]}, "The shared review date must be today or in the past"),
        (
            {"filmed_on": ["20", "2", "2026"], "shared_review_on": ["19", "2", "2026"]},
            "The shared review must be on or after the day of filming",
        ),
        ({"filmed_on": ["1", "10", "2025"]}, "The shared review must be within 90 days of filming"),
        ({"filmed_on": ["31", "02", "2026"]}, "The filming date must be a real date"),
        ({"filmed_on": ["29", "2", "2025"]}, "The filming date must be a real date"),
        ({"filmed_on": ["16", "13", "2026"]}, "The filming date must be a real date"),
        ({"filmed_on": ["9" * 30, "2", "2026"]}, "The filming date must be a real date"),
        ({"filmed_on": ["²", "2", "2026"]}, "The filming date must be a real date"),
        ({"filmed_on": ["16", "", "2026"]}, "The filming date must include a month"),
        ({"filmed_on": ["", "", "2026"]}, "The filming date must include a day and month"),
        ({"filmed_on": ["", "", ""]}, "Enter the filming date"),
        ({"filmed_on": ["16", "2", "26"]}, "The year must include 4 numbers"),
        ({"filmed_on": ["sixteen", "2", "2026"]}, "The filming date must be a real date, in numbers"),
        ({"shared_review_on": ["", "", ""]}, "Enter the shared review date"),
        ({"clips_count": ""}, "Enter the number of clips"),
        ({"clips_count": "three"}, "Number of clips must be a whole number"),
        ({"clips_count": "2.5"}, "Number of clips must be a whole number"),
        ({"clips_count": "0"}, "Number of clips must be between 1 and 60"),
        ({"clips_count": "61"}, "Number of clips must be between 1 and 60"),
        ({"clips_count": "-3"}, "Number of clips must be between 1 and 60"),
        ({"clips_count": "9" * 40}, "Number of clips must be between 1 and 60"),
        ({"principles": ["attentive", "mind-reading"]}, "Select principles from the list"),
        ({"note": "x" * 501}, "The note must be 500 characters or fewer"),
    ],
)
def test_cycle_refusals(client, clock, case, changes, message):
    response = client.submit(f"/cases/{case.code}/cycles/new", _cycle(**changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'class="govuk-error-message"' in html and "There is a problem" in html
    assert _cycle_count() == 0


def test_impossible_date_keeps_what_was_typed(client, clock, case):
    html = client.submit(f"/cases/{case.code}/cycles/new", _cycle(filmed_on=["31", "02", "2026"])).get_data(
        as_text=True
    )
    assert re.search(r'id="filmed_on"[^>]*value="31"', html)
    assert re.search(r'id="filmed_on-month"[^>]*value="02"', html)


def test_a_date_with_missing_boxes_is_a_message_not_an_error(client, clock, case):
    data = _cycle()
    data["filmed_on"] = "16"  # one box only, as a hand-made request might send
    response = client.submit(f"/cases/{case.code}/cycles/new", data)
    assert response.status_code == 422
    assert "The filming date must include a month and year" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("note", "found"),
    [
        ("Mum said email her at jo.bloggs@example.com", "an email address"),
        ("Call on 07700 900123 before the visit", "a phone number"),
        ("NHS 943 476 5919 on the referral", "an NHS number"),
        ("Lives near SW1A 1AA", "a postcode"),
        ("Baby born 12/03/2019, settled well", "a full date"),
    ],
)
def test_identifying_details_in_the_note_are_refused(client, clock, case, note, found):
    response = client.submit(f"/cases/{case.code}/cycles/new", _cycle(note=note))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Remove {found}" in html
    assert "must not hold details that could identify a client" in html
    assert _cycle_count() == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cycle.added")) is None


def test_cycle_delete_asks_first_then_deletes(client, case):
    cycle = Cycle(case=case, filmed_on=date(2026, 1, 5), shared_review_on=date(2026, 1, 12), clips_count=3)
    db.session.add(cycle)
    db.session.commit()
    url = f"/cases/{case.code}/cycles/{cycle.id}/delete"
    page = client.get(url)
    assert page.status_code == 200 and "Are you sure you want to delete this cycle?" in page.get_data(as_text=True)
    assert _cycle_count() == 1
    response = client.submit(url)
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.code}"
    assert _cycle_count() == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cycle.deleted")) is not None


def test_cycle_delete_needs_the_csrf_token(client, case):
    cycle = Cycle(case=case, filmed_on=date(2026, 1, 5), shared_review_on=date(2026, 1, 12), clips_count=3)
    db.session.add(cycle)
    db.session.commit()
    response = client.post(f"/cases/{case.code}/cycles/{cycle.id}/delete")
    assert response.status_code == 400
    assert _cycle_count() == 1


def test_cycles_of_other_cases_and_other_people_cannot_be_deleted(client, case):
    other_case = make_case(case.practitioner)
    theirs_case = make_case(make_user("other@example.org", roles=(Role.PRACTITIONER,)))
    mine = Cycle(case=case, filmed_on=date(2026, 1, 5), shared_review_on=date(2026, 1, 12), clips_count=3)
    theirs = Cycle(case=theirs_case, filmed_on=date(2026, 1, 5), shared_review_on=date(2026, 1, 12), clips_count=3)
    db.session.add_all([mine, theirs])
    db.session.commit()
    # A cycle addressed through a case it does not belong to.
    assert client.get(f"/cases/{other_case.code}/cycles/{mine.id}/delete").status_code == 404
    assert client.submit(f"/cases/{case.code}/cycles/{theirs.id}/delete", page=f"/cases/{case.code}").status_code == 404
    assert client.get(f"/cases/{theirs_case.code}/cycles/{theirs.id}/delete").status_code == 404
    assert client.get(f"/cases/{case.code}/cycles/99999/delete").status_code == 404
    assert _cycle_count() == 2


def test_administrators_cannot_delete_cycles(app, case):
    cycle = Cycle(case=case, filmed_on=date(2026, 1, 5), shared_review_on=date(2026, 1, 12), clips_count=3)
    db.session.add(cycle)
    db.session.commit()
    client = _admin_client(app)
    assert client.get(f"/cases/{case.code}/cycles/{cycle.id}/delete").status_code == 403
    assert _cycle_count() == 1


def test_every_problem_is_shown_at_once(client, clock, case):
    response = client.submit(
        f"/cases/{case.code}/cycles/new",
        _cycle(filmed_on=["31", "2", "2026"], clips_count="many", note="Ring 07700 900123"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The filming date must be a real date" in html
    assert "Number of clips must be a whole number" in html
    assert "Remove a phone number" in html
    assert 'href="#filmed_on"' in html and 'id="filmed_on"' in html  # the summary link lands in the day box
    assert _cycle_count() == 0


def test_cycle_counted_in_a_submitted_stage_cannot_be_deleted(client, app):
    from tests.factories import make_cycles, make_enrolment
    from vigtrain.training import signoff

    trainee = make_user("tara@example.org", roles=(Role.TRAINEE,))
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,))
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
    itc = enrolment.stages[0]
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    signoff.submit_stage(trainee, itc, itc.version)
    db.session.commit()
    (case,) = make_cycles(trainee, 1, 1, date(2026, 1, 10))
    cycle_id = case.cycles[0].id
    client.login("tara@example.org")
    url = f"/cases/{case.code}/cycles/{cycle_id}/delete"
    response = client.submit(url)
    assert response.status_code == 422
    assert "cannot be deleted" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Cycle, cycle_id) is not None
