"""Personal access tokens: how other systems call the JSON API on a person's behalf."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.accounts.models import User
from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db

# What a token may be used for, in the order pages list them. A scope only narrows what the token
# can do: the API still asks the same permission questions as the pages, so a scope beyond the
# owner's roles grants nothing.
SCOPES: dict[str, str] = {
    "cases:read": "Read cases and their outcome figures, as you can on the Cases pages",
    "cases:write": "Add cases and record outcome measures on your own cases",
    "supervision:read": "Read the supervision sessions you can see: your own log, or your trainees' logs",
    "supervision:write": "Log your own supervision sessions, and confirm sessions you supervised",
    "enrolments:read": "Read progress on the training enrolments you can see",
}


class TokenStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class PersonalAccessToken(db.Model):
    """A bearer token for the API. Only a SHA-256 digest of it is kept; the token itself is shown once."""

    __tablename__ = "personal_access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The first characters after the "vgt_" marker, so people can tell their tokens apart in lists
    # and in their own systems' settings; too short to help anyone guess the rest.
    token_prefix: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the whole token. Tokens are 256 random bits, so a fast unsalted hash is right here:
    # slow password hashing only helps against guessable secrets, and a lookup by digest needs the
    # same digest every time.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Written at most once a minute per token, so busy integrations do not cost a write per request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def __repr__(self) -> str:
        return f"<PersonalAccessToken {self.id} {self.token_prefix} user={self.user_id}>"

    def status(self, now: datetime) -> TokenStatus:
        """A revoked token says so even after it would have expired."""
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        return TokenStatus.EXPIRED if now >= self.expires_at else TokenStatus.ACTIVE
