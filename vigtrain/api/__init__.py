"""The JSON API, version 1, at /api/v1: the same services, permissions and audit as the pages.

Requests carry a personal access token (auth.py); the OpenAPI document is generated from the
pydantic models that validate them (openapi.py, schemas.py); every error is a problem document
(problems.py). The views are split by resource and register themselves on `bp` when imported.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request
from flask.sansio.blueprints import BlueprintSetupState

from vigtrain.api.auth import forget_session_user, rate_limit_key
from vigtrain.api.problems import register_error_handlers, routing_problem
from vigtrain.extensions import client_address, csrf, limiter

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
# Browsers never send a bearer token by themselves, and the API ignores the session cookie, so a
# forged cross-site request carries no credentials: there is nothing for a CSRF token to protect.
csrf.exempt(bp)
# One budget per token across every endpoint (a plain limit would give each endpoint its own).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=rate_limit_key)(bp)
# Each made-up token would have a limit of its own, so refused tokens also count against the address.
limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"],
    key_func=client_address,
    scope="api-refused",
    deduct_when=lambda response: response.status_code == 401,
)(bp)
register_error_handlers(bp)


def _is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def _anonymous_api_requests() -> None:
    # The documentation page is a page like any other: it may show who is signed in.
    if _is_api_request() and request.endpoint != "api.show_docs":
        forget_session_user()


@bp.record_once
def _before_everything(state: BlueprintSetupState) -> None:
    """Make API requests anonymous first, before any other hook can load a user from the cookie."""
    app: Flask = state.app
    app.before_request_funcs.setdefault(None, []).insert(0, _anonymous_api_requests)


@bp.after_app_request
def _unrouted_api_errors(response):
    if request.routing_exception is not None and _is_api_request():
        return routing_problem(response)
    return response


from vigtrain.api import case_views, docs, supervision_views, views  # noqa: E402, F401  (they add their routes)
