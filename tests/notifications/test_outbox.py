"""Email goes through the outbox: held for administrators without SMTP, sent with it."""

from __future__ import annotations

import smtplib

from sqlalchemy import select

from tests.factories import make_admin, make_user
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage, OutboxStatus


class FakeSMTP:
    sent: list = []
    fail = False

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, username, password):
        pass

    def send_message(self, message):
        if FakeSMTP.fail:
            raise smtplib.SMTPServerDisconnected("connection dropped")
        FakeSMTP.sent.append(message)


def test_without_smtp_messages_are_held_and_readable_by_administrators(client, app):
    make_admin()
    make_user("sam@example.org")
    anonymous = app.test_client()
    anonymous.submit("/password/forgot", {"email": "sam@example.org"})
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.HELD
    client.login("admin@example.org")
    listing = client.get("/admin/outbox/").get_data(as_text=True)
    assert "Reset your vigtrain password" in listing and "held here instead of being sent" in listing
    body = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "/password/reset/" in body


def test_with_smtp_messages_are_sent_after_commit_and_bodies_dropped(client, app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.fail = [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_SERVER="smtp.example.org", MAIL_USERNAME="vigtrain")
    make_user("sam@example.org")
    client.submit("/password/forgot", {"email": "sam@example.org"})
    (sent,) = FakeSMTP.sent
    assert sent["To"] == "sam@example.org"
    assert "/password/reset/" in sent.get_content()
    db.session.expire_all()
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.SENT and message.body is None and message.sent_at


def test_failed_delivery_is_kept_for_retry(client, app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.fail = [], True
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_SERVER="smtp.example.org")
    make_user("sam@example.org")
    response = client.submit("/password/forgot", {"email": "sam@example.org"})
    assert response.status_code == 200
    db.session.expire_all()
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.QUEUED
    assert message.attempts == 1 and "connection dropped" in message.last_error
    assert message.body


def test_trainee_cannot_read_the_outbox(client, app):
    make_user("sam@example.org")
    client.login("sam@example.org")
    assert client.get("/admin/outbox/").status_code == 403


def test_a_line_break_in_a_subject_can_neither_forge_a_header_nor_stall_the_outbox(client, app, monkeypatch):
    from vigtrain import transactions
    from vigtrain.notifications.services import deliver_outbox, send_email

    FakeSMTP.sent, FakeSMTP.fail = [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_SERVER="smtp.example.org")
    queued = transactions.run(lambda: send_email("sam@example.org", "Stage 1\nBcc: eve@example.org", "Hello"))
    assert queued.subject == "Stage 1 Bcc: eve@example.org"
    # One saved before subjects were made one line is refused once, and the queue carries on past it.
    stuck = OutboxMessage(
        to_address="sam@example.org", subject="Old\nBcc: eve@example.org", body="x", status=OutboxStatus.QUEUED
    )
    db.session.add(stuck)
    db.session.add(OutboxMessage(to_address="ann@example.org", subject="After", body="y", status=OutboxStatus.QUEUED))
    db.session.commit()
    transactions.run(deliver_outbox)
    assert [message["Subject"] for message in FakeSMTP.sent] == ["Stage 1 Bcc: eve@example.org", "After"]
    assert all(message["Bcc"] is None for message in FakeSMTP.sent)
    db.session.refresh(stuck)
    assert stuck.status == OutboxStatus.FAILED and stuck.last_error
