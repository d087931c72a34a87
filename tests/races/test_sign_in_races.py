"""Sign-in attempts sent at the same moment: each is counted, and each code signs in once."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import update

from tests.factories import PASSWORD, make_user
from tests.races.helpers import at_once, audit_count
from vigtrain.accounts import services
from vigtrain.accounts.models import User
from vigtrain.extensions import db

SECRET = re.compile(r'<p class="govuk-body app-code">([A-Z2-7]+)</p>')
CODE = re.compile(r'<li class="app-code">([0-9a-f]{8}-[0-9a-f]{8})</li>')


@pytest.fixture
def relaxed(app):
    """Only the account's own lock stands in the way: the per-address and per-account rate limits are lifted."""
    app.config.update(LOGIN_ACCOUNT_LIMIT="1000 per minute", LOGIN_IP_LIMIT="1000 per minute", LOGIN_LOCK_THRESHOLD=5)
    return app


def test_a_burst_of_wrong_passwords_cannot_outrun_the_lock(relaxed, monkeypatch):
    user = make_user("sam@example.org")
    checked = []
    real_verify = services.verify_password

    def counting_verify(hashed, password):
        if hashed is not None:
            checked.append(password)
        return real_verify(hashed, password)

    monkeypatch.setattr(services, "verify_password", counting_verify)
    clients = [relaxed.test_client() for _ in range(20)]
    for client in clients:
        client.get("/login")
    answers = at_once(
        [lambda c=c, n=n: c.login("sam@example.org", f"wrong password {n}") for n, c in enumerate(clients)]
    )

    assert {answer.status_code for answer in answers} == {422}
    assert len(checked) <= 5, f"{len(checked)} passwords were checked; the lock allows 5"
    db.session.refresh(user)
    assert user.locked_until is not None
    assert audit_count("account.locked") == 1
    # Locked now: even the right password is refused without being checked.
    checked.clear()
    assert "Too many failed attempts" in relaxed.test_client().login("sam@example.org").get_data(as_text=True)
    assert checked == []


def test_one_at_a_time_the_sixth_attempt_is_refused_unchecked(relaxed):
    make_user("sam@example.org")
    client = relaxed.test_client()
    for _ in range(5):
        assert "Enter a correct email address" in client.login("sam@example.org", "wrong one").get_data(as_text=True)
    assert "Too many failed attempts" in client.login("sam@example.org").get_data(as_text=True)


def test_a_completed_sign_in_starts_the_count_again(relaxed):
    user = make_user("sam@example.org")
    client = relaxed.test_client()
    for _ in range(4):
        client.login("sam@example.org", "wrong one")
    assert client.login("sam@example.org").status_code == 302
    db.session.refresh(user)
    assert user.failed_login_count == 0


def _enrolled(app, email: str) -> tuple[str, list[str]]:
    make_user(email)
    client = app.test_client()
    client.login(email)
    secret = SECRET.search(client.get("/account/two-factor").get_data(as_text=True)).group(1)
    page = client.submit("/account/two-factor", {"code": pyotp.TOTP(secret).now()}).get_data(as_text=True)
    return secret, CODE.findall(page)


def _at_the_code_step(app, email: str, count: int) -> list:
    clients = [app.test_client() for _ in range(count)]
    for client in clients:
        assert client.login(email).headers["Location"] == "/login/security-code"
        client.get("/login/security-code")
    return clients


def test_one_totp_code_signs_in_once_when_sent_twice_at_once(relaxed, clock):
    secret, _ = _enrolled(relaxed, "sam@example.org")
    clock.tick(120)
    clients = _at_the_code_step(relaxed, "sam@example.org", 3)
    code = pyotp.TOTP(secret).now()
    answers = at_once([lambda c=c: c.submit("/login/security-code", {"code": code}) for c in clients])
    assert sorted(answer.status_code for answer in answers) == [302, 422, 422]
    assert audit_count("login.succeeded") == 2  # the enrolment's own sign-in, and one of these


