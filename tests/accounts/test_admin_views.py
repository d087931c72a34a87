"""Administrators manage accounts and services; every change is audited."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_admin, make_service, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.organisations.models import Region, Service


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _signed_in_admin(client):
    admin = make_admin()
    client.login("admin@example.org")
    return admin


def test_user_list_searches_and_filters(client, app):
    _signed_in_admin(client)
    make_user("sam@example.org", name="Sam Patel")
    make_user("helen@example.org", name="Helen Price", roles=(Role.SUPERVISOR,))
    html = client.get("/admin/users/?q=patel").get_data(as_text=True)
    assert "Sam Patel" in html and "Helen Price" not in html
    html = client.get("/admin/users/?role=supervisor").get_data(as_text=True)
    assert "Helen Price" in html and "Sam Patel" not in html


def test_user_list_is_paginated(client, app):
    _signed_in_admin(client)
    for number in range(30):
        make_user(f"p{number:02d}@example.org", name=f"Person {number:02d}", commit=False)
    db.session.commit()
    first = client.get("/admin/users/").get_data(as_text=True)
    assert "Showing 1 to 25 of 31" in first
    second = client.get("/admin/users/?page=2").get_data(as_text=True)
    assert "Showing 26 to 31 of 31" in second


def test_invite_needs_valid_fields(client, app):
    _signed_in_admin(client)
    response = client.submit(
        "/admin/users/invite", {"email": "not-an-email", "display_name": "", "roles": ["wizard"], "service": "999"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter an email address in the correct format" in html
    assert "Enter the person&#39;s full name" in html or "Enter the person's full name" in html
    assert "Select roles from the list" in html
    assert db.session.scalar(select(User).where(User.email == "not-an-email")) is None


def test_invite_without_roles_is_refused(client, app):
    _signed_in_admin(client)
    response = client.submit("/admin/users/invite", {"email": "x@example.org", "display_name": "X"})
    assert response.status_code == 422
    assert "Select at least one role" in response.get_data(as_text=True)


def test_invite_is_audited_with_roles_and_service(client, app):
    admin = _signed_in_admin(client)
    service = make_service("Northfield NHS Trust")
    db.session.commit()
    client.submit(
        "/admin/users/invite",
        {
            "email": "new@example.org",
            "display_name": "New Person",
            "roles": ["trainee", "practitioner"],
            "service": str(service.id),
        },
    )
    (event,) = _events("user.invited")
    assert event.actor_id == admin.id
    assert event.after["roles"] == ["practitioner", "trainee"]
    assert event.after["service_id"] == service.id
    assert event.request_id


def test_edit_account_changes_roles_and_is_audited(client, app):
    _signed_in_admin(client)
    user = make_user("sam@example.org", name="Sam Patel")
    response = client.submit(
        f"/admin/users/{user.id}/edit",
        {"display_name": "Sam Patel-Jones", "roles": ["trainee", "supervisor"], "service": "", "active": "y"},
    )
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    db.session.refresh(user)
    assert user.display_name == "Sam Patel-Jones"
    assert user.roles == {Role.TRAINEE, Role.SUPERVISOR}
    (event,) = _events("user.updated")
    assert event.before["roles"] == ["trainee"]
    assert event.after["roles"] == ["supervisor", "trainee"]


def test_deactivating_signs_the_person_out_everywhere(client, app):
    _signed_in_admin(client)
    user = make_user("sam@example.org")
    sam = app.test_client()
    sam.login("sam@example.org")
    client.submit(f"/admin/users/{user.id}/edit", {"display_name": user.display_name, "roles": ["trainee"]})
    assert sam.get("/account").status_code == 302
    assert sam.login("sam@example.org").status_code == 422


def test_administrator_cannot_edit_own_roles(client, app):
    admin = _signed_in_admin(client)
    assert client.get(f"/admin/users/{admin.id}/edit").status_code == 403
    response = client.submit(
        f"/admin/users/{admin.id}/edit",
        {"display_name": "Ada", "roles": ["trainee"]},
        page=f"/admin/users/{admin.id}",
    )
    assert response.status_code == 403
    db.session.refresh(admin)
    assert admin.has_role(Role.ADMINISTRATOR)


def test_unknown_user_is_404(client, app):
    _signed_in_admin(client)
    assert client.get("/admin/users/9999").status_code == 404


def test_unlock_account(client, app):
    from vigtrain.dates import utcnow

    _signed_in_admin(client)
    from datetime import timedelta

    user = make_user("sam@example.org", locked_until=utcnow() + timedelta(minutes=10))
    assert "Unlock account" in client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    client.submit(f"/admin/users/{user.id}/unlock", page=f"/admin/users/{user.id}")
    db.session.refresh(user)
    assert user.locked_until is None
    assert len(_events("user.unlocked")) == 1


def test_own_details_change_is_audited(client, app):
    user = make_user("sam@example.org", name="Sam")
    client.login("sam@example.org")
    assert client.submit("/account/details", {"display_name": ""}).status_code == 422
    client.submit("/account/details", {"display_name": "Samira Patel"})
    db.session.refresh(user)
    assert user.display_name == "Samira Patel"
    (event,) = _events("user.details_changed")
    assert (event.before["display_name"], event.after["display_name"]) == ("Sam", "Samira Patel")


def test_every_account_change_writes_an_audit_event(client, app):
    """Walk every kind of account change and check each left its own event."""
    _signed_in_admin(client)
    user = make_user("sam@example.org")
    client.submit("/admin/users/invite", {"email": "n@example.org", "display_name": "N", "roles": ["trainee"]})
    client.submit(f"/admin/users/{user.id}/edit", {"display_name": "S", "roles": ["trainee"], "active": "y"})
    sam = app.test_client()
    sam.login("sam@example.org")
    sam.submit("/account/details", {"display_name": "Sam P"})
    sam.submit(
        "/account/password",
        {
            "current_password": "correct horse battery staple",
            "password": "seven purple otters sing loudly",
            "confirm": "seven purple otters sing loudly",
        },
    )
    sam.submit("/logout", page="/account")
    expected = {
        "user.invited",
        "user.updated",
        "user.details_changed",
        "user.password_changed",
        "logout",
        "login.succeeded",
    }
    db.session.expire_all()
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert expected <= actions


def test_services_are_created_validated_and_edited(client, app):
    _signed_in_admin(client)
    region = db.session.scalar(select(Region).where(Region.name == "Wales"))
    bad = client.submit("/admin/services/new", {"name": "", "kind": "castle", "region": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Enter the service&#39;s name" in html or "Enter the service's name" in html
    assert "Not a valid choice" in html or "Select the type of organisation" in html
    ok = client.submit(
        "/admin/services/new", {"name": "Cardiff Family Support", "kind": "local_authority", "region": str(region.id)}
    )
    assert ok.headers["Location"] == "/admin/services/"
    service = db.session.scalar(select(Service).where(Service.name == "Cardiff Family Support"))
    assert service.region.name == "Wales"
    duplicate = client.submit(
        "/admin/services/new", {"name": "cardiff family support", "kind": "charity", "region": str(region.id)}
    )
    assert duplicate.status_code == 422
    assert "already exists" in duplicate.get_data(as_text=True)
    client.submit(
        f"/admin/services/{service.id}/edit",
        {"name": "Cardiff Family Support", "kind": "local_authority", "region": str(region.id)},
    )
    db.session.refresh(service)
    assert service.is_active is False
    assert [e.action for e in _events("service.created")] == ["service.created"]
    assert _events("service.updated")[0].after["is_active"] is False


def test_regions_cover_the_uk(client, app):
    names = set(db.session.scalars(select(Region.name)))
    assert {"London", "North East", "Scotland", "Wales", "Northern Ireland"} <= names
    assert len(names) == 12
