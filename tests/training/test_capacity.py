"""Supervisor capacity: each supervisor's load in a fixed number of queries, the administrators'
page that sorts and filters it in SQL, and setting a capacity with every refusal."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories import counting_statements, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.dates import utcnow
from vigtrain.errors import DomainError, NotFound, PermissionDenied
from vigtrain.extensions import db
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.training import capacity
from vigtrain.training.capacity import Load

SESSION_DAY = date(2026, 2, 20)


def _on_stage(enrolment, code, state=StageState.IN_PROGRESS, days_ago=0):
    """Move the enrolment to stage `code` in `state`, everything before it complete."""
    target = enrolment.stage_record(code)
    for stage in enrolment.stages:
        if stage.position < target.position:
            stage.state = StageState.COMPLETE
    target.state, target.state_since = state, utcnow() - timedelta(days=days_ago)
    enrolment.mark_current_stage()
    db.session.commit()
    return target


def _status(enrolment, status):
    enrolment.status = status
    db.session.commit()


@pytest.fixture
def caseload(people):
    """Sue supervises five open trainees and two closed ones, accredits one of Al's, and has sessions to confirm.

    Sue: ITC (VIG), ITC (VERP), Stage 1 (paused), Stage 1 submitted 5 days ago, Stage 2; one withdrawn,
    one completed. She accredits Al's trainee's Stage 1, sent to her 12 days ago. Olly (a trainee and
    supervisor) is named on a session in his own record, which he cannot confirm.
    """
    admin, sue, al = people["admin"], people["supervisor"], people["accreditor"]
    trainees = [make_user(f"t{n}@example.org", name=f"Trainee {n}") for n in range(1, 9)]
    on_itc = make_enrolment(trainees[0], sue, actor=admin)
    make_enrolment(trainees[1], sue, code="verp-practitioner", version="2024.1", actor=admin)
    paused = make_enrolment(trainees[2], sue, actor=admin)
    _on_stage(paused, "stage-1")
    _status(paused, EnrolmentStatus.PAUSED)
    submitted = make_enrolment(trainees[3], sue, actor=admin)
    _on_stage(submitted, "stage-1", StageState.SUBMITTED, days_ago=5)
    on_stage_2 = make_enrolment(trainees[4], sue, actor=admin)
    _on_stage(on_stage_2, "stage-2")
    _status(make_enrolment(trainees[5], sue, actor=admin), EnrolmentStatus.WITHDRAWN)
    completed = make_enrolment(trainees[6], sue, actor=admin)
    _status(completed, EnrolmentStatus.COMPLETED)
    # A withdrawn trainee's submitted stage waits for nobody.
    _on_stage(completed, "stage-1", StageState.SUBMITTED, days_ago=40)

    als = make_enrolment(trainees[7], al, actor=admin)
    accrediting = _on_stage(als, "stage-1", StageState.WITH_ACCREDITOR, days_ago=12)
    accrediting.accrediting_supervisor_id = sue.id
    db.session.commit()

    make_supervision(on_itc, sue, 1, SESSION_DAY, confirmed=False)
    make_supervision(on_stage_2, sue, 1, SESSION_DAY, confirmed=False)
    make_supervision(on_stage_2, sue, 1, SESSION_DAY, confirmed=True)
    olly = people["stranger"]
    own = make_enrolment(olly, sue, actor=admin)
    make_supervision(own, olly, 1, SESSION_DAY, confirmed=False)
    return {**people, "submitted": submitted}


# --- the figures --------------------------------------------------------------------------------------


def test_loads_count_open_supervision_by_stage_accreditations_sessions_and_the_oldest_wait(caseload):
    sue, al, pat = caseload["supervisor"], caseload["accreditor"], caseload["plain"]
    olly = caseload["stranger"]
    found = capacity.loads([sue.id, al.id, pat.id, olly.id])

    mine = found[sue.id]
    # Olly's own enrolment (Sue supervises it) makes six open trainees; withdrawn and completed do not count.
    assert mine.supervising == 6
    assert list(mine.by_stage.items()) == [
        ("Initial Training Course", 2),
        ("VERP Initial Training", 1),
        ("Stage 1", 2),
        ("Stage 2", 1),
    ]
    assert mine.accrediting == 1
    assert mine.sessions_to_confirm == 2
    assert mine.awaiting == 2  # Stage 1 submitted to her, and Al's trainee's Stage 1 to accredit
    assert mine.oldest_wait_days == 12
    assert mine.capacity is None and mine.in_hand == 7 and not mine.over_capacity

    assert found[al.id] == Load(supervising=1, by_stage={"Stage 1": 1})
    assert found[pat.id] == Load()
    assert found[olly.id].sessions_to_confirm == 0  # named on a session in his own record


def test_nobody_is_counted_as_supervising_themselves(caseload):
    sam = make_user("sam@example.org", roles=(Role.TRAINEE, Role.SUPERVISOR), name="Sam Self")
    enrolment = make_enrolment(sam, caseload["supervisor"], actor=caseload["admin"])
    _on_stage(enrolment, "stage-1", StageState.SUBMITTED, days_ago=3)
    enrolment.supervisor_id = sam.id  # outside the rules, as a record imported from elsewhere might be
    db.session.commit()
    assert capacity.loads([sam.id])[sam.id] == Load()


def test_a_closed_enrolment_takes_nothing_off_a_supervisor(caseload):
    sue = caseload["supervisor"]
    before = capacity.loads([sue.id])[sue.id]
    _status(caseload["submitted"], EnrolmentStatus.WITHDRAWN)
    after = capacity.loads([sue.id])[sue.id]
    assert (after.supervising, after.awaiting, after.oldest_wait_days) == (before.supervising - 1, 1, 12)


def test_the_oldest_wait_is_none_when_nothing_waits(caseload):
    assert capacity.loads([caseload["accreditor"].id])[caseload["accreditor"].id].oldest_wait_days is None


@pytest.mark.parametrize(
    ("load", "summary"),
    [
        (Load(supervising=5, capacity=8), "5 trainees of 8"),
        (Load(supervising=5, accrediting=2, capacity=8), "5 trainees · 2 to accredit: 7 of 8"),
        (Load(supervising=1), "1 trainee (no limit set)"),
        (Load(supervising=5, accrediting=2), "5 trainees · 2 to accredit (no limit set)"),
        (Load(supervising=7, accrediting=2, capacity=8), "Over capacity: 9 of 8"),
        (Load(supervising=8, capacity=8), "8 trainees of 8"),
    ],
)
def test_summary_says_the_load_against_the_capacity(load, summary):
    assert load.summary == summary
    assert load.over_capacity is summary.startswith("Over")


def test_loads_cost_the_same_statements_for_one_person_or_many(caseload):
    ids = [user.id for user in caseload.values() if isinstance(user, User)]
    sue_id = caseload["supervisor"].id
    db.session.expire_all()
    with counting_statements() as one:
        capacity.loads([sue_id])
    db.session.expire_all()
    with counting_statements() as many:
        capacity.loads(ids)
    assert len(one) == len(many) <= 6
    with counting_statements() as none:
        assert capacity.loads([]) == {}
    assert none == []


def test_load_hints_give_each_person_their_summary(caseload):
    sue = caseload["supervisor"]
    sue.trainee_capacity = 6
    db.session.commit()
    assert capacity.load_hints([sue, caseload["plain"]]) == {
        sue.id: "Over capacity: 7 of 6",
        caseload["plain"].id: "0 trainees (no limit set)",
    }


# --- the page -------------------------------------------------------------------------------------------


def _client(app, user):
    client = app.test_client()
    client.login(user.email)
    return client


@pytest.fixture
def admin_client(app, caseload):
    return _client(app, caseload["admin"])


def _text(response) -> str:
    return response.get_data(as_text=True)


def _plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", _text(response))))


def _listed(response) -> list[str]:
    """The supervisors' names, in the order the table lists them."""
    return [
        html.unescape(name.strip())
        for name in re.findall(r'<th scope="row" class="govuk-table__header">\s*([^<]+)', _text(response))
    ]


