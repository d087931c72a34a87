"""Account rules: sign-in, lockout, invitations, resets, second factor and role changes.

Services flush and never commit; the caller decides. Every change is recorded with
`audit.record` in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pyotp
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select, update

from vigtrain import audit
from vigtrain.accounts.models import RecoveryCode, Role, User, new_security_stamp
from vigtrain.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from vigtrain.accounts.queries import role_holders
from vigtrain.dates import utcnow
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.notifications.services import send_email
from vigtrain.organisations.models import Service
from vigtrain.organisations.services import members_counted

USER_AUDIT_FIELDS = ("email", "display_name", "is_active_flag", "service_id", "roles")
RECOVERY_CODE_COUNT = 10
INVITATION = "invitation"
PASSWORD_RESET = "password-reset"  # noqa: S105 (a token purpose, not a secret)


class LoginRefused(DomainError):
    """Wrong email or password; deliberately says no more than that."""


class AccountLocked(DomainError):
    pass


class TokenInvalid(DomainError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def user_snapshot(user: User) -> dict:
    return audit.snapshot(user, *USER_AUDIT_FIELDS)


# --- signing in ---------------------------------------------------------------------------------


def _locked_message(user: User, now: datetime) -> str:
    until = user.locked_until if user.locked_until is not None and user.locked_until > now else None
    minutes = max(1, round((until - now).total_seconds() / 60)) if until else 1
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many failed attempts. Try again in {wait}, or reset your password."


def claim_attempt(user: User, field: str) -> None:
    """Count one sign-in attempt (password or second factor) before it is checked, or refuse it.

    The count is taken by one conditional UPDATE, and the caller commits it before checking the
    secret, so attempts sent at the same moment are each counted and at most the threshold of them
    are ever checked between a completed sign-in and the lock. A completed sign-in resets it.
    """
    now = utcnow()
    taken = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.locked_until.is_(None), User.locked_until <= now),
            User.failed_login_count < current_app.config["LOGIN_LOCK_THRESHOLD"],
        )
        .values(failed_login_count=User.failed_login_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    if not taken:
        raise AccountLocked(_locked_message(user, now), field=field)


def _attempt_failed(user: User, action: str) -> None:
    """Record a wrong password or code; the attempt that reaches the threshold locks the account, once."""
    now = utcnow()
    locked = db.session.execute(
        update(User)
        .where(User.id == user.id, User.failed_login_count >= current_app.config["LOGIN_LOCK_THRESHOLD"])
        .values(locked_until=now + current_app.config["LOGIN_LOCK_DURATION"], failed_login_count=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    if locked:
        audit.record(user, "account.locked", user, after={"locked_until": user.locked_until})
    else:
        audit.record(user, action, user, after={"failed_login_count": user.failed_login_count})


def begin_sign_in(email: str) -> User | None:
    """Count a password attempt for the account (see `claim_attempt`); None if there is no such account."""
    user = find_user_by_email(email)
    if user is None or not user.is_active_flag:
        return None
    claim_attempt(user, field="email")
    return user


def authenticate(email: str, password: str) -> User:
    """The user if the password is right. Call `begin_sign_in` (and commit) first: it counts the attempt."""
    user = find_user_by_email(email)
    if user is None or not user.is_active_flag:
        verify_password(None, password)
        raise LoginRefused("Enter a correct email address and password", field="email")
    if not verify_password(user.password_hash, password):
        _attempt_failed(user, "login.failed")
        raise LoginRefused("Enter a correct email address and password", field="email")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_password(user: User, password: str, field: str = "password") -> None:
    """Someone signed in proves their password again before a sensitive change. Call `claim_attempt`
    (and commit) first: a wrong password counts toward the same lock as a wrong sign-in, so a session
    someone else has taken cannot be used to guess it."""
    if not verify_password(user.password_hash, password or ""):
        _attempt_failed(user, "password_confirmation.failed")
        raise DomainError(
            "Your password is not correct" if field == "password" else "Your current password is not correct",
            field=field,
        )
    user.failed_login_count = 0


def complete_login(user: User) -> None:
    """Record a finished sign-in (after the second factor, where there is one): the count starts again."""
    user.last_login_at = utcnow()
    user.failed_login_count = 0
    user.locked_until = None
    audit.record(user, "login.succeeded", user)


def end_all_sessions(user: User, reason: str) -> None:
    """Invalidate every copy of every session cookie for this user."""
    user.session_version += 1
    audit.record(user, reason, user, after={"session_version": user.session_version})


# --- one-time tokens -----------------------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"vigtrain.{purpose}")


def make_token(user: User, purpose: str) -> str:
    """A signed token bound to the user's security stamp; rotating the stamp spends it."""
    return token_for(user.id, user.security_stamp, purpose)


