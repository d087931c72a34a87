"""Bearer-token authentication for the API, scopes, and the key its rate limit counts by.

The API never reads the session cookie: a request is anonymous until its token is accepted, so a
signed-in browser cannot be used to call the API (and CSRF cannot reach it). Once the token is
accepted, its owner is the current user for the rest of the request, so refusals are logged and
changes audited in their name, exactly as on the pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from vigtrain.accounts.models import User
from vigtrain.api.problems import ApiProblem
from vigtrain.api_tokens.services import SCOPES, TokenRejected, authenticate_bearer
from vigtrain.extensions import client_address, login_manager

F = TypeVar("F", bound=Callable[..., Any])

REALM = 'Bearer realm="vigtrain"'


def forget_session_user() -> None:
    """Make the request anonymous before anything (the second-factor check, say) reads the cookie."""
    # Flask-Login keeps the request's user here; once it is set, Flask-Login never reads the cookie.
    g._login_user = login_manager.anonymous_user()


def _act_as(user: User) -> None:
    g._login_user = user
    g.api_user = user


def api_user() -> User:
    """The token's owner (only inside an operation that needs a token)."""
    return g.api_user


def token_scopes() -> frozenset[str]:
    return g.get("api_scopes", frozenset())


def _refuse(rejected: TokenRejected) -> ApiProblem:
    """401 with the Bearer challenge of RFC 6750: no error code when no token was sent at all."""
    if rejected.reason == "missing":
        return ApiProblem(401, rejected.message, "token-required", headers={"WWW-Authenticate": REALM})
    description = rejected.message.replace('"', "'")
    challenge = f'{REALM}, error="invalid_token", error_description="{description}"'
    return ApiProblem(401, rejected.message, "invalid-token", headers={"WWW-Authenticate": challenge})


def token_required(scope: str | None) -> Callable[[F], F]:
    """Accept only a valid token, holding `scope` if one is named (None: any valid token)."""
    if scope is not None and scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                user, scopes = authenticate_bearer(request.headers.get("Authorization"))
            except TokenRejected as rejected:
                raise _refuse(rejected) from None
            if scope is not None and scope not in scopes:
                challenge = f'{REALM}, error="insufficient_scope", scope="{scope}"'
                raise ApiProblem(
                    403,
                    f"This token does not have the {scope} scope, which this needs.",
                    "insufficient-scope",
                    headers={"WWW-Authenticate": challenge},
                )
            _act_as(user)
            g.api_scopes = scopes
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def rate_limit_key() -> str:
    """Count requests per token (by a digest of it, never the token itself); without one, per address."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return "api-token:" + hashlib.sha256(credentials.strip().encode()).hexdigest()
    return "api-address:" + client_address()
