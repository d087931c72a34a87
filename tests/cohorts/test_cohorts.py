"""Creating, changing and listing cohorts, each refusal beside its field, and who may do it."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.cohorts.builders import join, make_cohort, make_enrolments, signed_in
from vigtrain.audit import AuditEvent
from vigtrain.cohorts import services
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db
from vigtrain.organisations.models import Region


def _cohorts() -> list[Cohort]:
    db.session.expire_all()
    return list(db.session.scalars(select(Cohort).order_by(Cohort.id)))


def _audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _form(versions, **changes) -> dict:
    data = {
        "name": "ITC North West 2026",
        "pathway": str(versions["current"].id),
        "region": "",
        "starts_on": ["5", "1", "2026"],
        "ends_on": ["", "", ""],
        "lead": "",
    }
    data.update(changes)
    return data


# --- creating -------------------------------------------------------------------------------------


def test_an_administrator_creates_a_cohort_with_a_region_and_a_lead(app, people, versions):
    region = db.session.scalar(select(Region).where(Region.code == "E12000002"))
    form = _form(
        versions,
        region=str(region.id),
        ends_on=["30", "6", "2026"],
        lead=str(people["sue"].id),
    )
    response = signed_in(app, "admin@example.org").submit("/admin/cohorts/new", form)
    (cohort,) = _cohorts()
    assert response.status_code == 302 and response.headers["Location"] == f"/cohorts/{cohort.id}"
    assert cohort.name == "ITC North West 2026"
    assert cohort.pathway_version_id == versions["current"].id and cohort.region_id == region.id
    assert (cohort.starts_on, cohort.ends_on) == (date(2026, 1, 5), date(2026, 6, 30))
    assert cohort.lead_id == people["sue"].id
    (event,) = _audits("cohort.created")
    assert event.actor_id == people["admin"].id and event.after["name"] == "ITC North West 2026"


def test_the_form_offers_every_pathway_version_an_older_one_too(app, people, versions):
    html = signed_in(app, "admin@example.org").get("/admin/cohorts/new").get_data(as_text=True)
    offered = {int(value) for value in re.findall(r'name="pathway" type="radio" value="(\d+)"', html)}
    assert {versions["current"].id, versions["old"].id} <= offered
    response = signed_in(app, "admin@example.org").submit(
        "/admin/cohorts/new", _form(versions, pathway=str(versions["old"].id))
    )
    assert response.status_code == 302
    assert _cohorts()[0].pathway_version_id == versions["old"].id


def test_searching_for_the_lead_without_javascript_shows_the_form_again_and_saves_nothing(app, people, versions):
    client = signed_in(app, "admin@example.org")
    response = client.submit("/admin/cohorts/new", _form(versions, find="lead", **{"lead-q": "sup"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'name="lead"\s+type="radio" value="{people["sue"].id}"', html)
    assert "Tara Trainee" not in html  # a trainee cannot lead a course
    assert _cohorts() == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "   "}, "name", "Enter the cohort&#39;s name"),
        ({"name": "x" * 121}, "name", "The name must be 120 characters or fewer"),
        ({"name": "itc south 2025"}, "name", "A cohort with this name already exists"),
        ({"pathway": ""}, "pathway", "Select the pathway version"),
        ({"pathway": "99999"}, "pathway", "Select a pathway version from the list"),
        ({"region": "abc"}, "region", "Select a region from the list"),
        ({"starts_on": ["", "", ""]}, "starts_on", "Enter the start date"),
        ({"starts_on": ["31", "2", "2026"]}, "starts_on", "The start date must be a real date"),
        ({"starts_on": ["5", "", "2026"]}, "starts_on", "The start date must include a month"),
        ({"ends_on": ["1", "13", "2026"]}, "ends_on", "The end date must be a real date"),
        ({"ends_on": ["4", "1", "2026"]}, "ends_on", "The end date must be the same as or after the start date"),
        ({"lead": "TARA"}, "lead", "Search for the course lead again and choose them from the results"),
        ({"lead": "9" * 30}, "lead", "Search for the course lead again and choose them from the results"),
    ],
)
def test_create_refusals_are_beside_their_field_and_save_nothing(app, people, versions, changes, field, message):
    make_cohort("ITC South 2025", versions["current"])
    if changes.get("lead") == "TARA":
        changes["lead"] = str(people["tara"].id)  # a crafted id: a trainee no search would offer
    response = signed_in(app, "admin@example.org").submit("/admin/cohorts/new", _form(versions, **changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html
    assert re.search(rf'href="#{field}"', html), f"the error summary should link to {field}"
    assert message in html
    assert len(_cohorts()) == 1


def test_a_name_taken_in_a_race_is_refused_beside_the_name_not_a_server_error(app, people, versions, monkeypatch):
    """The check passes because another administrator's cohort is not saved yet; the database's unique
    constraint then fires, the change runs once more and the check now sees the name."""
    make_cohort("ITC North West 2026", versions["current"])
    real, calls = services.name_taken, []

    def misses_the_first_time(name):
        calls.append(name)
        return None if len(calls) == 1 else real(name)

    monkeypatch.setattr(services, "name_taken", misses_the_first_time)
    response = signed_in(app, "admin@example.org").submit("/admin/cohorts/new", _form(versions))
    assert response.status_code == 422
    assert "A cohort with this name already exists" in response.get_data(as_text=True)
    assert len(calls) == 2 and len(_cohorts()) == 1


def test_a_lead_who_lost_the_role_is_refused_by_the_service(app, people, versions):
    from vigtrain.errors import DomainError

    details = services.CohortDetails("X", versions["current"], None, date(2026, 1, 5), None, people["tara"])
    with pytest.raises(DomainError) as refused:
        services.create_cohort(people["admin"], details)
    assert refused.value.field == "lead"
    db.session.rollback()


# --- changing ---------------------------------------------------------------------------------------


def _edit_form(cohort, versions, **changes) -> dict:
    data = _form(versions, name=cohort.name, version=str(cohort.version))
    data.update(changes)
    return data


def test_an_administrator_changes_a_cohort_and_the_change_is_audited(app, people, versions):
    cohort = make_cohort("ITC 2026", versions["current"], lead=people["sue"])
    client = signed_in(app, "admin@example.org")
    html = client.get(f"/admin/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert re.search(rf'name="lead"\s+type="radio" value="{people["sue"].id}"\s+checked', html)
    assert "Remove the course lead" in html
    form = _edit_form(cohort, versions, name="ITC North 2026", lead=str(people["al"].id), ends_on=["1", "7", "2026"])
    response = client.submit(f"/admin/cohorts/{cohort.id}/edit", form)
    assert response.status_code == 302 and response.headers["Location"] == f"/cohorts/{cohort.id}"
    (cohort,) = _cohorts()
    assert (cohort.name, cohort.lead_id, cohort.ends_on) == ("ITC North 2026", people["al"].id, date(2026, 7, 1))
    (event,) = _audits("cohort.updated")
    assert event.before["name"] == "ITC 2026" and event.after["name"] == "ITC North 2026"
    assert event.before["lead_id"] == people["sue"].id and event.after["lead_id"] == people["al"].id


def test_the_lead_can_be_removed(app, people, versions):
    cohort = make_cohort("ITC 2026", versions["current"], lead=people["sue"])
    form = _edit_form(cohort, versions, lead=str(people["sue"].id), no_lead="y")
    response = signed_in(app, "admin@example.org").submit(f"/admin/cohorts/{cohort.id}/edit", form)
    assert response.status_code == 302
    assert _cohorts()[0].lead_id is None


def test_keeping_its_own_name_is_no_clash(app, people, versions):
    cohort = make_cohort("ITC 2026", versions["current"])
    form = _edit_form(cohort, versions, name="ITC 2026")
    assert signed_in(app, "admin@example.org").submit(f"/admin/cohorts/{cohort.id}/edit", form).status_code == 302


def test_a_stale_version_is_a_conflict_and_nothing_changes(app, people, versions):
    cohort = make_cohort("ITC 2026", versions["current"])
    client = signed_in(app, "admin@example.org")
    page = f"/admin/cohorts/{cohort.id}/edit"
    assert client.submit(page, _edit_form(cohort, versions, name="First change")).status_code == 302
    response = client.submit(page, _edit_form(cohort, versions, name="Second change", version="1"))
    assert response.status_code == 409
    assert _cohorts()[0].name == "First change"
    assert len(_audits("cohort.updated")) == 1


def test_a_cohort_with_members_keeps_its_pathway_version(app, people, versions):
    cohort = make_cohort("ITC 2026", versions["current"])
    join(cohort, make_enrolments(1, people["admin"]))
    form = _edit_form(cohort, versions, pathway=str(versions["old"].id))
    response = signed_in(app, "admin@example.org").submit(f"/admin/cohorts/{cohort.id}/edit", form)
    assert response.status_code == 422
    assert "remove them before changing the version" in response.get_data(as_text=True)
    assert _cohorts()[0].pathway_version_id == versions["current"].id


def test_editing_a_cohort_that_does_not_exist_is_not_found(app, people):
    assert signed_in(app, "admin@example.org").get("/admin/cohorts/99999/edit").status_code == 404


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_shows_cohorts_newest_first_with_their_member_counts(app, people, versions):
    older = make_cohort("ITC 2025", versions["old"], starts_on=date(2025, 1, 6))
    newer = make_cohort("ITC 2026", versions["current"], lead=people["sue"])
    join(newer, make_enrolments(3, people["admin"]))
    join(older, make_enrolments(1, people["admin"], version="2015.1", prefix="Old"))
    html = signed_in(app, "admin@example.org").get("/admin/cohorts/").get_data(as_text=True)
    assert html.index("ITC 2026") < html.index("ITC 2025")
    assert "Create a cohort" in html and "Sue Supervisor" in html
    rows = html.split("<tbody")[1].split("</tr>")
    assert 'numeric">3</td>' in rows[0] and 'numeric">1</td>' in rows[1]
    assert re.search(r'href="/admin/cohorts/"[^>]*>\s*(<strong[^>]*>)?\s*Cohorts', html)  # the menu item


def test_the_choices_for_the_records_list_are_newest_first(app, people, versions):
    from vigtrain.cohorts.queries import cohort_choices

    older = make_cohort("ITC 2025", versions["old"], starts_on=date(2025, 1, 6))
    newer = make_cohort("ITC 2026", versions["current"])
    assert cohort_choices() == [(str(newer.id), "ITC 2026"), (str(older.id), "ITC 2025")]


# --- who may --------------------------------------------------------------------------------------------


def _management_requests(cohort, enrolment) -> list[tuple[str, str]]:
    return [
        ("GET", "/admin/cohorts/"),
        ("GET", "/admin/cohorts/new"),
        ("POST", "/admin/cohorts/new"),
        ("GET", f"/admin/cohorts/{cohort.id}/edit"),
        ("POST", f"/admin/cohorts/{cohort.id}/edit"),
        ("POST", f"/admin/cohorts/{cohort.id}/members"),
        ("POST", "/admin/cohorts/members"),
        ("POST", f"/admin/cohorts/{cohort.id}/members/{enrolment.id}/remove"),
    ]


@pytest.mark.parametrize("email", ["sue@example.org", "tara@example.org", "lea@example.org", "al@example.org"])
def test_only_administrators_manage_cohorts(app, people, versions, email):
    cohort = make_cohort("ITC 2026", versions["current"], lead=people["al"])
    (enrolment,) = make_enrolments(1, people["admin"])
    join(cohort, [enrolment])
    client = signed_in(app, email)
    form = {**_form(versions, name="Taken over"), "enrolment": [str(enrolment.id)], "cohort": str(cohort.id)}
    for method, url in _management_requests(cohort, enrolment):
        response = client.get(url) if method == "GET" else client.submit(url, form, page="/home")
        assert response.status_code == 403, (method, url)
    (cohort,) = _cohorts()
    assert cohort.name == "ITC 2026"
    db.session.refresh(enrolment)
    assert enrolment.cohort_id == cohort.id


@pytest.mark.parametrize("email", ["sue@example.org", "tara@example.org", "lea@example.org"])
def test_the_cohort_page_is_not_found_for_anyone_but_administrators_and_its_lead(app, people, versions, email):
    cohort = make_cohort("ITC 2026", versions["current"], lead=people["al"])
    assert signed_in(app, email).get(f"/cohorts/{cohort.id}").status_code == 404


def test_the_lead_sees_the_cohort_they_lead_and_no_other(app, people, versions):
    led = make_cohort("ITC 2026", versions["current"], lead=people["al"])
    other = make_cohort("ITC South 2026", versions["current"], lead=people["sue"])
    client = signed_in(app, "al@example.org")
    assert client.get(f"/cohorts/{led.id}").status_code == 200
    assert client.get(f"/cohorts/{other.id}").status_code == 404
    assert client.get("/cohorts/99999").status_code == 404


def test_management_and_the_cohort_page_need_a_sign_in(client, people, versions):
    cohort = make_cohort("ITC 2026", versions["current"])
    for url in ("/admin/cohorts/", f"/cohorts/{cohort.id}"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
