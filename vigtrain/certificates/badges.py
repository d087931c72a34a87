"""What vigtrain publishes about a certificate: Open Badges 3.0 credentials, signed, and their status.

A credential is an Open Badges 3.0 `OpenBadgeCredential` (Verifiable Credentials Data Model 2.0)
secured as a VC-JWT: the JWS payload is the credential itself (W3C "Securing Verifiable
Credentials using JOSE and COSE", section 3.1.1) together with the registered JWT claims Open
Badges 3.0 requires of it ("JWT Payload Format"): `iss` (issuer.id), `jti` (id), `sub`
(credentialSubject.id), `nbf` (validFrom) and `exp` (validUntil, when it has one). The header is
{alg: "EdDSA", kid, typ: "vc+jwt", cty: "vc"}. Anyone can check the signature offline with the
key set at /.well-known/jwks.json (or the issuer's did:web document); whether it has since been
revoked is a bit in the W3C Bitstring Status List v1.0 credential at /status/revocation, itself
signed the same way; whether it is suspended for now, the bit at the same place in /status/suspension.

EdDSA rather than RS256: every maintained JOSE library verifiers use has Ed25519, the same key
signs the Data Integrity proof (eddsa-rdfc-2022), and one key type keeps rotation simple.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from flask import current_app
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError, UnsupportedAlgorithmError
from joserfc.jwk import OKPKey
from sqlalchemy import func, or_, select

from vigtrain.certificates import integrity
from vigtrain.certificates.keys import ALGORITHM, SigningKey, find_key, issuer_did, signing_key
from vigtrain.certificates.models import Certificate, CertificateKind, CertificateStatus, KeyState
from vigtrain.certificates.services import STATUS_LIST_BLOCK_BITS, find_certificate
from vigtrain.dates import UK, format_date, today, utcnow
from vigtrain.extensions import db
from vigtrain.pathways.definitions import UNITS, Pathway, RequirementKind, Stage, principles

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXTS = [VC_CONTEXT, OB_CONTEXT]
MEDIA_TYPE = "application/vc+jwt"
JWT_TYPE = "vc+jwt"

# Bitstring Status List v1.0 section 6.1: at least 16KB (STATUS_LIST_BLOCK_BITS = 131,072 entries),
# so a list reveals little about how many credentials exist; it grows in whole 16KB blocks.
STATUS_LIST_PATH = "/status/revocation"
# The second list: a suspended certificate's bit is set (at the same place) until the suspension ends.
SUSPENSION_LIST_PATH = "/status/suspension"
STATUS_LIST_PATHS = {"revocation": STATUS_LIST_PATH, "suspension": SUSPENSION_LIST_PATH}

# A pasted credential larger than this is not one of ours (ours are under 12KB).
MAX_PASTED_LENGTH = 20_000
_COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class _EdDSAOnly(jws.JWSRegistry):
    """Accept EdDSA and nothing else, so a verifier can never be talked into another algorithm.

    joserfc warns that RFC 9864 deprecates the name "EdDSA" for "Ed25519"; the JOSE libraries
    verifiers use today know only "EdDSA", and the key is Ed25519 either way.
    """

    def get_alg(self, name: str):
        if name != ALGORITHM:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


_REGISTRY = _EdDSAOnly()


# --- the credential -----------------------------------------------------------------------------


def _instant(day: date, at: time) -> str:
    """A UK calendar day's moment as an ISO 8601 UTC timestamp: validity follows UK dates."""
    moment = datetime.combine(day, at, tzinfo=UK).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer_profile(base_url: str) -> dict[str, Any]:
    """AVIGuk as an Open Badges `Profile`, published at /issuer; its id is the issuer's did:web DID."""
    config = current_app.config
    return {
        "@context": CONTEXTS,
        "id": issuer_did(base_url),
        "type": ["Profile"],
        "name": config["CERTIFICATE_ISSUER_NAME"],
        "url": config["CERTIFICATE_ISSUER_URL"],
        "description": config["CERTIFICATE_ISSUER_DESCRIPTION"],
        **_contact(config),
        # Where the public keys that sign AVIGuk's credentials are published.
        "jwks_uri": f"{base_url}/.well-known/jwks.json",
    }


