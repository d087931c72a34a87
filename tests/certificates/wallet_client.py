"""A small digital wallet for tests: it walks OpenID4VCI's pre-authorised code flow against vigtrain
through the Flask test client, as a wallet app would over HTTPS, from the link on the offer page.

It knows nothing of vigtrain's code: it reads the offer link from the page, the endpoints from the
published metadata, makes its own key and its own did:key (multicodec and base58btc written out
here, not borrowed from vigtrain), and checks the credential it receives against the published key set.
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import base58
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jws
from joserfc.jwk import ECKey, KeySet, OKPKey

OFFER_LINK = re.compile(r'href="(openid-credential-offer://[^"]+)"')
PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


class _Registry(jws.JWSRegistry):
    """EdDSA and ES256, without joserfc's warning about the name EdDSA."""

    def get_alg(self, name: str):
        return self.algorithms[name]


REGISTRY = _Registry(algorithms=["EdDSA", "ES256"])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def did_key_of(key: OKPKey | ECKey) -> str:
    """did:key: multicodec prefix (Ed25519 0xed01, P-256 0x1200 as varints) + key, base58btc with 'z'."""
    if isinstance(key, OKPKey):
        raw = b"\xed\x01" + unb64url(key.as_dict(private=False)["x"])
    else:
        raw = b"\x80\x24" + key.public_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    return "did:key:z" + base58.b58encode(raw).decode()


def path_of(url: str) -> str:
    """The path (and query) of an absolute URL, for the Flask test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Wallet:
    """One wallet, with its own key (Ed25519 unless told otherwise) and no session with vigtrain."""

    client: Any
    key: OKPKey | ECKey = field(default_factory=lambda: OKPKey.generate_key("Ed25519"))
    offer: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    access_token: str | None = None

    @property
    def did(self) -> str:
        return did_key_of(self.key)

    @property
    def alg(self) -> str:
        return "EdDSA" if isinstance(self.key, OKPKey) else "ES256"

    # --- the steps of the flow ---

    def read_offer_link(self, page_html: str) -> str:
        found = OFFER_LINK.search(page_html)
        assert found, "the page shows no openid-credential-offer:// link"
        return html.unescape(found.group(1))

    def receive_offer(self, link: str) -> dict[str, Any]:
        query = parse_qs(urlsplit(link).query)
        assert list(query) == ["credential_offer_uri"], query
        response = self.client.get(path_of(unquote(query["credential_offer_uri"][0])))
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        self.offer = response.get_json()
        return self.offer

    def discover(self) -> dict[str, Any]:
        issuer = self.offer["credential_issuer"]
        response = self.client.get(path_of(issuer + "/.well-known/openid-credential-issuer"))
        assert response.status_code == 200
        self.metadata = response.get_json()
        assert self.metadata["credential_issuer"] == issuer
        server = self.client.get(path_of(issuer + "/.well-known/oauth-authorization-server")).get_json()
        self.metadata["token_endpoint"] = server["token_endpoint"]
        return self.metadata

    def redeem(self, code: str | None = None):
        """The token request; keeps the access token when it is given one."""
        code = code or self.offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
        response = self.client.post(
            path_of(self.metadata["token_endpoint"]), data={"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code}
        )
        if response.status_code == 200:
            self.access_token = response.get_json()["access_token"]
        return response

    def nonce(self) -> str:
        response = self.client.post(path_of(self.metadata["nonce_endpoint"]))
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        return response.get_json()["c_nonce"]

    def proof(
        self,
        nonce: str | None,
        *,
        aud: str | None = None,
        iat: float | None = None,
        header: dict[str, Any] | None = None,
        signer: OKPKey | ECKey | None = None,
    ) -> str:
        """A key proof JWT, by default naming the key by its did:key DID URL."""
        did = self.did
        protected = {"typ": "openid4vci-proof+jwt", "alg": self.alg, "kid": f"{did}#{did.removeprefix('did:key:')}"}
        protected.update(header or {})
        protected = {name: value for name, value in protected.items() if value is not None}  # None: leave out
        claims = {"aud": aud if aud is not None else self.offer["credential_issuer"], "iat": int(iat or time.time())}
        if nonce is not None:
            claims["nonce"] = nonce
        payload = json.dumps(claims).encode()
        return jws.serialize_compact(protected, payload, signer or self.key, registry=REGISTRY)

    def request_credential(self, body: Any, token: str | None = None):
        token = self.access_token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post(path_of(self.metadata["credential_endpoint"]), json=body, headers=headers)

    def credential_request(self, proof: str) -> dict[str, Any]:
        return {
            "credential_configuration_id": self.offer["credential_configuration_ids"][0],
            "proofs": {"jwt": [proof]},
        }

    def collect(self, page_html: str) -> str:
        """The whole flow from the offer page: returns the credential (a VC-JWT)."""
        self.receive_offer(self.read_offer_link(page_html))
        self.discover()
        assert self.redeem().status_code == 200
        response = self.request_credential(self.credential_request(self.proof(self.nonce())))
        assert response.status_code == 200, response.get_data(as_text=True)
        credentials = response.get_json()["credentials"]
        assert len(credentials) == 1
        return credentials[0]["credential"]

    def check(self, credential: str, key_set: dict[str, Any]) -> dict[str, Any]:
        """Verify the credential's signature with the issuer's published keys; returns its payload."""
        header = json.loads(unb64url(credential.split(".")[0]))
        keys = KeySet.import_key_set(key_set)
        verified = jws.deserialize_compact(credential, keys.get_by_kid(header["kid"]), registry=REGISTRY)
        return json.loads(verified.payload)
