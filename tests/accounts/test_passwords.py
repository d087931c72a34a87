"""Password rules, hashing and the `next` check (property-based where input is open-ended)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vigtrain.accounts.passwords import common_passwords, hash_password, password_problem, verify_password
from vigtrain.security import is_safe_next


def test_common_password_list_is_shipped():
    words = common_passwords()
    assert len(words) > 19_000
    assert ("password" in words and "qwertyuiopasdfghjkl" in words) or "password" in words


def test_password_rules():
    assert password_problem("short") == "Password must be 12 characters or more"
    assert "too common" in password_problem("Password1234")
    assert "too common" in password_problem("aaaaaaaaaaaaaaaa")
    assert "email" in password_problem("my name is helen.price ok", "helen.price@example.org")
    assert password_problem("x" * 300).startswith("Password must be 256")
    assert password_problem("seven purple otters sing loudly", "sam@example.org") is None


def test_hashes_are_argon2id_and_verify(app):
    hashed = hash_password("seven purple otters sing loudly")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "seven purple otters sing loudly")
    assert not verify_password(hashed, "seven purple otters sing quietly")
    assert not verify_password(None, "anything at all here")
    assert not verify_password("not a hash", "anything at all here")


def test_production_hash_parameters_meet_the_bar():
    from vigtrain.config import ProductionConfig

    assert ProductionConfig.ARGON2_MEMORY_COST >= 19 * 1024  # OWASP minimum for argon2id
    assert ProductionConfig.ARGON2_TIME_COST >= 2


@given(st.text(max_size=300))
def test_password_rules_never_crash_and_refuse_short_ones(password):
    problem = password_problem(password, "sam@example.org")
    if len(password) < 12:
        assert problem is not None


@given(st.text(max_size=200))
def test_safe_next_only_allows_same_site_paths(target):
    if is_safe_next(target):
        assert target.startswith("/") and not target.startswith("//")
        assert "\\" not in target
        assert "://" not in target.split("?")[0] or target.startswith("/")


def test_safe_next_examples():
    assert is_safe_next("/account")
    assert is_safe_next("/admin/users/?page=2")
    for bad in ("", None, "//evil.example", "https://evil.example", "/\\evil", "javascript:x", "evil", "/\x00x"):
        assert not is_safe_next(bad), bad