def _contact(config: Any) -> dict[str, Any]:
    """The issuer's email and image, where AVIGuk has configured them (wallets show both beside the name)."""
    contact: dict[str, Any] = {}
    if config["CERTIFICATE_ISSUER_EMAIL"]:
        contact["email"] = config["CERTIFICATE_ISSUER_EMAIL"]
    if config["CERTIFICATE_ISSUER_IMAGE"]:
        contact["image"] = {"id": config["CERTIFICATE_ISSUER_IMAGE"], "type": "Image", "caption": "AVIGuk logo"}
    return contact


# What a credential carries of the issuer profile: every property the Open Badges context defines
# (`jwks_uri` is for software reading /issuer, not part of the Profile vocabulary).
_EMBEDDED_PROFILE = ("id", "type", "name", "url", "description", "email", "image")


def _issuer(base_url: str) -> dict[str, Any]:
    profile = issuer_profile(base_url)
    return {key: profile[key] for key in _EMBEDDED_PROFILE if key in profile}


def _amount(kind: RequirementKind, target: float) -> str:
    number = f"{target:g}"
    if kind is RequirementKind.SUPERVISION_HOURS:
        return f"{number} hour" if target == 1 else f"{number} hours"
    singular, plural = UNITS[kind]
    return f"{number} {singular if target == 1 else plural}"


def _stage_lines(stage: Stage) -> list[str]:
    lines = []
    for requirement in stage.active_requirements:
        if requirement.counted and requirement.target is not None:
            lines.append(f"{requirement.title}: {_amount(requirement.kind, requirement.target)}")
        else:
            lines.append(requirement.title)
    if stage.has_meeting and stage.meeting_name:
        lines.append(f"Ends with: {stage.meeting_name}")
    return lines


def criteria_narrative(pathway: Pathway, stage: Stage | None = None) -> str:
    """What the holder did to earn the credential, read from the pathway data (Markdown)."""
    if stage is not None:
        parts = [
            f"Completed {stage.name} of the {pathway.name} pathway (version {pathway.version}), "
            "signed off by their supervisor:",
            "",
            *(f"- {line}" for line in _stage_lines(stage)),
        ]
        return "\n".join(parts)
    parts = [
        f"Completed every stage of the {pathway.name} pathway (version {pathway.version}): each stage signed "
        "off by their supervisor and accredited by a different, accrediting supervisor, and the accreditation "
        "ratified by AVIGuk.",
    ]
    for position, each in enumerate(pathway.stages, start=1):
        parts += ["", f"{position}. **{each.name}**", *(f"    - {line}" for line in _stage_lines(each))]
    parts += ["", f"Renewal every {pathway.renewal_months} months: {pathway.renewal_evidence}."]
    return "\n".join(parts)


def _stage_of(cert: Certificate, pathway: Pathway) -> Stage | None:
    """The pathway stage a stage certificate is for (stage_number counts every stage from 1)."""
    if cert.kind is not CertificateKind.STAGE or cert.stage_number is None:
        return None
    return pathway.stages[cert.stage_number - 1]


_ASSESSMENTS = {RequirementKind.SELF_ASSESSMENT, RequirementKind.SUPERVISOR_ASSESSMENT}
PRINCIPLES_FRAMEWORK = "Principles of Attuned Interaction and Guidance"


def alignments(pathway: Pathway, stages: Iterable[Stage], base_url: str) -> list[dict[str, Any]]:
    """What an achievement stands for, as Open Badges `Alignment`s: the pathway stages it covers and,
    where those stages assess the trainee against them, the attunement principles.

    Every targetUrl is a public page of this site (/achievements/..., /principles/<code>).
    """
    path = f"{base_url}/achievements/{pathway.code}/{pathway.version}"
    stages = list(stages)
    aligned = [
        {
            "type": ["Alignment"],
            "targetType": "ext:PathwayStage",
            "targetFramework": f"AVIGuk {pathway.name} pathway, version {pathway.version}",
            "targetCode": stage.code,
            "targetName": stage.name,
            "targetUrl": f"{path}/stages/{pathway.stages.index(stage) + 1}",
        }
        for stage in stages
    ]
    if any(requirement.kind in _ASSESSMENTS for stage in stages for requirement in stage.active_requirements):
        aligned += [
            {
                "type": ["Alignment"],
                "targetType": "ext:AttunementPrinciple",
                "targetFramework": PRINCIPLES_FRAMEWORK,
                "targetCode": principle.code,
                "targetName": principle.name,
                "targetUrl": f"{base_url}/principles/{principle.code}",
            }
            for principle in principles().principles
        ]
    return aligned


