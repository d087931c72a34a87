"""Sending a certificate to the holder's digital wallet: OpenID for Verifiable Credential Issuance 1.0.

The pre-authorised code flow. The holder, signed in, asks for an offer; vigtrain makes a random code
(kept only as a SHA-256 digest) that works once, for a few minutes, and shows it as an
`openid-credential-offer://` link and QR code. The wallet reads vigtrain's metadata, exchanges the
code at the token endpoint for a short-lived access token, asks the nonce endpoint for a `c_nonce`,
and sends the credential endpoint a proof JWT (typ `openid4vci-proof+jwt`, aud = the issuer, the
nonce, iat) signed with its own key. The credential it gets back is the certificate's Open Badges
VC-JWT with the wallet's DID as credentialSubject.id and `sub`: did:key for an Ed25519 or P-256 key,
did:jwk for any other accepted key.

The offer goes by reference (`credential_offer_uri=`, the spec's advice for QR codes): the link is
about 150 characters, a QR code of 49 modules a phone reads easily even on a 320 px screen, where
the offer by value (about 330) needs 73. The reference holds the code itself, so the database still
keeps only its digest; it answers only while the code is unused and in date. No transaction code
(`tx_code`): the person shown the QR code is the signed-in holder, and a code shown beside it
protects nothing from someone who can see the screen, while sending one by email adds a step and a
phishing target (the spec's "Transaction Code Phishing"). The code's short life, single use and the
offer page saying when a wallet collected the certificate are the protection instead.

Nonces are stateless: a random value signed with SECRET_KEY and its time, valid for a few minutes
(any worker checks it, nothing is stored). Replaying a proof gains nothing: the access token
delivers one credential only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import base58
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from joserfc import jws
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwk import ECKey, OKPKey
from sqlalchemy import select, update

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.certificates.badges import credential_jwt
from vigtrain.certificates.keys import ALGORITHM, ED25519_MULTICODEC
from vigtrain.certificates.models import Certificate, CertificateStatus, CredentialOffer
from vigtrain.certificates.services import effective_status
from vigtrain.dates import today, utcnow
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.links import public_url
from vigtrain.security import can_offer_to_wallet

CONFIGURATION_ID = "OpenBadgeCredential_jwt_vc_json"
FORMAT = "jwt_vc_json"
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
PROOF_TYPE = "openid4vci-proof+jwt"
# EdDSA (Ed25519) and ES256 (P-256): the keys wallets hold, and the two did:key kinds bound here.
PROOF_ALGORITHMS = ("EdDSA", "ES256")
BINDING_METHODS = ["did:key", "did:jwk", "jwk"]
# The statuses a wallet may be given: an expired accreditation is still a true record (its validUntil
# says it ended); revoked, superseded or any later status that stops a certificate is not offered.
OFFERABLE = frozenset({CertificateStatus.VALID, CertificateStatus.EXPIRED})
# What secrets.token_urlsafe(32) gives: 43 URL-safe characters. Anything else matches nothing.
SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# A proof is a few hundred characters; anything much larger is not one.
MAX_PROOF_LENGTH = 8_000
# Multicodec prefix of a P-256 public key (0x1200, an unsigned varint), followed by the compressed point.
P256_MULTICODEC = b"\x80\x24"
# How far a proof's iat may be ahead of vigtrain's clock (wallets' clocks drift).
CLOCK_SKEW = timedelta(seconds=60)
_NONCE_SALT = "openid4vci-c-nonce"


class WalletError(DomainError):
    """A refused protocol request, as the spec's error object: `error` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def digest(secret: str) -> str:
    """What is stored and looked up: SHA-256 hex (256 random bits need no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --- offers ---------------------------------------------------------------------------------------


def refusal(certificate: Certificate) -> str | None:
    """Why this certificate cannot go to a wallet today, or None if it can."""
    status = effective_status(certificate, today())
    if status in OFFERABLE:
        return None
    if status is CertificateStatus.REVOKED:
        return "This certificate was revoked, so it cannot be added to a digital wallet."
    if status is CertificateStatus.SUPERSEDED:
        return "This certificate was replaced by a newer one: add the newer certificate to your wallet instead."
    return f"A certificate that is {status.label.lower()} cannot be added to a digital wallet."


def create_offer(actor: User, certificate: Certificate) -> tuple[CredentialOffer, str]:
    """A new offer of `certificate` to the holder's wallet; returns it with its pre-authorised code,
    which is never stored or shown to anyone else."""
    if not can_offer_to_wallet(actor, certificate):
        raise PermissionDenied("Only the holder adds a certificate to their digital wallet.")
    reason = refusal(certificate)
    if reason is not None:
        raise DomainError(reason)
    code = secrets.token_urlsafe(32)
    now = utcnow()
    offer = CredentialOffer(
        certificate_id=certificate.id,
        created_by_id=actor.id,
        code_digest=digest(code),
        created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["WALLET_OFFER_MINUTES"]),
    )
    db.session.add(offer)
    db.session.flush()
    audit.record(
        actor,
        "credential_offer.created",
        offer,
        after={"certificate": certificate.number, "expires_at": offer.expires_at.isoformat()},
    )
    return offer, code


def offer_json(code: str) -> dict[str, Any]:
    """The Credential Offer object for a pre-authorised code."""
    return {
        "credential_issuer": current_app.config["BASE_URL"],
        "credential_configuration_ids": [CONFIGURATION_ID],
        "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": code}},
    }


def offer_link(code: str) -> str:
    """The link a wallet opens (or a phone's camera reads from the QR code): the offer by reference."""
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(public_url('openid4vci.credential_offer', code=code), safe='')}"


