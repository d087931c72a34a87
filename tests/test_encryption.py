"""Secrets at rest: the database holds TOTP secrets and unsent email only as tokens of keys it never holds."""

from __future__ import annotations

import base64
import re
import stat

import pyotp
import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from tests.factories import make_user
from vigtrain import create_app
from vigtrain.accounts.models import User
from vigtrain.audit import AuditEvent
from vigtrain.dates import utcnow
from vigtrain.encryption import (
    DataKeyError,
    DecryptionError,
    ciphertext_length,
    load_data_keys,
)
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.notifications.services import send_email

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Fixed keys, so every worker of a parallel run collects the same tests.
OLD_KEY, NEW_KEY, STRANGER_KEY = (base64.urlsafe_b64encode(bytes([n]) * 32).decode() for n in (1, 2, 3))
SHOWN_SECRET = re.compile(r'<p class="govuk-body app-code">([A-Z2-7]+)</p>')


def _stored(table: str, column: str, row_id: int) -> str:
    """The value as it sits in the database, read past the models on a connection of its own."""
    with db.engine.connect() as connection:
        query = text(f'SELECT {column} FROM "{table}" WHERE id = :id')  # noqa: S608 (the tests' own names)
        return connection.execute(query, {"id": row_id}).scalar()


def _user_with_a_second_factor(email: str = "sam@example.org") -> User:
    return make_user(email, totp_secret=SECRET, totp_enabled_at=utcnow())


def _sign_in_with_a_code(app, email: str = "sam@example.org"):
    client = app.test_client()
    assert client.login(email).headers["Location"] == "/login/security-code"
    return client.submit("/login/security-code", {"code": pyotp.TOTP(SECRET).now()})


def test_the_database_holds_a_token_not_the_secret_and_the_model_reads_the_secret(app):
    user = _user_with_a_second_factor()
    stored = _stored("user", "totp_secret", user.id)
    assert SECRET not in stored
    assert stored.startswith("gAAAAA")
    assert Fernet(app.config["DATA_KEYS"][0]).decrypt(stored.encode()).decode() == SECRET
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret == SECRET
    assert db.session.scalar(select(User.totp_secret).where(User.id == user.id)) == SECRET


def test_each_write_makes_a_different_token_so_equal_secrets_cannot_be_spotted(app):
    first, second = _user_with_a_second_factor("a@example.org"), _user_with_a_second_factor("b@example.org")
    assert _stored("user", "totp_secret", first.id) != _stored("user", "totp_secret", second.id)


def test_unsent_email_is_encrypted_and_reads_back(app):
    message = send_email("sam@example.org", "Reset your password", "Follow https://vigtrain.example/reset/abc123")
    db.session.commit()
    assert "abc123" not in _stored("outbox_message", "body", message.id)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).body == "Follow https://vigtrain.example/reset/abc123"


def test_email_queued_in_a_batch_is_encrypted_too(app):
    """Reminders queue their email with one executemany, which must encrypt as the ORM does."""
    from vigtrain.notifications.services import send_emails

    assert (
        send_emails(
            [("sam@example.org", "Due", "Open https://vigtrain.example/cases/VC-1"), ("jo@example.org", "Due", "x")]
        )
        == 2
    )
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "sam@example.org"))
    assert "VC-1" not in _stored("outbox_message", "body", message.id)
    assert message.body == "Open https://vigtrain.example/cases/VC-1"


def test_a_secret_longer_than_its_column_allows_is_refused(app):
    user = make_user("sam@example.org")
    user.totp_secret = "A" * 65
    with pytest.raises(StatementError, match="at most 64 bytes"):
        db.session.flush()
    db.session.rollback()


def test_the_column_is_long_enough_for_any_token_it_may_hold():
    for size in range(65):
        token = Fernet(OLD_KEY).encrypt(b"A" * size)
        assert len(token) <= ciphertext_length(64)
    assert len(Fernet(OLD_KEY).encrypt(b"A" * 64)) == ciphertext_length(64) == 184


