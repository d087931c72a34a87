"""People who use vigtrain, the roles they hold and their second-factor recovery codes."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.encryption import EncryptedString
from vigtrain.extensions import db, str_enum
from vigtrain.organisations.models import Service


class Role(enum.StrEnum):
    PRACTITIONER = "practitioner"
    TRAINEE = "trainee"
    SUPERVISOR = "supervisor"
    ACCREDITING_SUPERVISOR = "accrediting_supervisor"
    SERVICE_LEAD = "service_lead"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.PRACTITIONER: "Accredited practitioner",
    Role.TRAINEE: "Trainee",
    Role.SUPERVISOR: "Supervisor",
    Role.ACCREDITING_SUPERVISOR: "Accrediting supervisor",
    Role.SERVICE_LEAD: "Service lead",
    Role.ADMINISTRATOR: "AVIGuk administrator",
}

ROLE_HINTS = {
    Role.PRACTITIONER: "Keeps cases and contributes outcome data after accreditation.",
    Role.TRAINEE: "Working through a training pathway.",
    Role.SUPERVISOR: "Supervises trainees and signs off their stages.",
    Role.ACCREDITING_SUPERVISOR: "Can be asked to accredit another supervisor's trainee.",
    Role.SERVICE_LEAD: "Reads their service's outcome reports and its staff's training progress.",
    Role.ADMINISTRATOR: "Manages accounts, ratifies accreditation and issues certificates.",
}


def new_security_stamp() -> str:
    return secrets.token_hex(16)


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(
        str_enum(Role),
        primary_key=True,
    )


class User(UserMixin, db.Model):
    """An account. Email is stored lower-cased so uniqueness ignores case."""

    __tablename__ = "user"
    # Lists of people are by name: a page of them reads the index in order instead of sorting everyone.
    __table_args__ = (Index("ix_user_display_name", "display_name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active_flag: Mapped[bool] = mapped_column("is_active", default=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)

    # Bumped on logout and password change: every copied session cookie then stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Rotated whenever a token is used or the password changes, so each token works once.
    security_stamp: Mapped[str] = mapped_column(String(32), default=new_security_stamp)

    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Encrypted with the data keys: it cannot be hashed, as the server must make the same codes as the phone.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)

    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The practitioner chose to appear in the public register of accredited practitioners.
    register_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The most trainees a supervisor takes on at once (personal supervision plus accreditations in
    # hand); set by administrators, None where nobody has set one.
    trainee_capacity: Mapped[int | None] = mapped_column(Integer)
    # The retention schedule counts from these (vigtrain.privacy): when the account was turned off,
    # and when the person was erased (the row stays, under a pseudonym, for what AVIGuk must keep).
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    service: Mapped[Service | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=UserRole.role
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        lazy="select", cascade="all, delete-orphan", back_populates="user"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.is_active_flag

    def get_id(self) -> str:
        """Session identity carries the session version, so bumping it ends old sessions."""
        return f"{self.id}.{self.session_version}"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    def set_roles(self, roles: set[Role]) -> None:
        keep = [row for row in self.role_rows if row.role in roles]
        have = {row.role for row in keep}
        self.role_rows = keep + [UserRole(role=role) for role in sorted(roles - have)]

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def second_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def status_label(self) -> str:
        if self.erased_at is not None:
            return "Erased"
        if not self.is_active_flag:
            return "Deactivated"
        if not self.has_password:
            return "Invited"
        if self.locked_until is not None and self.locked_until > utcnow():
            return "Locked"
        return "Active"


class RecoveryCode(db.Model):
    """A single-use second-factor recovery code, stored as a SHA-256 digest."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="recovery_codes")
