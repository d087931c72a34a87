"""API token pages and commands: create (shown once), list, revoke, administrators, and `flask tokens`."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_admin, make_user
from vigtrain.accounts.models import Role
from vigtrain.api_tokens import services
from vigtrain.api_tokens.models import PersonalAccessToken
from vigtrain.api_tokens.services import TokenRejected, authenticate_bearer, create_token
from vigtrain.audit import AuditEvent
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage

TOKEN = re.compile(r"vgt_[A-Za-z0-9_-]{43}")
NEW = "/account/tokens/new"
GOOD = {"name": "Trust records system", "scopes": ["cases:read", "cases:write"], "expiry": "30", "password": PASSWORD}


@pytest.fixture
def tara(app, client):
    user = make_user("tara@example.org", name="Tara Trainee")
    client.login("tara@example.org")
    return user


def _tokens() -> list[PersonalAccessToken]:
    db.session.expire_all()
    return db.session.scalars(select(PersonalAccessToken).order_by(PersonalAccessToken.id)).all()


def _make(owner, name="Records system", scopes=("cases:read",)):
    token, plaintext = create_token(owner, owner, name, scopes, None, today())
    db.session.commit()
    return token, plaintext


def _rejected(plaintext: str) -> str:
    db.session.expire_all()  # see what the requests committed
    with pytest.raises(TokenRejected) as caught:
        authenticate_bearer(f"Bearer {plaintext}")
    return caught.value.reason


# --- creating ----------------------------------------------------------------------------------------------


def test_signing_in_is_needed(client, app):
    for path in ("/account/tokens", NEW, "/account/tokens/1/revoke"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_account_page_links_to_the_tokens(client, tara):
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/account/tokens"' in page
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "You have no tokens." in listing
    assert "Signing out or changing your password does not stop your tokens" in listing


def test_the_form_offers_every_scope_with_its_description_and_each_expiry_with_its_date(clock, client, tara):
    page = client.get(NEW).get_data(as_text=True)
    for name, description in services.SCOPES.items():
        assert f'value="{name}"' in page and escape(description) in page
    for days in (30, 90, 180, 366):
        assert f'value="{days}"' in page
    assert "Until the end of 1 April 2026" in page  # 30 days from 2 March
    assert "Until the end of 3 March 2027" in page  # 366 days
    assert re.search(r'value="90"\s+checked', page)


def test_a_new_token_is_shown_once_and_never_again(clock, client, tara):
    response = client.submit(NEW, GOOD)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    (plaintext,) = set(TOKEN.findall(page))
    assert "This is the only time the token is shown" in page
    assert "works until the end of 1 April 2026" in page

    (token,) = _tokens()
    assert (token.user_id, token.name, token.scopes) == (tara.id, "Trust records system", ["cases:read", "cases:write"])
    assert services.expiry_date(token) == date(2026, 4, 1)
    user, scopes = authenticate_bearer(f"Bearer {plaintext}")
    assert user.id == tara.id and scopes == {"cases:read", "cases:write"}

    listing = client.get("/account/tokens").get_data(as_text=True)
    assert plaintext not in listing and not TOKEN.search(listing)
    assert f"vgt_{token.token_prefix}" in listing
    assert "Trust records system" in listing and "1 working" in listing
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "token.created"))
    assert audit.actor_id == tara.id and plaintext not in str(audit.after)
    told = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == tara.email)
    assert db.session.scalar(told) == 1


def test_sending_the_form_again_does_not_make_a_second_token(clock, client, tara):
    csrf = client.csrf_token(NEW)
    first = client.post(NEW, data={**GOOD, "csrf_token": csrf})
    assert first.status_code == 200
    again = client.post(NEW, data={**GOOD, "csrf_token": csrf})  # the browser's "resend form data"
    assert again.status_code == 422
    assert "You already have a token called ‘Trust records system’" in again.get_data(as_text=True)
    assert len(_tokens()) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter a name for the token"),
        ({"name": "   "}, "name", "Enter a name for the token"),
        ({"name": "n" * 81}, "name", "The name must be 80 characters or fewer"),
        ({"name": "Records\x00system"}, "name", "Remove the hidden control character from this answer"),
        ({"scopes": []}, "scopes", "Select what the token may do"),
        ({"scopes": ["cases:read", "everything"]}, "scopes", "Select what the token may do from the list"),
        ({"expiry": ""}, "expiry", "Select how long the token should work"),
        ({"expiry": "3650"}, "expiry", "Select one of the periods offered"),
        ({"expiry": "soon"}, "expiry", "Select one of the periods offered"),
        ({"password": ""}, "password", "Enter your password"),
        ({"password": "not my password"}, "password", "Your password is not correct"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(client, tara, changes, field, message):
    response = client.submit(NEW, {**GOOD, **changes})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert f'href="#{field}"' in page
    assert re.search(rf'id="{field}-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>\s*{message}', page)
    assert not TOKEN.search(page)
    assert _tokens() == []


def test_every_mistake_is_listed_at_once(client, tara):
    response = client.submit(NEW, {"name": "", "expiry": "", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("name", "scopes", "expiry", "password"):
        assert f'href="#{field}"' in page


def test_repeated_wrong_passwords_are_throttled(client, tara):
    for _ in range(5):
        assert client.submit(NEW, {**GOOD, "password": "guess"}).status_code == 422
    assert client.submit(NEW, {**GOOD, "password": "guess"}).status_code == 429
    assert _tokens() == []


def test_a_deactivated_account_is_signed_out_and_its_tokens_stop(client, tara, app):
    from vigtrain.accounts import services as accounts

    _, plaintext = _make(tara)
    admin = make_admin()
    accounts.update_account(admin, tara, tara.display_name, {Role.TRAINEE}, None, active=False)
    db.session.commit()
    assert client.get("/account/tokens").status_code == 302
    assert _rejected(plaintext) == "inactive_user"


# --- revoking ----------------------------------------------------------------------------------------------


def test_the_owner_revokes_a_token_after_confirming(clock, client, tara):
    token, plaintext = _make(tara)
    confirm = client.get(f"/account/tokens/{token.id}/revoke")
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "Revoke the token ‘Records system’?" in page and f"vgt_{token.token_prefix}" in page
    assert plaintext not in page
    assert _tokens()[0].revoked_at is None  # looking is not revoking

    response = client.submit(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == "/account/tokens"
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "revoked. Anything still using it is now refused." in listing
    assert "Revoked" in listing and "0 working, 1 expired or revoked" in listing
    assert _rejected(plaintext) == "revoked"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "token.revoked")).actor_id == tara.id

    again = client.get(f"/account/tokens/{token.id}/revoke")
    assert again.status_code == 302
    assert "already revoked" in client.get("/account/tokens").get_data(as_text=True)


def test_revoking_needs_the_form_token(client, tara):
    token, plaintext = _make(tara)
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 400
    assert _tokens()[0].revoked_at is None
    assert authenticate_bearer(f"Bearer {plaintext}")[0].id == tara.id


def test_someone_elses_token_is_not_found(client, tara):
    other = make_user("omar@example.org", roles=(Role.SUPERVISOR,))
    token, plaintext = _make(other)
    assert client.get(f"/account/tokens/{token.id}/revoke").status_code == 404
    csrf = client.csrf_token("/account/tokens/new")
    assert client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf}).status_code == 404
    assert client.get(f"/account/tokens/{token.id + 100}/revoke").status_code == 404
    assert authenticate_bearer(f"Bearer {plaintext}")[0].id == other.id
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert token.token_prefix not in listing
    assert client.get(f"/admin/users/{other.id}/tokens").status_code == 403


# --- administrators ------------------------------------------------------------------------------------------


def test_an_administrator_sees_and_revokes_anyones_tokens(clock, client, app):
    tara = make_user("tara@example.org", name="Tara Trainee")
    token, plaintext = _make(tara)
    make_admin()
    client.login("admin@example.org")
    assert f'href="/admin/users/{tara.id}/tokens"' in client.get(f"/admin/users/{tara.id}").get_data(as_text=True)
    listing = client.get(f"/admin/users/{tara.id}/tokens")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert "Records system" in page and f"vgt_{token.token_prefix}" in page and plaintext not in page

    confirm = client.get(f"/account/tokens/{token.id}/revoke").get_data(as_text=True)
    assert "Tara Trainee will be emailed" in confirm
    response = client.submit(f"/account/tokens/{token.id}/revoke")
    assert response.headers["Location"] == f"/admin/users/{tara.id}/tokens"
    assert _rejected(plaintext) == "revoked"
    assert "Revoked" in client.get(f"/admin/users/{tara.id}/tokens").get_data(as_text=True)
    emails = db.session.scalars(select(OutboxMessage.subject).where(OutboxMessage.to_address == tara.email)).all()
    assert "One of your vigtrain API tokens was revoked" in emails


def test_an_administrators_own_tokens_are_on_their_account_page(client, app):
    admin = make_admin()
    client.login("admin@example.org")
    response = client.get(f"/admin/users/{admin.id}/tokens")
    assert response.headers["Location"] == "/account/tokens"
    assert client.get("/admin/users/9999/tokens").status_code == 404


def test_the_administrators_list_pages_keep_the_person(clock, client, app):
    tara = make_user("tara@example.org")
    for number in range(services.MAX_ACTIVE_TOKENS):
        _make(tara, name=f"System {number}")
    for token in _tokens()[:10]:
        services.revoke_token(tara, token)
    db.session.commit()
    for number in range(8):
        _make(tara, name=f"Later {number}")
    make_admin()
    client.login("admin@example.org")
    first = client.get(f"/admin/users/{tara.id}/tokens").get_data(as_text=True)
    assert f'href="/admin/users/{tara.id}/tokens?page=2"' in first
    second = client.get(f"/admin/users/{tara.id}/tokens?page=2").get_data(as_text=True)
    assert "Showing 26 to 28 of 28" in second


# --- the command line ------------------------------------------------------------------------------------------


def test_flask_tokens_create_prints_the_token_once(clock, app):
    tara = make_user("tara@example.org")
    result = app.test_cli_runner().invoke(
        args=[
            *("tokens", "create", "--email", "Tara@Example.org"),
            *("--scope", "cases:read", "--scope", "supervision:read", "--name", "Nightly export", "--days", "30"),
        ]
    )
    assert result.exit_code == 0, result.output
    plaintext = result.stdout.strip()
    assert TOKEN.fullmatch(plaintext)  # alone on standard output, for scripts
    assert "not shown again" in result.stderr and plaintext not in result.stderr
    user, scopes = authenticate_bearer(f"Bearer {plaintext}")
    assert user.id == tara.id and scopes == {"cases:read", "supervision:read"}
    (token,) = _tokens()
    assert token.name == "Nightly export" and services.expiry_date(token) == date(2026, 4, 1)

    listed = app.test_cli_runner().invoke(args=["tokens", "list", "--email", "tara@example.org"])
    assert listed.exit_code == 0
    assert f"vgt_{token.token_prefix}" in listed.output and "active" in listed.output
    assert plaintext not in listed.output


def test_flask_tokens_revoke(clock, app):
    tara = make_user("tara@example.org")
    token, plaintext = _make(tara)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "revoke", str(token.id)])
    assert result.exit_code == 0, result.output
    assert "revoked" in result.output
    assert _rejected(plaintext) == "revoked"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "token.revoked"))
    assert event.actor_label == "system"
    again = runner.invoke(args=["tokens", "revoke", str(token.id)])
    assert again.exit_code != 0 and "already revoked" in again.output
    missing = runner.invoke(args=["tokens", "revoke", "9999"])
    assert missing.exit_code != 0 and "There is no token 9999" in missing.output
    assert "revoked" in runner.invoke(args=["tokens", "list", "--email", "tara@example.org"]).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "nobody@example.org", "--scope", "cases:read"], "no account with the email address"),
        (["--email", "tara@example.org", "--scope", "cases:delete"], "Invalid value for '--scope'"),
        (["--email", "tara@example.org"], "Missing option '--scope'"),
        (["--email", "tara@example.org", "--scope", "cases:read", "--days", "400"], "at most 366 days"),
        (["--email", "tara@example.org", "--scope", "cases:read", "--days", "0"], "must be in the future"),
        (["--email", "tara@example.org", "--scope", "cases:read", "--name", " "], "Enter a name"),
    ],
)
def test_flask_tokens_create_refuses_bad_requests(clock, app, args, message):
    make_user("tara@example.org")
    result = app.test_cli_runner().invoke(args=["tokens", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert not TOKEN.search(result.output)
    assert _tokens() == []


def test_expired_tokens_are_listed_as_expired(clock, client, tara):
    _make(tara)
    clock.tick(timedelta(days=91))
    client.login("tara@example.org")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "Expired" in page and "0 working, 1 expired or revoked" in page
    assert "/revoke" not in page  # nothing left to stop
