"""Every credential vigtrain issues conforms to Open Badges 3.0 and the VC Data Model 2.0.

Each kind of certificate, in each status it can be in, is checked three ways: against 1EdTech's
published JSON Schema for an AchievementCredential (vendored, see vigtrain/certificates/vendor),
against the VC Data Model 2.0 rules vigtrain relies on (written out below, since the schema does
not check them: dates, URIs, status entries), and as the holder downloads it, where the VC-JWT's
registered claims must agree with the credential. The issuer profile is checked against the
Profile schema, every term the credential uses must be defined by its contexts, and every
alignment must point at a page of this site that answers.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft201909Validator, FormatChecker

from tests.certificate_factories import insert_certificate
from vigtrain.certificates import badges, integrity
from vigtrain.certificates.models import CertificateKind, CertificateStatus

SCHEMAS = Path(badges.__file__).with_name("vendor") / "schemas"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
# XML Schema dateTimeStamp: a dateTime that must carry its time zone.
DATE_TIME_STAMP = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
STATUS_PURPOSES = {"revocation", "suspension"}
KINDS = [CertificateKind.ACCREDITATION, CertificateKind.STAGE]


@cache
def validator(name: str) -> Draft201909Validator:
    schema = json.loads((SCHEMAS / f"ob_v3p0_{name}.json").read_text(encoding="utf-8"))
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=FormatChecker())


def schema_errors(name: str, document: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator(name).iter_errors(document)
    ]


def is_uri(value) -> bool:
    return isinstance(value, str) and bool(URI_SCHEME.match(value))


def is_url(value) -> bool:
    return is_uri(value) and urlsplit(value).scheme in {"http", "https"} and bool(urlsplit(value).netloc)


def instant(value) -> datetime | None:
    if not isinstance(value, str) or not DATE_TIME_STAMP.match(value):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def vcdm_problems(credential: dict) -> list[str]:
    """The VC Data Model 2.0 rules vigtrain relies on, each broken rule named."""
    problems = []
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_CONTEXT:
        problems.append("@context must be a list whose first item is the VC 2.0 context (4.3)")
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types or "OpenBadgeCredential" not in types:
        problems.append("type must list VerifiableCredential and OpenBadgeCredential (4.5)")
    if not is_uri(credential.get("id")):
        problems.append("id must be a URL (4.4)")
    issuer = credential.get("issuer")
    if not is_uri(issuer.get("id") if isinstance(issuer, dict) else issuer):
        problems.append("issuer (or issuer.id) must be a URL (4.7)")
    valid_from, valid_until = instant(credential.get("validFrom")), None
    if valid_from is None:
        problems.append("validFrom must be a dateTimeStamp (4.9)")
    if "validUntil" in credential:
        valid_until = instant(credential["validUntil"])
        if valid_until is None:
            problems.append("validUntil must be a dateTimeStamp (4.9)")
        elif valid_from is not None and valid_until <= valid_from:
            problems.append("validUntil must be after validFrom (4.9)")
    subjects = as_list(credential.get("credentialSubject"))
    if not subjects or not all(isinstance(subject, dict) and is_uri(subject.get("id")) for subject in subjects):
        problems.append("every credentialSubject must be an object with an id URL (4.8)")
    purposes = []
    for entry in as_list(credential.get("credentialStatus")):
        index = entry.get("statusListIndex") if isinstance(entry, dict) else None
        if not (
            isinstance(entry, dict)
            and entry.get("type") == "BitstringStatusListEntry"
            and entry.get("statusPurpose") in STATUS_PURPOSES
            and isinstance(index, str)
            and index.isdigit()
            and is_url(entry.get("statusListCredential"))
            and ("id" not in entry or is_url(entry["id"]))
        ):
            problems.append(f"credentialStatus entry {entry!r} is not a well-formed BitstringStatusListEntry (4.10)")
        else:
            purposes.append(entry["statusPurpose"])
    if "revocation" not in purposes or len(purposes) != len(set(purposes)):
        problems.append("credentialStatus must have one revocation entry and at most one entry per purpose")
    return problems


def numeric(value: str) -> int:
    return int(instant(value).timestamp())


def jwt_claim_problems(token: str) -> list[str]:
    """Open Badges 3.0 "JWT Payload Format": each registered claim equals the property it mirrors."""
    payload_segment = token.split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(payload_segment + "=" * (-len(payload_segment) % 4)))
    expected = {
        "iss": payload["issuer"]["id"],
        "jti": payload["id"],
        "sub": payload["credentialSubject"]["id"],
        "nbf": numeric(payload["validFrom"]),
    }
    if "validUntil" in payload:
        expected["exp"] = numeric(payload["validUntil"])
    problems = [
        f"{claim} is {payload.get(claim)!r}, not {value!r}"
        for claim, value in expected.items()
        if payload.get(claim) != value
    ]
    if "exp" in payload and "validUntil" not in payload:
        problems.append("exp without validUntil")
    return problems


def certificate_in(status: CertificateStatus, kind: CertificateKind):
    """A certificate of `kind` that is `status` (a superseded one has its replacement on record)."""
    if status is CertificateStatus.SUPERSEDED:
        old = insert_certificate(kind=kind)
        insert_certificate(old.holder, kind=kind, replaces=old)
        return old
    reason = (
        "Revoked by AVIGuk after a complaint was upheld on review." if status is CertificateStatus.REVOKED else None
    )
    return insert_certificate(kind=kind, status=status, reason=reason)


def test_every_credential_conforms(app):
    """Each kind in each status (one test, so the suite builds the app once for all ten)."""
    for kind in KINDS:
        for status in CertificateStatus:
            certificate = certificate_in(status, kind)
            with app.test_request_context():
                credential = badges.credential_json(certificate, app.config["BASE_URL"])
                token = badges.credential_jwt(certificate)
                secured = badges.credential_with_proof(certificate)
            case = f"{kind.value} certificate, {status.value}"
            # VCDM 2.0 allows a list of status entries, but Open Badges 3.0 allows one: its
            # AchievementCredential has credentialStatus [0..1], and the schema requires an object.
            assert isinstance(credential["credentialStatus"], dict), f"{case}: OB 3.0 allows one credentialStatus"
            assert schema_errors("achievementcredential", credential) == [], case
            assert vcdm_problems(credential) == [], case
            assert jwt_claim_problems(token) == [], case
            # The JSON download is the same credential with its proof, which the schema checks too.
            assert {name: value for name, value in secured.items() if name != "proof"} == credential, case
            assert schema_errors("achievementcredential", secured) == [], case
            # Every property is defined by the contexts it names: nothing is left out of what a proof signs.
            assert integrity.canonical_nquads(credential), case


def test_the_checks_catch_what_they_are_for(app):
    """The rules above fail on credentials that break them (so a pass means something)."""
    with app.test_request_context():
        good = badges.credential_json(insert_certificate(), app.config["BASE_URL"])
    broken = {
        **good,
        "@context": list(reversed(good["@context"])),
        "issuer": {**good["issuer"], "id": "AVIGuk"},
        "validUntil": "2020-01-01",
        "credentialStatus": [{**good["credentialStatus"][0], "statusListIndex": 7}]
        if isinstance(good["credentialStatus"], list)
        else {**good["credentialStatus"], "statusListIndex": 7},
    }
    problems = " ".join(vcdm_problems(broken))
    for rule in ("(4.3)", "(4.7)", "(4.9)", "(4.10)"):
        assert rule in problems
    assert schema_errors("achievementcredential", broken)
    later = {**good, "validUntil": good["validFrom"]}
    assert vcdm_problems(later) == ["validUntil must be after validFrom (4.9)"]
    no_criteria = json.loads(json.dumps(good))
    del no_criteria["credentialSubject"]["achievement"]["criteria"]
    assert any("criteria" in error for error in schema_errors("achievementcredential", no_criteria))
    with pytest.raises(integrity.IntegrityError, match="nickname"):
        integrity.canonical_nquads({**good, "nickname": "Badge"})


def test_the_achievement_is_aligned_to_stages_and_principles_that_resolve(app, client):
    for kind in KINDS:
        aligned_to_stages_and_principles(app, client, kind)


def aligned_to_stages_and_principles(app, client, kind: CertificateKind) -> None:
    certificate = insert_certificate(kind=kind, stage_number=2)
    with app.test_request_context():
        achievement = badges.credential_json(certificate, app.config["BASE_URL"])["credentialSubject"]["achievement"]
    assert achievement["criteria"]["narrative"]
    alignments = achievement["alignment"]
    stages = [each for each in alignments if each["targetType"] == "ext:PathwayStage"]
    principles = [each for each in alignments if each["targetType"] == "ext:AttunementPrinciple"]
    if kind is CertificateKind.STAGE:
        # Stage 1 of the current pathway (the second stage, after the course): its own stage, and the
        # principles its self- and supervisor assessments use.
        assert [each["targetName"] for each in stages] == ["Stage 1"]
        assert stages[0]["targetUrl"] == achievement["id"]
    else:
        assert [each["targetName"] for each in stages] == [
            "Initial Training Course",
            "Stage 1",
            "Stage 2",
            "Stage 3",
        ]
    assert [each["targetName"] for each in principles] == [
        "Being attentive",
        "Encouraging initiatives",
        "Receiving initiatives",
        "Developing attuned interactions",
        "Guiding",
        "Deepening discussion",
    ]
    for alignment in alignments:
        response = client.get(alignment["targetUrl"])
        assert response.status_code == 200, alignment["targetUrl"]
        assert response.get_json()["id"] == alignment["targetUrl"]
    principle = client.get(principles[2]["targetUrl"]).get_json()
    assert principle["name"] == "Receiving initiatives" and len(principle["descriptors"]) >= 4


def test_the_course_stage_has_no_principles(app):
    """The introductory course assesses nobody against the principles, so its badge claims none."""
    certificate = insert_certificate(kind=CertificateKind.STAGE, stage_number=1)
    with app.test_request_context():
        achievement = badges.credential_json(certificate, app.config["BASE_URL"])["credentialSubject"]["achievement"]
    assert [each["targetType"] for each in achievement["alignment"]] == ["ext:PathwayStage"]


def test_an_unknown_principle_is_404(client):
    response = client.get("/principles/no-such-principle")
    assert response.status_code == 404
    assert response.get_json() == {"error": "No such principle"}


def test_the_issuer_profile_is_a_complete_open_badges_profile(app, client):
    app.config.update(
        CERTIFICATE_ISSUER_EMAIL="certificates@aviguk.example",
        CERTIFICATE_ISSUER_IMAGE="https://aviguk.example/logo.png",
    )
    profile = client.get("/issuer").get_json()
    assert schema_errors("profile", profile) == []
    for field in ("id", "type", "name", "url", "description", "email", "image"):
        assert profile.get(field), field
    assert profile["image"] == {"id": "https://aviguk.example/logo.png", "type": "Image", "caption": "AVIGuk logo"}
    with app.test_request_context():
        credential = badges.credential_json(insert_certificate(), app.config["BASE_URL"])
    issuer = credential["issuer"]
    assert issuer["email"] == "certificates@aviguk.example" and issuer["image"]["id"] == profile["image"]["id"]
    assert "jwks_uri" not in issuer  # not Open Badges vocabulary: the profile at /issuer alone carries it
    assert schema_errors("achievementcredential", credential) == []
    assert integrity.canonical_nquads(credential)


def test_without_an_email_or_image_the_profile_leaves_them_out(client):
    profile = client.get("/issuer").get_json()
    assert "email" not in profile and "image" not in profile
    assert schema_errors("profile", profile) == []
