"""Invitations and password resets: single use, expiring, and no hint whether an address exists."""

from __future__ import annotations

import re

from freezegun import freeze_time
from sqlalchemy import select

from tests.factories import PASSWORD, make_admin, make_user
from vigtrain.accounts.models import User
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage

NEW_PASSWORD = "seven purple otters sing loudly"
LINK = re.compile(r"http://localhost(/(?:password/reset|invitation)/[\w.\-]+)")


def _outbox_links(address: str) -> list[str]:
    db.session.expire_all()
    bodies = db.session.scalars(
        select(OutboxMessage.body).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
    ).all()
    return [match.group(1) for body in bodies for match in LINK.finditer(body or "")]


def _ask_for_reset(client, email: str):
    return client.submit("/password/forgot", {"email": email})


def test_reset_request_answers_the_same_for_known_and_unknown_addresses(client, app):
    make_user("sam@example.org")
    known = _ask_for_reset(client, "sam@example.org")
    unknown = _ask_for_reset(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    strip = lambda r, email: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True)).replace(email, "EMAIL")  # noqa: E731
    assert strip(known, "sam@example.org") == strip(unknown, "nobody@example.org")
    assert len(_outbox_links("sam@example.org")) == 1
    assert _outbox_links("nobody@example.org") == []


def test_reset_link_works_once(client, app):
    user = make_user("sam@example.org")
    _ask_for_reset(client, "sam@example.org")
    (link,) = _outbox_links("sam@example.org")
    response = client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/login"
    assert client.login("sam@example.org", NEW_PASSWORD).headers["Location"] == "/home"
    client.submit("/logout", page="/account")

    again = client.get(link)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)
    replay = client.post(link, data={"password": "another fine password", "confirm": "another fine password"})
    assert replay.status_code == 400
    db.session.refresh(user)
    assert client.login("sam@example.org", NEW_PASSWORD).status_code == 302


def test_reset_link_expires(client, app):
    make_user("sam@example.org")
    with freeze_time("2026-03-01 10:00:00"):
        _ask_for_reset(client, "sam@example.org")
    (link,) = _outbox_links("sam@example.org")
    with freeze_time("2026-03-01 10:59:00"):
        assert client.get(link).status_code == 200
    with freeze_time("2026-03-01 11:01:00"):
        response = client.get(link)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_tampered_reset_link_is_refused(client, app):
    make_user("sam@example.org")
    _ask_for_reset(client, "sam@example.org")
    (link,) = _outbox_links("sam@example.org")
    response = client.get(link[:-3] + "abc")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_reset_ends_existing_sessions_and_clears_lock(app):
    user = make_user("sam@example.org")
    signed_in = app.test_client()
    signed_in.login("sam@example.org")
    other = app.test_client()
    _ask_for_reset(other, "sam@example.org")
    (link,) = _outbox_links("sam@example.org")
    other.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert signed_in.get("/account").status_code == 302
    db.session.refresh(user)
    assert user.failed_login_count == 0


def test_weak_new_password_is_refused_and_nothing_changes(client, app):
    user = make_user("sam@example.org")
    old_hash = user.password_hash
    _ask_for_reset(client, "sam@example.org")
    (link,) = _outbox_links("sam@example.org")
    for password, message in [
        ("short", "12 characters or more"),
        ("password1234", "too common"),
        ("sam@example.org-x", "must not contain your email"),
    ]:
        response = client.submit(link, {"password": password, "confirm": password})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    mismatch = client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert "Passwords do not match" in mismatch.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash
    assert client.get(link).status_code == 200  # a refused attempt does not spend the link


def test_invitation_journey(client, app):
    make_admin()
    client.login("admin@example.org")
    response = client.submit(
        "/admin/users/invite", {"email": "New.Person@Example.org", "display_name": "New Person", "roles": ["trainee"]}
    )
    assert response.headers["Location"] == "/admin/users/"
    invited = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert invited is not None and invited.password_hash is None
    (link,) = _outbox_links("new.person@example.org")
    client.submit("/logout", page="/account")

    page = client.get(link)
    assert "Welcome to vigtrain, New Person" in page.get_data(as_text=True)
    assert client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.login("new.person@example.org", NEW_PASSWORD).headers["Location"] == "/home"
    assert client.get(link).status_code == 400


def test_invitation_expires_after_seven_days(client, app):
    make_admin()
    with freeze_time("2026-03-01 10:00:00"):
        client.login("admin@example.org")
        client.submit(
            "/admin/users/invite", {"email": "late@example.org", "display_name": "Late", "roles": ["trainee"]}
        )
    (link,) = _outbox_links("late@example.org")
    with freeze_time("2026-03-08 10:01:00"):
        assert client.get(link).status_code == 400


def test_inviting_an_existing_address_looks_the_same_and_creates_nothing(client, app):
    make_admin()
    make_user("sam@example.org")
    client.login("admin@example.org")
    response = client.submit(
        "/admin/users/invite", {"email": "SAM@example.org", "display_name": "Sam Again", "roles": ["trainee"]}
    )
    assert response.headers["Location"] == "/admin/users/"
    assert db.session.scalar(select(User).where(User.display_name == "Sam Again")) is None
    assert _outbox_links("sam@example.org") == []  # told they already have an account, no link


def test_resending_an_invitation_spends_the_old_link(client, app):
    make_admin()
    client.login("admin@example.org")
    client.submit("/admin/users/invite", {"email": "new@example.org", "display_name": "New", "roles": ["trainee"]})
    invited = db.session.scalar(select(User).where(User.email == "new@example.org"))
    client.submit(f"/admin/users/{invited.id}/resend-invitation", page=f"/admin/users/{invited.id}")
    first, second = _outbox_links("new@example.org")
    client.submit("/logout", page="/account")
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200


def test_password_change_keeps_this_session_and_ends_others(app):
    make_user("sam@example.org")
    here, elsewhere = app.test_client(), app.test_client()
    here.login("sam@example.org")
    elsewhere.login("sam@example.org")
    response = here.submit(
        "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.headers["Location"] == "/account"
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302


def test_password_change_needs_the_current_password(client, app):
    make_user("sam@example.org")
    client.login("sam@example.org")
    response = client.submit(
        "/account/password", {"current_password": "wrong one", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 422
    assert "Your current password is not correct" in response.get_data(as_text=True)


def test_links_in_emails_use_the_configured_address_whatever_host_the_request_names(client, app):
    """A reset asked for with a forged Host header must not mail the token to the forger's site."""
    app.config["BASE_URL"] = "https://vigtrain.aviguk.example"
    make_user("sam@example.org")
    admin = make_admin()
    app.config["WTF_CSRF_ENABLED"] = False  # the forged host has no session cookie; CSRF is not the point here
    asked = client.post("/password/forgot", data={"email": "sam@example.org"}, headers={"Host": "evil.example"})
    assert asked.status_code == 200
    app.config["WTF_CSRF_ENABLED"] = True
    client.login(admin.email)
    invite = {"email": "new@example.org", "display_name": "Nia New", "roles": ["trainee"]}
    assert client.submit("/admin/users/invite", invite).status_code == 302
    db.session.expire_all()
    bodies = " ".join(db.session.scalars(select(OutboxMessage.body)).all())
    assert "evil.example" not in bodies
    assert "https://vigtrain.aviguk.example/password/reset/" in bodies
    assert "https://vigtrain.aviguk.example/invitation/" in bodies