def achievement_json(pathway: Pathway, stage: Stage | None, base_url: str) -> dict[str, Any]:
    """The `Achievement` every holder of this credential earned: one per pathway version and stage."""
    path = f"{base_url}/achievements/{pathway.code}/{pathway.version}"
    if stage is None:
        about = f"Accreditation on the {pathway.name} pathway, awarded by AVIGuk. {pathway.description}"
        return {
            "id": path,
            "type": ["Achievement"],
            "name": pathway.credential,
            "description": about.strip(),
            # Open Badges 3.0 "Certification": competence shown through assessment, and renewed.
            "achievementType": "Certification",
            "criteria": {"narrative": criteria_narrative(pathway)},
            "alignment": alignments(pathway, pathway.stages, base_url),
            "creator": _issuer(base_url),
        }
    number = pathway.stages.index(stage) + 1
    return {
        "id": f"{path}/stages/{number}",
        "type": ["Achievement"],
        "name": f"{stage.name} of the {pathway.name} pathway",
        "description": f"Stage completion: {stage.name} of the {pathway.name} pathway. This is not an accreditation.",
        "achievementType": "CertificateOfCompletion",
        "criteria": {"narrative": criteria_narrative(pathway, stage)},
        "alignment": alignments(pathway, [stage], base_url),
        "creator": _issuer(base_url),
    }


def holder_id(cert: Certificate, base_url: str) -> str:
    """The holder's id in a credential (credentialSubject.id, the JWT `sub`): one per certificate.

    Derived from the certificate's public address, so it is the same every time the credential is
    downloaded, reveals nothing the credential does not, and links none of a holder's certificates
    to another. A wallet that proves its own key gets its own DID instead (see `credential_json`).
    """
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base_url}/verify/{cert.number}#holder')}"


def credential_json(cert: Certificate, base_url: str, subject_id: str | None = None) -> dict[str, Any]:
    """The certificate as an Open Badges 3.0 `OpenBadgeCredential` (unsigned).

    `subject_id` names the holder (a wallet's DID); by default it is `holder_id`.
    """
    pathway = cert.enrolment.pathway
    credential: dict[str, Any] = {
        "@context": CONTEXTS,
        "id": f"{base_url}/verify/{cert.number}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": _issuer(base_url),
        "validFrom": _instant(cert.issued_on, time.min),
        "name": cert.credential,
        "credentialSubject": {
            "id": subject_id or holder_id(cert, base_url),
            "type": ["AchievementSubject"],
            "name": cert.holder_name,
            "identifier": [
                {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": cert.holder_name}
            ],
            "achievement": achievement_json(pathway, _stage_of(cert, pathway), base_url),
        },
        # Open Badges 3.0 allows one credentialStatus ([0..1]; its schema requires an object), so the
        # credential names the revocation list; the suspension list uses the same place (see
        # SUSPENSION_LIST_PATH), and the verification page and its JSON point verifiers to both.
        "credentialStatus": {
            "id": f"{base_url}{STATUS_LIST_PATH}#{cert.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(cert.status_index),
            "statusListCredential": f"{base_url}{STATUS_LIST_PATH}",
        },
    }
    if cert.valid_until is not None:
        credential["validUntil"] = _instant(cert.valid_until, time(23, 59, 59))
    return credential


def _numeric_date(instant: Any) -> int | None:
    """An ISO 8601 UTC timestamp ("2026-01-02T00:00:00Z") as a JWT NumericDate; None if it is not one."""
    if not isinstance(instant, str):
        return None
    try:
        moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp()) if moment.tzinfo is not None else None


