"""CSRF, cookies, headers, denials and the production configuration."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from tests.conftest import Client, make_app
from tests.factories import PASSWORD, counting_statements, make_admin, make_user
from vigtrain.accounts.models import User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db

# The test client speaks plain HTTP, so these tests relax only the cookie transport settings.
PLAIN_HTTP = {"SESSION_COOKIE_SECURE": False, "SESSION_COOKIE_NAME": "vigtrain_session"}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, app):
    make_admin()
    client.login("admin@example.org")
    users, events = _count(User), _count(AuditEvent)
    response = client.post(
        "/admin/users/invite", data={"email": "x@example.org", "display_name": "X", "roles": ["trainee"]}
    )
    assert response.status_code == 400
    assert "Your form could not be sent" in response.get_data(as_text=True)
    assert (_count(User), _count(AuditEvent)) == (users, events)


def test_post_with_a_token_from_another_session_is_refused(app):
    make_user("sam@example.org")
    attacker = app.test_client()
    token = attacker.csrf_token("/login")
    victim = app.test_client()
    response = victim.post("/login", data={"email": "sam@example.org", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


def test_login_without_csrf_token_is_refused(client, app):
    make_user("sam@example.org")
    assert client.post("/login", data={"email": "sam@example.org", "password": PASSWORD}).status_code == 400


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]


def test_pages_have_no_inline_script(client, app):
    make_admin()
    client.login("admin@example.org")
    for url in ("/login", "/home", "/account", "/admin/users/", "/account/two-factor"):
        html = client.get(url).get_data(as_text=True)
        for chunk in html.split("<script")[1:]:
            assert chunk.lstrip().startswith('type="module" src='), f"inline script on {url}"
        assert " onclick=" not in html and " onload=" not in html


def test_authenticated_pages_are_not_stored(client, app):
    make_user("sam@example.org")
    client.login("sam@example.org")
    assert client.get("/account").headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/vigtrain.min.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"


def test_cookies_carry_secure_httponly_samesite_in_production(database_url, app):
    from vigtrain import create_app

    production = create_app("production", SQLALCHEMY_DATABASE_URI=database_url)
    client = production.test_client()
    response = client.get("/login", base_url="https://vigtrain.example.org")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-vigtrain_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_requires_administrators_to_enrol_a_second_factor(database_url, app):
    from vigtrain import create_app

    make_admin()
    production = create_app("production", SQLALCHEMY_DATABASE_URI=database_url, **PLAIN_HTTP)
    production.test_client_class = Client
    client = production.test_client()
    assert client.login("admin@example.org").headers["Location"] == "/home"
    response = client.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/two-factor"
    assert client.get("/admin/users/").headers["Location"] == "/account/two-factor"
    assert client.get("/account/two-factor").status_code == 200


def test_production_does_not_force_a_second_factor_on_trainees(database_url, app):
    from vigtrain import create_app

    make_user("sam@example.org")
    production = create_app("production", SQLALCHEMY_DATABASE_URI=database_url, **PLAIN_HTTP)
    production.test_client_class = Client
    client = production.test_client()
    client.login("sam@example.org")
    assert client.get("/home").status_code == 200


def test_trainee_is_refused_admin_pages_and_the_refusal_is_logged(client, app, caplog):
    make_user("sam@example.org")
    client.login("sam@example.org")
    with caplog.at_level(logging.WARNING, logger="vigtrain.security"):
        for url in ("/admin/users/", "/admin/users/invite", "/admin/services/", "/admin/outbox/", "/admin/audit"):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "You cannot open this page" in response.get_data(as_text=True)
    assert sum("access denied" in record.getMessage() for record in caplog.records) == 5


def test_a_refused_address_cannot_forge_a_log_line(client, app, caplog):
    make_user("sam@example.org")
    client.login("sam@example.org")
    with caplog.at_level(logging.WARNING, logger="vigtrain.security"):
        assert client.get("/cases/VC-AAAA%0A2026-12-06 INFO vigtrain: all is well").status_code == 404
    (denied,) = [record.getMessage() for record in caplog.records if "access denied" in record.getMessage()]
    assert "\n" not in denied and "\\n2026-12-06 INFO" in denied


def test_denied_post_changes_nothing(client, app):
    make_user("sam@example.org")
    client.login("sam@example.org")
    users = _count(User)
    response = client.submit(
        "/admin/users/invite",
        {"email": "x@example.org", "display_name": "X", "roles": ["administrator"]},
        page="/account",
    )
    assert response.status_code == 403
    assert _count(User) == users


def test_unknown_pages_are_friendly_404s(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_unexpected_error_shows_friendly_page_with_reference(app, database_url):
    broken = make_app(database_url)

    @broken.route("/boom")
    def boom():
        raise RuntimeError("boom")

    response = broken.test_client().get("/boom", headers={"X-Request-ID": "ref-12345678"})
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in html
    assert "ref-12345678" in html
    assert "boom" not in html.replace("boom-", "")


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999999999"])
def test_odd_page_numbers_do_not_break_lists(client, app, page):
    make_admin()
    client.login("admin@example.org")
    assert client.get(f"/admin/users/?page={page}").status_code == 200


def test_health_check(client):
    """Liveness only: it answers without asking the database (see tests/test_database_down.py)."""
    with counting_statements() as statements:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert statements == []


def test_behind_a_proxy_its_forwarded_address_is_trusted_when_configured(database_url, app, monkeypatch):
    """PROXY_FIX_X_FOR is read from the environment: without it, behind a proxy everyone shares its address."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from vigtrain import create_app

    monkeypatch.setenv("PROXY_FIX_X_FOR", "1")
    behind = create_app("production", SQLALCHEMY_DATABASE_URI=database_url)
    assert isinstance(behind.wsgi_app, ProxyFix) and behind.wsgi_app.x_for == 1
    monkeypatch.delenv("PROXY_FIX_X_FOR")
    assert not isinstance(create_app("production", SQLALCHEMY_DATABASE_URI=database_url).wsgi_app, ProxyFix)
    monkeypatch.setenv("PROXY_FIX_X_FOR", "yes")
    with pytest.raises(ValueError, match="PROXY_FIX_X_FOR must be a whole number"):
        create_app("production", SQLALCHEMY_DATABASE_URI=database_url)
