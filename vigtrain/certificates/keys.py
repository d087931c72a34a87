"""AVIGuk's Ed25519 signing keys: the one that signs now, and every earlier one that still verifies.

Until keys are first rotated, the one key is a file in the instance folder, made on first use (as
every installation had before rotation existed). `flask keys rotate` moves keys into the database
(`IssuerKey`, private halves encrypted with the data keys): the file's key becomes generation 1,
retired, and a new key, generation 2, signs from then on. Retired keys stay in the published key
set and the issuer's DID document, so every credential signed earlier still verifies. A key that
may have been compromised is revoked: it leaves the key set, and vigtrain's own verifier says that
what it signed is no longer trusted, and why. Revoking the key that signs now first makes a new one.

The issuer is also a `did:web` DID, derived from BASE_URL, whose document (/.well-known/did.json)
lists the same keys as Multikeys, so a wallet can resolve the issuer of a credential it holds.
"""

from __future__ import annotations

import contextlib
import os
import threading
from base64 import urlsafe_b64decode
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import base58
from flask import current_app
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from sqlalchemy import func, select

from vigtrain import audit
from vigtrain.certificates.models import IssuerKey, KeyState
from vigtrain.dates import utcnow
from vigtrain.errors import DomainError
from vigtrain.extensions import db

ALGORITHM = "EdDSA"  # RFC 8037: EdDSA over Ed25519, the name JOSE libraries everywhere understand
CURVE = "Ed25519"
# Multicodec prefix of an Ed25519 public key (0xed, as an unsigned varint), as Multikey encodes it.
ED25519_MULTICODEC = b"\xed\x01"
MIN_REASON, MAX_REASON = 10, 1000

_loaded: dict[Path, SigningKey] = {}
_opened: dict[str, OKPKey] = {}  # private keys read from the database, by kid (a kid never changes key)
_lock = threading.Lock()


@dataclass(frozen=True)
class SigningKey:
    """A private key, its key id (the RFC 7638 thumbprint of the public key) and its state."""

    private: OKPKey
    kid: str
    state: KeyState = KeyState.ACTIVE
    created_at: datetime | None = None
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.state is KeyState.REVOKED

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK, labelled for signing with EdDSA."""
        return {**self.private.as_dict(private=False), "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def public_multikey(self) -> str:
        """The public key as a Multikey `publicKeyMultibase` (base58btc, "z6Mk..."), as DID documents list it."""
        raw = urlsafe_b64decode(self.private.as_dict(private=False)["x"] + "==")
        return "z" + base58.b58encode(ED25519_MULTICODEC + raw).decode()


# --- the key file (before the first rotation) ---------------------------------------------------


def _create(path: Path) -> None:
    """Write a new key without ever exposing a half-written file or replacing an existing one.

    Several workers may start at once: each writes its own temporary file and hard-links it into
    place; the link fails for all but the first, and they then read the winner's key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = OKPKey.generate_key(CURVE).as_pem(private=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another worker won: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _import_private(pem: bytes | str, where: str) -> OKPKey:
    refusal = f"{where} must hold an Ed25519 private key in PEM form"
    try:
        key = OKPKey.import_key(pem)
    except (JoseError, ValueError):
        raise ValueError(refusal) from None
    if not key.is_private or key.curve_name != CURVE:
        raise ValueError(refusal)
    return key


def load_key(path: Path) -> SigningKey:
    """The key kept at `path`, created there (mode 0600) if there is none yet."""
    path = Path(path)
    with _lock:
        if path not in _loaded:
            if not path.exists():
                _create(path)
            key = _import_private(path.read_bytes(), str(path))
            _loaded[path] = SigningKey(private=key, kid=key.thumbprint())
        return _loaded[path]


def _file_key() -> SigningKey:
    return load_key(Path(current_app.config["CERTIFICATE_SIGNING_KEY_FILE"]))


# --- the keys in the database (after the first rotation) ----------------------------------------


def _from_row(row: IssuerKey) -> SigningKey:
    private = _opened.get(row.kid)
    if private is None:
        private = _opened.setdefault(row.kid, _import_private(row.private_pem, f"Issuer key {row.kid}"))
    return SigningKey(
        private=private,
        kid=row.kid,
        state=row.state,
        created_at=row.created_at,
        retired_at=row.retired_at,
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
    )


def signing_key() -> SigningKey:
    """The key new credentials are signed with: the newest active key, or the file's before any rotation."""
    row = db.session.scalar(
        select(IssuerKey).where(IssuerKey.state == KeyState.ACTIVE).order_by(IssuerKey.generation.desc()).limit(1)
    )
    return _from_row(row) if row is not None else _file_key()