def test_the_capacity_pages_join_the_training_blueprint(app):
    """`create_app` imports `vigtrain.training.capacity_views` before it registers the blueprint."""
    assert {"training.supervisor_capacity", "training.edit_capacity"} <= set(app.view_functions)


def test_page_lists_active_supervisors_and_accreditors_with_their_figures(admin_client, caseload):
    make_user("gone@example.org", roles=(Role.SUPERVISOR,), name="Gary Gone", is_active_flag=False)
    response = admin_client.get("/admin/capacity")
    assert response.status_code == 200
    assert _listed(response) == ["Al Accreditor", "Olly Other", "Pat Plain", "Sue Supervisor"]
    page = _plain(response)
    for figure in ("Initial Training Course: 2", "VERP Initial Training: 1", "Stage 1: 2", "Stage 2: 1"):
        assert figure in page
    assert "Oldest waiting 12 days" in page
    assert "7 in hand, no limit set" in page
    assert 'href="/admin/records?supervisor=sup%40example.org"' in _text(response)
    assert 'href="/admin/capacity/{}"'.format(caseload["supervisor"].id) in _text(response)
    assert "govuk-tag--red" not in _text(response)


def test_page_uses_the_narrow_screen_table_pattern(admin_client):
    text = _text(admin_client.get("/admin/capacity"))
    assert '<div class="app-table-wrapper" role="region" aria-label="Supervisor capacity" tabindex="0">' in text
    assert "govuk-table--small-text-until-tablet" in text


