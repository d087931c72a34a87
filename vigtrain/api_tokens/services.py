"""Personal access tokens: create, revoke, and check a bearer token on an API request.

A token is "vgt_" followed by 43 URL-safe characters (256 random bits). Only its SHA-256 digest
is stored, so a copy of the database gives nobody a working token; the person sees the token once,
when it is made. A request's token is found by looking up the digest of what it presents.

Tokens outlive the session that made them: signing out or changing the password leaves them
working (other systems depend on them), which is why making one asks for the password and tells
the owner by email. Revoking one, or deactivating the owner's account, stops it at once.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.api_tokens.models import SCOPES, PersonalAccessToken, TokenStatus
from vigtrain.dates import UK, format_date, utcnow
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.notifications.services import send_email
from vigtrain.security import can_create_api_token, can_revoke_api_token, needs_second_factor_enrolment

__all__ = [
    "SCOPES",
    "TokenRejected",
    "authenticate_bearer",
    "create_token",
    "revoke_token",
]

log = logging.getLogger("vigtrain.api_tokens")

MARKER = "vgt_"
PREFIX_LENGTH = 8
TOKEN = re.compile(r"vgt_[A-Za-z0-9_-]{43}")
# The scheme is case-insensitive (RFC 9110 §11.1); exactly one credential follows it.
BEARER = re.compile(r"[ \t]*bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)
MAX_HEADER = 512

EXPIRY_DAYS = (30, 90, 180, 366)
DEFAULT_DAYS = 90
MAX_DAYS = 366
MAX_NAME = 80
MAX_ACTIVE_TOKENS = 20
LAST_USED_EVERY = timedelta(minutes=1)

REJECTION_MESSAGES = {
    "missing": "Send a personal access token in the Authorization header: Bearer <token>.",
    "malformed": "The Authorization header must be: Bearer <token>, with a token that starts vgt_.",
    "unknown": "This token is not recognised. It may have been mistyped, or deleted.",
    "expired": "This token has expired. Create a new one on your account page.",
    "revoked": "This token has been revoked. Create a new one on your account page.",
    "inactive_user": "The account this token belongs to has been deactivated.",
    "second_factor_required": (
        "The account this token belongs to is an administrator's and has no two-factor authentication."
        " Set it up on the account page; the token then works again."
    ),
}

FIELDS = ("user_id", "name", "token_prefix", "scopes", "expires_at", "revoked_at", "revoked_by_id")


class TokenRejected(Exception):
    """The request's token does not let it in; `reason` is one of REJECTION_MESSAGES' keys."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = REJECTION_MESSAGES[reason]


# --- the token itself ------------------------------------------------------------------------------


def digest(token: str) -> str:
    """What is stored and looked up: SHA-256 hex of the whole token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return MARKER + secrets.token_urlsafe(32)


def expiry_instant(expires_on: date) -> datetime:
    """A token works until the end of its expiry date, in UK time (when people read the date)."""
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=UK).astimezone(UTC)


def expiry_date(token: PersonalAccessToken) -> date:
    """The last day the token works, as people were told when they chose it."""
    return (token.expires_at.astimezone(UK) - timedelta(microseconds=1)).date()


def scope_names(scopes: Iterable[str]) -> list[str]:
    """Scopes in display order, each once."""
    chosen = set(scopes)
    return [name for name in SCOPES if name in chosen]


# --- creating and revoking -----------------------------------------------------------------------------


def _working(now: datetime) -> ColumnElement[bool]:
    return and_(PersonalAccessToken.revoked_at.is_(None), PersonalAccessToken.expires_at > now)


def _active(owner: User, now: datetime) -> Select:
    return select(PersonalAccessToken).where(PersonalAccessToken.user_id == owner.id, _working(now))


def _check_request(owner: User, name: str, scopes: list[str], expires_on: date, today: date) -> None:
    if not owner.is_active_flag:
        raise DomainError("This account is deactivated, so it cannot have API tokens")
    if not name:
        raise DomainError("Enter a name for the token", field="name")
    if len(name) > MAX_NAME:
        raise DomainError(f"The name must be {MAX_NAME} characters or fewer", field="name")
    if not name.isprintable():
        raise DomainError("The name cannot contain tabs, line breaks or other control characters", field="name")
    if not scopes:
        raise DomainError("Select what the token may do", field="scopes")
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown:
        raise DomainError(f"Unknown scope: {', '.join(unknown)}. Choose from: {', '.join(SCOPES)}", field="scopes")
    if expires_on <= today:
        raise DomainError("The expiry date must be in the future", field="expiry")
    if expires_on > today + timedelta(days=MAX_DAYS):
        raise DomainError(f"A token can last at most {MAX_DAYS} days", field="expiry")

    now = utcnow()
    active = db.session.scalars(_active(owner, now)).all()
    if any(token.name.casefold() == name.casefold() for token in active):
        raise DomainError(
            f"You already have a token called \u2018{name}\u2019. Choose another name, or revoke that token first",
            field="name",
        )
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise DomainError(
            f"You can have at most {MAX_ACTIVE_TOKENS} tokens working at once. Revoke one you no longer use"
        )


def create_token(
    actor: User | None,
    owner: User,
    name: str,
    scopes: Iterable[str],
    expires_on: date | None,
    today: date,
) -> tuple[PersonalAccessToken, str]:
    """Make a token for `owner`; returns the row and the token, which is never available again.

    `actor` is the owner (from the account page) or None (an operator at the command line).
    `expires_on` is the last day it works (default 90 days from `today`, at most 366).
    """
    if actor is not None and not can_create_api_token(actor, owner):
        raise PermissionDenied("Only the account's owner can create a token for it")
    name = (name or "").strip()
    requested = list(scopes)
    expires_on = expires_on or today + timedelta(days=DEFAULT_DAYS)
    _check_request(owner, name, requested, expires_on, today)

    plaintext = _new_token()
    token = PersonalAccessToken(
        user_id=owner.id,
        name=name,
        token_prefix=plaintext[len(MARKER) : len(MARKER) + PREFIX_LENGTH],
        token_hash=digest(plaintext),
        scopes=scope_names(requested),
        created_at=utcnow(),
        expires_at=expiry_instant(expires_on),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "token.created", token, after=audit.snapshot(token, *FIELDS))
    send_email(
        owner.email,
        "A new API token was created for your vigtrain account",
        f"Hello {owner.display_name},\n\n"
        f"An API token called \u2018{name}\u2019 (starting {MARKER}{token.token_prefix}) was created for your account. "
        f"It may: {', '.join(token.scopes)}. It works until the end of {format_date(expires_on)}.\n\n"
        "If you did not expect this, revoke it from the API tokens page of your account, change your password, "
        "and tell your AVIGuk administrator.\n",
    )
    return token, plaintext


def revoke_token(actor: User | None, token: PersonalAccessToken) -> None:
    """Stop a token working, at once. `actor` is the owner, an administrator, or None (the command line)."""
    if actor is not None and not can_revoke_api_token(actor, token):
        raise PermissionDenied("Only the token's owner or an administrator can revoke it")
    if token.revoked_at is not None:
        raise DomainError(f"This token was already revoked on {format_date(token.revoked_at.astimezone(UK))}")
    before = audit.snapshot(token, *FIELDS)
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id if actor is not None else None
    db.session.flush()
    audit.record(actor, "token.revoked", token, before=before, after=audit.snapshot(token, *FIELDS))
    if actor is None or actor.id != token.user_id:
        owner = token.user
        send_email(
            owner.email,
            "One of your vigtrain API tokens was revoked",
            f"Hello {owner.display_name},\n\n"
            f"Your API token \u2018{token.name}\u2019 (starting {MARKER}{token.token_prefix}) was revoked by "
            f"{'an AVIGuk administrator' if actor is not None else 'the system operator'}. "
            "Anything still using it will now be refused. Create a new token from your account if you need one.\n",
        )


# --- lists -----------------------------------------------------------------------------------------------


def tokens_query(owner: User) -> Select:
    """Everyone's own list: working tokens first, then newest first."""
    return (
        select(PersonalAccessToken)
        .where(PersonalAccessToken.user_id == owner.id)
        .order_by(
            case((_working(utcnow()), 0), else_=1),
            PersonalAccessToken.created_at.desc(),
            PersonalAccessToken.id.desc(),
        )
    )