def test_enrolment_stores_a_token_and_sign_in_with_a_code_works(client, app, clock):
    user = make_user("sam@example.org")
    client.login("sam@example.org")
    secret = SHOWN_SECRET.search(client.get("/account/two-factor").get_data(as_text=True)).group(1)
    assert client.submit("/account/two-factor", {"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert secret not in _stored("user", "totp_secret", user.id)
    clock.tick(60)
    other = app.test_client()
    other.login("sam@example.org")
    response = other.submit("/login/security-code", {"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"] == "/home"


def test_rotation_moves_every_secret_to_the_new_key_so_the_old_one_can_go(app, clock):
    app.config["DATA_KEYS"] = (OLD_KEY,)
    user = _user_with_a_second_factor()
    message = send_email("sam@example.org", "Welcome", "Your invitation: https://vigtrain.example/invite/xyz")
    db.session.commit()
    app.config["DATA_KEYS"] = (NEW_KEY, OLD_KEY)

    result = app.test_cli_runner().invoke(args=["data-keys", "rotate"])

    assert result.exit_code == 0, result.output
    assert "Encrypted 2 stored secrets" in result.output
    for table, column, row_id in (("user", "totp_secret", user.id), ("outbox_message", "body", message.id)):
        stored = _stored(table, column, row_id)
        Fernet(NEW_KEY).decrypt(stored.encode())
        with pytest.raises(InvalidToken):
            Fernet(OLD_KEY).decrypt(stored.encode())
    rotated = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "data_keys.rotated"))
    assert rotated.after == {"reencrypted": 2}

    app.config["DATA_KEYS"] = (NEW_KEY,)
    clock.tick(60)
    assert _sign_in_with_a_code(app).headers["Location"] == "/home"


def test_rotation_without_the_old_key_changes_nothing_and_says_why(app):
    app.config["DATA_KEYS"] = (OLD_KEY,)
    user_id = _user_with_a_second_factor().id
    make_user("kim@example.org", totp_secret=SECRET, totp_enabled_at=utcnow())
    before = _stored("user", "totp_secret", user_id)
    app.config["DATA_KEYS"] = (NEW_KEY,)

    result = app.test_cli_runner().invoke(args=["data-keys", "rotate"])

    assert result.exit_code == 1
    assert "Nothing was changed" in result.output
    assert "cannot be decrypted with any of the configured data keys" in result.output
    assert _stored("user", "totp_secret", user_id) == before


def test_a_copy_of_the_database_without_the_key_cannot_recover_the_secret(app):
    user = _user_with_a_second_factor()
    stored = _stored("user", "totp_secret", user.id)
    with pytest.raises(InvalidToken):
        Fernet(STRANGER_KEY).decrypt(stored.encode())

    app.config["DATA_KEYS"] = (STRANGER_KEY,)
    db.session.expire_all()
    with pytest.raises(DecryptionError, match="cannot be decrypted with any of the configured data keys"):
        db.session.get(User, user.id)
    db.session.rollback()


def test_an_altered_token_is_refused_not_decrypted_into_something_else(app):
    user = _user_with_a_second_factor()
    stored = _stored("user", "totp_secret", user.id)
    altered = stored[:60] + ("A" if stored[60] != "A" else "B") + stored[61:]
    with db.engine.begin() as connection:
        connection.execute(
            text('UPDATE "user" SET totp_secret = :value WHERE id = :id'), {"value": altered, "id": user.id}
        )
    db.session.expire_all()
    with pytest.raises(DecryptionError, match="the value was altered"):
        db.session.get(User, user.id)
    db.session.rollback()


# --- where the keys come from ---------------------------------------------------------------------


def test_the_environment_variable_gives_the_keys_newest_first(tmp_path):
    keys = load_data_keys(f" {NEW_KEY} ,{OLD_KEY},", tmp_path / "data-keys")
    assert keys == (NEW_KEY, OLD_KEY)
    assert not (tmp_path / "data-keys").exists()


def test_without_the_variable_a_key_file_is_made_once_readable_only_by_its_owner(tmp_path):
    path = tmp_path / "instance" / "data-keys"
    (first,) = load_data_keys(None, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_data_keys("", path) == (first,)
    Fernet(first)


def test_the_key_file_lists_keys_newest_first_and_may_hold_comments(tmp_path):
    path = tmp_path / "data-keys"
    path.write_text(f"# rotated on 2 March 2026\n{NEW_KEY}\n\n{OLD_KEY}\n")
    assert load_data_keys(None, path) == (NEW_KEY, OLD_KEY)


@pytest.mark.parametrize(
    ("setting", "content", "message"),
    [
        ("not-a-key", None, "VIGTRAIN_DATA_KEYS: data key 1 is not a Fernet key"),
        (f"{NEW_KEY},{NEW_KEY[:-2]}", None, "VIGTRAIN_DATA_KEYS: data key 2 is not a Fernet key"),
        (None, "# the key went somewhere else\n", "holds no data key"),
    ],
    ids=["not a key", "a second key cut short", "an empty key file"],
)
def test_a_malformed_or_empty_key_setting_is_refused(tmp_path, setting, content, message):
    path = tmp_path / "data-keys"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataKeyError, match=message) as refusal:
        load_data_keys(setting, path)
    for key in filter(None, (setting or "").split(",")):
        assert key not in str(refusal.value), "a refusal must not print the keys"


def test_production_refuses_to_start_with_a_bad_key_and_uses_the_instance_key_file_without_one(tmp_path, monkeypatch):
    monkeypatch.setattr("vigtrain.config.INSTANCE_DIR", tmp_path)
    monkeypatch.setenv("SECRET_KEY", "production-test-secret")
    monkeypatch.setenv("VIGTRAIN_DATA_KEYS", "not-a-key")
    with pytest.raises(DataKeyError, match="VIGTRAIN_DATA_KEYS"):
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")

    monkeypatch.delenv("VIGTRAIN_DATA_KEYS")
    production = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")
    assert production.config["DATA_KEYS"] == load_data_keys(None, tmp_path / "data-keys")
    assert stat.S_IMODE((tmp_path / "data-keys").stat().st_mode) == 0o600