def test_page_searches_by_name_or_email_and_filters_by_role(admin_client):
    assert _listed(admin_client.get("/admin/capacity?q=SUE")) == ["Sue Supervisor"]
    assert _listed(admin_client.get("/admin/capacity?q=acc%40example")) == ["Al Accreditor"]
    assert _listed(admin_client.get("/admin/capacity?role=accrediting_supervisor")) == [
        "Al Accreditor",
        "Sue Supervisor",
    ]
    nobody = admin_client.get("/admin/capacity?q=zz%25")
    assert _listed(nobody) == [] and "No supervisors match" in _plain(nobody)


def test_page_sorts_by_trainees_in_hand_and_pages_in_sql(app, admin_client):
    assert _listed(admin_client.get("/admin/capacity?sort=load")) == [
        "Sue Supervisor",
        "Al Accreditor",
        "Olly Other",
        "Pat Plain",
    ]
    app.config["PAGE_SIZE"] = 2
    first = admin_client.get("/admin/capacity?sort=load")
    assert _listed(first) == ["Sue Supervisor", "Al Accreditor"]
    assert "sort=load" in _text(first) and "page=2" in _text(first)
    assert _listed(admin_client.get("/admin/capacity?sort=load&page=2")) == ["Olly Other", "Pat Plain"]


def test_over_capacity_only_is_filtered_in_sql_and_tagged(app, admin_client, caseload):
    sue, al, pat = caseload["supervisor"], caseload["accreditor"], caseload["plain"]
    sue.trainee_capacity, al.trainee_capacity, pat.trainee_capacity = 6, 1, 1
    db.session.commit()
    app.config["PAGE_SIZE"] = 1
    response = admin_client.get("/admin/capacity?over=1")
    assert _listed(response) == ["Sue Supervisor"]  # Al is at capacity, not over it; Pat has nobody
    assert "page=2" not in _text(response)
    assert "7 of 6 in hand" in _plain(response)
    assert re.search(r'<strong class="govuk-tag govuk-tag--red">\s*Over capacity\s*</strong>', _text(response))


def test_crafted_filters_are_ignored(admin_client):
    response = admin_client.get("/admin/capacity?role=administrator&sort=evil&over=yes&page=x&q=" + "a" * 500)
    assert response.status_code == 200
    assert _listed(admin_client.get("/admin/capacity?role=administrator&sort=evil&over=yes")) == [
        "Al Accreditor",
        "Olly Other",
        "Pat Plain",
        "Sue Supervisor",
    ]


def test_page_costs_the_same_statements_whatever_the_number_of_supervisors(app, admin_client, caseload):
    app.config["PAGE_SIZE"] = 100
    url = "/admin/capacity?sort=load&over=1"
    caseload["supervisor"].trainee_capacity = 1
    db.session.commit()
    with counting_statements() as few:
        assert admin_client.get(url).status_code == 200
    for number in range(6):
        supervisor = make_user(f"extra{number}@example.org", roles=(Role.SUPERVISOR,), trainee_capacity=1)
        for trainee in range(2):
            make_enrolment(make_user(f"x{number}-{trainee}@example.org"), supervisor, actor=caseload["admin"])
    with counting_statements() as many:
        response = admin_client.get(url)
    assert len(_listed(response)) == 7
    assert len(many) == len(few)


