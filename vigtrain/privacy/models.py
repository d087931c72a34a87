"""The register of erasures: whom AVIGuk erased, under which pseudonym, why, by whom and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.accounts.models import User
from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db


class Erasure(db.Model):
    """One person erased. The reason is kept so AVIGuk can show the erasure was lawful and done."""

    __tablename__ = "erasure"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    pseudonym: Mapped[str] = mapped_column(String(40), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    erased_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    erased_by: Mapped[User | None] = relationship(foreign_keys=[erased_by_id])
