"""The issuer's Ed25519 signing key: made on first use, kept in the instance folder, loaded once.

Every credential vigtrain issues is signed with this key, and anyone can check the signature
offline against the public half published at /.well-known/jwks.json. Losing the file means
credentials already issued can no longer be checked, so back it up with the database.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHM = "EdDSA"  # RFC 8037: EdDSA over Ed25519, the name JOSE libraries everywhere understand
CURVE = "Ed25519"

_loaded: dict[Path, SigningKey] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class SigningKey:
    """The private key and its key id (the RFC 7638 thumbprint of the public key)."""

    private: OKPKey
    kid: str

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK, labelled for signing with EdDSA."""
        return {**self.private.as_dict(private=False), "kid": self.kid, "use": "sig", "alg": ALGORITHM}


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


def load_key(path: Path) -> SigningKey:
    """The key kept at `path`, created there (mode 0600) if there is none yet."""
    path = Path(path)
    with _lock:
        if path not in _loaded:
            if not path.exists():
                _create(path)
            refusal = f"{path} must hold an Ed25519 private key in PEM form"
            try:
                key = OKPKey.import_key(path.read_bytes())
            except (JoseError, ValueError):
                raise ValueError(refusal) from None
            if not key.is_private or key.curve_name != CURVE:
                raise ValueError(refusal)
            _loaded[path] = SigningKey(private=key, kid=key.thumbprint())
        return _loaded[path]


def signing_key() -> SigningKey:
    """The configured application's signing key."""
    return load_key(Path(current_app.config["CERTIFICATE_SIGNING_KEY_FILE"]))


def jwk_set() -> dict[str, list[dict[str, str]]]:
    """The public keys verifiers may trust, as an RFC 7517 JWK set."""
    return {"keys": [signing_key().public_jwk()]}
