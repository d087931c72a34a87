"""Rotating and revoking AVIGuk's signing keys, and the issuer's did:web document."""

from __future__ import annotations

import base64

import base58
import jwt
import pytest
from sqlalchemy import select, text

from tests.certificate_factories import insert_certificate
from vigtrain.certificates import badges
from vigtrain.certificates.keys import (
    did_document,
    did_document_path,
    issuer_did,
    known_keys,
    revoke_key,
    rotate_keys,
    signing_key,
)
from vigtrain.certificates.models import IssuerKey, KeyState
from vigtrain.encryption import ENCRYPTED_PREFIX
from vigtrain.errors import DomainError
from vigtrain.extensions import db


def published_verify(client, token: str) -> dict:
    """Verify with PyJWT against the key set as a stranger fetches it."""
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").get_json())
    kid = jwt.get_unverified_header(token)["kid"]
    matching = [key for key in keys.keys if key.key_id == kid]
    if not matching:
        raise LookupError(f"{kid} is not in the published key set")
    return jwt.decode(token, matching[0].key, algorithms=["EdDSA"])


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_before_any_rotation_the_key_file_signs_and_nothing_is_stored(app):
    certificate = insert_certificate()
    with app.test_request_context():
        token = badges.credential_jwt(certificate)
        assert kid_of(token) == signing_key().kid == known_keys()[0].kid
    assert db.session.scalar(select(IssuerKey)) is None


def test_rotation_signs_new_credentials_with_a_new_key_and_old_ones_still_verify(app, client):
    certificate = insert_certificate()
    with app.test_request_context():
        before = badges.credential_jwt(certificate)
        first = signing_key()
        new = rotate_keys()
        db.session.commit()
        after = badges.credential_jwt(certificate)
        assert new.kid != first.kid and kid_of(after) == new.kid and kid_of(before) == first.kid
        # The file's key moved into the database as generation 1, retired; the new key is generation 2.
        rows = db.session.scalars(select(IssuerKey).order_by(IssuerKey.generation)).all()
        assert [(row.generation, row.kid, row.state) for row in rows] == [
            (1, first.kid, KeyState.RETIRED),
            (2, new.kid, KeyState.ACTIVE),
        ]
        assert rows[0].retired_at is not None
        for token in (before, after):
            assert badges.check_credential(token).genuine
    # Both verify for a stranger with the published key set; the newest key is listed first.
    assert [key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]] == [new.kid, first.kid]
    assert published_verify(client, before)["jti"] == published_verify(client, after)["jti"]
    # The revocation list is signed with the new key too.
    assert kid_of(client.get("/status/revocation").get_data(as_text=True)) == new.kid


def test_private_keys_are_stored_encrypted(app):
    with app.test_request_context():
        rotate_keys()
        db.session.commit()
    stored = db.session.execute(text("SELECT private_pem FROM issuer_key")).scalars().all()
    assert len(stored) == 2
    assert all(value.startswith(ENCRYPTED_PREFIX) and "PRIVATE KEY" not in value for value in stored)


def test_a_revoked_key_fails_verification_with_the_reason(app, client):
    certificate = insert_certificate()
    with app.test_request_context():
        old_token = badges.credential_jwt(certificate)
        old = signing_key()
        rotate_keys()
        revoke_key(old.kid, "Laptop holding a backup of the key was stolen")
        db.session.commit()
        check = badges.check_credential(old_token)
        assert not check.genuine and not check.signature_valid and check.key_revoked
        assert "revoked the key this credential was signed with" in check.problem
        assert "Laptop holding a backup of the key was stolen" in check.problem
        new_token = badges.credential_jwt(certificate)
        assert badges.check_credential(new_token).genuine
    # Strangers no longer find the revoked key anywhere AVIGuk publishes keys.
    with pytest.raises(LookupError):
        published_verify(client, old_token)
    assert published_verify(client, new_token)["jti"].endswith(certificate.number)
    document = client.get("/.well-known/did.json").get_json()
    assert all(old.kid not in method["id"] for method in document["verificationMethod"])
    # The paste-a-credential page says why.
    page = client.submit("/verify/credential", {"credential": old_token}, page="/verify/credential")
    assert "Laptop holding a backup of the key was stolen" in page.get_data(as_text=True)