def _issuer_id(credential: dict[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _subject_id(credential: dict[str, Any]) -> Any:
    subject = credential.get("credentialSubject")
    return subject.get("id") if isinstance(subject, dict) else None


def registered_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The JWT claims Open Badges 3.0 requires beside the credential, each equal to its property."""
    claims = {
        "iss": _issuer_id(credential),
        "jti": credential.get("id"),
        "sub": _subject_id(credential),
        "nbf": _numeric_date(credential.get("validFrom")),
    }
    if "validUntil" in credential:
        claims["exp"] = _numeric_date(credential["validUntil"])
    return {name: value for name, value in claims.items() if value is not None}


def claim_mismatches(payload: dict[str, Any]) -> list[str]:
    """The registered claims in a signed credential that disagree with its properties.

    Credentials issued before vigtrain added the claims have none, and still verify.
    """
    expected = registered_claims(payload)
    problems = [name for name, value in expected.items() if name in payload and payload[name] != value]
    if "exp" in payload and "validUntil" not in payload:
        problems.append("exp")
    return problems


def sign_credential(credential: dict[str, Any], key: SigningKey | None = None) -> str:
    """A credential as a VC-JWT: the credential and its registered claims, signed with `key`
    (by default the key that signs now)."""
    key = key or signing_key()
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": JWT_TYPE, "cty": "vc"}
    payload = {**credential, **registered_claims(credential)}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return jws.serialize_compact(header, body, key.private, registry=_REGISTRY)


def credential_jwt(cert: Certificate, subject_id: str | None = None) -> str:
    """The certificate's credential, signed: what the holder downloads and shares."""
    return sign_credential(credential_json(cert, current_app.config["BASE_URL"], subject_id))


def credential_with_proof(cert: Certificate, subject_id: str | None = None) -> dict[str, Any]:
    """The same credential with a Data Integrity proof (eddsa-rdfc-2022), for wallets that read JSON-LD."""
    base_url = current_app.config["BASE_URL"]
    return integrity.add_proof(credential_json(cert, base_url, subject_id), base_url)


# --- the revocation list ------------------------------------------------------------------------


def encode_status_list(revoked: Iterable[int], highest_index: int = 0) -> str:
    """Bitstring Status List v1.0: bit i (counting from the left of byte 0) set means revoked.

    Long enough (in whole blocks) to hold `highest_index`, the highest place any certificate
    has, so every credential's place is in the list whether or not anything near it is revoked.
    GZIP-compressed, then multibase base64url without padding ("u" prefix). A fixed GZIP time
    keeps the same list byte-identical from one request to the next.
    """
    indexes = sorted(set(revoked))
    blocks = max(indexes[-1] if indexes else 0, highest_index) // STATUS_LIST_BLOCK_BITS + 1
    bits = bytearray(blocks * STATUS_LIST_BLOCK_BITS // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode_status_list(encoded: str) -> bytes:
    """The raw bitstring of an encoded list (the inverse of `encode_status_list`)."""
    if not encoded.startswith("u"):
        raise ValueError("a status list is multibase base64url and starts with 'u'")
    data = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def is_set(bitstring: bytes, index: int) -> bool:
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def revoked_indexes() -> list[int]:
    return list(
        db.session.scalars(select(Certificate.status_index).where(Certificate.status == CertificateStatus.REVOKED))
    )


def suspended_indexes(today: date) -> list[int]:
    """The places of certificates suspended today (a suspension whose end date has come is lifted)."""
    return list(
        db.session.scalars(
            select(Certificate.status_index).where(
                Certificate.status == CertificateStatus.SUSPENDED,
                or_(Certificate.suspended_until.is_(None), Certificate.suspended_until > today),
            )
        )
    )


def highest_status_index() -> int:
    return db.session.scalar(select(func.max(Certificate.status_index))) or 0


def status_list_credential(
    base_url: str, revoked: Iterable[int], highest_index: int = 0, purpose: str = "revocation"
) -> dict[str, Any]:
    """The revocation (or suspension) list as a `BitstringStatusListCredential`: `revoked` are the bits set."""
    url = f"{base_url}{STATUS_LIST_PATHS[purpose]}"
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": _issuer(base_url),
        "validFrom": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_status_list(revoked, highest_index),
        },
    }


def status_list_jwt(purpose: str = "revocation") -> str:
    """The current revocation (or suspension) list, signed."""
    base_url = current_app.config["BASE_URL"]
    indexes = revoked_indexes() if purpose == "revocation" else suspended_indexes(today())
    return sign_credential(status_list_credential(base_url, indexes, highest_status_index(), purpose))


# --- public facts -------------------------------------------------------------------------------


def certificate_facts(cert: Certificate, today: date, base_url: str) -> dict[str, Any]:
    """What anyone may learn about a certificate from its number: the verification page's facts.

    Nothing else: no email, service or enrolment. The status is today's, so a certificate past
    its end date reads as expired even before the nightly job has marked it.
    """
    status = cert.effective_status(today)
    facts: dict[str, Any] = {
        "number": cert.number,
        "holder": cert.holder_name,
        "credential": cert.credential,
        "kind": cert.kind.value,
        "status": status.value,
        "status_label": status.label,
        "issued_on": cert.issued_on.isoformat(),
        "valid_until": cert.valid_until.isoformat() if cert.valid_until else None,
        "verification_url": f"{base_url}/verify/{cert.number}",
        "credential_status": {
            "status_list": f"{base_url}{STATUS_LIST_PATH}",
            "suspension_list": f"{base_url}{SUSPENSION_LIST_PATH}",
            "index": cert.status_index,
        },
    }
    if cert.holder.erased_at is not None:
        # Erased: the register entry still answers, but names nobody (not even the pseudonym).
        removed_on = cert.holder.erased_at.astimezone(UK).date()
        facts["holder"] = None
        facts["holder_removed_on"] = removed_on.isoformat()
        # Neutral on why: an erasure may be asked for, or made by the retention schedule.
        facts["holder_note"] = f"The holder's name was removed from AVIGuk's records on {format_date(removed_on)}"
    if status is CertificateStatus.REVOKED:
        facts["revocation_reason"] = cert.status_reason
    if status is CertificateStatus.SUSPENDED:
        facts["suspension_reason"] = cert.suspension_reason
        # The day it is valid again; None: until AVIGuk reinstates it.
        facts["suspended_until"] = cert.suspended_until.isoformat() if cert.suspended_until else None
    if status is CertificateStatus.SUPERSEDED and cert.replaced_by is not None:
        facts["superseded_by"] = {
            "number": cert.replaced_by.number,
            "verification_url": f"{base_url}/verify/{cert.replaced_by.number}",
        }
    return facts


# --- checking a pasted credential ---------------------------------------------------------------


@dataclass(frozen=True)
class CredentialCheck:
    """The answer to "is this credential genuine, and is it still good?".

    `problem` explains, in plain words, why a credential could not be read or trusted.
    `number` is the certificate it names (if it could be read); `certificate` the one on record.
    """

    well_formed: bool
    signature_valid: bool
    problem: str | None = None
    number: str | None = None
    certificate: Certificate | None = None
    holder: str | None = None
    credential_name: str | None = None
    key_revoked: bool = False
    # How it was secured: "jwt" (a VC-JWT) or "proof" (JSON with a Data Integrity proof).
    secured_with: str = "jwt"

    @property
    def genuine(self) -> bool:
        return self.well_formed and self.signature_valid and self.certificate is not None


def _b64_json(segment: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None


def read_compact_jws(token: str) -> tuple[Any, Any] | None:
    """A compact JWS's header and payload, decoded but not verified (each None where it is not JSON);
    None if the token is not three base64url parts. Certificates and transcripts are read alike."""
    if not _COMPACT_JWS.fullmatch(token):
        return None
    header_segment, payload_segment, _ = token.split(".")
    return _b64_json(header_segment), _b64_json(payload_segment)


class Signature(StrEnum):
    """What checking a signature found; each caller words it for what was pasted."""

    GOOD = "good"
    WRONG_ALGORITHM = "wrong algorithm"
    UNKNOWN_KEY = "unknown key"
    CHANGED = "changed"
    UNREADABLE = "unreadable"
    KEY_REVOKED = "key revoked"


def check_signature(token: str, header: dict[str, Any]) -> tuple[Signature, SigningKey | None]:
    """Whether one of AVIGuk's keys (EdDSA only) signed a compact JWS and still stands, and which key."""
    if header.get("alg") != ALGORITHM:
        return Signature.WRONG_ALGORITHM, None
    key = find_key(header.get("kid"))
    if key is None:
        return Signature.UNKNOWN_KEY, None
    try:
        jws.deserialize_compact(token, OKPKey.import_key(key.public_jwk()), registry=_REGISTRY)
    except BadSignatureError:
        return Signature.CHANGED, key
    except JoseError:
        return Signature.UNREADABLE, key
    if key.state is KeyState.REVOKED:
        return Signature.KEY_REVOKED, key
    return Signature.GOOD, key


def _number_from(payload: dict, base_url: str) -> str | None:
    identifier = payload.get("id")
    prefix = f"{base_url}/verify/"
    if isinstance(identifier, str) and identifier.startswith(prefix):
        return identifier.removeprefix(prefix)
    return None


def _revoked_key_problem(key: SigningKey) -> str:
    revoked_on = format_date(key.revoked_at.astimezone(UK)) if key.revoked_at else "an earlier date"
    return (
        f"AVIGuk revoked the key this credential was signed with on {revoked_on}, so it can no longer be "
        f"trusted: {key.revoked_reason}. Ask the holder for a new copy of the credential."
    )


def _check_with_proof(text: str) -> CredentialCheck:
    """Read a pasted JSON credential secured with a Data Integrity proof (see `integrity`)."""
    not_ours = "This is not a credential vigtrain issued."
    if len(text) > MAX_PASTED_LENGTH:
        return CredentialCheck(False, False, f"{not_ours} It is much longer than any credential AVIGuk issues.")
    try:
        credential = json.loads(text)
    except (ValueError, RecursionError):
        credential = None
    if not isinstance(credential, dict):
        return CredentialCheck(
            False, False, f"{not_ours} It looks like JSON but could not be read: check you copied all of it."
        )
    types = credential.get("type")
    if not isinstance(types, list) or "OpenBadgeCredential" not in types or "proof" not in credential:
        return CredentialCheck(False, False, f"{not_ours} It is JSON, but not an Open Badges credential with a proof.")
    base_url = current_app.config["BASE_URL"]
    found = _what_it_names(credential, base_url)
    certificate = found["certificate"]
    checked = integrity.verify_proof(credential, base_url)
    if not checked.valid:
        return CredentialCheck(True, False, checked.problem, secured_with="proof", **found)
    if checked.key is not None and checked.key.revoked:
        problem = _revoked_key_problem(checked.key)
        return CredentialCheck(True, False, problem, key_revoked=True, secured_with="proof", **found)
    if certificate is None:
        problem = "The proof is good, but no certificate on record matches it."
        return CredentialCheck(True, True, problem, secured_with="proof", **found)
    return CredentialCheck(True, True, None, secured_with="proof", **found)


def _what_it_names(credential: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The certificate a credential names (by its id), its holder and its name, as far as they can be read."""
    number = _number_from(credential, base_url)
    subject = credential.get("credentialSubject")
    holder = subject.get("name") if isinstance(subject, dict) and isinstance(subject.get("name"), str) else None
    name = credential.get("name") if isinstance(credential.get("name"), str) else None
    certificate = find_certificate(number) if number else None
    return {"number": number, "certificate": certificate, "holder": holder, "credential_name": name}


def check_credential(text: str) -> CredentialCheck:
    """Read a pasted credential (a VC-JWT, or JSON with a Data Integrity proof): is it well formed, signed
    with AVIGuk's key, and which certificate is it?"""
    if (text or "").lstrip().startswith("{"):
        return _check_with_proof(text.strip())
    token = "".join((text or "").split())
    not_ours = "This is not a credential vigtrain issued."
    if len(token) > MAX_PASTED_LENGTH:
        return CredentialCheck(False, False, f"{not_ours} It is much longer than any credential AVIGuk issues.")
    parts = read_compact_jws(token)
    if parts is None:
        return CredentialCheck(
            False,
            False,
            f"{not_ours} A credential is one long line of letters, numbers, '-' and '_' in three parts "
            "separated by full stops. Check you copied all of it.",
        )
    header, payload = parts
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return CredentialCheck(False, False, f"{not_ours} Part of it could not be read: check you copied all of it.")
    base_url = current_app.config["BASE_URL"]
    types = payload.get("type")
    if not isinstance(types, list) or "OpenBadgeCredential" not in types or header.get("typ") != JWT_TYPE:
        return CredentialCheck(False, False, f"{not_ours} It is signed data, but not an Open Badges credential.")
    found = _what_it_names(payload, base_url)
    certificate = found["certificate"]

    signature, key = check_signature(token, header)
    if signature is Signature.WRONG_ALGORITHM:
        return CredentialCheck(True, False, "The credential is not signed the way AVIGuk signs credentials.", **found)
    if signature is Signature.UNKNOWN_KEY:
        return CredentialCheck(True, False, "The credential was not signed with AVIGuk's key.", **found)
    if signature is Signature.CHANGED:
        changed = "The signature does not match: the credential has been changed since AVIGuk signed it."
        return CredentialCheck(True, False, changed, **found)
    if signature is Signature.UNREADABLE:
        return CredentialCheck(False, False, f"{not_ours} Its signature could not be read.", **found)
    if signature is Signature.KEY_REVOKED:
        return CredentialCheck(True, False, _revoked_key_problem(key), key_revoked=True, **found)
    mismatched = claim_mismatches(payload)
    if mismatched:
        problem = (
            "The signature is good, but the credential's JWT claims ("
            + ", ".join(mismatched)
            + ") do not match what it says, so it cannot be trusted."
        )
        return CredentialCheck(True, False, problem, **found)
    if certificate is None:
        # Signed by us but naming nothing on record: another installation, or a deleted test record.
        return CredentialCheck(True, True, "The signature is good, but no certificate on record matches it.", **found)
    return CredentialCheck(True, True, None, **found)
