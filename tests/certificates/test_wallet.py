"""Adding a certificate to a digital wallet (OpenID4VCI 1.0, pre-authorised code flow), end to end.

A test wallet (tests/certificates/wallet_client.py) reads the offer link from the holder's page and
collects the credential through the protocol endpoints; then each way the flow can go wrong is
refused with the spec's error object, never a server error.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import ECKey, OKPKey
from sqlalchemy import func, select

from tests.certificate_factories import insert_certificate
from tests.certificates.wallet_client import Wallet, b64url
from tests.factories import make_admin, make_user
from tests.races.helpers import at_once
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.certificates.models import CertificateStatus, CredentialOffer
from vigtrain.extensions import db

ISSUER = "http://localhost"  # BASE_URL in the test configuration


@pytest.fixture
def holder(app, clock):
    return make_user("hana@example.org", roles=(Role.TRAINEE, Role.PRACTITIONER), name="Hana Holder")


@pytest.fixture
def certificate(holder):
    certificate = insert_certificate(holder)
    db.session.commit()
    return certificate


def make_offer(client, holder, certificate) -> str:
    """Sign in as the holder, press "Add to a digital wallet" on Your certificates; the offer page."""
    client.login(holder.email)
    listing = client.get("/certificates").get_data(as_text=True)
    assert f'action="/certificates/{certificate.number}/wallet"' in listing
    response = client.submit(f"/certificates/{certificate.number}/wallet", page="/certificates")
    assert response.status_code == 302 and response.headers["Location"] == f"/certificates/{certificate.number}/wallet"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.fixture
def wallet(app) -> Wallet:
    return Wallet(app.test_client())


@pytest.fixture
def ready(client, holder, certificate, wallet) -> Wallet:
    """A wallet holding an access token for the holder's certificate, about to ask for it."""
    wallet.receive_offer(wallet.read_offer_link(make_offer(client, holder, certificate)))
    wallet.discover()
    assert wallet.redeem().status_code == 200
    return wallet


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- the whole flow --------------------------------------------------------------------------------


def test_a_wallet_collects_the_certificate_offered_bound_to_its_own_did(client, holder, certificate, wallet):
    page = make_offer(client, holder, certificate)
    assert "<svg" in page and "Works until" in page and "2 March 2026 at 10:10am, once" in page
    assert "Download the PDF" in page and "Download the digital badge" in page

    credential = wallet.collect(page)

    key_set = wallet.client.get("/.well-known/jwks.json").get_json()
    payload = wallet.check(credential, key_set)
    assert payload["sub"] == wallet.did and payload["credentialSubject"]["id"] == wallet.did
    assert wallet.did.startswith("did:key:z6Mk")  # an Ed25519 did:key
    assert payload["id"] == f"{ISSUER}/verify/{certificate.number}" and payload["jti"] == payload["id"]
    assert payload["credentialSubject"]["name"] == "Hana Holder"
    assert "OpenBadgeCredential" in payload["type"]

    # The holder's page now says the wallet has it; the trail has the offer and the delivery.
    after = client.get(f"/certificates/{certificate.number}/wallet").get_data(as_text=True)
    assert "Your wallet collected this certificate" in after and "openid-credential-offer://" not in after
    assert audit_actions()[-2:] == ["credential_offer.created", "credential_offer.delivered"]
    offer = db.session.scalar(select(CredentialOffer))
    assert offer.subject_did == wallet.did and offer.delivered_at is not None


def test_only_digests_of_the_code_and_token_are_stored(ready):
    code = ready.offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
    offer = db.session.scalar(select(CredentialOffer))
    assert offer.code_digest == hashlib.sha256(code.encode()).hexdigest()
    assert offer.access_token_digest == hashlib.sha256(ready.access_token.encode()).hexdigest()
    stored = json.dumps([str(value) for value in db.session.execute(select(CredentialOffer.__table__)).one()])
    assert code not in stored and ready.access_token not in stored


