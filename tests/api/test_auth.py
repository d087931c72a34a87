"""Every operation refuses a missing, malformed, unknown, expired, revoked or under-scoped token,
never reads the session cookie, and limits how often each token may call."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.api.conftest import ALL_SCOPES, Api, expired_token, issue_token, revoked_token
from tests.factories import make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.api.openapi import document
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case
from vigtrain.extensions import db

CASE = {"relationship": "parent_child", "age_band": "3-4y", "population": "early_years", "region": "E12000007"}
ADMINISTRATION = {"measure": "GAD-7", "timepoint": "pre", "date": "2026-03-02", "responses": {"1": 0}}
SESSION = {"duration_minutes": 60}
INVITATION = {"measures": ["PHQ-9"], "timepoint": "post"}

# Every operation that needs a token: method, path, the scope it needs (None: any token), a body.
ENDPOINTS = [
    ("GET", "/api/v1/me", None, None),
    ("GET", "/api/v1/measures", None, None),
    ("GET", "/api/v1/measures/PHQ-9", None, None),
    ("GET", "/api/v1/cases", "cases:read", None),
    ("POST", "/api/v1/cases", "cases:write", CASE),
    ("GET", "/api/v1/cases/VC-0000-0000", "cases:read", None),
    ("POST", "/api/v1/cases/VC-0000-0000/administrations", "cases:write", ADMINISTRATION),
    ("GET", "/api/v1/cases/VC-0000-0000/outcomes", "cases:read", None),
    ("GET", "/api/v1/cases/VC-0000-0000/invitations", "cases:read", None),
    ("POST", "/api/v1/cases/VC-0000-0000/invitations", "cases:write", INVITATION),
    ("DELETE", "/api/v1/cases/VC-0000-0000/invitations/1", "cases:write", None),
    ("GET", "/api/v1/supervision-sessions", "supervision:read", None),
    ("POST", "/api/v1/supervision-sessions", "supervision:write", SESSION),
    ("POST", "/api/v1/supervision-sessions/1/confirm", "supervision:write", {"version": 1}),
    ("GET", "/api/v1/enrolments/1/progress", "enrolments:read", None),
]
IDS = [f"{method} {path}" for method, path, _scope, _body in ENDPOINTS]
SCOPED = [endpoint for endpoint in ENDPOINTS if endpoint[2] is not None]
UNKNOWN = "vgt_" + "A" * 43


@pytest.fixture
def owner(app):
    service = make_service("Riverside Family Service", region_code="E12000007")
    return make_user("pat@example.org", roles=(Role.PRACTITIONER, Role.TRAINEE), service_id=service.id)


def _call(api: Api, method: str, path: str, body, **kwargs):
    return api.request(method, path, json=body, **kwargs)


def _cases() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Case))


def _template(path: str) -> str:
    return re.sub(r"/(VC-0000-0000|PHQ-9|1)(?=/|$)", "/{}", path)


def test_the_table_names_every_operation_that_needs_a_token(app):
    documented = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in document()["paths"].items()
        for method, details in operations.items()
        if details["security"]
    }
    assert documented == {(method, _template(path)) for method, path, _scope, _body in ENDPOINTS}


def _assert_problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    assert problem["type"] == f"http://localhost/api/v1/docs#problem-{kind}"
    assert problem["instance"] == response.request.path
    return problem


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS, ids=IDS)
def test_no_token_is_refused_with_a_bearer_challenge(api, owner, method, path, scope, body):
    response = _call(api, method, path, body)
    problem = _assert_problem(response, 401, "token-required")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="vigtrain"'
    assert "Authorization" in problem["detail"]
    assert _cases() == 0


MALFORMED = ["Token " + UNKNOWN, "Bearer", "Bearer vgt_short", "Basic dXNlcjpwYXNz", f"Bearer {UNKNOWN} extra"]
REFUSED = {
    "unknown": "not recognised",
    "expired": "has expired",
    "revoked": "has been revoked",
    "deactivated": "has been deactivated",
}


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS, ids=IDS)
def test_a_malformed_unknown_expired_or_revoked_token_is_refused(api, owner, method, path, scope, body):
    for header in MALFORMED:
        response = _call(api, method, path, body, authorization=header)
        _assert_problem(response, 401, "invalid-token")
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="vigtrain", error="invalid_token"'), header
    tokens = {"unknown": UNKNOWN, "expired": expired_token(owner), "revoked": revoked_token(owner)}
    tokens["deactivated"] = issue_token(owner)
    owner.is_active_flag = False  # last: it stops the owner's other tokens too
    db.session.commit()
    for kind, token in tokens.items():
        response = _call(api, method, path, body, token=token)
        problem = _assert_problem(response, 401, "invalid-token")
        assert REFUSED[kind] in problem["detail"], kind
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"], kind
    assert _cases() == 0


@pytest.mark.parametrize(("method", "path", "scope", "body"), SCOPED, ids=[f"{m} {p}" for m, p, _s, _b in SCOPED])
def test_a_token_without_the_scope_is_refused(api, owner, method, path, scope, body):
    others = [name for name in ALL_SCOPES if name != scope]
    response = _call(api, method, path, body, token=issue_token(owner, *others))
    problem = _assert_problem(response, 403, "insufficient-scope")
    assert scope in problem["detail"]
    assert (
        response.headers["WWW-Authenticate"] == f'Bearer realm="vigtrain", error="insufficient_scope", scope="{scope}"'
    )
    assert _cases() == 0


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/measures", "/api/v1/measures/GAD-7"])
def test_operations_without_a_scope_take_any_working_token(api, owner, path):
    assert api.get(path, token=issue_token(owner, "enrolments:read")).status_code == 200


def test_the_token_with_the_scope_gets_through(api, owner):
    response = api.post("/api/v1/cases", json=CASE, token=issue_token(owner, "cases:write"))
    assert response.status_code == 201, response.get_json()
    assert _cases() == 1


# --- the session cookie -----------------------------------------------------------------------------


def test_a_signed_in_browser_is_not_signed_in_to_the_api(client, api, owner):
    assert client.login("pat@example.org").status_code == 302
    assert client.get("/cases").status_code == 200  # the cookie works on the pages
    _assert_problem(api.get("/api/v1/me"), 401, "token-required")
    _assert_problem(api.post("/api/v1/cases", json=CASE), 401, "token-required")
    assert _cases() == 0


def test_with_a_cookie_and_a_token_the_token_decides_who_acts(client, api, owner):
    other = make_user("sam@example.org", roles=(Role.TRAINEE,))
    client.login("pat@example.org")
    response = api.post("/api/v1/cases", json=CASE, token=issue_token(other))
    assert response.status_code == 201
    assert response.get_json()["practitioner"]["id"] == other.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.created")).one()
    assert event.actor_id == other.id


def test_api_answers_never_set_a_session_cookie(api, owner):
    response = api.get("/api/v1/me", token=issue_token(owner))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_posts_need_no_csrf_token(app, api, owner):
    app.config["WTF_CSRF_ENABLED"] = True
    response = api.post(
        "/api/v1/cases", json=CASE, token=issue_token(owner), headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 201


def test_an_administrator_without_a_second_factor_is_refused_not_redirected(app, client, api):
    app.config["REQUIRE_ADMIN_SECOND_FACTOR"] = True
    admin = make_user("admin@example.org", roles=(Role.ADMINISTRATOR,))
    client.login("admin@example.org")
    # The pages send this administrator to set up a second factor; the API must not skip that
    # step, and answers with a problem rather than a redirect.
    assert client.get("/cases").status_code == 302
    response = api.get("/api/v1/me", token=issue_token(admin))
    problem = _assert_problem(response, 401, "invalid-token")
    assert "two-factor authentication" in problem["detail"] and "Location" not in response.headers


# --- rate limits ------------------------------------------------------------------------------------


def test_each_token_has_its_own_rate_limit_and_429_says_when_to_retry(app, api, owner):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    first, second = issue_token(owner), issue_token(owner)
    allowed = [api.get("/api/v1/me", token=first) for _ in range(3)]
    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert [response.headers["X-RateLimit-Remaining"] for response in allowed] == ["2", "1", "0"]
    assert not any("Retry-After" in response.headers for response in allowed)
    refused = api.get("/api/v1/me", token=first)
    problem = _assert_problem(refused, 429, "rate-limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert "Retry-After" in problem["detail"]
    assert api.get("/api/v1/me", token=second).status_code == 200


def test_requests_without_a_token_are_limited_by_address(app, api, owner):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    assert [api.get("/api/v1/me").status_code for _ in range(3)] == [401, 401, 429]
    assert "Retry-After" in api.get("/api/v1/measures").headers


def test_one_limit_covers_every_endpoint(app, api, owner):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    token = issue_token(owner)
    paths = ["/api/v1/me", "/api/v1/measures", "/api/v1/cases", "/api/v1/measures/PHQ-9"]
    assert [api.get(path, token=token).status_code for path in paths] == [200, 200, 200, 429]


def test_made_up_tokens_cannot_dodge_the_limit(app, api, owner):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    made_up = [f"vgt_{index:043d}" for index in range(3)]
    assert [api.get("/api/v1/me", token=token).status_code for token in made_up] == [401, 401, 429]
    # Past it, the address waits out the minute whatever token it sends.
    refused = api.get("/api/v1/me", token=issue_token(owner))
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_the_limit_applies_to_writes_too_and_nothing_is_saved_past_it(app, api, owner):
    app.config["API_RATE_LIMIT"] = "1 per minute"
    token = issue_token(owner)
    assert api.post("/api/v1/cases", json=CASE, token=token).status_code == 201
    assert api.post("/api/v1/cases", json=CASE, token=token).status_code == 429
    assert _cases() == 1


def test_the_expiry_boundary_is_the_end_of_the_last_day(api, owner, clock):
    token = issue_token(owner, issued_on=date(2026, 3, 2), expires_on=date(2026, 3, 3))
    clock.move_to("2026-03-03 23:59:00")  # UK time is GMT in March
    assert api.get("/api/v1/me", token=token).status_code == 200
    clock.move_to("2026-03-04 00:00:01")
    _assert_problem(api.get("/api/v1/me", token=token), 401, "invalid-token")
