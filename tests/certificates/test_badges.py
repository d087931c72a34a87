"""Open Badges 3.0 credentials, their signature, the issuer key and the revocation bitstring."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import stat
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.certificate_factories import insert_certificate, make_holder
from vigtrain.certificates import badges
from vigtrain.certificates.keys import jwk_set, load_key, signing_key
from vigtrain.certificates.models import CertificateKind, CertificateStatus
from vigtrain.extensions import db

PROJECT = Path(__file__).resolve().parents[2]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(header))), json.loads(base64.urlsafe_b64decode(pad(payload)))


def verify_independently(token: str) -> dict:
    """Check a VC-JWT with PyJWT (not the library that signed it) against the published key set."""
    keys = jwt.PyJWKSet.from_dict(jwk_set())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(key for key in keys.keys if key.key_id == kid)
    return jwt.decode(token, key.key, algorithms=["EdDSA"], options={"require": []})


# --- the issuer key ------------------------------------------------------------------------------


def test_the_key_is_created_once_with_private_permissions(tmp_path):
    path = tmp_path / "instance" / "certificate-signing-key.pem"
    first = load_key(path)
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    assert load_key(path) is first
    assert not list(path.parent.glob(".*.tmp"))  # no temporary file left behind


def test_the_key_id_is_the_rfc7638_thumbprint(tmp_path):
    key = load_key(tmp_path / "key.pem")
    public = key.public_jwk()
    assert public["kty"] == "OKP" and public["crv"] == "Ed25519" and public["alg"] == "EdDSA"
    assert "d" not in public  # never the private part
    required = json.dumps({"crv": public["crv"], "kty": public["kty"], "x": public["x"]}, separators=(",", ":"))
    assert key.kid == public["kid"] == b64url(hashlib.sha256(required.encode()).digest())


def test_workers_starting_together_agree_on_one_key(tmp_path):
    path = tmp_path / "shared" / "key.pem"
    program = f"from vigtrain.certificates.keys import load_key; print(load_key({str(path)!r}).kid)"
    runs = [
        subprocess.Popen([sys.executable, "-c", program], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    kids = {run.communicate(timeout=60)[0].strip() for run in runs}
    assert len(kids) == 1 and kids != {""}
    assert load_key(path).kid in kids


@pytest.mark.parametrize(
    "other",
    [ec.generate_private_key(ec.SECP256R1()), x25519.X25519PrivateKey.generate()],
    ids=["P-256", "X25519"],
)
def test_a_key_that_is_not_ed25519_is_refused(tmp_path, other):
    path = tmp_path / "other.pem"
    path.write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(ValueError, match="must hold an Ed25519 private key"):
        load_key(path)


def test_the_application_key_lives_where_configured_never_in_the_repository(app):
    configured = Path(app.config["CERTIFICATE_SIGNING_KEY_FILE"])
    assert PROJECT not in configured.parents
    with app.test_request_context():
        assert signing_key().kid == jwk_set()["keys"][0]["kid"]
    assert configured.exists()


# --- the credential ------------------------------------------------------------------------------


def test_an_accreditation_is_an_open_badge_credential(app):
    holder = make_holder("Olu Badge", email="olu.private@example.org")
    certificate = insert_certificate(holder, issued_on=date(2026, 3, 2), valid_until=date(2029, 3, 1))
    data = badges.credential_json(certificate, "https://verify.example")
    assert data["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert data["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert data["id"] == f"https://verify.example/verify/{certificate.number}"
    assert data["issuer"] == {
        "id": "did:web:verify.example",
        "type": ["Profile"],
        "name": "Association for Video Interaction Guidance UK (AVIGuk)",
        "url": app.config["CERTIFICATE_ISSUER_URL"],
        "description": app.config["CERTIFICATE_ISSUER_DESCRIPTION"],
    }
    # UK dates: 2 March is GMT; the validity ends at the end of 1 March 2029 (GMT too).
    assert data["validFrom"] == "2026-03-02T00:00:00Z"
    assert data["validUntil"] == "2029-03-01T23:59:59Z"
    subject = data["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    # One id per certificate, the same at every download, that says nothing about the holder.
    assert subject["id"] == badges.holder_id(certificate, "https://verify.example")
    assert subject["id"].startswith("urn:uuid:")
    other = insert_certificate(holder, kind=CertificateKind.STAGE, enrolment=certificate.enrolment)
    assert badges.credential_json(other, "https://verify.example")["credentialSubject"]["id"] != subject["id"]
    assert badges.credential_json(certificate, "https://verify.example")["credentialSubject"]["id"] == subject["id"]
    assert subject["name"] == "Olu Badge"
    assert subject["identifier"][0]["identityHash"] == "Olu Badge"
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == data["name"] == "Accredited VIG Practitioner"
    assert achievement["achievementType"] == "Certification"
    assert achievement["id"] == "https://verify.example/achievements/vig-practitioner/2024.1"
    narrative = achievement["criteria"]["narrative"]
    for expected in ("Initial Training Course", "Stage 3", "VIG cycles (filming and shared review): 12 cycles"):
        assert expected in narrative
    assert "Supervision confirmed by a supervisor: 7 hours" in narrative
    assert "Renewal every 36 months" in narrative
    assert data["credentialStatus"] == {
        "id": f"https://verify.example/status/revocation#{certificate.status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(certificate.status_index),
        "statusListCredential": "https://verify.example/status/revocation",
    }
    assert "olu.private" not in json.dumps(data)


def test_summer_dates_follow_uk_time(app):
    certificate = insert_certificate(issued_on=date(2026, 7, 1), valid_until=date(2029, 6, 30))
    data = badges.credential_json(certificate, "https://verify.example")
    assert data["validFrom"] == "2026-06-30T23:00:00Z"  # midnight BST
    assert data["validUntil"] == "2029-06-30T22:59:59Z"


def test_a_stage_certificate_is_a_completion_that_never_expires(app):
    certificate = insert_certificate(kind=CertificateKind.STAGE, stage_number=3)
    data = badges.credential_json(certificate, "https://verify.example")
    assert "validUntil" not in data
    achievement = data["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "CertificateOfCompletion"
    assert achievement["name"] == data["name"] == "Stage 2 of the VIG Practitioner pathway"
    assert achievement["id"].endswith("/achievements/vig-practitioner/2024.1/stages/3")
    narrative = achievement["criteria"]["narrative"]
    assert "Completed Stage 2" in narrative and "9 cycles" in narrative
    assert "Stage 3" not in narrative


def test_the_older_pathway_version_has_its_own_criteria(app):
    certificate = insert_certificate(version="2015.1")
    narrative = badges.credential_json(certificate, "https://x")["credentialSubject"]["achievement"]["criteria"]
    assert "Mid-point review day" in narrative["narrative"]
    assert "version 2015.1" in narrative["narrative"]


def test_the_signed_credential_is_a_vc_jose_cose_jwt(app):
    certificate = insert_certificate()
    with app.test_request_context():
        token = badges.credential_jwt(certificate)
        header, payload = segments(token)
        assert header == {"alg": "EdDSA", "kid": signing_key().kid, "typ": "vc+jwt", "cty": "vc"}
        # The payload is the credential itself (no "vc" claim, VC-JOSE-COSE section 3.1.1) with the
        # registered claims Open Badges 3.0 requires, each equal to the property it stands for.
        credential = badges.credential_json(certificate, "http://localhost")
        assert {key: value for key, value in payload.items() if key not in ("iss", "jti", "sub", "nbf", "exp")} == (
            credential
        )
        assert payload["iss"] == credential["issuer"]["id"] == "did:web:localhost"
        assert payload["jti"] == credential["id"]
        assert payload["sub"] == credential["credentialSubject"]["id"]
        assert payload["nbf"] == int(datetime.fromisoformat(credential["validFrom"]).timestamp())
        assert payload["exp"] == int(datetime.fromisoformat(credential["validUntil"]).timestamp())
        assert verify_independently(token) == payload


def test_a_changed_credential_fails_independent_verification(app):
    certificate = insert_certificate()
    with app.test_request_context():
        header, payload, signature = badges.credential_jwt(certificate).split(".")
        claims = segments(f"{header}.{payload}.{signature}")[1]
        claims["credentialSubject"]["name"] = "Someone Else"
        forged = b64url(json.dumps(claims).encode())
        with pytest.raises(jwt.InvalidSignatureError):
            verify_independently(f"{header}.{forged}.{signature}")


# --- the revocation bitstring --------------------------------------------------------------------


def test_an_empty_list_is_sixteen_kilobytes_of_zeros():
    encoded = badges.encode_status_list([])
    assert encoded.startswith("u")
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bytes(16384)
    assert "=" not in encoded


def test_bit_zero_is_the_leftmost_bit_of_the_first_byte():
    raw = badges.decode_status_list(badges.encode_status_list([0, 9]))
    assert raw[0] == 0b1000_0000
    assert raw[1] == 0b0100_0000


def test_the_list_grows_in_whole_sixteen_kilobyte_blocks():
    raw = badges.decode_status_list(badges.encode_status_list([131_072]))
    assert len(raw) == 2 * 16384
    assert badges.is_set(raw, 131_072) and not badges.is_set(raw, 131_071)


def test_the_list_reaches_the_highest_place_issued_even_with_nothing_revoked_near_it():
    raw = badges.decode_status_list(badges.encode_status_list([4], highest_index=300_000))
    assert len(raw) == 3 * 16384
    assert badges.is_set(raw, 4) and not badges.is_set(raw, 300_000)


def test_the_published_list_covers_every_certificate(app, client):
    far = insert_certificate()
    far.status_index = 250_000
    db.session.commit()
    token = client.get("/status/revocation").get_data(as_text=True)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    raw = badges.decode_status_list(payload["credentialSubject"]["encodedList"])
    assert len(raw) * 8 > far.status_index and not badges.is_set(raw, far.status_index)


def test_the_same_list_encodes_identically():
    assert badges.encode_status_list([5, 3]) == badges.encode_status_list([3, 5, 5])


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=300_000), max_size=40), st.integers(min_value=0, max_value=300_000))
def test_exactly_the_revoked_bits_are_set(revoked, probe):
    raw = badges.decode_status_list(badges.encode_status_list(revoked))
    assert len(raw) * 8 % badges.STATUS_LIST_BLOCK_BITS == 0
    assert len(raw) * 8 >= badges.STATUS_LIST_BLOCK_BITS
    for index in revoked:
        assert badges.is_set(raw, index)
    if probe < len(raw) * 8:
        assert badges.is_set(raw, probe) == (probe in revoked)


def test_the_status_list_credential_names_only_revoked_certificates(app):
    revoked = insert_certificate(status=CertificateStatus.REVOKED, reason="Revoked for a test of the list.")
    valid = insert_certificate()
    expired = insert_certificate(status=CertificateStatus.EXPIRED)
    with app.test_request_context():
        token = badges.status_list_jwt()
        header, _ = segments(token)
        assert header["typ"] == "vc+jwt" and header["alg"] == "EdDSA"
        data = verify_independently(token)
    assert data["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert data["id"] == "http://localhost/status/revocation"
    subject = data["credentialSubject"]
    assert subject == {**subject, "type": "BitstringStatusList", "statusPurpose": "revocation"}
    assert subject["id"] == "http://localhost/status/revocation#list"
    raw = badges.decode_status_list(subject["encodedList"])
    assert badges.is_set(raw, revoked.status_index)
    assert not badges.is_set(raw, valid.status_index)
    assert not badges.is_set(raw, expired.status_index)


# --- checking a pasted credential ----------------------------------------------------------------


def other_signature(payload: dict, header: dict | None = None) -> str:
    stranger = ed25519.Ed25519PrivateKey.generate()
    fields = {"typ": "vc+jwt", "cty": "vc", "kid": "someone-else", **(header or {})}
    return jwt.encode(payload, stranger, algorithm="EdDSA", headers=fields)


def test_a_genuine_credential_is_recognised(app):
    certificate = insert_certificate()
    with app.test_request_context():
        token = badges.credential_jwt(certificate)
        result = badges.check_credential(token[:40] + "\n  " + token[40:])  # pasted with a line break
    assert result.genuine and result.problem is None
    assert result.certificate.id == certificate.id
    assert result.holder == certificate.holder_name


def test_a_credential_signed_by_someone_else_is_refused(app):
    certificate = insert_certificate()
    with app.test_request_context():
        claims = badges.credential_json(certificate, "http://localhost")
        result = badges.check_credential(other_signature(claims))
        assert not result.signature_valid and result.well_formed
        assert result.problem == "The credential was not signed with AVIGuk's key."
        assert result.number == certificate.number
        # The same stranger claiming our key id still fails on the signature itself.
        forged = badges.check_credential(other_signature(claims, {"kid": signing_key().kid}))
        assert not forged.signature_valid
        assert "has been changed" in forged.problem


def test_another_algorithm_is_refused(app):
    certificate = insert_certificate()
    with app.test_request_context():
        claims = badges.credential_json(certificate, "http://localhost")
        token = jwt.encode(
            claims, "a shared secret of good length!!", algorithm="HS256", headers={"typ": "vc+jwt", "kid": "x"}
        )
        result = badges.check_credential(token)
    assert not result.signature_valid
    assert result.problem == "The credential is not signed the way AVIGuk signs credentials."


@pytest.mark.parametrize(
    "pasted",
    [
        "",
        "hello",
        "not.a.credential!",
        "a.b",
        "eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln",
        "x" * 30_000,
    ],
)
def test_garbage_is_not_well_formed(app, pasted):
    with app.test_request_context():
        result = badges.check_credential(pasted)
    assert not result.well_formed and not result.signature_valid
    assert result.problem.startswith("This is not a credential vigtrain issued.")


def test_a_signed_token_that_is_not_a_badge_is_not_well_formed(app):
    with app.test_request_context():
        result = badges.check_credential(other_signature({"sub": "someone", "type": ["VerifiableCredential"]}))
    assert not result.well_formed
    assert "not an Open Badges credential" in result.problem


def test_absurdly_nested_json_is_not_well_formed(app):
    deep = b64url(b"[" * 15_000)
    with app.test_request_context():
        result = badges.check_credential(f"{deep}.{deep}.c2ln")
    assert not result.well_formed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(max_size=400),
        st.from_regex(r"\A[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,60}\Z"),
        st.lists(st.binary(max_size=80), min_size=3, max_size=3).map(lambda parts: ".".join(map(b64url, parts))),
    )
)
def test_nothing_pasted_is_mistaken_for_a_genuine_credential(app, pasted):
    with app.test_request_context():
        result = badges.check_credential(pasted)
    assert not result.genuine
    assert result.problem