def test_the_metadata_describes_the_issuer_and_its_one_credential(wallet):
    issuer = wallet.client.get("/.well-known/openid-credential-issuer")
    assert issuer.status_code == 200 and issuer.mimetype == "application/json"
    metadata = issuer.get_json()
    assert metadata["credential_issuer"] == ISSUER
    assert metadata["credential_endpoint"] == f"{ISSUER}/openid4vci/credential"
    assert metadata["nonce_endpoint"] == f"{ISSUER}/openid4vci/nonce"
    (configuration,) = metadata["credential_configurations_supported"].values()
    assert configuration["format"] == "jwt_vc_json"
    assert configuration["credential_definition"]["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert set(configuration["cryptographic_binding_methods_supported"]) >= {"did:key", "jwk"}
    assert configuration["credential_signing_alg_values_supported"] == ["EdDSA"]
    assert "EdDSA" in configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
    assert configuration["credential_metadata"]["display"][0]["name"]
    server = wallet.client.get("/.well-known/oauth-authorization-server").get_json()
    assert server["token_endpoint"] == f"{ISSUER}/openid4vci/token"
    assert server["pre-authorized_grant_anonymous_access_supported"] is True


def test_the_issuers_logo_is_in_the_metadata_once_configured(app, wallet):
    assert "logo" not in wallet.client.get("/.well-known/openid-credential-issuer").get_json()["display"][0]
    app.config["CERTIFICATE_ISSUER_IMAGE"] = "https://example.org/aviguk-logo.png"
    display = wallet.client.get("/.well-known/openid-credential-issuer").get_json()["display"][0]
    assert display["logo"] == {"uri": "https://example.org/aviguk-logo.png", "alt_text": "AVIGuk logo"}


def test_a_p256_key_sent_as_a_jwk_gets_its_did_key(client, holder, certificate, app):
    wallet = Wallet(app.test_client(), key=ECKey.generate_key("P-256"))
    wallet.receive_offer(wallet.read_offer_link(make_offer(client, holder, certificate)))
    wallet.discover()
    wallet.redeem()
    proof = wallet.proof(wallet.nonce(), header={"kid": None, "jwk": wallet.key.as_dict(private=False)})
    response = wallet.request_credential(wallet.credential_request(proof))
    assert response.status_code == 200, response.get_json()
    key_set = client.get("/.well-known/jwks.json").get_json()
    payload = wallet.check(response.get_json()["credentials"][0]["credential"], key_set)
    assert payload["sub"] == wallet.did and wallet.did.startswith("did:key:zDn")  # a P-256 did:key


def test_a_did_jwk_kid_binds_the_credential_to_that_did(ready, client):
    did = "did:jwk:" + b64url(json.dumps(ready.key.as_dict(private=False)).encode())
    proof = ready.proof(ready.nonce(), header={"kid": f"{did}#0"})
    response = ready.request_credential(ready.credential_request(proof))
    assert response.status_code == 200, response.get_json()
    payload = ready.check(
        response.get_json()["credentials"][0]["credential"], client.get("/.well-known/jwks.json").get_json()
    )
    assert payload["sub"] == did and payload["credentialSubject"]["id"] == did


# --- single use, expiry -------------------------------------------------------------------------------


def test_an_offer_works_once_and_its_token_delivers_once(ready, app):
    code = ready.offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
    again = ready.redeem(code)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert again.headers["Cache-Control"] == "no-store"
    # The offer link no longer answers once its code is used.
    link = ready.client.get(f"/openid4vci/offers/{code}")
    assert link.status_code == 404 and link.get_json()["error"] == "invalid_request"

    first = ready.request_credential(ready.credential_request(ready.proof(ready.nonce())))
    assert first.status_code == 200
    second = ready.request_credential(ready.credential_request(ready.proof(ready.nonce())))
    assert second.status_code == 401 and second.get_json()["error"] == "invalid_token"
    assert second.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "credential_offer.delivered")
        )
        == 1
    )


def test_two_wallets_redeeming_one_code_at_once_cannot_both_win(client, holder, certificate, app):
    wallets = [Wallet(app.test_client()) for _ in range(2)]
    link = wallets[0].read_offer_link(make_offer(client, holder, certificate))
    for each in wallets:
        each.receive_offer(link)
        each.discover()
    answers = at_once([each.redeem for each in wallets])
    assert sorted(answer.status_code for answer in answers) == [200, 400]
    assert [answer.get_json().get("error") for answer in answers if answer.status_code == 400] == ["invalid_grant"]


