"""A credential secured with a W3C Data Integrity proof (`eddsa-rdfc-2022`), beside the VC-JWT.

Some wallets and verifiers read only JSON-LD credentials with an embedded proof. The proof follows
W3C "Data Integrity EdDSA Cryptosuites v1.0" section 3.3: the credential (without its proof) and
the proof's options are each canonicalized with RDF Dataset Canonicalization (RDFC-1.0, which is
URDNA2015 as pyld implements it, here with a bound on its work), hashed with SHA-256, and the two
hashes (options first) signed with the same Ed25519 key that signs the VC-JWT. `verificationMethod`
names that key in the issuer's did:web document (`keys.verification_method`), so anyone can check
the proof offline.

Canonicalizing JSON-LD needs its contexts. The loader here serves only the copies vendored in
vendor/contexts (see vendor/README.md) and refuses every other URL: nothing is fetched at run time,
and a credential naming any other context is not ours. A property no context defines would be
silently left out of the canonical form (and so of what the signature covers): signing refuses
such a document, and verifying reports it, as the specification's "safe mode" asks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld
from pyld.canon import URDNA2015

from vigtrain.certificates.keys import SigningKey, find_key, issuer_did, signing_key, verification_method
from vigtrain.dates import utcnow

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"
# VC Data Model 2.0 section 6.3: a credential secured with an embedded proof is `application/vc`.
MEDIA_TYPE = "application/vc"

VENDOR = Path(__file__).with_name("vendor")
CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
}


class IntegrityError(ValueError):
    """A document that cannot be canonicalized safely: an unknown context or an undefined property."""


@cache
def _context(url: str) -> dict[str, Any]:
    return json.loads((VENDOR / "contexts" / CONTEXT_FILES[url]).read_text(encoding="utf-8"))


def document_loader(contexts: Mapping[str, Any] | None = None):
    """A pyld document loader that serves vendored contexts (and `contexts`, url -> document) only."""
    extra = dict(contexts or {})

    def load(url: str, options: Any = None) -> dict[str, Any]:
        if url in extra:
            document = extra[url]
        elif url in CONTEXT_FILES:
            document = _context(url)
        else:
            raise jsonld.JsonLdError(
                f"{url} is not a context vigtrain knows, and nothing is fetched",
                "jsonld.LoadDocumentError",
                code="loading remote context failed",
            )
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


def _refuse_dropped(term: str | None) -> None:
    raise IntegrityError(f"the property {term!r} is not defined by the credential's contexts")


# RDFC-1.0 takes exponential time on "poison" graphs: blank nodes that look alike to the first-degree
# hash are told apart by trying every order of them (RDFC-1.0 section 4.8, and its security
# considerations ask implementations to bound the work). vigtrain's credentials never need that step;
# a pasted document that needs much of it is refused rather than allowed to hold a worker.
MAX_N_DEGREE_HASHES = 200
MAX_ALIKE_NODES = 4
_TOO_MUCH_WORK = "it is built in a way that would take too long to check"
_UNREADABLE = "the credential could not be read as JSON-LD with the contexts it names"


class _BoundedCanonicalization(URDNA2015):
    """pyld's RDFC-1.0 with a work limit on the N-degree step (the only step that can explode)."""

    def __init__(self) -> None:
        super().__init__()
        self.n_degree_hashes = 0

    def hash_n_degree_quads(self, id_, issuer):
        self.n_degree_hashes += 1
        if self.n_degree_hashes > MAX_N_DEGREE_HASHES:
            raise IntegrityError(_TOO_MUCH_WORK)
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_, issuer):
        related = super().create_hash_to_related(id_, issuer)
        if any(len(alike) > MAX_ALIKE_NODES for alike in related.values()):
            raise IntegrityError(_TOO_MUCH_WORK)
        return related


def canonical_nquads(document: dict[str, Any], loader=None) -> str:
    """The document as canonical N-Quads (RDFC-1.0); IntegrityError if it cannot be done safely."""
    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    options = {"documentLoader": loader or document_loader(), "base": None, "produceGeneralizedRdf": False}
    try:
        # What JsonLdProcessor.normalize does, with the bounded canonicalization in place of URDNA2015.
        dataset = processor.to_rdf(document, options)
        return _BoundedCanonicalization().main(dataset, {"format": "application/n-quads"})
    except IntegrityError:
        raise
    except jsonld.JsonLdError as error:
        cause = error
        while cause is not None:  # pyld wraps the handler's error and the loader's in its own
            if isinstance(cause, IntegrityError):
                raise cause from None
            cause = cause.__cause__
        raise IntegrityError(_UNREADABLE) from error
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as error:
        # pyld raises these as well as its own error on some malformed JSON-LD (relative IRIs with no
        # base, values of the wrong type): a pasted document is untrusted, and any of them means "unreadable".
        raise IntegrityError(_UNREADABLE) from error


