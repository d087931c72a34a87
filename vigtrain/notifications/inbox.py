"""Notifications: one row per thing a person should know, shown in the app and emailed by preference.

`tell_all` is the one way any domain tells people something (`notify` and `notify_each` are its
one-person and one-message forms). It inserts with the database's "insert unless that key exists"
(ON CONFLICT DO NOTHING on SQLite and PostgreSQL), so the same reminder made twice — a job run
again, two schedulers at once, a retried request — is stored and emailed once: the second insert,
waiting on the first, finds the key and does nothing. Email goes through the outbox in the same
transaction, so a rollback takes the email back too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from vigtrain import audit
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.links import public_url
from vigtrain.notifications.models import (
    Delivery,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from vigtrain.notifications.services import send_email, send_emails

if TYPE_CHECKING:
    from vigtrain.accounts.models import User

KEY_COLUMNS = ("recipient_id", "kind", "subject", "period")
EMAIL_STATE = {Delivery.IMMEDIATE: EmailState.SENT, Delivery.DIGEST: EmailState.DIGEST, Delivery.APP: EmailState.NONE}
MAX_TITLE = 200
# People per preferences query: an IN list well under SQLite's 32,766 bound parameters.
BATCH = 500


def delivery_for(user_id: int, kind: NotificationKind) -> Delivery:
    """How this person hears of this kind: their choice, else the kind's default (risk: always email)."""
    return _deliveries([(user_id, kind)])[(user_id, kind)]


def preferences(user: User) -> dict[NotificationKind, Delivery]:
    """Every kind a person may choose for, with what they chose (or its default)."""
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {kind: chosen.get(kind, kind.default_delivery) for kind in NotificationKind if kind.chosen_by_person}


def set_preferences(user: User, choices: dict[NotificationKind, Delivery]) -> list[NotificationKind]:
    """Save a person's choices, audited; returns the kinds that changed. Flushes."""
    current = preferences(user)
    changed = [kind for kind, delivery in choices.items() if kind.chosen_by_person and current[kind] != delivery]
    if changed:
        audit.record(
            user,
            "notifications.preferences_changed",
            ("User", user.id),
            before={kind.value: current[kind].value for kind in changed},
            after={kind.value: choices[kind].value for kind in changed},
        )
    for kind in changed:
        row = db.session.get(NotificationPreference, (user.id, kind))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=choices[kind]))
        else:
            row.delivery = choices[kind]
    db.session.flush()
    return changed


@dataclass(frozen=True)
class Tell:
    """One thing to tell one person: the key (recipient, kind, subject, period) and what to say."""

    recipient: User
    kind: NotificationKind
    subject: str
    period: str
    title: str
    body: str
    link: str | None = None

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.recipient.id, self.kind.value, self.subject, self.period)


def _deliveries(wanted: Iterable[tuple[int, NotificationKind]]) -> dict[tuple[int, NotificationKind], Delivery]:
    """How each (person, kind) is told: the person's choice, else the kind's default; a kind nobody
    may choose for (risk alerts) always by email at once. Read a few hundred people per query."""
    wanted = set(wanted)
    people = sorted({user_id for user_id, _kind in wanted})
    chosen: dict[tuple[int, NotificationKind], Delivery] = {}
    for start in range(0, len(people), BATCH):
        rows = db.session.execute(
            select(NotificationPreference.user_id, NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id.in_(people[start : start + BATCH])
            )
        )
        chosen.update({(user_id, kind): delivery for user_id, kind, delivery in rows})
    return {
        (user_id, kind): chosen.get((user_id, kind), kind.default_delivery)
        if kind.chosen_by_person
        else Delivery.IMMEDIATE
        for user_id, kind in wanted
    }


