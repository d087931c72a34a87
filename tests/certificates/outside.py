"""How an outside verifier checks vigtrain's credentials, with none of vigtrain's own code.

Everything comes from what the site publishes, fetched through the Flask test client (so nothing
goes to the network): the DID document, the JWK set, the status lists. Data Integrity proofs are
canonicalized with Oxigraph (its own JSON-LD parser and RDFC-1.0, in Rust) rather than pyld, and
signatures checked with `cryptography`; status lists are decoded here, not by vigtrain.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

import base58
import jwt
import pyoxigraph
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CONTEXTS = Path(__file__).resolve().parents[2] / "vigtrain" / "certificates" / "vendor" / "contexts"
# The contexts a verifier holds (as wallets ship them), by URL: the vendored copies' text, read here.
KNOWN_CONTEXTS = {
    "https://www.w3.org/ns/credentials/v2": CONTEXTS / "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": CONTEXTS / "ob-v3p0-context-3.0.3.json",
}


def fetcher(client):
    """A `download(url) -> bytes` that serves this site's URLs from the test client and nothing else."""

    def download(url: str) -> bytes:
        parts = urlsplit(url)
        assert parts.hostname == "localhost", f"a verifier asked for {url}, which is not this site"
        response = client.get(parts.path)
        assert response.status_code == 200, url
        return response.get_data()

    return download


def did_key(client, method: str) -> Ed25519PublicKey:
    """The Ed25519 key a verificationMethod names, dereferenced through the issuer's did:web document."""
    did = method.split("#", 1)[0]
    assert did == "did:web:localhost"
    document = json.loads(fetcher(client)("https://localhost/.well-known/did.json"))
    assert document["id"] == did and method in document["assertionMethod"]
    entry = next(each for each in document["verificationMethod"] if each["id"] == method)
    assert entry["type"] == "Multikey" and entry["controller"] == did
    raw = base58.b58decode(entry["publicKeyMultibase"].removeprefix("z"))
    assert raw[:2] == b"\xed\x01"  # the multicodec of an Ed25519 public key
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def canonical(document: dict, contexts: dict[str, Path] | None = None) -> str:
    """RDFC-1.0 canonical N-Quads by Oxigraph; contexts named by URL are given inline from local copies."""
    known = {**KNOWN_CONTEXTS, **(contexts or {})}
    inline = [
        json.loads(known[each].read_text(encoding="utf-8"))["@context"] if isinstance(each, str) else each
        for each in document["@context"]
    ]
    quads = pyoxigraph.parse(json.dumps({**document, "@context": inline}).encode(), format=pyoxigraph.RdfFormat.JSON_LD)
    dataset = pyoxigraph.Dataset(quads)
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return "".join(sorted(f"{quad} .\n" for quad in dataset))


def the_proof(secured: dict) -> dict:
    """The credential's one proof (Open Badges 3.0 puts it in a list; VCDM 2.0 allows an object)."""
    proof = secured["proof"]
    if isinstance(proof, list):
        assert len(proof) == 1
        return proof[0]
    return proof


def proof_hash(secured: dict, contexts: dict[str, Path] | None = None) -> bytes:
    """vc-di-eddsa 3.3.4: SHA-256 of the canonical proof options, then of the canonical document."""
    document = {name: value for name, value in secured.items() if name != "proof"}
    options = {name: value for name, value in the_proof(secured).items() if name != "proofValue"}
    options["@context"] = document["@context"]
    return (
        hashlib.sha256(canonical(options, contexts).encode()).digest()
        + hashlib.sha256(canonical(document, contexts).encode()).digest()
    )


def verify_proof(client, secured: dict) -> None:
    """Check an eddsa-rdfc-2022 proof as an outsider would; raises InvalidSignature if it does not hold."""
    proof = the_proof(secured)
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    key = did_key(client, proof["verificationMethod"])
    key.verify(base58.b58decode(proof["proofValue"].removeprefix("z")), proof_hash(secured))


def status_bits(client, entry: dict) -> bytes:
    """The bitstring of a status entry's list, fetched, its signature checked with PyJWT, and unzipped."""
    token = fetcher(client)(entry["statusListCredential"]).decode()
    keys = jwt.PyJWKSet.from_dict(json.loads(fetcher(client)("https://localhost/.well-known/jwks.json")))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(each for each in keys.keys if each.key_id == kid)
    status_list = jwt.decode(token, key.key, algorithms=["EdDSA"])
    assert status_list["credentialSubject"]["statusPurpose"] == entry["statusPurpose"]
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"  # multibase base64url, no padding
    return gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))


def status_set(client, entry: dict) -> bool:
    """Whether the credential's bit is set in the list its status entry names (Bitstring Status List 3.2)."""
    index = int(entry["statusListIndex"])
    return bool(status_bits(client, entry)[index // 8] & (0x80 >> (index % 8)))