def known_keys() -> list[SigningKey]:
    """Every key AVIGuk has signed with, oldest first, revoked ones included."""
    rows = db.session.scalars(select(IssuerKey).order_by(IssuerKey.generation)).all()
    return [_from_row(row) for row in rows] if rows else [_file_key()]


def find_key(kid: Any) -> SigningKey | None:
    """The key with this id (whatever its state), or None if AVIGuk never had it."""
    return next((key for key in known_keys() if key.kid == kid), None)


def trusted_keys() -> list[SigningKey]:
    """The keys a credential may be signed with and still be trusted: all but the revoked."""
    return [key for key in known_keys() if not key.revoked]


def jwk_set() -> dict[str, list[dict[str, str]]]:
    """The public keys verifiers may trust, as an RFC 7517 JWK set: newest first, revoked keys left out."""
    return {"keys": [key.public_jwk() for key in reversed(trusted_keys())]}


def _adopt_file_key() -> None:
    """Before the first rotation, the file's key becomes generation 1 in the database."""
    if db.session.scalar(select(func.count()).select_from(IssuerKey)):
        return
    key = _file_key()
    pem = key.private.as_pem(private=True).decode()
    db.session.add(IssuerKey(generation=1, kid=key.kid, private_pem=pem, state=KeyState.ACTIVE))
    db.session.flush()


def rotate_keys() -> SigningKey:
    """Make a new key that signs from now on; the one that signed until now is retired. Flushes.

    Two rotations at once both try to make the same next generation: the unique constraint stops
    the second, which the caller sees as a conflict and can run again.
    """
    _adopt_file_key()
    now = utcnow()
    for row in db.session.scalars(select(IssuerKey).where(IssuerKey.state == KeyState.ACTIVE)):
        row.state, row.retired_at = KeyState.RETIRED, now
    generation = (db.session.scalar(select(func.max(IssuerKey.generation))) or 0) + 1
    private = OKPKey.generate_key(CURVE)
    row = IssuerKey(
        generation=generation,
        kid=private.thumbprint(),
        private_pem=private.as_pem(private=True).decode(),
        state=KeyState.ACTIVE,
        created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(None, "issuer_key.rotated", row, after={"kid": row.kid, "generation": generation})
    return _from_row(row)


def revoke_key(kid: str, reason: str) -> SigningKey:
    """Stop trusting a key (it may have been compromised), with the reason verifiers are told. Flushes.

    Revoking the key that signs now first makes a new one, so issuing never stops.
    """
    cleaned = (reason or "").strip()
    if not MIN_REASON <= len(cleaned) <= MAX_REASON:
        raise DomainError(f"Give the reason in {MIN_REASON} to {MAX_REASON} characters", field="reason")
    _adopt_file_key()
    row = db.session.scalar(select(IssuerKey).where(IssuerKey.kid == kid))
    if row is None:
        raise DomainError(f"AVIGuk has no key {kid}", field="kid")
    if row.state is KeyState.REVOKED:
        raise DomainError(f"Key {kid} was already revoked", field="kid")
    if row.state is KeyState.ACTIVE:
        rotate_keys()
    before = {"state": row.state.value}
    row.state, row.revoked_at, row.revoked_reason = KeyState.REVOKED, utcnow(), cleaned
    db.session.flush()
    audit.record(None, "issuer_key.revoked", row, before=before, after={"state": row.state.value, "reason": cleaned})
    return _from_row(row)


# --- did:web --------------------------------------------------------------------------------------


def issuer_did(base_url: str) -> str:
    """The issuer's did:web DID: the host (a port's colon percent-encoded), then any path, colon-separated."""
    parts = urlsplit(base_url)
    segments = [quote(parts.netloc, safe="")] + [quote(s, safe="") for s in parts.path.split("/") if s]
    return "did:web:" + ":".join(segments)


def did_document_path(base_url: str) -> str:
    """Where did:web says the document is: /.well-known/did.json at a bare host, else <path>/did.json."""
    path = urlsplit(base_url).path.rstrip("/")
    return f"{path}/did.json" if path else "/.well-known/did.json"


def verification_method(base_url: str, key: SigningKey) -> str:
    """A key's id in the DID document: what a Data Integrity proof names as its verificationMethod."""
    return f"{issuer_did(base_url)}#{key.kid}"


def did_document(base_url: str) -> dict[str, Any]:
    """The DID document: every trusted key as a Multikey, able to sign credentials (assertionMethod)."""
    did = issuer_did(base_url)
    keys = list(reversed(trusted_keys()))
    methods = [
        {
            "id": verification_method(base_url, key),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_multikey(),
        }
        for key in keys
    ]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": [f"{base_url}/issuer"],
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
        "authentication": [method["id"] for method in methods],
        "service": [{"id": f"{did}#issuer-profile", "type": "LinkedDomains", "serviceEndpoint": base_url}],
    }