def _insert_new(rows: list[dict]) -> set[tuple[int, str, str, str]]:
    """Insert the rows whose key is not there yet; the keys that were inserted.

    One statement compiled once for the whole list: the database's "insert many values" sends the
    rows in batches and RETURNING names only those it inserted.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Notification.__table__
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(KEY_COLUMNS))
        .returning(table.c.recipient_id, table.c.kind, table.c.subject, table.c.period)
    )
    inserted = db.session.connection().execute(statement, rows).all()
    return {(recipient, str(kind), subject, period) for recipient, kind, subject, period in inserted}


def _email_text(recipient: User, body: str, link: str | None, settings_url: str) -> str:
    lines = [f"Hello {recipient.display_name},", "", body]
    if link:
        lines += ["", f"Open it in vigtrain: {current_app.config['BASE_URL']}{link}"]
    lines += ["", f"Choose how vigtrain tells you about things: {settings_url}"]
    return "\n".join(lines) + "\n"


def tell_all(tells: Iterable[Tell]) -> list[Tell]:
    """Tell each person once per key, in the app and by email as they prefer; returns those newly told.

    A key already used (told before, or twice in `tells`) and a person who cannot sign in are
    skipped. Rows go in key order, so two runs at once on PostgreSQL wait for each other rather
    than deadlock. Flushes.
    """
    unique: dict[tuple[int, str, str, str], Tell] = {}
    for tell in tells:
        if tell.recipient.is_active_flag:
            unique.setdefault(tell.key, tell)
    ordered = [unique[key] for key in sorted(unique)]
    if not ordered:
        return []
    deliveries = _deliveries((tell.recipient.id, tell.kind) for tell in ordered)
    now = utcnow()
    rows = []
    for tell in ordered:
        delivery = deliveries[(tell.recipient.id, tell.kind)]
        rows.append(
            {
                "recipient_id": tell.recipient.id,
                "kind": tell.kind,
                "subject": tell.subject,
                "period": tell.period,
                "title": " ".join(tell.title.split())[:MAX_TITLE],
                "body": tell.body,
                "link": tell.link,
                "created_at": now,
                "email_state": EMAIL_STATE[delivery],
                "emailed_at": now if delivery is Delivery.IMMEDIATE else None,
            }
        )
    inserted = _insert_new(rows)
    told = [tell for tell in ordered if tell.key in inserted]
    settings_url = public_url("inbox.preferences")
    send_emails(
        [
            (tell.recipient.email, tell.title, _email_text(tell.recipient, tell.body, tell.link, settings_url))
            for tell in told
            if deliveries[(tell.recipient.id, tell.kind)] is Delivery.IMMEDIATE
        ]
    )
    return told


def notify(
    recipient: User,
    kind: NotificationKind,
    subject: str,
    period: str,
    title: str,
    body: str,
    link: str | None = None,
) -> Notification | None:
    """Tell `recipient` once for this key: in the app, and by email as they prefer. Flushes.

    Returns the new notification, or None if this key was already used or the person cannot sign in.
    `link` is a path inside vigtrain (from `path_for`), where the thing to do is.
    """
    if not tell_all([Tell(recipient, kind, subject, period, title, body, link)]):
        return None
    return db.session.scalar(
        select(Notification).where(
            Notification.recipient_id == recipient.id,
            Notification.kind == kind,
            Notification.subject == subject,
            Notification.period == period,
        )
    )


def notify_each(
    recipients: Iterable[User], kind: NotificationKind, subject: str, period: str, title: str, body: str, link: str
) -> int:
    """`notify` for several people (each once); returns how many were newly told."""
    return len(tell_all(Tell(recipient, kind, subject, period, title, body, link) for recipient in recipients))


# --- reading them --------------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    )


def inbox_query(user: User, unread_only: bool = False):
    """A person's notifications, newest first (for paging)."""
    query = select(Notification).where(Notification.recipient_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.id.desc())


def mark_read(notification: Notification, now: datetime | None = None) -> bool:
    """Mark one read; True if it was unread. Flushes."""
    if notification.read_at is not None:
        return False
    notification.read_at = now or utcnow()
    db.session.flush()
    return True


def mark_all_read(user: User, up_to_id: int | None = None) -> int:
    """Mark every unread notification read (up to the newest the person saw, so one that arrives
    while they read the page stays unread); returns how many. Flushes."""
    statement = update(Notification).where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    if up_to_id is not None:
        statement = statement.where(Notification.id <= up_to_id)
    return db.session.execute(statement.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def settle(subject: str, kinds: Sequence[NotificationKind]) -> int:
    """Mark read everyone's unread notifications of these kinds about `subject`: it has been done (a
    session confirmed, a stage moved on), so nobody need open them. Flushes."""
    return db.session.execute(
        update(Notification)
        .where(
            Notification.subject == subject,
            Notification.kind.in_(kinds),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


# --- the weekly digest -----------------------------------------------------------------------------------


def send_digests(now: datetime | None = None) -> int:
    """One email per person gathering their notifications waiting for the digest; returns how many
    emails. Items already read in the app are not emailed. Flushes; each item is marked as digested
    in the same transaction as its email, so a second run finds nothing to send."""
    now = now or utcnow()
    waiting = db.session.scalars(
        select(Notification)
        .where(Notification.email_state == EmailState.DIGEST)
        .order_by(Notification.recipient_id, Notification.id)
    ).all()
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for notification in waiting:
        by_person[notification.recipient_id].append(notification)
    sent = 0
    for items in by_person.values():
        unread = [item for item in items if item.read_at is None]
        for item in items:
            item.email_state = EmailState.DIGESTED
            item.emailed_at = now if unread else None
        person = items[0].recipient
        if not unread or not person.is_active_flag:
            continue
        send_email(person.email, _digest_subject(len(unread)), _digest_text(person, unread))
        sent += 1
    db.session.flush()
    return sent


def _digest_subject(count: int) -> str:
    return f"vigtrain: {count} thing{'s' if count != 1 else ''} from this week"


def _digest_text(person: User, items: Sequence[Notification]) -> str:
    base = current_app.config["BASE_URL"]
    lines = [f"Hello {person.display_name},", "", "Here is what vigtrain gathered for you this week:", ""]
    for item in items:
        lines.append(f"- {item.title}")
        if item.link:
            lines.append(f"  {base}{item.link}")
    lines += [
        "",
        f"See them all: {public_url('inbox.list_notifications')}",
        f"Choose how vigtrain tells you about things: {public_url('inbox.preferences')}",
    ]
    return "\n".join(lines) + "\n"