def open_offer(code: Any) -> dict[str, Any] | None:
    """The Credential Offer object behind an offer link, while its code can still be redeemed; else None."""
    if not isinstance(code, str) or not SECRET.fullmatch(code):
        return None
    offer = db.session.scalar(select(CredentialOffer).where(CredentialOffer.code_digest == digest(code)))
    if offer is None or offer.redeemed_at is not None or offer.expires_at <= utcnow():
        return None
    if refusal(offer.certificate) is not None:
        return None
    return offer_json(code)


@dataclass(frozen=True)
class OfferState:
    """What the offer page says about an offer: still open, collected, or no longer usable."""

    open: bool
    collected_at: datetime | None
    expired: bool


def offer_state(offer: CredentialOffer, now: datetime) -> OfferState:
    collected = offer.delivered_at
    unused = offer.redeemed_at is None
    return OfferState(
        open=unused and offer.expires_at > now, collected_at=collected, expired=unused and not (offer.expires_at > now)
    )


# --- metadata -------------------------------------------------------------------------------------


def _endpoint(path: str) -> str:
    return current_app.config["BASE_URL"] + path


def issuer_metadata(paths: dict[str, str]) -> dict[str, Any]:
    """Credential Issuer Metadata: where the endpoints are, and the one credential vigtrain issues.

    `paths` maps "credential" and "nonce" to their paths inside vigtrain.
    """
    config = current_app.config
    issuer_display: dict[str, Any] = {"name": config["CERTIFICATE_ISSUER_NAME"], "locale": "en-GB"}
    if config.get("CERTIFICATE_ISSUER_IMAGE"):
        # Wallets show the issuer's logo beside its name, when AVIGuk has published one.
        issuer_display["logo"] = {"uri": config["CERTIFICATE_ISSUER_IMAGE"], "alt_text": "AVIGuk logo"}
    return {
        "credential_issuer": config["BASE_URL"],
        "credential_endpoint": _endpoint(paths["credential"]),
        "nonce_endpoint": _endpoint(paths["nonce"]),
        "display": [issuer_display],
        "credential_configurations_supported": {
            CONFIGURATION_ID: {
                "format": FORMAT,
                "credential_definition": {"type": CREDENTIAL_TYPES},
                "cryptographic_binding_methods_supported": BINDING_METHODS,
                "credential_signing_alg_values_supported": [ALGORITHM],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}},
                "credential_metadata": {
                    "display": [
                        {
                            "name": "AVIGuk certificate",
                            "locale": "en-GB",
                            "description": "A Video Interaction Guidance accreditation or stage-completion "
                            "certificate issued by AVIGuk, as an Open Badges 3.0 credential.",
                            "background_color": "#1d70b8",
                            "text_color": "#ffffff",
                        }
                    ],
                    "claims": [
                        {"path": ["name"], "display": [{"name": "Certificate", "locale": "en-GB"}]},
                        {"path": ["credentialSubject", "name"], "display": [{"name": "Holder", "locale": "en-GB"}]},
                        {
                            "path": ["credentialSubject", "achievement", "name"],
                            "display": [{"name": "Achievement", "locale": "en-GB"}],
                        },
                        {"path": ["validFrom"], "display": [{"name": "Issued", "locale": "en-GB"}]},
                        {"path": ["validUntil"], "display": [{"name": "Valid until", "locale": "en-GB"}]},
                    ],
                },
            }
        },
    }


