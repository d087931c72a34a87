"""The measure library for building entry screens, and public certificate verification as JSON."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, issue_token
from tests.certificate_factories import insert_certificate, make_holder
from tests.factories import make_user
from vigtrain.certificates.models import CertificateStatus
from vigtrain.dcs.measures import get_measure, library


@pytest.fixture
def api(client, app) -> Api:
    return Api(client, issue_token(make_user("pat@example.org"), "enrolments:read"))


def test_the_library_lists_each_measure_once_in_page_order(api):
    response = api.get("/api/v1/measures")
    body = response.get_json()
    assert [item["code"] for item in body["items"]] == list(library())
    assert body["total"] == len(library())
    phq9 = body["items"][0]
    assert phq9 == {
        "code": "PHQ-9",
        "version": get_measure("PHQ-9").version,
        "name": get_measure("PHQ-9").name,
        "description": get_measure("PHQ-9").description,
        "direction": "higher_is_worse",
        "item_count": 9,
        "min_score": 0.0,
        "max_score": 27.0,
        "links": {"self": "/api/v1/measures/PHQ-9"},
    }
    assert response.headers["Link"] == '</api/v1/measures?page=1>; rel="first", </api/v1/measures?page=1>; rel="last"'


def test_the_library_pages_like_every_list(api):
    body = api.get("/api/v1/measures?per_page=4&page=3").get_json()
    assert [item["code"] for item in body["items"]] == list(library())[8:]
    assert body["links"]["prev"] == "/api/v1/measures?per_page=4&page=2" and body["links"]["next"] is None


def test_a_measure_gives_each_answers_position_label_and_score(api):
    body = api.get("/api/v1/measures/phq-9").get_json()
    measure = get_measure("PHQ-9")
    assert body["code"] == "PHQ-9" and len(body["items"]) == 9
    first = body["items"][0]
    assert [option["position"] for option in first["options"]] == list(range(len(measure.options)))
    assert [option["label"] for option in first["options"]] == [option.label for option in measure.options]
    assert [option["score"] for option in first["options"]] == [option.score for option in measure.options]
    assert body["caseness"] == {"threshold": 10.0, "direction": "at_or_above", "label": measure.caseness.label}
    assert body["reliable_change"]["points"] == measure.reliable_change
    assert [risk["item"] for risk in body["risks"]] == ["9"]
    assert body["missing"]["rule"] == measure.missing.rule


def test_reverse_scored_items_give_their_own_scores(api):
    measure = get_measure("WEMWBS")
    if not measure.reverse_items:
        measure = next(m for m in library().values() if m.reverse_items)
    body = api.get(f"/api/v1/measures/{measure.code}").get_json()
    number = measure.reverse_items[0]
    item = next(item for item in body["items"] if item["number"] == number)
    assert [option["score"] for option in item["options"]] == list(measure.score_table[number])


def test_swemwbs_says_it_converts_and_gbo_has_no_cut_off(api):
    assert api.get("/api/v1/measures/SWEMWBS").get_json()["scoring"]["converted"] is True
    gbo = api.get("/api/v1/measures/GBO").get_json()
    assert gbo["caseness"] is None
    assert [subscale["code"] for subscale in gbo["subscales"]] == ["goal_1", "goal_2", "goal_3"]


def test_an_unknown_measure_is_a_404_problem(api):
    response = api.get("/api/v1/measures/HADS")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "HADS" in response.get_json()["detail"]


# --- certificates --------------------------------------------------------------------------------


def test_certificate_facts_need_no_token_and_match_the_verification_json(client, app):
    certificate = insert_certificate(make_holder("Catherine Ashworth"))
    response = client.get(f"/api/v1/certificates/{certificate.number}")
    assert response.status_code == 200
    body = response.get_json()
    assert body == client.get(f"/verify/{certificate.number}.json").get_json()
    assert (body["holder"], body["status"], body["number"]) == ("Catherine Ashworth", "valid", certificate.number)
    assert "email" not in response.get_data(as_text=True)


def test_a_token_sent_to_the_public_operation_is_ignored(client, app):
    certificate = insert_certificate()
    response = client.get(f"/api/v1/certificates/{certificate.number}", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 200


def test_a_revoked_certificate_gives_its_reason(client, app):
    reason = "Revoked by AVIGuk after a complaint about practice was upheld."
    certificate = insert_certificate(status=CertificateStatus.REVOKED, reason=reason)
    body = client.get(f"/api/v1/certificates/{certificate.number.lower()}").get_json()
    assert (body["status"], body["revocation_reason"]) == ("revoked", reason)


def test_mistyped_and_unknown_numbers_are_explained(client, app):
    mistyped = client.get("/api/v1/certificates/AV-12")
    assert mistyped.status_code == 404
    assert "8 characters" in mistyped.get_json()["detail"]
    unknown = client.get("/api/v1/certificates/AV-0000-0000")
    assert unknown.status_code == 404
    assert unknown.get_json()["detail"] == "No certificate has the number AV-0000-0000."


def test_verification_shares_the_pages_limit_per_address(client, app):
    app.config["VERIFY_RATE_LIMIT"] = "2 per minute"
    certificate = insert_certificate()
    assert client.get(f"/verify/{certificate.number}").status_code == 200
    assert client.get(f"/api/v1/certificates/{certificate.number}").status_code == 200
    refused = client.get(f"/api/v1/certificates/{certificate.number}")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json" and "Retry-After" in refused.headers
