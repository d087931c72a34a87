"""Personal access tokens: how they are made, stored, checked, expired and revoked."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import make_admin, make_user
from vigtrain.accounts.models import Role
from vigtrain.api_tokens import services
from vigtrain.api_tokens.models import PersonalAccessToken, TokenStatus
from vigtrain.api_tokens.services import SCOPES, TokenRejected, authenticate_bearer, create_token, revoke_token
from vigtrain.audit import AuditEvent
from vigtrain.dates import utcnow
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage

TODAY = date(2026, 3, 2)  # the `clock` fixture's date


@pytest.fixture
def owner(app):
    return make_user("tara@example.org", name="Tara Trainee")


def _make(owner, name="Records system", scopes=("cases:read",), expires_on=None, actor="owner", today=TODAY):
    token, plaintext = create_token(owner if actor == "owner" else actor, owner, name, scopes, expires_on, today)
    db.session.commit()  # a request sees only committed tokens, as the API will
    return token, plaintext


def _reason(header) -> str:
    with pytest.raises(TokenRejected) as caught:
        authenticate_bearer(header)
    return caught.value.reason


# --- what is made and what is kept -------------------------------------------------------------------


def test_the_token_is_random_and_only_its_sha256_digest_is_kept(owner, clock):
    token, plaintext = _make(owner)
    assert services.TOKEN.fullmatch(plaintext)
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.token_prefix == plaintext[4:12]
    stored = db.session.execute(select(PersonalAccessToken.__table__)).one()
    assert not any(plaintext in str(value) for value in stored)
    assert plaintext[4:] not in str(stored)
    other, second = _make(owner, name="Second")
    assert second != plaintext and other.token_hash != token.token_hash


def test_the_token_never_reaches_the_audit_trail_or_the_email(owner, clock):
    token, plaintext = _make(owner, scopes=("cases:write", "cases:read"))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "PersonalAccessToken")).all()
    assert [event.action for event in events] == ["token.created"]
    assert events[0].after["scopes"] == ["cases:read", "cases:write"]  # display order, whatever the order given
    assert events[0].after["token_prefix"] == token.token_prefix
    assert plaintext not in str(events[0].after)
    (email,) = db.session.scalars(select(OutboxMessage)).all()
    assert email.to_address == "tara@example.org"
    assert "Records system" in email.body and token.token_prefix in email.body
    assert plaintext not in email.body


def test_default_expiry_is_90_days_and_ends_at_uk_midnight(owner, clock):
    token, _ = _make(owner)
    assert services.expiry_date(token) == TODAY + timedelta(days=90)
    # 31 May is in British Summer Time: the end of that day in the UK is 23:00 UTC.
    assert token.expires_at == datetime(2026, 5, 31, 23, 0, tzinfo=UTC)
    winter, _ = _make(owner, name="Winter", expires_on=date(2026, 12, 1))
    assert winter.expires_at == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(last_day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
@example(last_day=date(2026, 3, 28))  # the day before the clocks go forward
@example(last_day=date(2026, 10, 25))  # the day the clocks go back
def test_the_expiry_date_people_chose_is_the_one_shown(app, last_day):
    token = PersonalAccessToken(expires_at=services.expiry_instant(last_day))
    assert services.expiry_date(token) == last_day
    assert token.status(services.expiry_instant(last_day) - timedelta(microseconds=1)) is TokenStatus.ACTIVE
    assert token.status(services.expiry_instant(last_day)) is TokenStatus.EXPIRED


# --- the rules for making one ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "scopes", "expires_on", "field", "message"),
    [
        ("", ("cases:read",), None, "name", "Enter a name for the token"),
        ("   ", ("cases:read",), None, "name", "Enter a name for the token"),
        ("x" * 81, ("cases:read",), None, "name", "80 characters or fewer"),
        ("Records\nsystem", ("cases:read",), None, "name", "cannot contain tabs, line breaks"),
        ("Records", (), None, "scopes", "Select what the token may do"),
        ("Records", ("cases:read", "admin:all"), None, "scopes", "Unknown scope: admin:all"),
        ("Records", ("cases:read",), TODAY, "expiry", "must be in the future"),
        ("Records", ("cases:read",), TODAY - timedelta(days=3), "expiry", "must be in the future"),
        ("Records", ("cases:read",), TODAY + timedelta(days=367), "expiry", "at most 366 days"),
    ],
)
def test_bad_requests_are_refused_beside_their_field_and_nothing_is_saved(
    owner, clock, name, scopes, expires_on, field, message
):
    with pytest.raises(DomainError) as caught:
        create_token(owner, owner, name, scopes, expires_on, TODAY)
    assert caught.value.field == field
    assert message in caught.value.message
    db.session.rollback()
    assert db.session.scalar(select(PersonalAccessToken)) is None


def test_the_longest_expiry_and_the_longest_name_are_allowed(owner, clock):
    token, _ = _make(owner, name="x" * 80, expires_on=TODAY + timedelta(days=366))
    assert services.expiry_date(token) == date(2027, 3, 3)


def test_names_are_unique_among_working_tokens(owner, clock):
    first, _ = _make(owner, name="Records system")
    with pytest.raises(DomainError, match="already have a token called ‘records SYSTEM’") as caught:
        create_token(owner, owner, "  records SYSTEM ", ["cases:read"], None, TODAY)
    assert caught.value.field == "name"
    db.session.rollback()
    revoke_token(owner, first)
    db.session.commit()
    again, _ = _make(owner, name="Records system")
    assert again.name == "Records system"
    # Another person's token may share the name.
    _make(make_user("other@example.org"), name="Records system")


def test_at_most_twenty_tokens_work_at_once(owner, clock):
    for number in range(services.MAX_ACTIVE_TOKENS):
        _make(owner, name=f"System {number}")
    with pytest.raises(DomainError, match="at most 20 tokens"):
        create_token(owner, owner, "One more", ["cases:read"], None, TODAY)
    db.session.rollback()
    revoke_token(owner, db.session.scalars(select(PersonalAccessToken)).first())
    db.session.commit()
    _make(owner, name="One more")


def test_only_the_owner_makes_tokens_for_themselves_or_an_operator_at_the_command_line(owner, clock):
    admin = make_admin()
    with pytest.raises(PermissionDenied):
        create_token(admin, owner, "Made for you", ["cases:read"], None, TODAY)
    db.session.rollback()
    token, _ = _make(owner, actor=None)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "token.created"))
    assert event.actor_id is None and event.actor_label == "system"
    assert token.user_id == owner.id


def test_a_deactivated_account_cannot_have_tokens(owner, clock):
    owner.is_active_flag = False
    db.session.commit()
    with pytest.raises(DomainError, match="deactivated"):
        create_token(None, owner, "Records", ["cases:read"], None, TODAY)


# --- checking a request's token -----------------------------------------------------------------------------


def test_a_good_token_gives_its_owner_and_scopes(owner, clock):
    _, plaintext = _make(owner, scopes=("cases:read", "supervision:write"))
    user, scopes = authenticate_bearer(f"Bearer {plaintext}")
    assert user.id == owner.id
    assert scopes == frozenset({"cases:read", "supervision:write"})


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "BeArEr"])
def test_the_scheme_is_case_insensitive(owner, clock, scheme):
    _, plaintext = _make(owner)
    assert authenticate_bearer(f"{scheme} {plaintext}")[0].id == owner.id
    assert authenticate_bearer(f"  {scheme}   {plaintext}  ")[0].id == owner.id


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_token_is_missing(app, header):
    assert _reason(header) == "missing"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer x",
        "bearer x",
        "Token {token}",
        "Basic {token}",
        "{token}",
        "Bearer",
        "Bearer ",
        "Bearer {token} extra",
        "Bearer {token}x",
        "Bearer {token_without_marker}",
        "Bearer vgt_" + "a" * 42 + "!",
        "Bearer " + "vgt_" + "a" * 600,
        "Bearer\u00a0{token}",
    ],
)
def test_malformed_headers_are_refused_without_a_lookup(owner, clock, header):
    _, plaintext = _make(owner)
    header = header.format(token=plaintext, token_without_marker=plaintext[4:])
    assert _reason(header) == "malformed"


def test_an_unknown_token_is_refused(owner, clock):
    _, plaintext = _make(owner)
    changed = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    assert _reason(f"Bearer {changed}") == "unknown"
    assert _reason("Bearer vgt_" + "A" * 43) == "unknown"


def test_a_token_works_to_the_end_of_its_expiry_date_and_not_after(owner, clock):
    token, plaintext = _make(owner, expires_on=date(2026, 3, 31))
    clock.move_to(datetime(2026, 3, 31, 22, 59, 59, tzinfo=UTC))  # 23:59:59 BST on 31 March
    assert authenticate_bearer(f"Bearer {plaintext}")[0].id == owner.id
    clock.move_to(datetime(2026, 3, 31, 23, 0, 0, tzinfo=UTC))
    assert _reason(f"Bearer {plaintext}") == "expired"
    assert services.status(token) is TokenStatus.EXPIRED


def test_a_revoked_token_is_refused_at_once(owner, clock):
    token, plaintext = _make(owner)
    revoke_token(owner, token)
    db.session.commit()
    assert _reason(f"Bearer {plaintext}") == "revoked"
    clock.tick(timedelta(days=200))
    assert _reason(f"Bearer {plaintext}") == "revoked"  # not "expired": revoking says more


def test_deactivating_the_owner_stops_their_tokens_and_changing_password_does_not(owner, clock):
    from vigtrain.accounts import services as accounts

    _, plaintext = _make(owner)
    accounts.change_password(owner, "correct horse battery staple", "seven purple otters sing loudly")
    db.session.commit()
    assert authenticate_bearer(f"Bearer {plaintext}")[0].id == owner.id
    owner.is_active_flag = False
    db.session.commit()
    assert _reason(f"Bearer {plaintext}") == "inactive_user"


def test_an_administrator_without_a_second_factor_cannot_use_a_token(app, owner, clock):
    app.config["REQUIRE_ADMIN_SECOND_FACTOR"] = True
    _, plaintext = _make(owner)
    owner.set_roles({Role.TRAINEE, Role.ADMINISTRATOR})  # promoted after making the token
    db.session.commit()
    assert _reason(f"Bearer {plaintext}") == "second_factor_required"
    owner.totp_enabled_at = utcnow()
    db.session.commit()
    assert authenticate_bearer(f"Bearer {plaintext}")[0].id == owner.id
    app.config["REQUIRE_ADMIN_SECOND_FACTOR"] = False  # the development and demo configuration
    owner.totp_enabled_at = None
    db.session.commit()
    assert authenticate_bearer(f"Bearer {plaintext}")[0].id == owner.id


def test_scopes_no_longer_offered_grant_nothing(owner, clock):
    token, plaintext = _make(owner, scopes=("cases:read",))
    token.scopes = ["cases:read", "retired:scope"]
    db.session.commit()
    assert authenticate_bearer(f"Bearer {plaintext}")[1] == frozenset({"cases:read"})


def test_last_used_is_written_at_most_once_a_minute(owner, clock):
    token, plaintext = _make(owner)
    header = f"Bearer {plaintext}"
    stored = lambda: db.session.execute(  # noqa: E731
        select(PersonalAccessToken.last_used_at).where(PersonalAccessToken.id == token.id)
    ).scalar_one()
    assert stored() is None
    authenticate_bearer(header)
    first = stored()
    assert first == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    clock.tick(timedelta(seconds=59))
    authenticate_bearer(header)
    assert stored() == first
    clock.tick(timedelta(seconds=1))
    authenticate_bearer(header)
    assert stored() == first + timedelta(minutes=1)
    assert token.last_used_at == stored()  # the session's copy agrees without a reload


def test_last_used_survives_the_request_rolling_back(owner, clock):
    token, plaintext = _make(owner)
    authenticate_bearer(f"Bearer {plaintext}")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(PersonalAccessToken, token.id).last_used_at is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.one_of(st.none(), st.text(max_size=80), st.text(max_size=60).map(lambda text: "Bearer " + text)))
@example(header="Bearer vgt_" + "\x00" * 43)
@example(header="bearer\tvgt_" + "-" * 43)
def test_any_header_is_refused_with_a_reason_never_an_error(app, header):
    with pytest.raises(TokenRejected) as caught:
        authenticate_bearer(header)
    assert caught.value.reason in services.REJECTION_MESSAGES
    assert caught.value.message


# --- revoking -----------------------------------------------------------------------------------------------


def test_the_owner_revokes_their_token_once(owner, clock):
    token, _ = _make(owner)
    db.session.query(OutboxMessage).delete()
    revoke_token(owner, token)
    db.session.commit()
    assert token.revoked_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC) and token.revoked_by_id == owner.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "token.revoked"))
    assert event.before["revoked_at"] is None and event.after["revoked_at"] is not None
    assert db.session.scalar(select(OutboxMessage)) is None  # they know: they did it
    with pytest.raises(DomainError, match="already revoked on 2 March 2026"):
        revoke_token(owner, token)


def test_an_administrator_revokes_anyones_token_and_the_owner_is_told(owner, clock):
    token, _ = _make(owner)
    db.session.query(OutboxMessage).delete()
    admin = make_admin()
    revoke_token(admin, token)
    db.session.commit()
    assert token.revoked_by_id == admin.id
    (email,) = db.session.scalars(select(OutboxMessage)).all()
    assert email.to_address == owner.email and "was revoked by an AVIGuk administrator" in email.body


def test_nobody_else_revokes_a_token(owner, clock):
    token, _ = _make(owner)
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,))
    with pytest.raises(PermissionDenied):
        revoke_token(supervisor, token)
    db.session.rollback()
    assert db.session.get(PersonalAccessToken, token.id).revoked_at is None


def test_the_list_puts_working_tokens_first_then_newest(owner, clock):
    _make(owner, name="Old")
    clock.tick(timedelta(hours=1))
    revoked, _ = _make(owner, name="Revoked")
    clock.tick(timedelta(hours=1))
    _make(owner, name="Short", expires_on=TODAY + timedelta(days=1))
    clock.tick(timedelta(hours=1))
    _make(owner, name="New")
    revoke_token(owner, revoked)
    db.session.commit()
    names = lambda: [token.name for token in db.session.scalars(services.tokens_query(owner))]  # noqa: E731
    assert names() == ["New", "Short", "Old", "Revoked"]
    assert services.count_active(owner) == 3
    clock.tick(timedelta(days=2))
    assert names() == ["New", "Old", "Short", "Revoked"]
    assert services.count_active(owner) == 2


def test_scopes_are_described_in_plain_english_in_a_fixed_order():
    assert list(SCOPES) == ["cases:read", "cases:write", "supervision:read", "supervision:write", "enrolments:read"]
    assert all(description and not description.endswith(".") for description in SCOPES.values())
