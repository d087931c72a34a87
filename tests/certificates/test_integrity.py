"""The Data Integrity proof (eddsa-rdfc-2022) beside the VC-JWT: the W3C test vector, the holder's
JSON download checked by verifiers that are not vigtrain's, and the paste-a-credential page.

The W3C vector (tests/certificates/vectors) pins the algorithm: canonical forms, hashes and the
signature must come out byte for byte. The download is then checked twice from outside: by
tests/certificates/outside.py (Oxigraph's RDFC-1.0, `cryptography`, the key from did.json) and by
openbadgeslib's Open Badges 3.0 verifier, which resolves the did:web key and the status lists
through the test client.
"""

from __future__ import annotations

import copy
import json
import re
from html import unescape
from pathlib import Path

import base58
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import OKPKey
from openbadgeslib.ob3.ldp import OB3LdpVerifier
from openbadgeslib.ob3.verifier import OB3VerificationError

from tests.certificate_factories import insert_certificate
from tests.certificates import outside
from vigtrain.certificates import badges, integrity
from vigtrain.certificates.keys import SigningKey, revoke_key, rotate_keys, signing_key
from vigtrain.certificates.models import CertificateKind, CertificateStatus
from vigtrain.extensions import db

VECTORS = Path(__file__).with_name("vectors")
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"


