"""The OpenAPI document: valid 3.1, generated from the models that validate requests, complete, and
true about errors; every error from /api/v1 is a problem document; the documentation page."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from tests.api.conftest import Api, issue_token
from tests.factories import make_user
from vigtrain import CONTENT_SECURITY_POLICY
from vigtrain.api import schemas
from vigtrain.api.problems import PROBLEM_TYPES, Problem, ValidationProblem

PROBLEM = "application/problem+json"
BODIES = {
    ("post", "/api/v1/cases"): schemas.CaseCreate,
    ("post", "/api/v1/cases/{code}/administrations"): schemas.AdministrationCreate,
    ("post", "/api/v1/cases/{code}/invitations"): schemas.InvitationCreate,
    ("post", "/api/v1/supervision-sessions"): schemas.SessionCreate,
    ("post", "/api/v1/supervision-sessions/{session_id}/confirm"): schemas.SessionConfirm,
}


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _operations(spec: dict):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # raises on any error, against the OpenAPI 3.1 schema
    assert spec["info"]["title"] == "vigtrain API"
    assert spec["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer", "description": "A personal access token."}
    }


def test_request_bodies_are_the_models_that_validate_them(spec):
    for (method, path), model in BODIES.items():
        body = spec["paths"][path][method]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        documented = spec["components"]["schemas"][model.__name__]
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        generated.pop("$defs", None)
        assert documented == generated, model.__name__
        assert documented["additionalProperties"] is False


def test_query_parameters_come_from_the_query_models(spec):
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/supervision-sessions"]["get"]["parameters"]}
    assert set(parameters) == set(schemas.SessionQuery.model_fields)
    assert parameters["per_page"]["schema"]["maximum"] == schemas.MAX_PER_PAGE


def test_every_api_route_is_in_the_document(app, spec):
    documented = {(method.upper(), path) for method, path, _operation in _operations(spec)}
    routed = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.openapi_document", "api.show_docs"):
            routed |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert len(documented) == 16


def test_every_operation_documents_its_errors_as_problems(spec):
    for method, path, operation in _operations(spec):
        label = f"{method.upper()} {path}"
        responses = {int(code): response for code, response in operation["responses"].items()}
        public = operation["security"] == []
        assert {429, 500} <= set(responses), label
        assert (401 in responses) is not public, label
        assert "Retry-After" in responses[429]["headers"], label
        if not public:
            assert "WWW-Authenticate" in responses[401]["headers"], label
        if "requestBody" in operation:
            assert {400, 422} <= set(responses), label
        if "{" in path:
            assert 404 in responses, label
        for code, response in responses.items():
            if code >= 400:
                assert list(response["content"]) == [PROBLEM], label
                expected = "ValidationProblem" if code == 422 else "Problem"
                assert response["content"][PROBLEM]["schema"] == {"$ref": f"#/components/schemas/{expected}"}
            elif code == 204:
                assert "content" not in response, label
            else:
                assert list(response["content"]) == ["application/json"], label
        successes = [code for code in responses if code < 400]
        assert len(successes) == 1, label


def test_lists_document_their_link_header_and_creation_its_location(spec):
    for path in ("/api/v1/cases", "/api/v1/measures", "/api/v1/supervision-sessions"):
        assert "Link" in spec["paths"][path]["get"]["responses"]["200"]["headers"]
    assert "Location" in spec["paths"]["/api/v1/cases"]["post"]["responses"]["201"]["headers"]


def test_each_operation_says_which_scope_it_needs(spec):
    scopes = {
        (method.upper(), path): re.search(r"\*\*Scope:\*\* `([a-z:]+)`", operation["description"])
        for method, path, operation in _operations(spec)
    }
    assert scopes[("GET", "/api/v1/cases")].group(1) == "cases:read"
    assert scopes[("POST", "/api/v1/cases/{code}/administrations")].group(1) == "cases:write"
    assert scopes[("POST", "/api/v1/supervision-sessions/{session_id}/confirm")].group(1) == "supervision:write"
    assert scopes[("GET", "/api/v1/me")] is None
    certificate = spec["paths"]["/api/v1/certificates/{number}"]["get"]
    assert certificate["security"] == [] and "No token needed" in certificate["description"]


# --- every error is a problem ---------------------------------------------------------------------


def _problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    model = ValidationProblem if status == 422 else Problem
    model.model_validate(body)
    assert body["status"] == status
    assert body["instance"] == response.request.path
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_an_unknown_address_under_the_api_is_a_problem(client):
    body = _problem(client.get("/api/v1/nowhere"), 404)
    assert body["type"] == "http://localhost/api/v1/docs#problem-not-found"
    _problem(client.get("/api/v1/cases/VC-0000-0000/cycles"), 404)
    _problem(client.get("/api/v1/supervision-sessions/not-a-number/confirm"), 404)
    # Outside the API, pages keep their own error page.
    page = client.get("/nowhere")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_method_the_address_does_not_take_is_a_405_problem(client):
    response = client.delete("/api/v1/cases")
    body = _problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}
    assert body["type"].endswith("#problem-method-not-allowed")
    assert "Content-Security-Policy" in response.headers


def test_an_unexpected_error_is_a_500_problem_and_is_logged(client, app, monkeypatch, caplog):
    person = make_user("pat@example.org")

    def broken(user):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("vigtrain.api.views.own_enrolments", broken)
    response = Api(client, issue_token(person)).get("/api/v1/me")
    body = _problem(response, 500)
    assert body["type"].endswith("#problem-server-error")
    assert "database" not in response.get_data(as_text=True)
    assert "unhandled API error" in caplog.text


def test_problem_types_link_to_their_explanation_on_the_documentation_page(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    for slug in PROBLEM_TYPES:
        assert f'id="problem-{slug}"' in page, slug


# --- the documentation page --------------------------------------------------------------------------


def test_the_documentation_page_runs_under_the_strict_policy(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts)
    assert "style=" not in page and "<style" not in page
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page


def test_the_viewer_and_its_licence_are_vendored(app):
    static = app.static_folder
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"):
        with open(f"{static}/vendor/swagger-ui/{name}", encoding="utf-8") as handle:
            assert handle.read(200), name
    with open(f"{static}/js/api-docs.js", encoding="utf-8") as handle:
        assert "validatorUrl: null" in handle.read()


def test_the_documentation_page_is_a_page_that_knows_who_is_signed_in(client):
    make_user("pat@example.org", name="Pat Practitioner")
    assert "Signed in as" not in client.get("/api/v1/docs").get_data(as_text=True)
    client.login("pat@example.org")
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "Signed in as Pat Practitioner" in page
    assert 'href="/account/tokens"' in page