@pytest.mark.parametrize("who", ["supervisor", "trainee", "service_lead"])
def test_only_administrators_see_the_page_or_set_a_capacity(app, caseload, who):
    user = (
        make_user("lead@example.org", roles=(Role.SERVICE_LEAD,), name="Lee Lead")
        if who == "service_lead"
        else caseload[who]
    )
    client = _client(app, user)
    assert client.get("/admin/capacity").status_code == 403
    url = f"/admin/capacity/{caseload['plain'].id}"
    assert client.get(url).status_code == 403
    assert client.submit(url, {"capacity": "5"}, page="/home").status_code == 403
    db.session.expire_all()
    assert caseload["plain"].trainee_capacity is None


def test_signed_out_people_are_sent_to_sign_in(client, caseload):
    response = client.get("/admin/capacity")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- setting a capacity -----------------------------------------------------------------------------------


def _audit(action="user.capacity_changed") -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_setting_and_clearing_a_capacity_is_saved_and_audited(admin_client, caseload):
    sue = caseload["supervisor"]
    url = f"/admin/capacity/{sue.id}"
    form = admin_client.get(url)
    assert form.status_code == 200
    assert "Trainees in hand 7" in _plain(form) and "Capacity now No limit set" in _plain(form)

    response = admin_client.submit(url, {"capacity": " 8 "})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/capacity")
    db.session.expire_all()
    assert sue.trainee_capacity == 8
    assert "Sue Supervisor now has a capacity of 8." in _plain(admin_client.get("/admin/capacity"))

    assert admin_client.submit(url, {"capacity": ""}).status_code == 302
    db.session.expire_all()
    assert sue.trainee_capacity is None
    events = _audit()
    assert [(event.before, event.after) for event in events] == [
        ({"trainee_capacity": None}, {"trainee_capacity": 8}),
        ({"trainee_capacity": 8}, {"trainee_capacity": None}),
    ]
    assert {(event.actor_id, event.entity_type, event.entity_id) for event in events} == {
        (caseload["admin"].id, "User", str(sue.id))
    }


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "The capacity must be between 1 and 200, or leave it blank for no limit"),
        ("201", "The capacity must be between 1 and 200, or leave it blank for no limit"),
        ("-1", "The capacity must be between 1 and 200, or leave it blank for no limit"),
        ("99999999999999999999999", "The capacity must be between 1 and 200, or leave it blank for no limit"),
        ("abc", "Enter the capacity as a whole number, like 8, or leave it blank for no limit"),
        ("1.5", "Enter the capacity as a whole number, like 8, or leave it blank for no limit"),
        ("1_0", "Enter the capacity as a whole number, like 8, or leave it blank for no limit"),
        ("٣", "Enter the capacity as a whole number, like 8, or leave it blank for no limit"),
    ],
)
def test_a_bad_capacity_is_refused_beside_the_field_and_nothing_is_saved(admin_client, caseload, typed, message):
    sue = caseload["supervisor"]
    sue.trainee_capacity = 5
    db.session.commit()
    response = admin_client.submit(f"/admin/capacity/{sue.id}", {"capacity": typed})
    assert response.status_code == 422
    text = _text(response)
    assert 'class="govuk-error-summary' in text and 'href="#capacity"' in text
    error = r'id="capacity-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span> ' + re.escape(message)
    assert re.search(error, text)
    assert f'value="{typed}"' in text
    db.session.expire_all()
    assert sue.trainee_capacity == 5
    assert _audit() == []


@pytest.mark.parametrize("who", ["trainee", "admin"])
def test_only_active_supervisors_have_a_capacity_page(admin_client, caseload, who):
    assert admin_client.get(f"/admin/capacity/{caseload[who].id}").status_code == 404
    assert admin_client.get("/admin/capacity/999999").status_code == 404
    gone = make_user("gone@example.org", roles=(Role.SUPERVISOR,), is_active_flag=False)
    assert admin_client.get(f"/admin/capacity/{gone.id}").status_code == 404


def test_set_capacity_checks_who_asks_and_about_whom(caseload):
    admin, sue = caseload["admin"], caseload["supervisor"]
    with pytest.raises(PermissionDenied):
        capacity.set_capacity(sue, caseload["plain"], 5)
    with pytest.raises(NotFound):
        capacity.set_capacity(admin, caseload["trainee"], 5)
    with pytest.raises(DomainError) as refused:
        capacity.set_capacity(admin, sue, 0)
    assert refused.value.field == "capacity"
    db.session.rollback()
    capacity.set_capacity(admin, sue, 200)
    capacity.set_capacity(admin, sue, 200)  # no change, nothing more to audit
    db.session.commit()
    assert sue.trainee_capacity == 200
    assert len(_audit()) == 1