def hash_data(document: dict[str, Any], proof_options: dict[str, Any], loader=None) -> bytes:
    """What the signature covers: SHA-256 of the canonical proof options, then of the canonical document."""
    options_hash = hashlib.sha256(canonical_nquads(proof_options, loader).encode()).digest()
    document_hash = hashlib.sha256(canonical_nquads(document, loader).encode()).digest()
    return options_hash + document_hash


def _proof_options(document: dict[str, Any], method: str, created: str) -> dict[str, Any]:
    return {
        "@context": document["@context"],
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
    }


def proof(
    document: dict[str, Any], private: Ed25519PrivateKey, method: str, created: str, loader=None
) -> dict[str, Any]:
    """The `eddsa-rdfc-2022` proof of `document` by `private`, which `method` names (vc-di-eddsa 3.3)."""
    options = _proof_options(document, method, created)
    signature = private.sign(hash_data(document, options, loader))
    return {
        **{name: value for name, value in options.items() if name != "@context"},
        "proofValue": "z" + base58.b58encode(signature).decode(),
    }


def add_proof(
    credential: dict[str, Any], base_url: str, key: SigningKey | None = None, created: datetime | None = None
) -> dict[str, Any]:
    """A copy of the credential with a proof by `key` (by default the key that signs now)."""
    key = key or signing_key()
    unsecured = {name: value for name, value in credential.items() if name != "proof"}
    stamp = (created or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")
    method = verification_method(base_url, key)
    # A list of one: the Open Badges 3.0 schema requires `proof` to be an array (VCDM 2.0 allows either).
    return {**unsecured, "proof": [proof(unsecured, key.private.private_key, method, stamp)]}


@dataclass(frozen=True)
class ProofCheck:
    """The answer to "does this proof hold?": `problem` says in plain words why not; `key` signed it."""

    valid: bool
    problem: str | None = None
    key: SigningKey | None = None


_CHANGED = "The proof does not match: the credential has been changed since AVIGuk signed it."


def verify_proof(credential: dict[str, Any], base_url: str) -> ProofCheck:
    """Check a credential's `eddsa-rdfc-2022` proof against AVIGuk's keys (revoked keys are reported)."""
    given = credential.get("proof")
    if isinstance(given, list) and len(given) == 1:
        given = given[0]
    if not isinstance(given, dict):
        return ProofCheck(False, "It has no proof, or more than one: AVIGuk signs each credential once.")
    if given.get("type") != PROOF_TYPE or given.get("cryptosuite") != CRYPTOSUITE:
        return ProofCheck(False, "It is not signed the way AVIGuk signs credentials.")
    if given.get("proofPurpose") != "assertionMethod":
        return ProofCheck(False, "Its proof was not made for issuing a credential.")
    method = given.get("verificationMethod")
    did = issuer_did(base_url)
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(method, str) or not method.startswith(f"{did}#") or issuer_id != did:
        return ProofCheck(False, "It was not signed with AVIGuk's key.")
    key = find_key(method.removeprefix(f"{did}#"))
    if key is None:
        return ProofCheck(False, "It was not signed with AVIGuk's key.")
    value, created = given.get("proofValue"), given.get("created")
    if not isinstance(value, str) or not value.startswith("z") or not isinstance(created, str):
        return ProofCheck(False, _CHANGED, key)
    try:
        signature = base58.b58decode(value[1:])
        datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return ProofCheck(False, _CHANGED, key)
    unsecured = {name: item for name, item in credential.items() if name != "proof"}
    if "@context" not in unsecured:
        return ProofCheck(False, "It is not a JSON-LD credential: it names no contexts.", key)
    options = {name: item for name, item in given.items() if name != "proofValue"}
    options["@context"] = unsecured["@context"]
    try:
        signed = hash_data(unsecured, options)
    except IntegrityError as error:
        return ProofCheck(False, f"It cannot be checked: {error}.", key)
    try:
        key.private.public_key.verify(signature, signed)
    except InvalidSignature:
        return ProofCheck(False, _CHANGED, key)
    return ProofCheck(True, None, key)
