"""`notify`: one notification per key whoever asks (twice, at once), emailed as the person chose."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_user
from tests.races.helpers import at_once, row_count
from vigtrain import transactions
from vigtrain.accounts.models import Role, User
from vigtrain.extensions import db
from vigtrain.notifications import inbox
from vigtrain.notifications.models import (
    Delivery,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
)

KIND = NotificationKind.SESSION_UNCONFIRMED


def tell(person: User, subject: str = "session:1", period: str = "7-days", kind: NotificationKind = KIND):
    return transactions.run(
        lambda: inbox.notify(person, kind, subject, period, f"About {subject}", "Please look.", "/supervision/1")
    )


def outbox() -> list[OutboxMessage]:
    db.session.rollback()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def choose(person: User, kind: NotificationKind, delivery: Delivery) -> None:
    db.session.add(NotificationPreference(user_id=person.id, kind=kind, delivery=delivery))
    db.session.commit()


def test_the_same_key_tells_once_and_another_period_tells_again(app):
    supervisor = make_user(roles=(Role.SUPERVISOR,))
    first = tell(supervisor)
    assert first is not None and first.email_state is EmailState.SENT
    assert tell(supervisor) is None
    assert tell(supervisor, period="14-days") is not None
    assert tell(supervisor, subject="session:2") is not None
    assert row_count(Notification) == 3
    [email, *_] = outbox()
    assert len(outbox()) == 3
    assert email.to_address == supervisor.email and email.subject == "About session:1"
    assert "Hello " + supervisor.display_name in email.body
    assert "Open it in vigtrain: http://localhost/supervision/1" in email.body
    assert "http://localhost/notifications/settings" in email.body


def test_people_who_cannot_sign_in_are_not_told(app):
    gone = make_user(roles=(Role.SUPERVISOR,), is_active_flag=False)
    assert tell(gone) is None
    assert row_count(Notification) == 0 and outbox() == []


def test_in_the_app_only_sends_no_email_and_a_digest_waits(app):
    quiet, weekly = make_user(roles=(Role.SUPERVISOR,)), make_user(roles=(Role.SUPERVISOR,))
    choose(quiet, KIND, Delivery.APP)
    choose(weekly, KIND, Delivery.DIGEST)
    assert tell(quiet).email_state is EmailState.NONE
    assert tell(weekly).email_state is EmailState.DIGEST
    assert outbox() == []


def test_risk_alerts_are_emailed_at_once_whatever_was_chosen(app):
    supervisor = make_user(roles=(Role.SUPERVISOR,))
    choose(supervisor, NotificationKind.RISK_ALERT, Delivery.APP)  # a row the settings page never offers
    assert tell(supervisor, kind=NotificationKind.RISK_ALERT).email_state is EmailState.SENT
    assert len(outbox()) == 1


def test_the_weekly_digest_gathers_unread_items_into_one_email_each_and_never_twice(app):
    weekly, other = make_user(roles=(Role.SUPERVISOR,)), make_user(roles=(Role.SUPERVISOR,))
    for person in (weekly, other):
        choose(person, KIND, Delivery.DIGEST)
    for number in (1, 2, 3):
        tell(weekly, subject=f"session:{number}")
    already_read = tell(other, subject="session:9")
    transactions.run(lambda: inbox.mark_read(db.session.get(Notification, already_read.id)))

    assert transactions.run(inbox.send_digests) == 1
    [digest] = outbox()
    assert digest.to_address == weekly.email and digest.subject == "vigtrain: 3 things from this week"
    assert all(f"About session:{number}" in digest.body for number in (1, 2, 3))
    assert "http://localhost/notifications" in digest.body
    states = db.session.scalars(select(Notification.email_state)).all()
    assert set(states) == {EmailState.DIGESTED}
    assert transactions.run(inbox.send_digests) == 0 and len(outbox()) == 1


def test_settling_marks_everyones_reminders_about_a_thing_read(app):
    supervisor, admin = make_user(roles=(Role.SUPERVISOR,)), make_user(roles=(Role.ADMINISTRATOR,))
    tell(supervisor, subject="session:5")
    tell(admin, subject="session:5", period="14-days", kind=NotificationKind.ESCALATION)
    tell(supervisor, subject="session:6")
    tell(supervisor, subject="session:5", kind=NotificationKind.STAGE_UPDATE)  # another kind: left alone
    settled = transactions.run(
        lambda: inbox.settle("session:5", (NotificationKind.SESSION_UNCONFIRMED, NotificationKind.ESCALATION))
    )
    assert settled == 2
    assert inbox.unread_count(supervisor) == 2 and inbox.unread_count(admin) == 0


def test_mark_all_read_stops_at_the_newest_the_person_saw(app):
    supervisor = make_user(roles=(Role.SUPERVISOR,))
    seen = tell(supervisor, subject="session:1")
    tell(supervisor, subject="session:2")  # arrived after the page was drawn
    assert transactions.run(lambda: inbox.mark_all_read(supervisor, seen.id)) == 1
    assert inbox.unread_count(supervisor) == 1


def test_preferences_default_per_kind_and_changes_are_audited(app):
    from vigtrain.audit import AuditEvent

    admin = make_user(roles=(Role.ADMINISTRATOR,))
    chosen = inbox.preferences(admin)
    assert chosen[NotificationKind.ESCALATION] is Delivery.DIGEST
    assert chosen[NotificationKind.STAGE_WAITING] is Delivery.IMMEDIATE
    assert NotificationKind.RISK_ALERT not in chosen
    changed = transactions.run(
        lambda: inbox.set_preferences(
            admin, {NotificationKind.ESCALATION: Delivery.APP, NotificationKind.STAGE_WAITING: Delivery.IMMEDIATE}
        )
    )
    assert changed == [NotificationKind.ESCALATION]
    assert inbox.delivery_for(admin.id, NotificationKind.ESCALATION) is Delivery.APP
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notifications.preferences_changed"))
    assert event.before == {"escalation": "digest"} and event.after == {"escalation": "app"}


def test_the_same_notification_made_at_once_is_stored_and_emailed_once(app):
    """Two jobs (or two schedulers) telling the same person the same thing at the same moment."""
    supervisor = make_user(roles=(Role.SUPERVISOR,))
    person_id = supervisor.id

    def make() -> bool:
        with app.app_context():
            try:
                person = db.session.get(User, person_id)
                return tell(person) is not None
            finally:
                db.session.remove()

    assert sorted(at_once([make, make, make, make])) == [False, False, False, True]
    assert row_count(Notification) == 1
    assert len(outbox()) == 1
