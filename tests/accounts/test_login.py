"""Signing in and out: errors beside fields, sessions ending everywhere, throttling, redirects."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_admin, make_user
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db, limiter


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Sign in to vigtrain" in response.get_data(as_text=True)


def test_empty_form_gets_messages_beside_fields(client):
    response = client.submit("/login", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html
    assert 'href="#email"' in html and "Enter your email address" in html
    assert "Enter your password" in html


def test_wrong_password_is_refused_without_saying_which_part(client, app):
    make_user("sam@example.org")
    response = client.login("sam@example.org", "not the right password")
    assert response.status_code == 422
    assert "Enter a correct email address and password" in response.get_data(as_text=True)
    unknown = client.login("nobody@example.org", "not the right password")
    assert unknown.status_code == 422
    assert "Enter a correct email address and password" in unknown.get_data(as_text=True)


def test_email_is_case_insensitive(client, app):
    make_user("Sam.Patel@Example.org")
    assert client.login("SAM.PATEL@example.ORG").headers["Location"] == "/home"


def test_deactivated_account_cannot_sign_in(client, app):
    make_user("gone@example.org", is_active_flag=False)
    assert client.login("gone@example.org").status_code == 422


def test_successful_login_is_audited(client, app):
    user = make_user("sam@example.org")
    client.login("sam@example.org")
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(user.id))).all()
    assert "login.succeeded" in actions


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "  //evil.example",
    ],
)
def test_next_cannot_redirect_off_site(client, app, target):
    make_user("sam@example.org")
    response = client.submit(f"/login?next={target}", {"email": "sam@example.org", "password": PASSWORD}, page="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


def test_next_goes_to_an_internal_page(client, app):
    make_user("sam@example.org")
    response = client.submit("/login?next=/account", {"email": "sam@example.org", "password": PASSWORD}, page="/login")
    assert response.headers["Location"] == "/account"


def test_protected_page_sends_anonymous_visitor_to_login_with_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/account")


def test_session_cookie_copied_before_logout_is_rejected_after(app):
    make_user("sam@example.org")
    browser = app.test_client()
    browser.login("sam@example.org")
    stolen = browser.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert thief.get("/account").status_code == 200

    logout = browser.submit("/logout", page="/account")
    assert logout.headers["Location"] == "/login"

    assert thief.get("/account").status_code == 302
    assert browser.get("/account").status_code == 302


def test_logout_needs_csrf_token(client, app):
    make_user("sam@example.org")
    client.login("sam@example.org")
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/account").status_code == 200


def test_soft_lock_after_repeated_failures(app, monkeypatch):
    app.config.update(LOGIN_ACCOUNT_LIMIT="100 per minute", LOGIN_LOCK_THRESHOLD=3)
    user = make_user("sam@example.org")
    client = app.test_client()
    for _ in range(3):
        client.login("sam@example.org", "wrong password here")
    response = client.login("sam@example.org")  # right password, but locked
    assert response.status_code == 422
    assert "Too many failed attempts" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locked_until is not None
    locked = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "account.locked")
    )
    assert locked == 1


def test_locked_account_shared_across_app_instances(database_url, app):
    """The soft lock lives in the database, so every worker and host sees it."""
    from tests.conftest import Client, make_app

    app.config.update(LOGIN_LOCK_THRESHOLD=3)
    make_user("sam@example.org")
    other = make_app(database_url, LOGIN_LOCK_THRESHOLD=3)
    other.test_client_class = Client
    first, second = app.test_client(), other.test_client()
    first.login("sam@example.org", "wrong password one")
    second.login("sam@example.org", "wrong password two")
    first.login("sam@example.org", "wrong password three")
    assert "Too many failed attempts" in second.login("sam@example.org").get_data(as_text=True)


def test_sixth_rapid_wrong_password_is_throttled(client, app):
    make_user("sam@example.org")
    for _ in range(5):
        assert client.login("sam@example.org", "wrong password again").status_code == 422
    response = client.login("sam@example.org", "wrong password again")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert "Too many attempts" in response.get_data(as_text=True)


def test_throttle_counts_only_failures(client, app):
    make_user("sam@example.org")
    for _ in range(7):
        assert client.login("sam@example.org").status_code == 302
        client.submit("/logout", page="/account")


def test_throttle_is_per_account(client, app):
    make_user("sam@example.org")
    make_user("jo@example.org")
    for _ in range(5):
        client.login("sam@example.org", "wrong password again")
    assert client.login("jo@example.org").status_code == 302


OTHER_INSTANCE = """
import contextvars, re, sys
from vigtrain import create_app
app = create_app("testing", SQLALCHEMY_DATABASE_URI=sys.argv[1], RATELIMIT_STORAGE_URI=sys.argv[2])
client = app.test_client()
for _ in range(int(sys.argv[3])):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "sam@example.org", "password": "wrong password again",
                                           "csrf_token": token})
    print(response.status_code)
"""


@pytest.mark.redis
def test_throttle_shared_by_two_app_instances_through_redis(database_url, redis_url, app, tmp_path):
    """A second process (another worker or host) shares the counters through Redis."""
    import os
    import subprocess
    import sys

    from tests.conftest import Client, make_app

    make_user("sam@example.org")
    this = make_app(database_url, RATELIMIT_STORAGE_URI=redis_url)
    limiter.reset()  # start from clean counters in the shared Redis database
    script = tmp_path / "other_instance.py"
    script.write_text(OTHER_INSTANCE)
    other = subprocess.run(
        [sys.executable, str(script), database_url, redis_url, "3"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert other.stdout.split() == ["422", "422", "422"]

    this.test_client_class = Client
    client = this.test_client()
    statuses = [client.login("sam@example.org", "wrong password again").status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_admin_without_second_factor_sees_warning_in_development_config(client, app):
    make_admin()
    client.login("admin@example.org")
    assert "Two-factor authentication is not set up" in client.get("/home").get_data(as_text=True)
