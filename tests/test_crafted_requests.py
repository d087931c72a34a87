"""Crafted addresses and query strings get a page or a 404, never a server error."""

from __future__ import annotations

import re

import pytest

from tests.certificate_factories import insert_certificate, make_certificate, make_holder
from tests.factories import make_admin, make_enrolment, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.certificates.transcripts import create_transcript
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.organisations.models import Region

# Keys url_for keeps for itself, and a key that clashes with a view argument.
HOSTILE_QUERY = {"endpoint": "core.home", "_scheme": "javascript", "_external": "1", "_anchor": "x"}


@pytest.fixture
def admin(app, clock):
    app.config["BULK_ISSUE_IN_BACKGROUND"] = False
    return make_admin()


def test_report_links_ignore_query_keys_that_url_for_keeps_for_itself(client, admin):
    service = make_service("Crafted Query Trust")
    db.session.commit()
    client.login(admin.email)
    national = client.get("/reports/national", query_string=HOSTILE_QUERY)
    assert national.status_code == 200
    assert 'href="/reports/national?format=csv"' in national.get_data(as_text=True)
    for path in (f"/reports/service/{service.id}", "/reports/service"):
        query = {**HOSTILE_QUERY, "service_id": "2", "service": str(service.id)}
        response = client.get(path, query_string=query, follow_redirects=True)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "javascript:" not in html and "_scheme" not in html
        assert re.search(rf'href="/reports/service/{service.id}\?[^"]*format=csv"', html)


def test_pagination_links_ignore_query_keys_that_url_for_keeps_for_itself(app, client):
    app.config["PAGE_SIZE"] = 1
    for name in ("Ada Lovelace", "Grace Hopper"):
        insert_certificate(make_holder(name, listed=True))
    db.session.commit()
    response = client.get("/register", query_string={**HOSTILE_QUERY, "name": ""})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Showing 1 to 1 of 2" in html and 'href="/register?name=&amp;page=2"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/account/tokens/99999999999999999999/revoke",
        "/admin/certificates/bulk/99999999999999999999",
        "/reports/service/99999999999999999999",
        "/admin/certificates/issue/99999999999999999999",
    ],
)
def test_ids_too_large_for_the_database_are_not_found(client, admin, path):
    client.login(admin.email)
    assert client.get(path).status_code == 404


def test_an_oversized_service_choice_is_not_found(client, admin):
    client.login(admin.email)
    response = client.get("/reports/service", query_string={"service": "9" * 20}, follow_redirects=True)
    assert response.status_code == 404


def test_bulk_issue_ignores_values_that_cannot_be_ids(client, admin):
    client.login(admin.email)
    response = client.post("/admin/certificates/to-issue", data={"records": ["²", "9" * 20, "-1"], "submit": "1"})
    assert response.status_code < 500


def test_a_downloaded_file_is_named_from_the_stored_number_not_the_address(client, admin):
    holder = make_user("hana@example.org", roles=(Role.TRAINEE, Role.PRACTITIONER), name="Hana Holder")
    certificate = make_certificate(admin, holder)
    client.login(holder.email)
    # Whitespace inside the number is forgiven when looking it up; it must not reach a header.
    mangled = certificate.number.replace("-", "-%0A", 1)
    for suffix in (".pdf", "/credential.jwt", "/credential.json"):
        response = client.get(f"/certificates/{mangled}{suffix}")
        assert response.status_code == 200, suffix
        extension = suffix.rsplit(".", 1)[-1]
        expected = f'attachment; filename="certificate-{certificate.number}.{extension}"'
        assert response.headers["Content-Disposition"] == expected


def test_an_address_holding_a_nul_character_is_not_found(app, client, admin):
    # PostgreSQL cannot compare text holding NUL: it would answer with an error, not "no match".
    assert client.get("/achievements/%00/2024.1").status_code == 404
    assert client.get("/achievements/vig-practitioner/2024.1%00").status_code == 404
    response = client.get("/api/v1/certificates/AV%00")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    # In a query string or a form, the field says what is wrong instead.
    assert client.get("/verify", query_string={"number": "AV-\x00"}).status_code == 422


