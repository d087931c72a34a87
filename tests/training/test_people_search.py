"""Choosing a person by searching: who each searcher may find, the page without JavaScript, and
that a posted id outside the search's scope is refused."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import count_statements, make_enrolment, make_service, make_user, pathway_version
from vigtrain.accounts.models import Role
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment


@pytest.fixture
def world(app):
    """Two services; a supervisor in the first; trainees in each; an administrator."""
    north, south = make_service("North Trust"), make_service("South Council")
    db.session.commit()
    people = {
        "admin": make_user("admin@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin"),
        "sue": make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor", service_id=north.id),
        "sam": make_user("sam@example.org", roles=(Role.SUPERVISOR,), name="Sam Southsup", service_id=south.id),
        "tara": make_user("tara@example.org", roles=(Role.TRAINEE,), name="Tara North", service_id=north.id),
        "tom": make_user("tom@example.org", roles=(Role.TRAINEE,), name="Tom North", service_id=north.id),
        "tess": make_user("tess@example.org", roles=(Role.TRAINEE,), name="Tess South", service_id=south.id),
        "gone": make_user(
            "gone@example.org", roles=(Role.TRAINEE,), name="Tina Gone", service_id=north.id, is_active_flag=False
        ),
        "al": make_user("al@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Al Accreditor"),
        "nobody": make_user("nobody@example.org", roles=(Role.SUPERVISOR,), name="Nia Noservice"),
    }
    people["north"], people["south"] = north, south
    return people


def _client(app, email):
    client = app.test_client()
    client.login(email)
    return client


def _names(response) -> list[str]:
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return [person["name"] for person in response.get_json()["results"]]


def test_a_supervisor_finds_only_trainees_in_their_own_service_and_no_emails(app, world):
    found = _client(app, "sue@example.org").get("/people/search?for=enrol_trainee&q=t")
    assert found.get_json() == {"results": [], "more": False}  # one letter finds nobody
    response = _client(app, "sue@example.org").get("/people/search?for=enrol_trainee&q=nort")
    assert _names(response) == ["Tara North", "Tom North"]
    assert all("@" not in person["hint"] for person in response.get_json()["results"])
    assert "North Trust" in response.get_json()["results"][0]["hint"]
    # The south trainee exists and matches "t", but is another service's person.
    assert _names(_client(app, "sue@example.org").get("/people/search?for=enrol_trainee&q=tess")) == []
    # Searching by email is for administrators only.
    assert _names(_client(app, "sue@example.org").get("/people/search?for=enrol_trainee&q=tara@")) == []


def test_an_administrator_finds_anyone_by_name_or_email_names_starting_first(app, world):
    client = _client(app, "admin@example.org")
    response = client.get("/people/search?for=enrol_trainee&q=so")
    assert _names(response) == ["Tess South"]
    assert response.get_json()["results"][0]["hint"].startswith("tess@example.org")
    assert _names(client.get("/people/search?for=enrol_trainee&q=tom@example")) == ["Tom North"]
    make_user("x@example.org", roles=(Role.TRAINEE,), name="Anna Northam")
    make_user("y@example.org", roles=(Role.TRAINEE,), name="Northcote Smith")
    assert _names(client.get("/people/search?for=enrol_trainee&q=north"))[0] == "Northcote Smith"


def test_a_supervisor_without_a_service_finds_nobody(app, world):
    assert _names(_client(app, "nobody@example.org").get("/people/search?for=enrol_trainee&q=north")) == []


def test_deactivated_people_and_people_without_the_role_are_not_found(app, world):
    client = _client(app, "admin@example.org")
    assert _names(client.get("/people/search?for=enrol_trainee&q=gone")) == []
    assert _names(client.get("/people/search?for=enrol_trainee&q=sue")) == []  # a supervisor, not a trainee


def test_more_than_ten_say_there_are_more(app, world):
    for number in range(12):
        make_user(f"many{number}@example.org", roles=(Role.TRAINEE,), name=f"Manny {number:02d}", commit=False)
    db.session.commit()
    body = _client(app, "admin@example.org").get("/people/search?for=enrol_trainee&q=manny").get_json()
    assert len(body["results"]) == 10 and body["more"] is True


@pytest.mark.parametrize(
    ("email", "query"),
    [
        ("tara@example.org", "for=enrol_trainee&q=no"),  # a trainee may not enrol anyone
        ("sue@example.org", "for=cohort_lead&q=al"),  # cohorts are for administrators
        ("sue@example.org", "for=nonsense&q=al"),
        ("sue@example.org", "for=accreditor&q=al"),  # no stage named
        ("sue@example.org", "for=accreditor&context=99999&q=al"),
        ("sue@example.org", "for=change_supervisor&context=abc&q=al"),
    ],
)
def test_searches_the_searcher_may_not_make_answer_404(app, world, email, query):
    assert _client(app, email).get(f"/people/search?{query}").status_code == 404


def test_the_search_needs_a_sign_in(app, world):
    response = app.test_client().get("/people/search?for=enrol_trainee&q=no")
    assert response.status_code in (302, 401)


def test_accreditor_search_is_national_leaves_out_the_personal_supervisor_and_shows_load(app, world):
    enrolment = make_enrolment(world["tara"], world["sue"])
    record = enrolment.stages[1]
    client = _client(app, "admin@example.org")
    response = client.get(f"/people/search?for=accreditor&context={record.id}&q=a")
    assert response.status_code == 200
    body = client.get(f"/people/search?for=accreditor&context={record.id}&q=al").get_json()
    assert [person["name"] for person in body["results"]] == ["Al Accreditor"]
    assert "0 trainees" in body["results"][0]["hint"]
    world["sue"].set_roles({Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR})
    db.session.commit()
    assert _names(client.get(f"/people/search?for=accreditor&context={record.id}&q=sue")) == []


def test_the_search_costs_the_same_statements_for_few_or_many_people(app, world):
    client = _client(app, "admin@example.org")
    few = count_statements(client, "/people/search?for=enrol_supervisor&q=su")
    for number in range(15):
        make_user(f"s{number}@example.org", roles=(Role.SUPERVISOR,), name=f"Sunny {number}", commit=False)
    db.session.commit()
    assert count_statements(client, "/people/search?for=enrol_supervisor&q=su") == few


# --- the enrol form with and without JavaScript ------------------------------------------------------


def _enrol_form(**changes) -> dict:
    data = {"pathway": str(pathway_version("vig-practitioner", "2024.1").id), "start_date": ["5", "1", "2026"]}
    data.update(changes)
    return data


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Enrolment))


def test_without_javascript_search_then_choose_then_enrol(app, world):
    client = _client(app, "sue@example.org")
    page = client.get("/enrolments/new").get_data(as_text=True)
    assert "tara@example.org" not in page and "Tara North" not in page  # nobody listed up front
    found = client.submit("/enrolments/new", _enrol_form(**{"trainee-q": "tara", "find": "trainee"}))
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "Tara North" in html and "Tess South" not in html
    assert re.search(rf'name="trainee"\s+type="radio" value="{world["tara"].id}"', html)
    assert _count() == 0  # a search saves nothing
    done = client.submit("/enrolments/new", _enrol_form(trainee=str(world["tara"].id)))
    assert done.status_code == 302 and _count() == 1


def test_a_crafted_id_outside_the_searchers_scope_is_refused_and_nothing_saved(app, world):
    client = _client(app, "sue@example.org")
    response = client.submit("/enrolments/new", _enrol_form(trainee=str(world["tess"].id)))
    assert response.status_code == 422
    assert "Search for the trainee again and choose them from the results" in response.get_data(as_text=True)
    assert _count() == 0


def test_typing_without_choosing_says_to_choose(app, world):
    client = _client(app, "sue@example.org")
    response = client.submit("/enrolments/new", _enrol_form(**{"trainee-q": "tara"}))
    assert response.status_code == 422
    assert "Choose the trainee from the search results" in response.get_data(as_text=True)
    response = client.submit("/enrolments/new", _enrol_form())
    assert "Search for the trainee and choose them" in response.get_data(as_text=True)
    assert _count() == 0


def test_a_one_letter_search_asks_for_more(app, world):
    client = _client(app, "sue@example.org")
    response = client.submit("/enrolments/new", _enrol_form(**{"trainee-q": "t", "find": "trainee"}))
    assert response.status_code == 422
    assert "Enter at least 2 letters of the trainee&#39;s name" in response.get_data(as_text=True)


def test_the_enrolment_service_refuses_a_supervisor_enrolling_another_services_trainee(app, world):
    from vigtrain.errors import DomainError
    from vigtrain.training.services import enrol

    with pytest.raises(DomainError, match="your own service"):
        enrol(world["sue"], world["tess"], pathway_version(), None, None, date(2026, 1, 5), date(2026, 1, 5))


def test_a_trainee_naming_who_led_a_session_finds_any_supervisor_but_themselves(app, world):
    world["tara"].set_roles({Role.TRAINEE, Role.SUPERVISOR})
    db.session.commit()
    enrolment = make_enrolment(world["tara"], world["sue"])
    tara = _client(app, "tara@example.org")
    search = f"/people/search?for=session_supervisor&context={enrolment.id}&q="
    assert _names(tara.get(search + "s")) == []
    assert _names(tara.get(search + "sam")) == ["Sam Southsup"]  # another service: sessions may be led by anyone
    assert _names(tara.get(search + "tara")) == []  # never themselves
    # Only the trainee names the supervisor; their supervisor logging for them is the supervisor.
    assert _client(app, "sue@example.org").get(search + "sam").status_code == 404
    # Without JavaScript: Search lists who was found beside the personal supervisor, already chosen.
    page = tara.submit(
        f"/supervision/new?enrolment={enrolment.id}",
        {"supervisor": str(world["sue"].id), "supervisor-q": "sam", "find": "supervisor"},
    ).get_data(as_text=True)
    assert "Sam Southsup" in page and "Sue Supervisor" in page
    assert re.search(rf'name="supervisor"\s+type="radio" value="{world["sue"].id}"\s+checked[\s>]', page)