def token_for(user_id: int, security_stamp: str, purpose: str) -> str:
    """`make_token` for an account written in bulk, known by its id and stamp rather than an object."""
    return _serializer(purpose).dumps({"u": user_id, "s": security_stamp})


def user_for_token(token: str, purpose: str) -> User:
    max_age = {
        INVITATION: current_app.config["INVITATION_MAX_AGE"],
        PASSWORD_RESET: current_app.config["PASSWORD_RESET_MAX_AGE"],
    }[purpose]
    try:
        data = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise TokenInvalid("This link has expired. Ask for a new one.") from None
    except BadSignature:
        raise TokenInvalid("This link is not valid. Check you copied all of it.") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise TokenInvalid("This link is not valid. Check you copied all of it.")
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active_flag or not hmac.compare_digest(user.security_stamp, str(data.get("s"))):
        raise TokenInvalid("This link has already been used or is no longer valid. Ask for a new one.")
    if purpose == INVITATION and user.has_password:
        raise TokenInvalid("This invitation has already been accepted. Sign in instead.")
    return user


def _set_password(user: User, password: str) -> None:
    problem = password_problem(password, user.email)
    if problem:
        raise DomainError(problem, field="password")
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.security_stamp = new_security_stamp()
    user.session_version += 1
    user.failed_login_count = 0
    user.locked_until = None


# --- invitations ---------------------------------------------------------------------------------


@dataclass
class Invitation:
    user: User | None
    link_sent: bool


def invite_user(
    actor: User,
    email: str,
    display_name: str,
    roles: set[Role],
    service: Service | None,
    accept_url: Callable[[str], str],
) -> Invitation:
    """Create an invited account and email a link to set its password.

    An address that already has an account gets an email saying so instead, and the caller shows
    the same confirmation either way.
    """
    email = normalise_email(email)
    existing = find_user_by_email(email)
    if existing is not None:
        send_email(
            email,
            "You already have a vigtrain account",
            f"Hello {existing.display_name},\n\nSomeone at AVIGuk tried to invite this address to "
            "vigtrain, but you already have an account. Sign in as usual, or reset your password "
            "from the sign-in page if you have forgotten it.\n",
        )
        audit.record(actor, "user.invitation_to_existing", existing)
        return Invitation(user=None, link_sent=False)
    if not roles:
        raise DomainError("Select at least one role", field="roles")
    user = User(
        email=email,
        display_name=display_name.strip(),
        service=service,
        invited_at=utcnow(),
        security_stamp=new_security_stamp(),
    )
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    _send_invitation(user, accept_url(make_token(user, INVITATION)))
    audit.record(actor, "user.invited", user, after=user_snapshot(user))
    return Invitation(user=user, link_sent=True)


def invitation_message(email: str, display_name: str, link: str) -> tuple[str, str, str]:
    """The invitation email (address, subject, body): one wording for a single invitation and an import."""
    days = current_app.config["INVITATION_MAX_AGE"].days
    return (
        email,
        "You have been invited to vigtrain",
        f"Hello {display_name},\n\nYou have been invited to vigtrain, the VIG training "
        f"record for AVIGuk. Set your password to start:\n\n{link}\n\n"
        f"The link works once and expires in {days} days.\n",
    )


