"""Signed credentials as an outside verifier meets them: the published key set, the revocation list,
the issuer profile, and the page that checks a pasted credential.

Signatures are checked with PyJWT, a different JOSE library from the one that signs, using only
what the public endpoints return through the Flask client.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from html import unescape

import jwt
import pytest

from tests.certificate_factories import insert_certificate
from tests.factories import make_admin
from vigtrain.audit import AuditEvent
from vigtrain.certificates import badges
from vigtrain.certificates.models import CertificateKind, CertificateStatus
from vigtrain.certificates.services import revoke_certificate
from vigtrain.extensions import db

REASON = "Revoked by AVIGuk after a complaint was upheld on review."


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def exported(app, certificate) -> str:
    """The credential as the holder downloads it."""
    with app.test_request_context():
        return badges.credential_jwt(certificate)


def published_key(client, token: str):
    """The key the token names, taken from the JWK set the site publishes."""
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/jwk-set+json"
    key_set = jwt.PyJWKSet.from_dict(response.get_json())
    kid = jwt.get_unverified_header(token)["kid"]
    return next(key for key in key_set.keys if key.key_id == kid).key


def verify(client, token: str) -> dict:
    return jwt.decode(token, published_key(client, token), algorithms=["EdDSA"])


def status_bit(client, index: int) -> bool:
    response = client.get("/status/revocation")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    token = response.get_data(as_text=True)
    assert jwt.get_unverified_header(token)["typ"] == "vc+jwt"
    status_list = verify(client, token)
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"  # multibase base64url
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    bits = gzip.decompress(raw)
    assert len(bits) >= 16 * 1024
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


# --- what outside verifiers fetch ----------------------------------------------------------------


def test_an_exported_credential_verifies_with_the_published_keys(app, client):
    certificate = insert_certificate()
    client.login(certificate.holder.email)
    download = client.get(f"/certificates/{certificate.number}/credential.jwt")
    assert download.status_code == 200 and download.mimetype == "application/vc+jwt"
    token = download.get_data(as_text=True)
    assert client.submit("/logout", page="/account").headers["Location"] == "/login"  # verifiers are strangers
    credential = verify(client, token)
    assert credential["id"] == f"http://localhost/verify/{certificate.number}"
    assert credential["credentialSubject"]["name"] == certificate.holder_name
    # The credential's links resolve on this site.
    assert client.get(credential["id"]).status_code == 200
    # The issuer is a did:web DID: its document lists the key that signed the credential.
    assert credential["issuer"]["id"] == "did:web:localhost"
    document = client.get("/.well-known/did.json").get_json()
    assert document["id"] == "did:web:localhost"
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert f"did:web:localhost#{header['kid']}" in document["assertionMethod"]
    issuer = client.get("/issuer")
    assert issuer.status_code == 200
    assert issuer.get_json()["id"] == "did:web:localhost"
    assert issuer.get_json()["type"] == ["Profile"]
    assert issuer.get_json()["name"] == "Association for Video Interaction Guidance UK (AVIGuk)"
    assert issuer.get_json()["jwks_uri"] == "http://localhost/.well-known/jwks.json"
    achievement = client.get(credential["credentialSubject"]["achievement"]["id"])
    assert achievement.status_code == 200
    served = {key: value for key, value in achievement.get_json().items() if key != "@context"}
    assert served == credential["credentialSubject"]["achievement"]
    status = credential["credentialStatus"]
    assert client.get(status["statusListCredential"]).status_code == 200


def test_the_key_set_holds_only_public_keys(client):
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1
    assert set(keys[0]) == {"kty", "crv", "x", "kid", "use", "alg"}


def test_a_stage_achievement_resolves(app, client):
    certificate = insert_certificate(kind=CertificateKind.STAGE, stage_number=4)
    credential = verify(client, exported(app, certificate))
    achievement = client.get(credential["credentialSubject"]["achievement"]["id"]).get_json()
    assert achievement["name"] == "Stage 3 of the VIG Practitioner pathway"


@pytest.mark.parametrize(
    "path",
    [
        "/achievements/vig-practitioner/1999.1",
        "/achievements/no-such-pathway/2024.1",
        "/achievements/vig-practitioner/2024.1/stages/0",
        "/achievements/vig-practitioner/2024.1/stages/9",
    ],
)
def test_unknown_achievements_are_404(app, client, path):
    insert_certificate()  # loads the pathways
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json() == {"error": "No such achievement"}


def test_a_tampered_credential_fails_verification(app, client):
    token = exported(app, insert_certificate())
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["validUntil"] = "2099-12-31T23:59:59Z"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verify(client, f"{header}.{forged}.{signature}")


def test_revocation_shows_on_the_page_the_json_and_the_status_list(app, client):
    admin = make_admin()
    revoked, kept = insert_certificate(), insert_certificate()
    assert not status_bit(client, revoked.status_index)

    revoke_certificate(admin, revoked, REASON)
    db.session.commit()

    assert status_bit(client, revoked.status_index)
    assert not status_bit(client, kept.status_index)
    page = text(client.get(f"/verify/{revoked.number}"))
    assert "Revoked" in page and REASON in page
    assert client.get(f"/verify/{revoked.number}.json").get_json()["status"] == "revoked"
    assert db.session.query(AuditEvent).filter_by(action="certificate.revoked").count() == 1


# --- the paste-a-credential page -----------------------------------------------------------------


def check(client, pasted: str):
    return client.submit("/verify/credential", {"credential": pasted})


def test_the_page_needs_no_sign_in(client):
    response = client.get("/verify/credential")
    assert response.status_code == 200
    assert "Check a credential" in text(response)


def test_a_genuine_current_credential(app, client):
    certificate = insert_certificate()
    response = check(client, exported(app, certificate))
    assert response.status_code == 200
    page = text(response)
    assert "This credential is genuine: AVIGuk signed it, and the certificate is valid." in page
    assert "Good: signed with AVIGuk's key" in page
    assert certificate.number in page and certificate.holder_name in page


@pytest.mark.parametrize(
    ("status", "word"),
    [(CertificateStatus.REVOKED, "revoked"), (CertificateStatus.EXPIRED, "expired")],
)
def test_a_genuine_credential_whose_certificate_is_no_longer_valid(app, client, status, word):
    certificate = insert_certificate(status=status, reason=REASON if word == "revoked" else None)
    page = text(check(client, exported(app, certificate)))
    assert f"This credential is genuine, but the certificate is now {word}." in page
    if word == "revoked":
        assert REASON in page


def test_a_genuine_credential_that_was_superseded_points_to_the_new_certificate(app, client):
    old = insert_certificate()
    token = exported(app, old)
    new = insert_certificate(old.holder, replaces=old)
    page = text(check(client, token))
    assert "the certificate is now superseded" in page
    assert f"Replaced by certificate {new.number}" in page


def test_a_tampered_credential_is_refused(app, client):
    certificate = insert_certificate()
    header, payload, signature = exported(app, certificate).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["name"] = "Mallory Impostor"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = check(client, f"{header}.{forged}.{signature}")
    assert response.status_code == 200
    page = text(response)
    assert "Do not rely on this credential." in page
    assert "The signature does not match: the credential has been changed since AVIGuk signed it." in page
    assert "Not valid" in page
    assert "genuine" not in page


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "Paste the credential"),
        ("this is not a credential", "Check you copied all of it"),
        ("eyJhbGciOiJFZERTQSJ9.e30", "Check you copied all of it"),
    ],
)
def test_garbage_gets_a_message_beside_the_field(client, pasted, message):
    response = check(client, pasted)
    assert response.status_code == 422
    page = text(response)
    assert "There is a problem" in page and message in page
    assert 'id="credential-error"' in response.get_data(as_text=True)


def test_the_check_needs_the_page_token(client):
    response = client.post("/verify/credential", data={"credential": "a.b.c"})
    assert response.status_code == 400
