"""The training records list: each filter, the sorts, paging by key, the CSV and who may see it."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import count_statements, make_enrolment, make_service, make_user, pathway_version, place_on_stage
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.organisations.models import Region
from vigtrain.pathways.models import EnrolmentStatus, StageState


@pytest.fixture
def world(app):
    north = make_service("North Trust", region_code="E12000002")
    south = make_service("South Council", region_code="E12000008")
    db.session.commit()
    admin = make_user("admin@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    sue = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor", service_id=north.id)
    sam = make_user("sam@example.org", roles=(Role.SUPERVISOR,), name="Sam Second", service_id=south.id)
    al = make_user("al@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Al Accreditor")

    def trainee(name: str, service) -> object:
        email = name.split()[0].lower() + "@example.org"
        return make_user(email, roles=(Role.TRAINEE,), name=name, service_id=service.id)

    records = {
        "ann": make_enrolment(trainee("Ann Long", north), sue, actor=admin),
        "bob": make_enrolment(trainee("Bob Short", north), sue, actor=admin),
        "cat": make_enrolment(trainee("Cat South", south), sam, actor=admin),
        "dan": make_enrolment(trainee("Dan Older", south), sam, version="2015.1", actor=admin),
    }
    place_on_stage(records["ann"], "stage-2", StageState.SIGNED_OFF, 20)
    place_on_stage(records["bob"], "stage-2", StageState.SIGNED_OFF, 5)
    place_on_stage(records["cat"], "stage-1", StageState.WITH_ACCREDITOR, 30, accreditor=al)
    records["dan"].status = EnrolmentStatus.PAUSED
    records["dan"].last_activity_at = utcnow() - timedelta(days=1)
    db.session.commit()
    return {"admin": admin, "sue": sue, "sam": sam, "al": al, "north": north, "south": south, **records}


def _admin(app):
    client = app.test_client()
    client.login("admin@example.org")
    return client


def _names(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<a class="govuk-link" href="/enrolments/\d+">([^<]+)</a>', html)


def test_everything_by_most_recent_activity_first(app, world):
    response = _admin(app).get("/admin/records")
    assert response.status_code == 200
    assert _names(response) == ["Dan Older", "Bob Short", "Ann Long", "Cat South"]
    assert "4 training records match" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=ann", ["Ann Long"]),
        ("q=BOB%40example", ["Bob Short"]),
        ("pathway=vig-practitioner", ["Dan Older", "Bob Short", "Ann Long", "Cat South"]),
        ("stage=stage-2", ["Bob Short", "Ann Long"]),
        ("state=with_accreditor", ["Cat South"]),
        ("status=paused", ["Dan Older"]),
        ("supervisor=sam", ["Dan Older", "Cat South"]),
        ("supervisor=sue%40example.org", ["Bob Short", "Ann Long"]),
        ("accreditor=al+acc", ["Cat South"]),
        ("service=north", ["Bob Short", "Ann Long"]),
        ("stage=stage-2&state=signed_off&waiting=14", ["Ann Long"]),
        ("waiting=25", ["Cat South"]),
        ("q=nobody-at-all", []),
    ],
)
def test_each_filter(app, world, query, expected):
    assert _names(_admin(app).get(f"/admin/records?{query}")) == expected


def test_filter_by_version_region_and_cohort(app, world):
    client = _admin(app)
    old = pathway_version("vig-practitioner", "2015.1")
    assert _names(client.get(f"/admin/records?version={old.id}")) == ["Dan Older"]
    south_region = db.session.scalar(select(Region).where(Region.code == "E12000008"))
    assert _names(client.get(f"/admin/records?region={south_region.id}")) == ["Dan Older", "Cat South"]
    cohort = Cohort(name="ITC North 2026", pathway_version=pathway_version(), starts_on=world["ann"].start_date)
    db.session.add(cohort)
    db.session.flush()
    world["ann"].cohort_id = cohort.id
    db.session.commit()
    response = client.get(f"/admin/records?cohort={cohort.id}")
    assert _names(response) == ["Ann Long"] and "Cohort: ITC North 2026" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("waiting=abc", "Enter the number of days as a whole number, like 14"),
        ("waiting=99999", "Enter a number of days from 0 to 3,650"),
        ("state=bogus", "Choose a stage state from the list"),
        ("version=999999", "Choose a pathway version from the list"),
        ("sort=evil", "Choose a sort by from the list"),
        ("q=" + "x" * 101, "Field cannot be longer than 100 characters."),
    ],
)
def test_bad_filters_are_refused_beside_the_field(app, world, query, message):
    response = _admin(app).get(f"/admin/records?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _names(response) == []
    assert _admin(app).get(f"/admin/records.csv?{query}").status_code == 400


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Ann Long", "Bob Short", "Cat South", "Dan Older"]),
        ("waiting", ["Cat South", "Ann Long", "Bob Short", "Dan Older"]),
    ],
)
def test_sorts(app, world, sort, expected):
    assert _names(_admin(app).get(f"/admin/records?sort={sort}")) == expected


@pytest.mark.parametrize("sort", ["activity", "name", "waiting", "start"])
def test_paging_by_key_visits_every_record_once(app, world, sort):
    admin = world["admin"]
    for number in range(7):
        person = make_user(f"extra{number}@example.org", roles=(Role.TRAINEE,), name=f"Extra {number}")
        make_enrolment(person, world["sue"], actor=admin)
    app.config["PAGE_SIZE"] = 3
    client = _admin(app)
    seen, url = [], f"/admin/records?sort={sort}"
    while url:
        response = client.get(url)
        seen += _names(response)
        found = re.search(r'href="([^"]+)" rel="next"', response.get_data(as_text=True))
        url = found.group(1).replace("&amp;", "&") if found else None
    everyone = _names(client.get(f"/admin/records?sort={sort}&after="))
    assert len(seen) == len(set(seen)) == 11
    assert seen[:3] == everyone[:3]


def test_a_malformed_cursor_means_the_first_page(app, world):
    for cursor in ("%%%", "bm90LWEtbnVtYmVy", "x" * 500, "MXw="):
        response = _admin(app).get(f"/admin/records?after={cursor}")
        assert response.status_code == 200 and len(_names(response)) == 4


def test_the_csv_holds_what_the_filter_shows_and_is_audited(app, world):
    response = _admin(app).get("/admin/records.csv?stage=stage-2", buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="training-records-')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["Trainee"] for row in rows] == ["Bob Short", "Ann Long"]
    assert rows[1]["Stage state"] == "Signed off by supervisor" and rows[1]["Days in state"] == "20"
    assert rows[1]["Personal supervisor"] == "Sue Supervisor" and rows[1]["Service"] == "North Trust"
    event_row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "training_records.exported"))
    assert event_row is not None and event_row.after == {"filters": {"stage": "stage-2"}}


def test_the_csv_defuses_formulas(app, world):
    world["ann"].trainee.display_name = "=HYPERLINK(1)"
    db.session.commit()
    body = _admin(app).get("/admin/records.csv?q=ann", buffered=True).get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body


def test_the_list_costs_the_same_statements_for_more_records(app, world):
    client = _admin(app)
    pages = ("/admin/records", "/admin/records?stage=stage-2&waiting=1", "/admin/records?sort=waiting&q=o")
    few = [count_statements(client, url) for url in pages]
    for number in range(12):
        person = make_user(f"more{number}@example.org", roles=(Role.TRAINEE,), name=f"More {number}")
        enrolment = make_enrolment(person, world["sue"], actor=world["admin"])
        place_on_stage(enrolment, "stage-1", StageState.WITH_ACCREDITOR, 3, world["al"])
    assert [count_statements(client, url) for url in pages] == few


@pytest.mark.parametrize("email", ["sue@example.org", "al@example.org", "ann@example.org"])
def test_only_administrators_see_the_list(app, world, email):
    client = app.test_client()
    client.login(email)
    assert client.get("/admin/records").status_code == 403
    assert client.get("/admin/records.csv").status_code == 403
    assert app.test_client().get("/admin/records").status_code == 302


def test_the_record_leaves_the_filter_once_an_accreditor_is_asked(app, world):
    client = _admin(app)
    filtered = "/admin/records?stage=stage-2&state=signed_off&waiting=14"
    assert _names(client.get(filtered)) == ["Ann Long"]
    record = world["ann"].stage_record("stage-2")
    response = client.submit(
        f"/enrolments/{world['ann'].id}/stages/stage-2/accreditor",
        {"version": record.version, "accreditor": str(world["al"].id)},
        page=f"/enrolments/{world['ann'].id}/stages/stage-2",
    )
    assert response.status_code == 302
    assert _names(client.get(filtered)) == []
    assert _names(client.get("/admin/records?state=with_accreditor&accreditor=al")) == ["Ann Long", "Cat South"]


def test_a_persons_page_links_to_their_training_records(app, world):
    html = _admin(app).get(f"/admin/users/{world['ann'].trainee_id}").get_data(as_text=True)
    assert "/admin/records?q=ann@example.org" in html
