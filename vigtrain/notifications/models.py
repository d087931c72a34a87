"""The outbox (every email vigtrain sends, held when no SMTP server is set), notifications in the app,
and how each person chooses to hear of each kind."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.encryption import EncryptedString
from vigtrain.extensions import db, str_enum

if TYPE_CHECKING:
    from vigtrain.accounts.models import User


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


class NotificationKind(enum.StrEnum):
    """What a notification is about; each person chooses, per kind, how they hear of it."""

    SUPERVISION_LAPSED = "supervision_lapsed"
    SESSION_UNCONFIRMED = "session_unconfirmed"
    STAGE_WAITING = "stage_waiting"
    ESCALATION = "escalation"
    POST_MEASURE_DUE = "post_measure_due"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    STAGE_UPDATE = "stage_update"
    CERTIFICATE_UPDATE = "certificate_update"
    RENEWAL_REQUESTED = "renewal_requested"
    RISK_ALERT = "risk_alert"

    @property
    def label(self) -> str:
        return KIND_LABELS[self][0]

    @property
    def hint(self) -> str:
        return KIND_LABELS[self][1]

    @property
    def audience(self) -> tuple[str, ...]:
        return KIND_AUDIENCE[self]

    @property
    def default_delivery(self) -> Delivery:
        return KIND_DEFAULTS.get(self, Delivery.IMMEDIATE)

    @property
    def chosen_by_person(self) -> bool:
        """Risk-item alerts are safeguarding: always emailed at once, whatever a person prefers."""
        return self is not NotificationKind.RISK_ALERT


class Delivery(enum.StrEnum):
    IMMEDIATE = "immediate"  # in the app, and emailed at once
    DIGEST = "digest"  # in the app, and gathered into one email a week
    APP = "app"  # in the app only

    @property
    def label(self) -> str:
        return DELIVERY_LABELS[self]


class EmailState(enum.StrEnum):
    SENT = "sent"  # emailed at once (put in the outbox with the notification)
    DIGEST = "digest"  # waiting for the weekly digest
    DIGESTED = "digested"  # sent in a digest
    NONE = "none"  # in the app only


KIND_LABELS = {
    NotificationKind.SUPERVISION_LAPSED: (
        "No confirmed supervision for a while",
        "When a trainee (you, or one you supervise) has had no confirmed supervision for some weeks.",
    ),
    NotificationKind.SESSION_UNCONFIRMED: (
        "Sessions waiting for your confirmation",
        "When a supervision session logged with you has waited a week for you to confirm it.",
    ),
    NotificationKind.STAGE_WAITING: (
        "Stages waiting for you",
        "When a stage has waited two weeks for your sign-off, accreditation meeting or ratification.",
    ),
    NotificationKind.ESCALATION: (
        "Overdue items (administrators)",
        "Sessions unconfirmed and stages waiting well past their reminder.",
    ),
    NotificationKind.POST_MEASURE_DUE: (
        "Outcome measures due",
        "When a case's post measure is due: the pre measure is 12 weeks old, or the case closed without one.",
    ),
    NotificationKind.CERTIFICATE_EXPIRING: (
        "Accreditation expiring",
        "90 and 30 days before your accreditation expires, with what renewal needs.",
    ),
    NotificationKind.STAGE_UPDATE: (
        "Stage sign-off steps",
        "When a stage is submitted to you, returned, accredited or ratified, or you are asked to accredit one.",
    ),
    NotificationKind.CERTIFICATE_UPDATE: (
        "Your certificates",
        "When a certificate is issued to you, renewed, reissued or revoked.",
    ),
    NotificationKind.RENEWAL_REQUESTED: (
        "Renewal requests (administrators)",
        "When an accredited practitioner asks AVIGuk to renew their accreditation.",
    ),
    NotificationKind.RISK_ALERT: (
        "Risk items answered",
        "Always emailed at once: a risk item calls for your service's safeguarding procedure.",
    ),
}

# Who may be told of each kind (role values): the settings page offers only these.
KIND_AUDIENCE = {
    NotificationKind.SUPERVISION_LAPSED: ("trainee", "supervisor"),
    NotificationKind.SESSION_UNCONFIRMED: ("supervisor",),
    NotificationKind.STAGE_WAITING: ("supervisor", "accrediting_supervisor", "administrator"),
    NotificationKind.ESCALATION: ("administrator",),
    NotificationKind.POST_MEASURE_DUE: ("practitioner", "trainee"),
    NotificationKind.CERTIFICATE_EXPIRING: ("practitioner",),
    NotificationKind.STAGE_UPDATE: ("trainee", "supervisor", "accrediting_supervisor"),
    NotificationKind.CERTIFICATE_UPDATE: ("practitioner", "trainee"),
    NotificationKind.RENEWAL_REQUESTED: ("administrator",),
    NotificationKind.RISK_ALERT: ("practitioner", "trainee", "supervisor"),
}

KIND_DEFAULTS = {NotificationKind.ESCALATION: Delivery.DIGEST, NotificationKind.RENEWAL_REQUESTED: Delivery.DIGEST}

DELIVERY_LABELS = {
    Delivery.IMMEDIATE: "Email me at once",
    Delivery.DIGEST: "Gather them into a weekly email",
    Delivery.APP: "Only show them in vigtrain",
}


class Notification(db.Model):
    """One thing one person should know or do, shown in the app and (by preference) emailed.

    Unique per recipient, kind, subject and period: whatever runs twice, at once or again, the
    second insert finds the row there and nothing is sent twice.
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("recipient_id", "kind", "subject", "period", name="uq_notification_key"),
        Index("ix_notification_recipient_unread", "recipient_id", "read_at", "id"),
        Index("ix_notification_email_state", "email_state", "recipient_id"),
        Index("ix_notification_subject", "subject", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    # What it is about ("session:12") and which occasion ("7-days", "2026-W49"): together the key.
    subject: Mapped[str] = mapped_column(String(120))
    period: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # A path inside vigtrain ("/supervision/sessions/12"), never a full address.
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_state: Mapped[EmailState] = mapped_column(str_enum(EmailState, 10))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recipient: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class NotificationPreference(db.Model):
    """How one person wants to hear of one kind (no row: the kind's default)."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind), primary_key=True)
    delivery: Mapped[Delivery] = mapped_column(str_enum(Delivery, 10))
