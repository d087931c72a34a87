"""Choosing a service's leads by search: who may be chosen, the role it gives, and who may do it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import make_admin, make_service, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db


@pytest.fixture
def world(app):
    north, south = make_service("North Trust"), make_service("South Council")
    db.session.commit()
    return {
        "north": north,
        "south": south,
        "admin": make_admin(service_id=north.id),
        "nina": make_user("nina@example.org", roles=(Role.PRACTITIONER,), name="Nina North", service_id=north.id),
        "sol": make_user("sol@example.org", roles=(Role.SUPERVISOR,), name="Sol South", service_id=south.id),
        "gone": make_user(
            "gone@example.org", roles=(Role.PRACTITIONER,), name="Nell Gone", service_id=north.id, is_active_flag=False
        ),
        "sue": make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor", service_id=north.id),
    }


def _client(app, email: str):
    client = app.test_client()
    client.login(email)
    return client


def _roles(user: User) -> set[Role]:
    db.session.expire_all()
    return set(db.session.get(User, user.id).roles)


def test_search_finds_only_active_people_of_this_service(app, world):
    admin = _client(app, "admin@example.org")
    url = f"/people/search?for=service_lead&context={world['north'].id}&q="
    found = {
        person["name"]
        for query in ("n", "ni", "so", "nell", "ada")
        for person in admin.get(url + query).json["results"]
    }
    assert found == {"Nina North", "Sue Supervisor"}  # not South, not deactivated, not the administrator
    assert _client(app, "sue@example.org").get(url + "ni").status_code == 404


def test_an_administrator_makes_someone_a_service_lead_and_stands_them_down(app, world):
    admin = _client(app, "admin@example.org")
    page = f"/admin/users/service-leads/{world['north'].id}"
    found = admin.submit(page, {"person-q": "nina", "find": "person"})
    assert found.status_code == 200 and re.search(
        rf'name="person"\s+type="radio" value="{world["nina"].id}"', found.text
    )
    response = admin.submit(page, {"person": str(world["nina"].id)})
    assert response.status_code == 302
    assert _roles(world["nina"]) == {Role.PRACTITIONER, Role.SERVICE_LEAD}
    listing = admin.get(page).text
    assert "Nina North" in listing and "Stand down Nina North" in listing
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.service_lead_appointed")) is not None
    again = admin.submit(page, {"person": str(world["nina"].id)})
    assert again.status_code == 422 and "Nina North is already a service lead" in again.text

    stand_down = f"/admin/users/service-leads/{world['north'].id}/{world['nina'].id}/stand-down"
    assert admin.submit(stand_down, {}, page=page).status_code == 302
    assert _roles(world["nina"]) == {Role.PRACTITIONER}


@pytest.mark.parametrize("who", ["sol", "gone", "admin", "nobody"])
def test_someone_a_search_could_not_find_is_refused_and_nothing_changes(app, world, who):
    admin = _client(app, "admin@example.org")
    chosen = str(world[who].id) if who in world else "99999"
    response = admin.submit(f"/admin/users/service-leads/{world['north'].id}", {"person": chosen})
    assert response.status_code == 422
    assert "Search for the person again and choose them from the results" in response.text
    if who in world:
        assert Role.SERVICE_LEAD not in _roles(world[who])


def test_standing_down_someone_of_another_service_is_not_found(app, world):
    world["sol"].set_roles({Role.SUPERVISOR, Role.SERVICE_LEAD})
    db.session.commit()
    admin = _client(app, "admin@example.org")
    page = f"/admin/users/service-leads/{world['north'].id}"
    response = admin.submit(
        f"/admin/users/service-leads/{world['north'].id}/{world['sol'].id}/stand-down", {}, page=page
    )
    assert response.status_code == 404
    assert Role.SERVICE_LEAD in _roles(world["sol"])


def test_only_administrators_manage_service_leads(app, world):
    sue = _client(app, "sue@example.org")
    assert sue.get(f"/admin/users/service-leads/{world['north'].id}").status_code == 403
    assert _client(app, "admin@example.org").get("/admin/users/service-leads/99999").status_code == 404


def test_the_service_page_links_to_its_leads(app, world):
    html = _client(app, "admin@example.org").get(f"/admin/services/{world['north'].id}/edit").text
    assert f"/admin/users/service-leads/{world['north'].id}" in html