def _send_invitation(user: User, link: str) -> None:
    send_email(*invitation_message(user.email, user.display_name, link))


def resend_invitation(actor: User, user: User, accept_url: Callable[[str], str]) -> None:
    if user.is_erased:
        raise DomainError("This person's data was erased: invite them again as a new person")
    if user.has_password:
        raise DomainError("This person has already accepted their invitation")
    user.security_stamp = new_security_stamp()  # the previous link stops working
    user.invited_at = utcnow()
    _send_invitation(user, accept_url(make_token(user, INVITATION)))
    audit.record(actor, "user.invitation_resent", user)


def accept_invitation(user: User, password: str) -> None:
    _set_password(user, password)
    audit.record(user, "user.invitation_accepted", user)


# --- password reset and change ------------------------------------------------------------------


def request_password_reset(email: str, reset_url: Callable[[str], str]) -> None:
    """Email a reset link if the address has an active account; do nothing visible otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.is_active_flag:
        return
    if not user.has_password:
        # Not yet accepted: a fresh invitation is what they need.
        audit.record(None, "user.reset_requested_before_invitation_accepted", user)
        return
    minutes = int(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 60)
    send_email(
        user.email,
        "Reset your vigtrain password",
        f"Hello {user.display_name},\n\nUse this link to choose a new password:\n\n"
        f"{reset_url(make_token(user, PASSWORD_RESET))}\n\nThe link works once and expires in "
        f"{minutes} minutes. If you did not ask for this, you can ignore this email.\n",
    )
    audit.record(None, "user.password_reset_requested", user)


def reset_password(user: User, password: str) -> None:
    _set_password(user, password)
    audit.record(user, "user.password_reset", user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password; the current one is checked first by `check_password` (counted)."""
    if current_password == new_password:
        raise DomainError("Choose a password different from your current one", field="password")
    _set_password(user, new_password)
    audit.record(user, "user.password_changed", user)


def update_own_details(user: User, display_name: str) -> None:
    before = user_snapshot(user)
    user.display_name = display_name.strip()
    audit.record(user, "user.details_changed", user, before=before, after=user_snapshot(user))


# --- administration -----------------------------------------------------------------------------


def update_account(
    actor: User, user: User, display_name: str, roles: set[Role], service: Service | None, active: bool
) -> None:
    if actor.id == user.id:
        raise DomainError("You cannot change your own roles or deactivate yourself; ask another administrator")
    if not roles:
        raise DomainError("Select at least one role", field="roles")
    before = user_snapshot(user)
    user.display_name = display_name.strip()
    user.set_roles(roles)
    user.service = service
    set_active(user, active)
    after = user_snapshot(user)
    if after != before:
        audit.record(actor, "user.updated", user, before=before, after=after)


def set_active(user: User, active: bool) -> None:
    """Turn an account on or off; one turned off is signed out everywhere at once (the caller audits)."""
    if user.is_active_flag and not active:
        user.session_version += 1
        user.deactivated_at = utcnow()
    elif active:
        user.deactivated_at = None
    user.is_active_flag = active


def appoint_service_lead(actor: User, person: User, service: Service) -> None:
    """Make someone who works at `service` one of its leads (they then read its reports and its
    staff's training progress)."""
    if actor.id == person.id:
        raise DomainError("You cannot change your own roles; ask another administrator", field="person")
    if not person.is_active_flag or person.service_id != service.id:
        raise DomainError(f"Choose someone whose account is active and who works at {service.name}", field="person")
    if person.has_role(Role.SERVICE_LEAD):
        raise DomainError(f"{person.display_name} is already a service lead", field="person")
    before = user_snapshot(person)
    person.set_roles(set(person.roles) | {Role.SERVICE_LEAD})
    audit.record(actor, "user.service_lead_appointed", person, before=before, after=user_snapshot(person))