def test_one_recovery_code_signs_in_once_when_sent_twice_at_once(relaxed, clock):
    _, codes = _enrolled(relaxed, "sam@example.org")
    clients = _at_the_code_step(relaxed, "sam@example.org", 3)
    answers = at_once([lambda c=c: c.submit("/login/security-code", {"code": codes[0]}) for c in clients])
    assert sorted(answer.status_code for answer in answers) == [302, 422, 422]
    assert audit_count("user.recovery_code_used") == 1


def test_wrong_codes_count_toward_the_lock(relaxed, clock):
    _enrolled(relaxed, "sam@example.org")
    client = _at_the_code_step(relaxed, "sam@example.org", 1)[0]
    for _ in range(4):  # the password attempt was the first of five
        assert "The code is not correct" in client.submit("/login/security-code", {"code": "000000"}).get_data(
            as_text=True
        )
    refused = client.submit("/login/security-code", {"code": "000000"}).get_data(as_text=True)
    assert "Too many failed attempts" in refused
    assert audit_count("account.locked") == 1


def test_a_burst_of_wrong_codes_cannot_outrun_the_lock(relaxed, clock):
    _enrolled(relaxed, "sam@example.org")
    relaxed.config["LOGIN_LOCK_THRESHOLD"] = 50  # twelve sign-ins reach the code step...
    clients = _at_the_code_step(relaxed, "sam@example.org", 12)
    relaxed.config["LOGIN_LOCK_THRESHOLD"] = 5  # ...then five attempts are left
    db.session.execute(update(User).values(failed_login_count=0))
    db.session.commit()
    answers = at_once([lambda c=c: c.submit("/login/security-code", {"code": "000000"}) for c in clients])
    assert {answer.status_code for answer in answers} == {422}
    assert audit_count("login.second_factor_failed") + audit_count("account.locked") <= 5
    assert audit_count("account.locked") == 1


def test_confirming_a_password_while_signed_in_counts_toward_the_lock(relaxed):
    """A session someone else has taken cannot be used to guess the password at the places that ask for it."""
    make_user("sam@example.org")
    client = relaxed.test_client()
    client.login("sam@example.org")
    places = [
        (
            "/account/password",
            {
                "current_password": "guess one",
                "password": "a brand new passphrase 42",
                "confirm": "a brand new passphrase 42",
            },
        ),
        ("/account/tokens/new", {"name": "Guessing", "scopes": ["profile:read"], "expiry": "30", "password": "two"}),
        (
            "/account/password",
            {
                "current_password": "guess three",
                "password": "a brand new passphrase 42",
                "confirm": "a brand new passphrase 42",
            },
        ),
        ("/account/tokens/new", {"name": "Guessing", "scopes": ["profile:read"], "expiry": "30", "password": "four"}),
    ]
    for url, data in places:
        assert "password is not correct" in client.submit(url, data).get_data(as_text=True), url
    # The fifth wrong answer locks the account (the sign-in was counted too, then reset when it completed).
    client.submit(
        "/account/password",
        {
            "current_password": "guess five",
            "password": "a brand new passphrase 42",
            "confirm": "a brand new passphrase 42",
        },
    )
    assert audit_count("account.locked") == 1
    refused = client.submit(
        "/account/password",
        {"current_password": PASSWORD, "password": "a brand new passphrase 42", "confirm": "a brand new passphrase 42"},
    )
    assert "Too many failed attempts" in refused.get_data(as_text=True)


def test_a_burst_of_password_confirmations_cannot_outrun_the_lock(relaxed, monkeypatch):
    make_user("sam@example.org")
    client = relaxed.test_client()
    client.login("sam@example.org")
    checked = []
    real_verify = services.verify_password
    monkeypatch.setattr(
        services, "verify_password", lambda hashed, password: checked.append(1) or real_verify(hashed, password)
    )
    form = {
        **client.hidden_fields("/account/password"),
        "current_password": "guess",
        "password": "a brand new passphrase 42",
        "confirm": "a brand new passphrase 42",
    }
    answers = at_once([lambda: client.post("/account/password", data=form) for _ in range(12)])
    assert {answer.status_code for answer in answers} == {422}
    assert len(checked) <= 5, f"{len(checked)} passwords were checked; the lock allows 5"
    assert audit_count("account.locked") == 1
