"""The VC-JWT as outside verifiers check it: two JOSE libraries that did not sign it, and an Open
Badges 3.0 verifier, each offline and from what the site publishes.

PyJWT takes the key from the JWK set; jwcrypto builds it from the issuer's did:web document (the
Multikey, made into a JWK here); openbadgeslib verifies the credential and fetches both status
lists itself. Each checks the registered claims against the credential, and the status bits are
read from the status lists the credential names, decoded in tests/certificates/outside.py.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime

import jwt
import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt
from jwcrypto.jws import InvalidJWSSignature
from openbadgeslib.ob3.verifier import OB3VerificationError, OB3Verifier

from tests.certificate_factories import insert_certificate
from tests.certificates import outside
from vigtrain.certificates import badges
from vigtrain.certificates.models import CertificateKind, CertificateStatus

REASON = "Revoked by AVIGuk after a complaint was upheld on review."


def pyjwt_verify(client, token: str, check_expiry: bool = True) -> dict:
    """PyJWT, with the key the JWT names taken from the published JWK set."""
    key_set = jwt.PyJWKSet.from_dict(json.loads(outside.fetcher(client)("https://localhost/.well-known/jwks.json")))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(each for each in key_set.keys if each.key_id == kid)
    return jwt.decode(
        token,
        key.key,
        algorithms=["EdDSA"],
        options={"verify_exp": check_expiry, "require": ["iss", "jti", "sub", "nbf"]},
    )


def did_jwk(client, kid: str) -> jwcrypto_jwk.JWK:
    """The key as a JWK, made from the Multikey the did:web document lists for `kid`."""
    public = outside.did_key(client, f"did:web:localhost#{kid}")
    raw = public.public_bytes_raw()
    return jwcrypto_jwk.JWK(kty="OKP", crv="Ed25519", x=base64.urlsafe_b64encode(raw).rstrip(b"=").decode())


def jwcrypto_verify(client, token: str, check_expiry: bool = True) -> dict:
    kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]
    checks = None if check_expiry else False  # None: jwcrypto checks exp and nbf
    verified = jwcrypto_jwt.JWT(
        jwt=token, key=did_jwk(client, kid), algs=["EdDSA"], expected_type="JWS", check_claims=checks
    )
    return json.loads(verified.claims)


def claims_agree(payload: dict) -> None:
    """Open Badges 3.0 "JWT Payload Format": the registered claims say what the credential says."""
    assert payload["iss"] == payload["issuer"]["id"] == "did:web:localhost"
    assert payload["jti"] == payload["id"]
    assert payload["sub"] == payload["credentialSubject"]["id"]
    assert payload["nbf"] == instant(payload["validFrom"])
    if "validUntil" in payload:
        assert payload["exp"] == instant(payload["validUntil"])
    else:
        assert "exp" not in payload


def instant(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def make(status: CertificateStatus, kind: CertificateKind):
    if status is CertificateStatus.SUPERSEDED:
        old = insert_certificate(kind=kind)
        insert_certificate(old.holder, kind=kind, replaces=old)
        return old
    if status is CertificateStatus.EXPIRED:
        return insert_certificate(kind=kind, status=status, issued_on=date(2020, 3, 2), valid_until=date(2023, 3, 1))
    return insert_certificate(kind=kind, status=status, reason=REASON if status is CertificateStatus.REVOKED else None)


def test_two_jose_libraries_verify_the_credential_and_read_its_status(app, client):
    for status in CertificateStatus:
        verified_by_both(app, client, status)


def verified_by_both(app, client, status: CertificateStatus) -> None:
    certificate = make(status, CertificateKind.ACCREDITATION)
    with app.test_request_context():
        token = badges.credential_jwt(certificate)
    expired = status is CertificateStatus.EXPIRED
    if expired:
        # Both libraries refuse a credential past its validUntil (the JWT's exp) unless told not to check.
        with pytest.raises(jwt.ExpiredSignatureError):
            pyjwt_verify(client, token)
        with pytest.raises(jwcrypto_jwt.JWTExpired):
            jwcrypto_verify(client, token)
    by_pyjwt = pyjwt_verify(client, token, check_expiry=not expired)
    by_jwcrypto = jwcrypto_verify(client, token, check_expiry=not expired)
    assert by_pyjwt == by_jwcrypto
    claims_agree(by_pyjwt)
    assert by_pyjwt["id"] == f"http://localhost/verify/{certificate.number}"
    entries = by_pyjwt["credentialStatus"]
    entries = entries if isinstance(entries, list) else [entries]
    assert "revocation" in {entry["statusPurpose"] for entry in entries}
    for entry in entries:
        expected = {"revocation": "revoked", "suspension": "suspended"}[entry["statusPurpose"]] == status.value
        assert outside.status_set(client, entry) is expected, (status.value, entry["statusPurpose"])


def test_a_forged_token_fails_both_libraries(app, client):
    with app.test_request_context():
        token = badges.credential_jwt(insert_certificate(kind=CertificateKind.STAGE))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["name"] = "Mallory Impostor"
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode(), signature])
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_verify(client, forged)
    with pytest.raises(InvalidJWSSignature):
        jwcrypto_verify(client, forged)


def test_openbadgeslib_verifies_the_credential_and_both_status_lists(app, client):
    valid, revoked = insert_certificate(), make(CertificateStatus.REVOKED, CertificateKind.ACCREDITATION)
    with app.test_request_context():
        token, revoked_token = badges.credential_jwt(valid), badges.credential_jwt(revoked)
    kid = jwt.get_unverified_header(token)["kid"]
    # The key pinned from the did:web document: openbadgeslib's own did:web path wants the JWT's kid to be
    # a DID URL ("did:web:localhost#<kid>"), where vigtrain's kid is the key's bare thumbprint.
    verifier = OB3Verifier(did_jwk(client, kid).export_to_pem(), issuer_did="did:web:localhost")
    download = outside.fetcher(client)
    credential = verifier.verify(token, check_status=True, download=download)
    assert credential.issuer.id == "did:web:localhost"
    with pytest.raises(OB3VerificationError, match="status 'revocation' is set"):
        verifier.verify(revoked_token, check_status=True, download=download)
