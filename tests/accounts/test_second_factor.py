"""TOTP second factor: enrolment, sign-in, replay refusal, recovery codes, resets."""

from __future__ import annotations

import re

import pyotp

from tests.factories import PASSWORD, make_admin, make_user
from vigtrain.extensions import db

SECRET = re.compile(r'<p class="govuk-body app-code">([A-Z2-7]+)</p>')
CODE = re.compile(r'<li class="app-code">([0-9a-f]{8}-[0-9a-f]{8})</li>')


def _enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET.search(page).group(1)
    response = client.submit("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = CODE.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _sign_in_with_code(app, email: str, code: str):
    client = app.test_client()
    first = client.login(email)
    assert first.headers["Location"] == "/login/security-code"
    return client, client.submit("/login/security-code", {"code": code})


def test_enrolment_then_sign_in_with_a_code(client, app, clock):
    user = make_user("sam@example.org")
    client.login("sam@example.org")
    secret, _ = _enrol(client)
    db.session.refresh(user)
    assert user.second_factor_enabled
    clock.tick(300)
    other, response = _sign_in_with_code(app, "sam@example.org", pyotp.TOTP(secret).now())
    assert response.headers["Location"] == "/home"
    assert other.get("/home").status_code == 200


def test_password_alone_does_not_sign_in(client, app, clock):
    make_user("sam@example.org")
    client.login("sam@example.org")
    _enrol(client)
    other = app.test_client()
    other.login("sam@example.org")
    assert other.get("/home").headers["Location"].startswith("/login")


def test_wrong_code_at_enrolment_is_refused(client, app, clock):
    user = make_user("sam@example.org")
    client.login("sam@example.org")
    client.get("/account/two-factor")
    response = client.submit("/account/two-factor", {"code": "000000"})
    assert response.status_code == 422
    assert "The code is not correct" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.second_factor_enabled


def test_a_code_cannot_be_replayed(client, app, clock):
    make_user("sam@example.org")
    client.login("sam@example.org")
    secret, _ = _enrol(client)
    clock.tick(60)
    code = pyotp.TOTP(secret).now()
    _, first = _sign_in_with_code(app, "sam@example.org", code)
    assert first.status_code == 302
    clock.tick(5)
    _, replay = _sign_in_with_code(app, "sam@example.org", code)
    assert replay.status_code == 422
    clock.tick(60)
    _, fresh = _sign_in_with_code(app, "sam@example.org", pyotp.TOTP(secret).now())
    assert fresh.status_code == 302


def test_recovery_code_works_once(client, app, clock):
    make_user("sam@example.org")
    client.login("sam@example.org")
    _, codes = _enrol(client)
    other, response = _sign_in_with_code(app, "sam@example.org", codes[0].upper())
    assert response.headers["Location"] == "/home"
    assert "You used a recovery code. You have 9 left." in other.get("/home").get_data(as_text=True)
    _, again = _sign_in_with_code(app, "sam@example.org", codes[0])
    assert again.status_code == 422


def test_pending_sign_in_expires(client, app, clock):
    make_user("sam@example.org")
    client.login("sam@example.org")
    _enrol(client)
    other = app.test_client()
    other.login("sam@example.org")
    clock.tick(6 * 60)
    response = other.get("/login/security-code")
    assert response.headers["Location"] == "/login"


def test_regenerating_codes_needs_password_and_replaces_old_ones(client, app, clock):
    make_user("sam@example.org")
    client.login("sam@example.org")
    _, old_codes = _enrol(client)
    refused = client.submit("/account/two-factor/recovery-codes", {"password": "not my password"})
    assert refused.status_code == 422
    response = client.submit("/account/two-factor/recovery-codes", {"password": PASSWORD})
    new_codes = CODE.findall(response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    _, old = _sign_in_with_code(app, "sam@example.org", old_codes[1])
    assert old.status_code == 422


def test_turning_off_needs_the_password(client, app, clock):
    user = make_user("sam@example.org")
    client.login("sam@example.org")
    _enrol(client)
    assert client.submit("/account/two-factor/turn-off", {"password": "wrong"}).status_code == 422
    response = client.submit("/account/two-factor/turn-off", {"password": PASSWORD})
    assert response.headers["Location"] == "/account"
    db.session.refresh(user)
    assert not user.second_factor_enabled


def test_administrator_resets_a_lost_second_factor(client, app, clock):
    user = make_user("sam@example.org")
    sam = app.test_client()
    sam.login("sam@example.org")
    _enrol(sam)
    make_admin()
    client.login("admin@example.org")
    client.submit(f"/admin/users/{user.id}/reset-two-factor", page=f"/admin/users/{user.id}")
    db.session.refresh(user)
    assert not user.second_factor_enabled
    assert app.test_client().login("sam@example.org").headers["Location"] == "/home"


def test_administrator_cannot_reset_their_own_second_factor_from_the_admin_page(client, app, clock):
    admin = make_admin()
    client.login("admin@example.org")
    _enrol(client)
    response = client.submit(f"/admin/users/{admin.id}/reset-two-factor", page=f"/admin/users/{admin.id}")
    assert response.status_code == 403
    db.session.refresh(admin)
    assert admin.second_factor_enabled


def test_digits_that_are_not_ascii_are_a_wrong_code_not_an_error(client, app, clock):
    make_user("sam@example.org")
    client.login("sam@example.org")
    _enrol(client)
    clock.tick(120)
    other = app.test_client()
    other.login("sam@example.org")
    for code in ("²" * 6, "١٢٣٤٥٦"):
        response = other.submit("/login/security-code", {"code": code})
        assert response.status_code == 422 and "The code is not correct" in response.get_data(as_text=True)
