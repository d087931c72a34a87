"""Sending email: every message goes through the outbox table, then SMTP if one is configured."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import func, insert, select

from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger("vigtrain.email")

MAX_ATTEMPTS = 5


class EmailSender:
    """Delivers outbox messages over SMTP with the MAIL_* settings."""

    def __init__(self, config: dict) -> None:
        self.server = config["MAIL_SERVER"]
        self.port = config["MAIL_PORT"]
        self.username = config["MAIL_USERNAME"]
        self.password = config["MAIL_PASSWORD"]
        self.use_tls = config["MAIL_USE_TLS"]
        self.use_ssl = config["MAIL_USE_SSL"]
        self.timeout = config["MAIL_TIMEOUT"]
        self.sender = config["MAIL_FROM"]

    @property
    def configured(self) -> bool:
        return bool(self.server)

    def build(self, message: OutboxMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to_address
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain="vigtrain")
        email.set_content(message.body or "")
        return email

    def send(self, message: OutboxMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        with smtp_class(self.server, self.port, timeout=self.timeout) as smtp:
            if self.use_tls and not self.use_ssl:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(self.build(message))


def email_sender() -> EmailSender:
    return EmailSender(current_app.config)


def _outbox_status() -> OutboxStatus:
    return OutboxStatus.QUEUED if email_sender().configured else OutboxStatus.HELD


def _one_line(subject: str) -> str:
    """A subject on one line, whatever a name in it held: a line break would start a header of its own."""
    return " ".join(subject.split())


def send_email(to_address: str, subject: str, body: str) -> OutboxMessage:
    """Put a message in the outbox; it is delivered after the transaction commits."""
    message = OutboxMessage(to_address=to_address, subject=_one_line(subject), body=body, status=_outbox_status())
    db.session.add(message)
    db.session.flush()
    db.session.info["outbox_pending"] = True
    return message


def send_emails(messages: Sequence[tuple[str, str, str]]) -> int:
    """Put several (address, subject, body) messages in the outbox in one executemany; returns how many."""
    if not messages:
        return 0
    status = _outbox_status()
    db.session.execute(
        insert(OutboxMessage),
        [
            {"to_address": to_address, "subject": _one_line(subject), "body": body, "status": status}
            for to_address, subject, body in messages
        ],
    )
    db.session.info["outbox_pending"] = True
    return len(messages)


def deliver_outbox(limit: int = 50) -> int:
    """Send queued messages; returns how many were sent. Flushes; the caller commits."""
    sender = email_sender()
    if not sender.configured:
        return 0
    pending = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED).order_by(OutboxMessage.id).limit(limit)
    ).all()
    sent = 0
    for message in pending:
        message.attempts += 1
        try:
            sender.send(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("email %r to outbox id %s failed: %s", message.subject, message.id, exc)
            message.last_error = str(exc)[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
            continue
        except ValueError as exc:  # a message that can never be built (a bad header): not worth retrying
            log.warning("email %r to outbox id %s cannot be sent: %s", message.subject, message.id, exc)
            message.last_error = str(exc)[:500]
            message.status = OutboxStatus.FAILED
            continue
        message.status = OutboxStatus.SENT
        message.sent_at = utcnow()
        message.body = None
        message.last_error = None
        sent += 1
    db.session.flush()
    return sent


def held_count() -> int:
    """Messages held in the outbox because no mail server is configured: administrators read them."""
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.HELD)
    )
