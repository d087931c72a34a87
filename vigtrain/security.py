"""Who may do what: every permission predicate and access decorator lives here.

Predicates are plain functions of (actor, thing) so services, views, the API and tests all ask
the same question the same way. Denials answer 403 (or 404 where even existence is private) and
are logged without detail reaching the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user

from vigtrain.accounts.models import Role, User

log = logging.getLogger("vigtrain.security")

F = TypeVar("F", bound=Callable[..., Any])


# --- predicates -------------------------------------------------------------------------------


def is_administrator(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(Role.ADMINISTRATOR))


def can_manage_accounts(user: User | None) -> bool:
    return is_administrator(user)


def can_manage_services(user: User | None) -> bool:
    return is_administrator(user)


def can_read_audit_trail(user: User | None) -> bool:
    return is_administrator(user)


def can_read_outbox(user: User | None) -> bool:
    return is_administrator(user)


def can_change_account(actor: User | None, target: User) -> bool:
    """Administrators change any account, but never their own roles or active flag."""
    return is_administrator(actor) and actor.id != target.id


def needs_second_factor_enrolment(user: User | None) -> bool:
    """Administrators must enrol a second factor where the configuration requires it."""
    return (
        is_administrator(user) and not user.second_factor_enabled and current_app.config["REQUIRE_ADMIN_SECOND_FACTOR"]
    )


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


# --- denial ------------------------------------------------------------------------------------


def deny(reason: str, status: int = 403) -> NoReturn:
    """Log a refused access and answer with a status that reveals nothing."""
    user_id = current_user.get_id() if current_user.is_authenticated else "anonymous"
    log.warning(
        "access denied: %s (user=%s endpoint=%s path=%s request=%s)",
        reason,
        user_id,
        request.endpoint,
        request.path,
        g.get("request_id"),
    )
    abort(status)


def require(allowed: bool, reason: str, status: int = 403) -> None:
    """Deny unless `allowed`; the one way views check a predicate."""
    if not allowed:
        deny(reason, status)


# --- decorators ----------------------------------------------------------------------------------


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            flash("Sign in to continue.", "info")
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Signed in and holding at least one of `roles`."""

    def decorator(view: F) -> F:
        @login_required
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                deny(f"needs role {'/'.join(r.value for r in roles)}")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


administrator_required = roles_required(Role.ADMINISTRATOR)
supervisor_required = roles_required(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR)