def test_one_access_token_sent_twice_at_once_delivers_once(ready, app):
    twin = Wallet(app.test_client(), key=ready.key, offer=ready.offer, metadata=ready.metadata)
    twin.access_token = ready.access_token
    requests = [each.credential_request(each.proof(each.nonce())) for each in (ready, twin)]
    answers = at_once([lambda: ready.request_credential(requests[0]), lambda: twin.request_credential(requests[1])])
    assert sorted(answer.status_code for answer in answers) == [200, 401]
    delivered = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "credential_offer.delivered")
    db.session.rollback()  # read what the other connections committed
    assert db.session.scalar(delivered) == 1


def test_an_expired_offer_fails_and_the_page_says_so(client, holder, certificate, wallet, clock):
    page = make_offer(client, holder, certificate)
    wallet.receive_offer(wallet.read_offer_link(page))
    wallet.discover()
    clock.tick(10 * 60 + 1)
    refused = wallet.redeem()
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    after = client.get(f"/certificates/{certificate.number}/wallet").get_data(as_text=True)
    assert "expired at 2 March 2026 at 10:10am without being used" in after
    assert "openid-credential-offer://" not in after and "Make a new code" in after


def test_an_expired_access_token_is_refused(ready, clock):
    nonce = ready.nonce()
    clock.tick(5 * 60 + 1)
    stale = ready.request_credential(ready.credential_request(ready.proof(nonce)))
    assert stale.status_code == 401 and stale.get_json()["error"] == "invalid_token"


def test_an_expired_nonce_is_refused(ready, app, clock):
    app.config["WALLET_NONCE_SECONDS"] = 60
    nonce = ready.nonce()
    clock.tick(61)
    old = ready.request_credential(ready.credential_request(ready.proof(nonce)))
    assert old.status_code == 400 and old.get_json()["error"] == "invalid_nonce"
    fresh = ready.request_credential(ready.credential_request(ready.proof(ready.nonce())))
    assert fresh.status_code == 200


def test_another_browser_is_not_shown_the_code(client, holder, certificate, app):
    make_offer(client, holder, certificate)
    elsewhere = app.test_client()
    elsewhere.login(holder.email)
    page = elsewhere.get(f"/certificates/{certificate.number}/wallet").get_data(as_text=True)
    assert "openid-credential-offer://" not in page and "Make a code for my wallet" in page


# --- refusals at the credential endpoint -------------------------------------------------------------


def _forged_nonce() -> str:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer("not vigtrain's secret", salt="openid4vci-c-nonce").dumps("x")