def authorization_server_metadata(token_path: str) -> dict[str, Any]:
    """RFC 8414 metadata: vigtrain is its own authorisation server, for the pre-authorised code grant only."""
    return {
        "issuer": current_app.config["BASE_URL"],
        "token_endpoint": _endpoint(token_path),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


# --- the token endpoint ---------------------------------------------------------------------------


def redeem(code: Any) -> tuple[str, int]:
    """Exchange a pre-authorised code for an access token; returns the token and its life in seconds.

    The code is marked redeemed by one conditional update, so of two requests with the same code
    only one gets a token. Flushes.
    """
    unusable = WalletError("invalid_grant", "The pre-authorized code is unknown, used or expired")
    if not isinstance(code, str) or not SECRET.fullmatch(code):
        raise unusable
    offer = db.session.scalar(select(CredentialOffer).where(CredentialOffer.code_digest == digest(code)))
    now = utcnow()
    if offer is None or offer.redeemed_at is not None or offer.expires_at <= now:
        raise unusable
    if refusal(offer.certificate) is not None:
        raise WalletError("invalid_grant", "The certificate offered can no longer be issued")
    token = secrets.token_urlsafe(32)
    lifetime = int(current_app.config["WALLET_ACCESS_TOKEN_SECONDS"])
    won = db.session.execute(
        update(CredentialOffer)
        .where(
            CredentialOffer.id == offer.id,
            CredentialOffer.redeemed_at.is_(None),
            CredentialOffer.expires_at > now,
        )
        .values(
            redeemed_at=now,
            access_token_digest=digest(token),
            access_token_expires_at=now + timedelta(seconds=lifetime),
        )
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        raise unusable
    return token, lifetime


# --- the nonce endpoint ---------------------------------------------------------------------------


def _nonces() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_NONCE_SALT)


def new_nonce() -> str:
    """A fresh c_nonce: unpredictable, and checkable by any worker until it is too old."""
    return _nonces().dumps(secrets.token_urlsafe(16))


def check_nonce(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise WalletError("invalid_proof", "The proof carries no nonce: get one from the nonce endpoint")
    try:
        _nonces().loads(value, max_age=current_app.config["WALLET_NONCE_SECONDS"])
    except SignatureExpired:
        raise WalletError("invalid_nonce", "The nonce has expired: get a new one from the nonce endpoint") from None
    except BadSignature:
        raise WalletError("invalid_nonce", "The nonce was not issued by this credential issuer") from None


# --- holder keys and DIDs -------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad_key(detail: str) -> WalletError:
    return WalletError("invalid_proof", detail)


def _public_key(jwk: Any) -> OKPKey | ECKey:
    """A wallet's public key from a JWK: Ed25519 or P-256 only, and never one with its private part."""
    if not isinstance(jwk, dict):
        raise _bad_key("The proof's jwk is not a JSON Web Key")
    if "d" in jwk:
        raise _bad_key("The proof's jwk holds a private key: send only the public key")
    try:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]})
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            return ECKey.import_key({"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]})
    except (JoseError, ValueError, TypeError, KeyError):
        raise _bad_key("The proof's jwk is not a valid public key") from None
    raise _bad_key("The proof's key must be an Ed25519 (OKP) or P-256 (EC) key")


def did_key(key: OKPKey | ECKey) -> str:
    """The did:key DID of an Ed25519 or P-256 public key (multicodec prefix, base58btc multibase)."""
    if isinstance(key, OKPKey):
        raw = ED25519_MULTICODEC + _unb64url(key.as_dict(private=False)["x"])
    else:
        raw = P256_MULTICODEC + key.public_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    return "did:key:z" + base58.b58encode(raw).decode()


def _from_did_key(identifier: str) -> OKPKey | ECKey:
    if not identifier.startswith("z"):
        raise _bad_key("A did:key must be base58btc multibase (it starts with 'z')")
    try:
        raw = base58.b58decode(identifier[1:])
    except ValueError:
        raise _bad_key("The did:key is not valid base58") from None
    try:
        if raw.startswith(ED25519_MULTICODEC) and len(raw) == 34:
            return OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw[2:])})
        if raw.startswith(P256_MULTICODEC) and len(raw) == 35:
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
            return ECKey.import_key(point)
    except (JoseError, ValueError):
        raise _bad_key("The did:key does not hold a valid public key") from None
    raise _bad_key("The did:key must hold an Ed25519 or P-256 key")


