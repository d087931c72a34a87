"""Running a reminder rule as the job runner does, and reading back what it told whom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from vigtrain import transactions
from vigtrain.accounts.models import User
from vigtrain.extensions import db
from vigtrain.notifications import inbox
from vigtrain.notifications.models import Delivery, Notification, NotificationKind, OutboxMessage


@dataclass(frozen=True)
class Told:
    email: str
    kind: NotificationKind
    subject: str
    period: str
    title: str
    link: str | None
    body: str


def run(rule: Callable[[date], int], day: date) -> int:
    """The rule for `day` in one transaction, committed, as the job runner runs it."""
    return transactions.run(lambda: rule(day))


def told(kind: NotificationKind | None = None) -> list[Told]:
    """Every notification (of `kind`): by subject, then recipient, then oldest first (a batch goes in key order)."""
    db.session.rollback()
    query = (
        select(Notification).join(Notification.recipient).order_by(Notification.subject, User.email, Notification.id)
    )
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return [
        Told(n.recipient.email, n.kind, n.subject, n.period, n.title, n.link, n.body) for n in db.session.scalars(query)
    ]


def recipients(kind: NotificationKind | None = None) -> list[str]:
    return sorted(item.email for item in told(kind))


def notification_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Notification))


def emails_to(address: str) -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == address)))


def prefer(user: User, kind: NotificationKind, delivery: Delivery) -> None:
    inbox.set_preferences(user, {kind: delivery})
    db.session.commit()


def counting_notify(monkeypatch) -> list[tuple]:
    """Record every key handed to `inbox.tell_all` (still told): a rule that skips told keys in SQL
    hands it none."""
    calls: list[tuple] = []
    real = inbox.tell_all

    def spy(tells):
        tells = list(tells)
        calls.extend((tell.recipient.email, tell.kind, tell.subject, tell.period) for tell in tells)
        return real(tells)

    monkeypatch.setattr(inbox, "tell_all", spy)
    return calls