def test_each_bad_credential_request_gets_the_specs_error_and_spends_nothing(ready):
    stranger = OKPKey.generate_key("Ed25519")
    nonce = ready.nonce()
    request = ready.credential_request
    private = {"jwk": ready.key.as_dict(private=True), "kid": None}
    cases = {
        "wrong nonce": (request(ready.proof(_forged_nonce())), "invalid_nonce"),
        "no nonce": (request(ready.proof(None)), "invalid_proof"),
        "wrong aud": (request(ready.proof(nonce, aud="https://elsewhere.example")), "invalid_proof"),
        "iat far ahead": (request(ready.proof(nonce, iat=time.time() + 3600)), "invalid_proof"),
        "forged signature": (request(ready.proof(nonce, signer=stranger)), "invalid_proof"),
        "wrong typ": (request(ready.proof(nonce, header={"typ": "JWT"})), "invalid_proof"),
        "private key in header": (request(ready.proof(nonce, header=private)), "invalid_proof"),
        "kid not a DID": (request(ready.proof(nonce, header={"kid": "key-1"})), "invalid_proof"),
        "missing proofs": ({"credential_configuration_id": "OpenBadgeCredential_jwt_vc_json"}, "invalid_proof"),
        "proof not a JWT": (request("not.a-jwt"), "invalid_proof"),
        "two proofs": (
            {"credential_configuration_id": "OpenBadgeCredential_jwt_vc_json", "proofs": {"jwt": ["a.b.c", "a.b.c"]}},
            "invalid_credential_request",
        ),
        "unknown configuration": (
            {"credential_configuration_id": "mDL", "proofs": {}},
            "unknown_credential_configuration",
        ),
        "no configuration": ({"proofs": {"jwt": []}}, "invalid_credential_request"),
        "not an object": ([1, 2], "invalid_credential_request"),
    }
    for name, (body, error) in cases.items():
        response = ready.request_credential(body)
        assert response.status_code == 400, name
        assert response.get_json()["error"] == error, (name, response.get_json())
        assert response.headers["Cache-Control"] == "no-store"
    # None of it used the token up: a good proof still collects the credential.
    good = ready.request_credential(request(ready.proof(ready.nonce())))
    assert good.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer " + "A" * 43],
)
def test_a_missing_or_bad_access_token_is_401(ready, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    body = ready.credential_request(ready.proof(ready.nonce()))
    response = ready.client.post("/openid4vci/credential", json=body, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_credential_request_that_is_not_json_is_refused(ready):
    headers = {"Authorization": f"Bearer {ready.access_token}"}
    for data, content_type in [
        ("{", "application/json"),
        ("a=b", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/json"),
    ]:
        response = ready.client.post("/openid4vci/credential", data=data, content_type=content_type, headers=headers)
        assert response.status_code == 400 and response.get_json()["error"] == "invalid_credential_request"
    huge = ready.client.post(
        "/openid4vci/credential", data="[" + "1," * 40_000 + "1]", content_type="application/json", headers=headers
    )
    assert huge.status_code == 400 and huge.get_json()["error"] == "invalid_credential_request"


# --- refusals at the token endpoint ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "invalid_request"),
        (
            {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": "x" * 43},
            "invalid_grant",
        ),
        (
            {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": "\x00"},
            "invalid_grant",
        ),
        (
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                "pre-authorized_code": "x",
                "tx_code": "1",
            },
            "invalid_request",
        ),
        ({"grant_type": ["a", "b"]}, "invalid_request"),
    ],
)
def test_bad_token_requests_get_the_specs_error(wallet, form, error):
    response = wallet.client.post("/openid4vci/token", data=form)
    assert response.status_code == 400 and response.get_json()["error"] == error


# --- certificates that cannot go to a wallet ------------------------------------------------------------


def test_a_revoked_certificate_is_not_offered(client, holder):
    revoked = insert_certificate(holder, status=CertificateStatus.REVOKED, reason="Issued in error by the panel")
    db.session.commit()
    client.login(holder.email)
    assert f"/certificates/{revoked.number}/wallet" not in client.get("/certificates").get_data(as_text=True)
    response = client.submit(f"/certificates/{revoked.number}/wallet", page="/certificates")
    assert response.status_code == 422
    assert "was revoked, so it cannot be added to a digital wallet" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CredentialOffer)) == 0


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (CertificateStatus.SUSPENDED, "A certificate that is suspended cannot be added to a digital wallet"),
        (CertificateStatus.SUPERSEDED, "This certificate was replaced by a newer one"),
    ],
)
def test_a_suspended_or_superseded_certificate_is_not_offered(client, holder, status, message):
    stopped = insert_certificate(holder, status=status)
    db.session.commit()
    client.login(holder.email)
    assert f"/certificates/{stopped.number}/wallet" not in client.get("/certificates").get_data(as_text=True)
    page = client.get(f"/certificates/{stopped.number}/wallet").get_data(as_text=True)
    assert message in page and "Make a code for my wallet" not in page
    response = client.submit(f"/certificates/{stopped.number}/wallet", page="/certificates")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CredentialOffer)) == 0


def _set_status(certificate, status: CertificateStatus) -> None:
    certificate.status = status
    db.session.commit()


def test_an_offer_stops_when_its_certificate_is_revoked_or_superseded(client, holder, certificate, wallet):
    wallet.receive_offer(wallet.read_offer_link(make_offer(client, holder, certificate)))
    wallet.discover()
    _set_status(certificate, CertificateStatus.SUPERSEDED)
    refused = wallet.redeem()
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"