def _from_did_jwk(identifier: str) -> OKPKey | ECKey:
    try:
        jwk = json.loads(_unb64url(identifier))
    except (ValueError, UnicodeDecodeError):
        raise _bad_key("The did:jwk does not hold a JSON Web Key") from None
    return _public_key(jwk)


def resolve_kid(kid: Any) -> tuple[str, OKPKey | ECKey]:
    """The DID and public key a proof's `kid` (a did:key or did:jwk DID URL) names."""
    if not isinstance(kid, str) or len(kid) > 2_000:
        raise _bad_key("The proof's kid must be a did:key or did:jwk DID URL")
    did, _, fragment = kid.partition("#")
    if did.startswith("did:key:"):
        identifier = did.removeprefix("did:key:")
        if fragment and fragment != identifier:
            raise _bad_key("A did:key DID URL names its own key: did:key:<id>#<id>")
        return did, _from_did_key(identifier)
    if did.startswith("did:jwk:"):
        if fragment and fragment != "0":
            raise _bad_key("A did:jwk DID URL names its key as #0")
        return did, _from_did_jwk(did.removeprefix("did:jwk:"))
    raise _bad_key("The proof's kid must be a did:key or did:jwk DID URL")


def subject_did(key: OKPKey | ECKey) -> str:
    """The DID a key sent as a bare JWK is named by in the credential: did:key for the keys vigtrain
    accepts (did:jwk is what any other key would need)."""
    return did_key(key)


# --- the credential endpoint ----------------------------------------------------------------------


class _ProofRegistry(jws.JWSRegistry):
    """Only the proof algorithms vigtrain lists; EdDSA without joserfc's RFC 9864 naming warning."""

    def get_alg(self, name: str):
        if name not in PROOF_ALGORITHMS:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


_KEY_FOR_ALGORITHM = {"EdDSA": OKPKey, "ES256": ECKey}


def verify_proof(proof: Any) -> str:
    """Check a `jwt` key proof and return the DID the credential is to be bound to."""
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_LENGTH or not _COMPACT_JWS.fullmatch(proof):
        raise WalletError("invalid_proof", "The proof is not a compact JWT")
    registry = _ProofRegistry(strict_check_header=False)
    try:
        header = jws.extract_compact(proof.encode(), registry=registry).headers()
    except (JoseError, ValueError, TypeError):
        raise WalletError("invalid_proof", "The proof's header could not be read") from None
    if header.get("typ") != PROOF_TYPE:
        raise WalletError("invalid_proof", f"The proof's typ must be {PROOF_TYPE}")
    alg = header.get("alg")
    if alg not in PROOF_ALGORITHMS:
        raise WalletError("invalid_proof", "The proof must be signed with " + " or ".join(PROOF_ALGORITHMS))
    named = [name for name in ("kid", "jwk", "x5c") if name in header]
    if len(named) != 1 or named[0] == "x5c":
        raise WalletError("invalid_proof", "The proof's header must name its key by kid (a DID URL) or jwk")
    if named[0] == "jwk":
        key = _public_key(header["jwk"])
        did = subject_did(key)
    else:
        did, key = resolve_kid(header["kid"])
    if not isinstance(key, _KEY_FOR_ALGORITHM[alg]):
        raise WalletError("invalid_proof", f"The proof's key does not match its algorithm {alg}")
    try:
        verified = jws.deserialize_compact(proof, key, algorithms=[alg], registry=registry)
    except (JoseError, ValueError, TypeError):
        raise WalletError("invalid_proof", "The proof's signature does not verify with its key") from None
    try:
        claims = json.loads(verified.payload)
    except (ValueError, UnicodeDecodeError):
        claims = None
    if not isinstance(claims, dict):
        raise WalletError("invalid_proof", "The proof's payload is not a JSON object")
    _check_claims(claims)
    return did