def test_revoking_the_key_that_signs_now_makes_a_new_one_first(app):
    certificate = insert_certificate()
    with app.test_request_context():
        current = signing_key()
        token = badges.credential_jwt(certificate)
        revoke_key(current.kid, "Key file found in a public repository")
        db.session.commit()
        replacement = signing_key()
        assert replacement.kid != current.kid and replacement.state is KeyState.ACTIVE
        assert badges.check_credential(token).key_revoked
        assert badges.check_credential(badges.credential_jwt(certificate)).genuine


@pytest.mark.parametrize(
    ("kid", "reason", "message"),
    [
        ("no-such-key", "Key file found in a public repository", "AVIGuk has no key no-such-key"),
        (None, "too short", "Give the reason in 10 to 1000 characters"),
        (None, "x" * 1001, "Give the reason in 10 to 1000 characters"),
    ],
)
def test_revoking_refuses_unknown_keys_and_missing_reasons(app, kid, reason, message):
    with app.test_request_context(), pytest.raises(DomainError, match=message):
        revoke_key(kid or signing_key().kid, reason)
    assert db.session.scalar(select(IssuerKey).where(IssuerKey.state == KeyState.REVOKED)) is None


def test_a_key_is_revoked_only_once(app):
    with app.test_request_context():
        first = signing_key()
        revoke_key(first.kid, "Key file found in a public repository")
        with pytest.raises(DomainError, match="already revoked"):
            revoke_key(first.kid, "Key file found in a public repository")


def test_rotating_and_revoking_are_audited(app):
    from vigtrain.audit import AuditEvent

    with app.test_request_context():
        first = signing_key()
        rotate_keys()
        revoke_key(first.kid, "Key file found in a public repository")
        db.session.commit()
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["issuer_key.rotated", "issuer_key.revoked"]


def test_the_keys_commands(app):
    runner = app.test_cli_runner()
    with app.app_context():
        first = signing_key().kid
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "New signing key" in rotated.output
    listed = runner.invoke(args=["keys", "list"])
    dashed = runner.invoke(args=["keys", "revoke", "--reason", "Key file found in a public repository", "--", "-nokey"])
    assert dashed.exit_code != 0 and "AVIGuk has no key -nokey" in dashed.output
    assert f"{first}  retired" in listed.output and "  active" in listed.output
    # Key ids are base64url and may start with "-": "--" ends the options.
    refused = runner.invoke(args=["keys", "revoke", "--reason", "short", "--", first])
    assert refused.exit_code != 0 and "10 to 1000 characters" in refused.output
    revoked = runner.invoke(args=["keys", "revoke", "--reason", "Key file found in a public repository", "--", first])
    assert revoked.exit_code == 0, revoked.output
    assert "(revoked: Key file found in a public repository)" in runner.invoke(args=["keys", "list"]).output


# --- did:web --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "did", "path"),
    [
        ("https://vigtrain.example", "did:web:vigtrain.example", "/.well-known/did.json"),
        ("http://localhost:5000", "did:web:localhost%3A5000", "/.well-known/did.json"),
        ("https://example.org/aviguk/vigtrain", "did:web:example.org:aviguk:vigtrain", "/aviguk/vigtrain/did.json"),
    ],
)
def test_the_issuer_did_follows_did_web(base_url, did, path):
    assert issuer_did(base_url) == did
    assert did_document_path(base_url) == path


def test_the_did_document_lists_every_trusted_key_as_a_multikey(app, client):
    with app.test_request_context():
        first = signing_key()
        second = rotate_keys()
        db.session.commit()
        document = did_document("http://localhost")
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200 and response.mimetype == "application/did+json"
    assert response.get_json() == document
    assert document["id"] == "did:web:localhost"
    methods = {method["id"]: method for method in document["verificationMethod"]}
    assert list(methods) == [f"did:web:localhost#{second.kid}", f"did:web:localhost#{first.kid}"]
    assert document["assertionMethod"] == list(methods)
    for key in (first, second):
        method = methods[f"did:web:localhost#{key.kid}"]
        assert method["type"] == "Multikey" and method["controller"] == "did:web:localhost"
        # base58btc of the Ed25519 multicodec prefix and the raw public key: the key in the JWK set.
        raw = base64.urlsafe_b64decode(key.public_jwk()["x"] + "==")
        assert method["publicKeyMultibase"].startswith("z6Mk")
        assert base58.b58decode(method["publicKeyMultibase"][1:]) == b"\xed\x01" + raw