def test_a_certificate_revoked_after_the_token_is_not_delivered(ready, certificate):
    _set_status(certificate, CertificateStatus.REVOKED)
    response = ready.request_credential(ready.credential_request(ready.proof(ready.nonce())))
    assert response.status_code == 400 and response.get_json()["error"] == "credential_request_denied"


def test_an_administrator_cannot_put_someone_elses_certificate_in_their_wallet(client, certificate):
    admin = make_admin()
    db.session.commit()
    client.login(admin.email)
    assert client.submit(f"/certificates/{certificate.number}/wallet", page="/certificates").status_code == 403
    assert client.get(f"/certificates/{certificate.number}/wallet").status_code == 403


# --- erasure ---------------------------------------------------------------------------------------------


def test_erasing_the_holder_removes_their_offers_and_the_dids_delivered_to(ready, holder):
    from vigtrain.privacy.erasure import erase_person

    assert ready.request_credential(ready.credential_request(ready.proof(ready.nonce()))).status_code == 200
    admin = make_admin()
    erase_person(admin, holder, "Asked to be erased under UK GDPR article 17")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CredentialOffer)) == 0


# --- whatever a wallet sends ---------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=12,
)
_HEADERS = st.fixed_dictionaries(
    {
        "typ": st.sampled_from(["openid4vci-proof+jwt", "JWT"]),
        "alg": st.sampled_from(["EdDSA", "ES256", "none", "HS256"]),
    },
    optional={
        "kid": st.one_of(st.text(max_size=60), st.just("did:key:z6Mk"), st.just("did:jwk:e30#0"), _JSON),
        "jwk": st.one_of(
            _JSON, st.fixed_dictionaries({"kty": st.sampled_from(["OKP", "EC"]), "crv": st.text(max_size=8)})
        ),
        "x5c": _JSON,
    },
)


def _segment(value) -> str:
    return b64url(json.dumps(value).encode())


_PROOFS = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda header, claims, tail: f"{_segment(header)}.{_segment(claims)}.{tail}",
        _HEADERS,
        _JSON,
        st.from_regex(r"[A-Za-z0-9_-]{0,90}", fullmatch=True),
    ),
)
_BODIES = st.one_of(
    _JSON,
    st.fixed_dictionaries(
        {"credential_configuration_id": st.just("OpenBadgeCredential_jwt_vc_json")},
        optional={
            "proofs": st.one_of(_JSON, st.fixed_dictionaries({"jwt": st.lists(_PROOFS, min_size=1, max_size=2)}))
        },
    ),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_BODIES)
def test_any_credential_request_gets_an_error_object_and_spends_nothing(ready, body):
    response = ready.request_credential(body)
    assert response.status_code == 400, (body, response.get_data(as_text=True)[:300])
    assert set(response.get_json()) == {"error", "error_description"}
    assert db.session.scalar(select(CredentialOffer.delivered_at)) is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    form=st.dictionaries(
        st.sampled_from(["grant_type", "pre-authorized_code", "tx_code", "code"]), st.text(max_size=60)
    )
)
def test_any_token_request_without_a_live_code_gets_an_error_object(wallet, form):
    response = wallet.client.post("/openid4vci/token", data=form)
    assert response.status_code == 400 and response.get_json()["error"] in {
        "invalid_request",
        "invalid_grant",
        "unsupported_grant_type",
    }


def test_the_holders_subject_access_download_lists_their_wallet_offers(ready, holder, certificate):
    from vigtrain.privacy import subject_access

    assert ready.request_credential(ready.credential_request(ready.proof(ready.nonce()))).status_code == 200
    sections = {section.name: section for section in subject_access.collect_sections(holder)}
    (row,) = sections["wallet_offers"].rows
    assert row["certificate"] == certificate.number and row["wallet_did"] == ready.did and row["delivered_at"]
    actions = {event["action"] for event in sections["audit_events"].rows}
    assert {"credential_offer.created", "credential_offer.delivered"} <= actions
