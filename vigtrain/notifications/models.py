"""The outbox: every message vigtrain sends, and the held ones when no SMTP server is set."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.encryption import EncryptedString
from vigtrain.extensions import db, str_enum


class OutboxStatus(enum.StrEnum):
    HELD = "held"  # no SMTP configured: readable by administrators in the app
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    # Cleared once sent: message bodies carry one-time links that should not outlive delivery, and
    # encrypted until then, so a copy of the database holds no working link.
    body: Mapped[str | None] = mapped_column(EncryptedString())
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, 10))
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