def stand_down_service_lead(actor: User, person: User) -> None:
    """Take the service lead role away (the account and its other roles stay)."""
    if actor.id == person.id:
        raise DomainError("You cannot change your own roles; ask another administrator")
    if not person.has_role(Role.SERVICE_LEAD):
        raise DomainError(f"{person.display_name} is not a service lead")
    before = user_snapshot(person)
    person.set_roles(set(person.roles) - {Role.SERVICE_LEAD})
    audit.record(actor, "user.service_lead_stood_down", person, before=before, after=user_snapshot(person))


def service_leads(service: Service) -> list[User]:
    """The active leads of a service, by name."""
    return list(db.session.scalars(role_holders(Role.SERVICE_LEAD).where(User.service_id == service.id)))


def unlock_account(actor: User, user: User) -> None:
    before = {"locked_until": user.locked_until}
    user.locked_until = None
    user.failed_login_count = 0
    audit.record(actor, "user.unlocked", user, before=before, after={"locked_until": None})


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def invited_count() -> int:
    """Active accounts whose invitation has not been accepted yet (no password set)."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.password_hash.is_(None), User.is_active_flag)
    )


@members_counted.connect
def count_service_members(_sender: object) -> dict[int, int]:
    """People per service, by service id, for the list of services."""
    rows = db.session.execute(
        select(User.service_id, func.count()).where(User.service_id.is_not(None)).group_by(User.service_id)
    )
    return dict(rows.tuples().all())


# --- second factor ------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["TOTP_ISSUER"])


def _totp_counter(secret: str, code: str, at: datetime) -> int | None:
    """The time-step the code belongs to (allowing one step of clock drift), or None."""
    totp = pyotp.TOTP(secret)
    code = code.replace(" ", "")
    for drift in (0, -1, 1):
        moment = at.timestamp() + drift * totp.interval
        # Compared as UTF-8 bytes: compare_digest refuses text that is not ASCII ("²²²²²²" is digits too).
        if hmac.compare_digest(totp.at(moment).encode(), code.encode()):
            return int(moment // totp.interval)
    return None


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes = [RecoveryCode(code_digest=_digest(code)) for code in codes]
    return codes


def enable_second_factor(user: User, secret: str, code: str) -> list[str]:
    """Turn on TOTP once the person proves their app shows the right code; returns recovery codes."""
    counter = _totp_counter(secret, code, utcnow())
    if counter is None:
        raise DomainError("The code is not correct. Check the time on your phone and try the newest code", field="code")
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_counter = counter
    codes = _new_recovery_codes(user)
    audit.record(user, "user.second_factor_enabled", user)
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    audit.record(user, "user.recovery_codes_regenerated", user)
    return codes


def verify_second_factor(user: User, code: str) -> str:
    """Accept a current TOTP code or an unused recovery code, each once; returns which was used.

    Call `claim_attempt` (and commit) first. Each code is consumed by a conditional UPDATE, so two
    sign-ins sending the same code at the same moment cannot both succeed.
    """
    code = (code or "").strip()
    if user.totp_secret and code.replace(" ", "").isdigit():
        counter = _totp_counter(user.totp_secret, code, utcnow())
        # Refuse a replay of a code already used in this or an earlier time-step.
        if counter is not None and _consume_totp_step(user, counter):
            return "totp"
    digest = _digest(code)
    for recovery in user.recovery_codes:
        if hmac.compare_digest(recovery.code_digest, digest) and _consume_recovery_code(recovery):
            audit.record(user, "user.recovery_code_used", user)
            return "recovery"
    _attempt_failed(user, "login.second_factor_failed")
    raise DomainError("The code is not correct", field="code")


def _consume_totp_step(user: User, counter: int) -> bool:
    used = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter))
        .values(totp_last_counter=counter)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user, ["totp_last_counter"])
    return bool(used)


def _consume_recovery_code(recovery: RecoveryCode) -> bool:
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == recovery.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(recovery, ["used_at"])
    return bool(used)


def remaining_recovery_codes(user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)


def disable_second_factor(actor: User, user: User) -> None:
    """Remove TOTP (the holder, or an administrator when a phone is lost)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    user.recovery_codes = []
    user.session_version += 1
    audit.record(actor, "user.second_factor_disabled", user)