def vector(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8")


def vector_loader():
    return integrity.document_loader({EXAMPLES_CONTEXT: json.loads(vector("credentials-examples-v2.jsonld"))})


def vector_key(field: str) -> bytes:
    """A key of the vector's pair: multibase base58btc of a two-byte multicodec prefix and 32 bytes."""
    raw = base58.b58decode(json.loads(vector("keyPair.json"))[field].removeprefix("z"))
    assert len(raw) == 34
    return raw[2:]


# --- the W3C test vector ---------------------------------------------------------------------------


def test_the_w3c_test_vector_is_reproduced_byte_for_byte():
    signed = json.loads(vector("signedDataInt.json"))
    document = {name: value for name, value in signed.items() if name != "proof"}
    loader = vector_loader()
    options = {name: value for name, value in signed["proof"].items() if name != "proofValue"}
    options["@context"] = document["@context"]
    assert integrity.canonical_nquads(document, loader) == vector("canonDocDataInt.txt")
    assert integrity.canonical_nquads(options, loader) == vector("proofCanonDataInt.txt")
    assert integrity.hash_data(document, options, loader).hex() == vector("combinedHashDataInt.txt").strip()
    private = Ed25519PrivateKey.from_private_bytes(vector_key("privateKeyMultibase"))
    made = integrity.proof(document, private, options["verificationMethod"], options["created"], loader)
    assert made == signed["proof"]
    assert base58.b58decode(made["proofValue"][1:]).hex() == vector("sigHexDataInt.txt").strip()


def test_oxigraph_canonicalizes_the_vector_the_same_way():
    """The outside verifier's canonicalization is right too, so agreeing with it means something."""
    signed = json.loads(vector("signedDataInt.json"))
    contexts = {EXAMPLES_CONTEXT: VECTORS / "credentials-examples-v2.jsonld"}
    document = {name: value for name, value in signed.items() if name != "proof"}
    assert outside.canonical(document, contexts) == vector("canonDocDataInt.txt")
    public = Ed25519PublicKey.from_public_bytes(vector_key("publicKeyMultibase"))
    public.verify(base58.b58decode(signed["proof"]["proofValue"][1:]), outside.proof_hash(signed, contexts))


def test_only_vendored_contexts_are_loaded():
    loader = integrity.document_loader()
    assert loader("https://www.w3.org/ns/credentials/v2")["document"]["@context"]["@protected"] is True
    with pytest.raises(integrity.IntegrityError, match="could not be read as JSON-LD"):
        integrity.canonical_nquads({"@context": ["https://example.org/context.jsonld"], "name": "x"})
    with pytest.raises(Exception, match="is not a context vigtrain knows, and nothing is fetched"):
        loader("https://www.w3.org/ns/credentials/examples/v2")


# --- the holder's download, checked from outside ---------------------------------------------------


@pytest.fixture
def secured(app):
    """A current certificate and its JSON credential, as the download makes it."""
    certificate = insert_certificate()
    with app.test_request_context():
        return certificate, badges.credential_with_proof(certificate)


def test_the_holder_downloads_the_credential_with_a_proof_outsiders_verify(app, client):
    certificate = insert_certificate()
    client.login(certificate.holder.email)
    response = client.get(f"/certificates/{certificate.number}/credential.json")
    assert response.status_code == 200
    assert response.mimetype == "application/vc"
    assert response.headers["Content-Disposition"] == f'attachment; filename="certificate-{certificate.number}.json"'
    client.submit("/logout", page="/account")  # verifiers are strangers
    downloaded = json.loads(response.get_data())
    with app.test_request_context():
        unsecured = badges.credential_json(certificate, "http://localhost")
        method = f"did:web:localhost#{signing_key().kid}"
    assert {name: value for name, value in downloaded.items() if name != "proof"} == unsecured
    assert [proof["verificationMethod"] for proof in downloaded["proof"]] == [method]
    outside.verify_proof(client, downloaded)
    # openbadgeslib resolves the did:web key and checks the proof, the validity dates and both status lists.
    credential = OB3LdpVerifier.for_issuer_did("did:web:localhost").verify(
        downloaded, check_status=True, download=outside.fetcher(client), verify_status_list=False
    )
    assert credential.issuer.id == "did:web:localhost"


CHANGES = {
    "holder": lambda changed: changed["credentialSubject"].update(name="Mallory Impostor"),
    "validity": lambda changed: changed.update(validUntil="2099-12-31T23:59:59Z"),
    "proof options": lambda changed: changed["proof"][0].update(created="2020-01-01T00:00:00Z"),
    "alignment": lambda changed: changed["credentialSubject"]["achievement"]["alignment"].pop(),
}


def test_a_changed_credential_fails_every_verifier(app, client, secured):
    _, original = secured
    for what, change in CHANGES.items():
        changed = copy.deepcopy(original)
        change(changed)
        with pytest.raises(InvalidSignature):
            outside.verify_proof(client, changed)
        with pytest.raises(OB3VerificationError):
            OB3LdpVerifier.for_issuer_did("did:web:localhost").verify(changed, download=outside.fetcher(client))
        with app.test_request_context():
            checked = integrity.verify_proof(changed, "http://localhost")
        assert not checked.valid, what
        assert checked.problem == "The proof does not match: the credential has been changed since AVIGuk signed it."


def test_a_revoked_certificate_shows_in_the_status_list_the_json_names(app, client):
    certificate = insert_certificate(status=CertificateStatus.REVOKED, reason="Revoked after a complaint was upheld.")
    with app.test_request_context():
        secured = badges.credential_with_proof(certificate)
    outside.verify_proof(client, secured)  # the proof still holds: revocation is the status list's business
    entries = secured["credentialStatus"]
    revocation = next(
        each for each in (entries if isinstance(entries, list) else [entries]) if each["statusPurpose"] == "revocation"
    )
    assert outside.status_set(client, revocation)
    with pytest.raises(OB3VerificationError, match="status 'revocation' is set"):
        OB3LdpVerifier.for_issuer_did("did:web:localhost").verify(
            secured, check_status=True, download=outside.fetcher(client), verify_status_list=False
        )


# --- the paste-a-credential page -----------------------------------------------------------------


def page_text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def check(client, pasted: str):
    return client.submit("/verify/credential", {"credential": pasted})


def test_a_pasted_json_credential_is_genuine(client, secured):
    certificate, credential = secured
    response = check(client, json.dumps(credential, indent=2))
    assert response.status_code == 200
    page = page_text(response)
    assert "This credential is genuine: AVIGuk signed it, and the certificate is valid." in page
    assert "An Open Badges 3.0 credential with a Data Integrity proof (JSON)" in page
    assert certificate.number in page and certificate.holder_name in page


def test_a_pasted_json_credential_that_was_changed_is_refused(client, secured):
    _, credential = secured
    credential["credentialSubject"]["name"] = "Mallory Impostor"
    page = page_text(check(client, json.dumps(credential)))
    assert "Do not rely on this credential." in page
    assert "The proof does not match: the credential has been changed since AVIGuk signed it." in page
    assert "genuine" not in page


def test_a_json_credential_signed_with_another_key_is_not_aviguks(app, client):
    certificate = insert_certificate()
    stranger = SigningKey(private=OKPKey.generate_key("Ed25519"), kid="stranger")
    with app.test_request_context():
        forged = integrity.add_proof(
            badges.credential_json(certificate, "http://localhost"), "http://localhost", stranger
        )
    page = page_text(check(client, json.dumps(forged)))
    assert "Do not rely on this credential. It was not signed with AVIGuk's key." in page


def test_a_json_credential_signed_with_a_revoked_key_says_why(app, client):
    certificate = insert_certificate()
    with app.test_request_context():
        old = badges.credential_with_proof(certificate)
        old_key = signing_key()
        rotate_keys()
        revoke_key(old_key.kid, "Laptop holding a backup of the key was stolen")
        db.session.commit()
        result = badges.check_credential(json.dumps(old))
        assert not result.genuine and result.key_revoked and result.secured_with == "proof"
        assert badges.check_credential(json.dumps(badges.credential_with_proof(certificate))).genuine
    page = page_text(check(client, json.dumps(old)))
    assert "revoked the key this credential was signed with" in page
    assert "Laptop holding a backup of the key was stolen" in page


def test_a_json_credential_with_a_property_no_context_defines_is_refused(client, secured):
    _, credential = secured
    credential["credentialSubject"]["nickname"] = "Badge"
    page = page_text(check(client, json.dumps(credential)))
    assert "It cannot be checked: the property 'nickname' is not defined by the credential's contexts." in page


def test_a_poison_graph_is_refused_without_holding_the_worker(client, secured):
    """Blank nodes that all look alike would make canonicalization try every order of them."""
    _, credential = secured
    alike = [
        {
            "id": f"_:b{i}",
            "type": "Evidence",
            "https://example.org/knows": [{"@id": f"_:b{j}"} for j in range(12) if j != i],
        }
        for i in range(12)
    ]
    credential["evidence"] = alike
    page = page_text(check(client, json.dumps(credential)))
    assert "It cannot be checked: it is built in a way that would take too long to check." in page


NOT_CREDENTIALS = {
    '{"type": ["VerifiableCredential"': "It looks like JSON but could not be read: check you copied all of it.",
    "[1, 2]": "Check you copied all of it",
    '{"type": ["VerifiableCredential"]}': "It is JSON, but not an Open Badges credential with a proof.",
    "{" * 3000 + "}" * 3000: "It looks like JSON but could not be read",
}


def test_json_that_is_not_a_credential_gets_a_message_beside_the_field(client):
    for pasted, message in NOT_CREDENTIALS.items():
        response = check(client, pasted)
        assert response.status_code == 422, pasted[:40]
        page = page_text(response)
        assert "There is a problem" in page and message in page, pasted[:40]


def test_the_json_download_follows_the_jwt_downloads_rules(app, client):
    revoked = insert_certificate(status=CertificateStatus.REVOKED, reason="Revoked after a complaint was upheld.")
    client.login(revoked.holder.email)
    assert client.get(f"/certificates/{revoked.number}/credential.json").status_code == 410
    page = client.get("/certificates").get_data(as_text=True)
    assert f"/certificates/{revoked.number}/credential.json" not in page
    current = insert_certificate(revoked.holder, enrolment=revoked.enrolment, kind=CertificateKind.STAGE)
    page = client.get("/certificates").get_data(as_text=True)
    assert f'href="/certificates/{current.number}/credential.json"' in page
    assert f'href="/certificates/{current.number}/credential.jwt"' in page


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
KEYWORDS = st.sampled_from(["@id", "@type", "@context", "@value", "@list", "@graph", "@reverse", "id", "type", "name"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_pasted_gets_an_answer_and_never_an_error(app, data):
    """Whatever JSON is pasted, even shaped like one of ours with a proof naming AVIGuk's key, the check
    answers in words: pyld's errors on odd JSON-LD are caught, not raised."""
    with app.test_request_context():
        method = f"did:web:localhost#{signing_key().kid}"
        proof = data.draw(
            st.fixed_dictionaries(
                {
                    "type": st.just("DataIntegrityProof"),
                    "cryptosuite": st.just("eddsa-rdfc-2022"),
                    "proofPurpose": st.just("assertionMethod"),
                    "verificationMethod": st.just(method),
                    "created": st.just("2026-01-01T00:00:00Z") | st.text(max_size=8),
                    "proofValue": st.just("z3yt") | st.text(max_size=8),
                },
                optional={"@context": JSON},
            )
        )
        credential = data.draw(
            st.fixed_dictionaries(
                {
                    "@context": st.just(list(badges.CONTEXTS)) | JSON,
                    "type": st.just(["VerifiableCredential", "OpenBadgeCredential"]),
                    "issuer": st.just("did:web:localhost") | st.just({"id": "did:web:localhost"}) | JSON,
                    "proof": st.just(proof) | st.just([proof]) | JSON,
                },
                optional={"credentialSubject": st.dictionaries(KEYWORDS | st.text(max_size=6), JSON, max_size=3)},
            )
        )
        result = badges.check_credential(json.dumps(credential))
    assert not result.genuine and result.problem