def _check_claims(claims: dict[str, Any]) -> None:
    if claims.get("aud") != current_app.config["BASE_URL"]:
        raise WalletError("invalid_proof", "The proof's aud must be the credential issuer identifier")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise WalletError("invalid_proof", "The proof must carry iat, the time it was made")
    now = utcnow().timestamp()
    oldest = now - current_app.config["WALLET_NONCE_SECONDS"] - CLOCK_SKEW.total_seconds()
    if not oldest <= iat <= now + CLOCK_SKEW.total_seconds():
        raise WalletError("invalid_proof", "The proof's iat is not the present time")
    check_nonce(claims.get("nonce"))


def _proof_from(request_body: Any) -> Any:
    """The one `jwt` proof of a credential request, its configuration checked first."""
    if not isinstance(request_body, dict):
        raise WalletError("invalid_credential_request", "The credential request must be a JSON object")
    if "credential_identifier" in request_body:
        raise WalletError("unknown_credential_identifier", "This issuer gives no credential identifiers")
    configuration = request_body.get("credential_configuration_id")
    if configuration is None:
        raise WalletError("invalid_credential_request", "The request must name its credential_configuration_id")
    if configuration != CONFIGURATION_ID:
        raise WalletError(
            "unknown_credential_configuration", f"The only credential configuration is {CONFIGURATION_ID}"
        )
    proofs = request_body.get("proofs")
    if proofs is None:
        raise WalletError("invalid_proof", "The request must carry a proof of the wallet's key in proofs.jwt")
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"} or not isinstance(proofs["jwt"], list):
        raise WalletError("invalid_proof", "proofs must hold exactly one proof type, jwt, as a list")
    if len(proofs["jwt"]) != 1:
        raise WalletError("invalid_credential_request", "Send exactly one proof: this issuer issues one credential")
    return proofs["jwt"][0]


def _offer_for_token(access_token: Any, now: datetime) -> CredentialOffer:
    unusable = WalletError("invalid_token", "The access token is unknown, expired or already used", 401)
    if not isinstance(access_token, str) or not SECRET.fullmatch(access_token):
        raise unusable
    offer = db.session.scalar(
        select(CredentialOffer).where(CredentialOffer.access_token_digest == digest(access_token))
    )
    if offer is None or offer.delivered_at is not None:
        raise unusable
    if offer.access_token_expires_at is None or offer.access_token_expires_at <= now:
        raise unusable
    return offer


def deliver(access_token: Any, request_body: Any) -> str:
    """The certificate's credential, bound to the wallet's DID, for a valid token and proof. Flushes.

    The token delivers once: the delivery is claimed by a conditional update before anything is signed.
    """
    now = utcnow()
    offer = _offer_for_token(access_token, now)
    did = verify_proof(_proof_from(request_body))
    certificate = offer.certificate
    reason = refusal(certificate)
    if reason is not None:
        raise WalletError("credential_request_denied", "The certificate can no longer be issued")
    claimed = db.session.execute(
        update(CredentialOffer)
        .where(CredentialOffer.id == offer.id, CredentialOffer.delivered_at.is_(None))
        .values(delivered_at=now, subject_did=did)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise WalletError("invalid_token", "The access token is unknown, expired or already used", 401)
    db.session.refresh(offer)
    # The wallet acts for the holder, unauthenticated but for the token: the system records it.
    audit.record(
        None,
        "credential_offer.delivered",
        offer,
        after={"certificate": certificate.number, "subject": did},
    )
    return credential_jwt(certificate, subject_id=did)