@pytest.mark.parametrize("scope", ["service:²", "cohort:①", "region:٣", "service:01"])
def test_a_training_flow_scope_that_is_not_a_plain_number_is_not_found(client, admin, scope):
    """Superscripts and circled digits pass str.isdigit() but int() refuses them (a 500); digits of
    another script or a leading zero named a real service under a key no figure is kept for."""
    service = make_service("Crafted Scope Trust")
    db.session.commit()
    # So that "service:01" and "region:٣" would otherwise name real things (regions come with the schema).
    assert service.id == 1 and db.session.get(Region, 3) is not None
    client.login(admin.email)
    for path in ("/training-flow/", "/training-flow/stuck", "/training-flow/steps.csv"):
        assert client.get(path, query_string={"scope": scope}).status_code == 404, path


def test_stuck_trainees_refuse_a_number_of_weeks_that_is_not_one_and_read_any_page(client, admin):
    client.login(admin.email)
    for path in ("/training-flow/stuck", "/training-flow/stuck.csv"):
        for weeks in ("²", "9" * 30, "1e3", "0"):
            assert client.get(path, query_string={"weeks": weeks}, buffered=True).status_code == 400, (path, weeks)
        # A page that is not a number, or beyond the last, is read as page 1 (pagination.paginate_list).
        for page in ("²", "9" * 30, "-1"):
            assert client.get(path, query_string={"page": page}, buffered=True).status_code == 200, (path, page)


def test_crafted_transcript_addresses_are_not_found_and_downloads_are_named_from_the_stored_number(client, admin):
    holder = make_user("tess@example.org", name="Tess Holder")
    make_enrolment(holder, actor=admin)
    transcript = create_transcript(holder, holder, today())
    db.session.commit()
    client.login(admin.email)
    assert (
        client.submit("/admin/certificates/people/99999999999999999999/transcripts", page="/certificates").status_code
        == 404
    )
    for path in (
        "/verify/TR%00",
        "/verify/TR-%00",
        "/certificates/transcripts/TR%00",
        "/certificates/transcripts/TR-0000-00001",
    ):
        assert client.get(path).status_code == 404, path
    mangled = transcript.number.replace("-", "-%0A", 1)
    for suffix in (".pdf", "/credential.jwt"):
        response = client.get(f"/certificates/transcripts/{mangled}{suffix}")
        assert response.status_code == 200, suffix
        extension = suffix.rsplit(".", 1)[-1]
        assert (
            response.headers["Content-Disposition"]
            == f'attachment; filename="transcript-{transcript.number}.{extension}"'
        )
    assert client.get("/verify", query_string={"number": "TR-\x00"}).status_code == 422


def test_crafted_wallet_addresses_and_codes_are_not_found(client, app):
    holder = make_holder()
    certificate = insert_certificate(holder)
    db.session.commit()
    client.login(holder.email)
    for number in ("AV%00", "AV-" + "9" * 3000, "%E2%91%A0%E2%91%A1", "..%2F..%2Fadmin"):
        assert client.get(f"/certificates/{number}/wallet").status_code == 404, number
        assert client.submit(f"/certificates/{number}/wallet", page="/certificates").status_code == 404, number
    # The holder's own certificate, its number mangled as a hand-typed address might be, is still found.
    mangled = certificate.number.replace("-", "-%0A", 1)
    assert client.get(f"/certificates/{mangled}/wallet").status_code == 200
    assert client.get("/openid4vci/offers/%00").status_code == 404  # refused before any view, as everywhere
    for code in ("a" * 5000, "%C3%A9" * 43, "A" * 43 + "%0A"):
        response = client.get(f"/openid4vci/offers/{code}")
        assert response.status_code == 404 and response.get_json()["error"] == "invalid_request", code