def count_active(owner: User) -> int:
    return db.session.scalar(select(func.count()).select_from(_active(owner, utcnow()).subquery())) or 0


def status(token: PersonalAccessToken) -> TokenStatus:
    return token.status(utcnow())


# --- checking a request -------------------------------------------------------------------------------


def _token_from_header(raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise TokenRejected("missing")
    match = BEARER.fullmatch(raw) if len(raw) <= MAX_HEADER else None
    if match is None or not TOKEN.fullmatch(match.group(1)):
        raise TokenRejected("malformed")
    return match.group(1)


def _note_use(token: PersonalAccessToken, now: datetime) -> None:
    """Record when a token was last used, at most once a minute, in its own short transaction.

    Its own transaction because the record is true whatever becomes of the request (which may be
    read-only and never commit, or fail and roll back). The condition in the UPDATE keeps it to
    one write a minute however many workers see the token at once.
    """
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    try:
        with db.engine.begin() as connection:
            connection.execute(
                update(PersonalAccessToken)
                .where(
                    PersonalAccessToken.id == token.id,
                    or_(
                        PersonalAccessToken.last_used_at.is_(None),
                        PersonalAccessToken.last_used_at <= now - LAST_USED_EVERY,
                    ),
                )
                .values(last_used_at=now)
            )
    except OperationalError:
        # Only a note for the owner: a busy database must never turn away a valid request.
        log.warning("could not record the use of token %s", token.id, exc_info=True)
        return
    set_committed_value(token, "last_used_at", now)


def authenticate_bearer(raw: str | None) -> tuple[User, frozenset[str]]:
    """The person and scopes behind an Authorization header value, or TokenRejected saying why not.

    The digest is looked up through a unique index: nothing about the stored digest leaks through
    timing that would help forge a 256-bit token. Call it before the request writes anything: the
    last-used time is written on a connection of its own (see _note_use).
    """
    plaintext = _token_from_header(raw)
    token = db.session.scalar(select(PersonalAccessToken).where(PersonalAccessToken.token_hash == digest(plaintext)))
    if token is None:
        raise TokenRejected("unknown")
    now = utcnow()
    state = token.status(now)
    if state is not TokenStatus.ACTIVE:
        raise TokenRejected(state.value)
    if not token.user.is_active_flag:
        raise TokenRejected("inactive_user")
    # The pages send such an administrator to set up a second factor before anything else; a
    # token made before they became one (or before their second factor was reset) must not skip it.
    if needs_second_factor_enrolment(token.user):
        raise TokenRejected("second_factor_required")
    _note_use(token, now)
    return token.user, frozenset(token.scopes) & SCOPES.keys()
