"""Public verification by number: no sign-in, only the public facts, helpful messages, rate-limited."""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.certificate_factories import insert_certificate, make_holder
from vigtrain import codes
from vigtrain.certificates.models import NUMBER_PREFIX, CertificateKind, CertificateStatus


def text(response) -> str:
    """The page's visible words, tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def unknown_number() -> str:
    return codes.generate(NUMBER_PREFIX)


def mistyped(number: str) -> str:
    """The number with one character changed: the check character no longer matches."""
    body = number.replace("-", "")
    swap = "0" if body[4] != "0" else "1"
    wrong = body[:4] + swap + body[5:]
    assert not codes.is_valid(wrong, NUMBER_PREFIX)
    return codes.format_code(NUMBER_PREFIX, wrong[2:])


# --- the number form ------------------------------------------------------------------------------


def test_the_form_needs_no_sign_in(client):
    response = client.get("/verify")
    assert response.status_code == 200
    assert "Certificate number" in text(response)
    assert "AV-" in text(response)  # the hint shows the format


def test_a_good_number_goes_to_its_page(client):
    certificate = insert_certificate()
    response = client.get("/verify", query_string={"number": certificate.number})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{certificate.number}"


def test_the_number_is_read_leniently(client):
    certificate = insert_certificate()
    sloppy = certificate.number.lower().replace("-", " ")
    response = client.get("/verify", query_string={"number": f"  {sloppy} "})
    assert response.headers["Location"] == f"/verify/{certificate.number}"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the certificate number"),
        ("XY-1234-5678", "Certificate numbers start with AV"),
        ("AV-1234", "Certificate numbers have 8 characters after AV"),
        ("AV-12#4-5678", "Certificate numbers use only"),
    ],
)
def test_a_badly_shaped_number_is_explained_beside_the_field(client, typed, message):
    response = client.get("/verify", query_string={"number": typed})
    assert response.status_code == 422
    page = text(response)
    assert "There is a problem" in page
    assert message in page
    assert 'id="number-error"' in response.get_data(as_text=True)


def test_a_mistyped_check_character_is_caught(client):
    certificate = insert_certificate()
    response = client.get("/verify", query_string={"number": mistyped(certificate.number)})
    assert response.status_code == 422
    assert "the last character doesn't match" in text(response)


def test_an_unknown_well_formed_number_says_so(client):
    number = unknown_number()
    response = client.get(f"/verify/{number}")
    assert response.status_code == 404
    assert f"We could not find a certificate with number {number}" in text(response)


def test_a_mistyped_number_in_the_address_is_explained(client):
    certificate = insert_certificate()
    response = client.get(f"/verify/{mistyped(certificate.number)}")
    assert response.status_code == 404
    assert "the last character doesn't match" in text(response)


def test_a_sloppy_address_redirects_to_the_certificate(client):
    certificate = insert_certificate()
    response = client.get(f"/verify/{certificate.number.lower().replace('-', '')}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{certificate.number}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.text(max_size=40))
@example(typed="AV-0000-000\x00")
def test_anything_typed_gets_an_answer_never_an_error(app, client, typed):
    app.config["VERIFY_RATE_LIMIT"] = "1000 per minute"
    response = client.get("/verify", query_string={"number": typed})
    assert response.status_code in (302, 422)
    if response.status_code == 302:
        assert client.get(response.headers["Location"]).status_code == 404  # no certificates exist
    path = client.get("/verify/" + quote(typed, safe=""))
    assert path.status_code in (302, 404, 308)


# --- the certificate page -------------------------------------------------------------------------


def test_a_valid_certificate_shows_only_the_public_facts(client):
    holder = make_holder("Valerie Valid", email="valerie.private@example.org")
    certificate = insert_certificate(holder, issued_on=date(2026, 3, 2), valid_until=date(2029, 3, 1))
    response = client.get(f"/verify/{certificate.number}")
    assert response.status_code == 200
    page = text(response)
    assert "Valerie Valid" in page
    assert "Accredited VIG Practitioner" in page
    assert "This certificate was issued by AVIGuk and is valid" in page
    assert "Valid" in page
    assert "2 March 2026" in page and "1 March 2029" in page
    # Nothing private: no email, no service, no region, no supervisor, no pathway internals.
    html = response.get_data(as_text=True)
    assert "valerie.private" not in html
    assert holder.service.name not in html
    assert holder.service.region.name not in html
    assert "Sign out" not in html


def test_an_overdue_certificate_reads_as_expired_before_the_nightly_job(client):
    certificate = insert_certificate(issued_on=date(2020, 1, 6), valid_until=date(2023, 1, 5))
    assert certificate.status is CertificateStatus.VALID
    page = text(client.get(f"/verify/{certificate.number}"))
    assert "Expired" in page
    assert "expired after 5 January 2023" in page
    assert "is valid" not in page


def test_a_revoked_certificate_shows_the_reason(client):
    reason = "Revoked after a fitness to practise hearing found misconduct."
    certificate = insert_certificate(status=CertificateStatus.REVOKED, reason=reason)
    page = text(client.get(f"/verify/{certificate.number}"))
    assert "Revoked" in page
    assert "AVIGuk has revoked this certificate" in page
    assert f"Reason: {reason}" in page


def test_a_superseded_certificate_links_to_the_newer_one(client):
    old = insert_certificate()
    new = insert_certificate(old.holder, replaces=old)
    response = client.get(f"/verify/{old.number}")
    page = text(response)
    assert "Superseded" in page
    assert f"Replaced by certificate {new.number}" in page
    assert f'href="/verify/{new.number}"' in response.get_data(as_text=True)
    assert "Valid" in text(client.get(f"/verify/{new.number}"))


def test_a_stage_certificate_is_marked_and_does_not_expire(client):
    certificate = insert_certificate(kind=CertificateKind.STAGE, stage_number=2)
    page = text(client.get(f"/verify/{certificate.number}"))
    assert "Stage 1 of the VIG Practitioner pathway (stage completion, not an accreditation)" in page
    assert "Does not expire" in page


# --- the JSON facts -------------------------------------------------------------------------------


def test_the_json_facts_match_the_page(client):
    old = insert_certificate()
    new = insert_certificate(old.holder, replaces=old)
    data = client.get(f"/verify/{old.number}.json").get_json()
    assert data["number"] == old.number
    assert data["holder"] == old.holder_name
    assert data["credential"] == "Accredited VIG Practitioner"
    assert data["status"] == "superseded"
    assert data["issued_on"] == "2026-03-02" and data["valid_until"] == "2029-03-01"
    assert data["superseded_by"] == {"number": new.number, "verification_url": f"http://localhost/verify/{new.number}"}
    assert data["credential_status"] == {
        "status_list": "http://localhost/status/revocation",
        "suspension_list": "http://localhost/status/suspension",
        "index": old.status_index,
    }
    assert "email" not in str(data).lower()


def test_the_json_facts_of_a_revoked_certificate_give_the_reason(client):
    reason = "Issued in error to the wrong practitioner."
    certificate = insert_certificate(status=CertificateStatus.REVOKED, reason=reason)
    data = client.get(f"/verify/{certificate.number}.json").get_json()
    assert data["status"] == "revoked" and data["revocation_reason"] == reason


def test_json_for_unknown_and_malformed_numbers_is_404(client):
    unknown = client.get(f"/verify/{unknown_number()}.json")
    assert unknown.status_code == 404 and "No certificate has the number" in unknown.get_json()["error"]
    malformed = client.get("/verify/AV-12.json")
    assert malformed.status_code == 404 and malformed.get_json()["error"] == "This is not a certificate number"


# --- rate limits ----------------------------------------------------------------------------------


def test_the_public_pages_are_rate_limited_per_address(app, client):
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    certificate = insert_certificate()
    for path in ("/verify", f"/verify/{certificate.number}", f"/verify/{certificate.number}.json"):
        assert client.get(path).status_code == 200
    refused = client.get("/register")
    assert refused.status_code == 429
    assert "Too many attempts" in text(refused)
    # Another address has its own allowance.
    other = client.get("/verify", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_documents_for_software_have_their_own_allowance(app, client):
    app.config["VERIFY_RATE_LIMIT"] = "1 per minute"
    app.config["VERIFY_DOCUMENT_RATE_LIMIT"] = "2 per minute"
    assert client.get("/verify").status_code == 200
    assert client.get("/verify").status_code == 429
    assert client.get("/.well-known/jwks.json").status_code == 200
    assert client.get("/issuer").status_code == 200
    assert client.get("/status/revocation").status_code == 429


# --- caching ---------------------------------------------------------------------------------------


def test_a_certificate_checked_by_a_visitor_may_be_cached_for_a_minute(client):
    """Public facts, the same for every visitor: a shared cache may keep them for a minute, so a
    revocation shows everywhere within a minute, and a burst of checks of one number is served once."""
    certificate = insert_certificate()
    for path in (f"/verify/{certificate.number}", f"/verify/{certificate.number}.json"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert "Cookie" in response.headers.get("Vary", "")
        assert "Set-Cookie" not in response.headers


def test_nothing_personal_or_missing_is_cached(app, client):
    certificate = insert_certificate()
    # A missing number may be issued in a minute; a form and its mistakes are the visitor's own.
    for path in (f"/verify/{unknown_number()}", f"/verify/{unknown_number()}.json", "/verify", "/verify?number=AV-1"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    # Someone signed in sees their own name in the page's header: never shared.
    holder = make_holder("Sam Signed", email="sam.signed@example.org")
    signed_in = app.test_client()
    signed_in.login(holder.email)
    answer = signed_in.get(f"/verify/{certificate.number}")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    # A visitor whose browser holds a session (they opened the sign-in page) may be sent it back.
    visitor = app.test_client()
    visitor.get("/login")
    assert visitor.get(f"/verify/{certificate.number}").headers["Cache-Control"] == "no-store"
