"""Rule 2: a session waiting for confirmation reminds its supervisor after 7 days (from the UK day it
was logged) and tells every active administrator after 14, each once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.factories import make_supervision
from tests.reminders.helpers import Told, counting_notify, emails_to, prefer, recipients, run, told
from vigtrain import transactions
from vigtrain.dates import UK
from vigtrain.extensions import db
from vigtrain.notifications import inbox
from vigtrain.notifications.models import Delivery, NotificationKind
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.reminders.services import remind_unconfirmed_sessions
from vigtrain.supervision.models import SessionStatus
from vigtrain.supervision.sessions import confirm_session

# Half past midnight on 1 June in British Summer Time is still 31 May in UTC: the UK day counts.
LOGGED = datetime(2026, 6, 1, 0, 30, tzinfo=UK)
REMIND = date(2026, 6, 8)
ESCALATE = date(2026, 6, 15)


def _logged(people, status: SessionStatus = SessionStatus.LOGGED):
    session = make_supervision(people.enrolment, people.supervisor, 1, date(2026, 5, 29), confirmed=False)
    session.status, session.logged_at = status, LOGGED
    db.session.commit()
    return session


def test_the_supervisor_is_reminded_after_seven_days_then_administrators_after_fourteen(people):
    session_id = _logged(people).id
    assert run(remind_unconfirmed_sessions, REMIND - timedelta(days=1)) == 0
    assert told() == []

    assert run(remind_unconfirmed_sessions, REMIND) == 1
    (reminder,) = told()
    assert reminder == Told(
        "sue@example.org",
        NotificationKind.SESSION_UNCONFIRMED,
        f"session:{session_id}",
        "7-days",
        "Session with Ana Silva on 29 May 2026 is waiting for your confirmation",
        f"/supervision/{session_id}",
        reminder.body,
    )
    assert "was logged on 1 June 2026, 7 days ago" in reminder.body
    assert run(remind_unconfirmed_sessions, REMIND) == 0
    assert run(remind_unconfirmed_sessions, REMIND + timedelta(days=1)) == 0

    assert run(remind_unconfirmed_sessions, ESCALATE - timedelta(days=1)) == 0
    assert run(remind_unconfirmed_sessions, ESCALATE) == 2
    escalations = told(NotificationKind.ESCALATION)
    assert sorted(item.email for item in escalations) == [
        "abe@example.org",
        "ada@example.org",
    ]  # not the deactivated one
    for item in escalations:
        assert (item.subject, item.period, item.link) == (
            f"session:{session_id}",
            "14-days",
            f"/supervision/{session_id}",
        )
        assert item.title == "Session with Ana Silva on 29 May 2026 has waited 2 weeks for Sue Supervisor to confirm it"
    assert run(remind_unconfirmed_sessions, ESCALATE) == 0
    assert run(remind_unconfirmed_sessions, ESCALATE + timedelta(days=1)) == 0
    assert len(told()) == 3


def test_a_session_first_found_late_reminds_the_supervisor_and_escalates_at_once(people):
    _logged(people)
    assert run(remind_unconfirmed_sessions, ESCALATE + timedelta(days=5)) == 3
    assert recipients() == ["abe@example.org", "ada@example.org", "sue@example.org"]


def test_confirmed_and_queried_sessions_and_sessions_of_paused_training_are_not_reminded(people):
    session = _logged(people, SessionStatus.CONFIRMED)
    assert run(remind_unconfirmed_sessions, ESCALATE) == 0
    session.status = SessionStatus.QUERIED
    db.session.commit()
    assert run(remind_unconfirmed_sessions, ESCALATE) == 0
    session.status = SessionStatus.LOGGED
    for status in (EnrolmentStatus.PAUSED, EnrolmentStatus.WITHDRAWN, EnrolmentStatus.COMPLETED):
        people.enrolment.status = status
        db.session.commit()
        assert run(remind_unconfirmed_sessions, ESCALATE) == 0
    assert told() == []


def test_a_deactivated_supervisor_is_not_reminded_but_administrators_are_still_told(people):
    _logged(people)
    people.supervisor.is_active_flag = False
    db.session.commit()
    assert run(remind_unconfirmed_sessions, REMIND) == 0
    assert run(remind_unconfirmed_sessions, ESCALATE) == 2
    assert recipients() == ["abe@example.org", "ada@example.org"]


def test_email_follows_each_persons_choice(people):
    _logged(people)
    assert run(remind_unconfirmed_sessions, REMIND) == 1
    (email,) = emails_to("sue@example.org")
    assert email.subject == "Session with Ana Silva on 29 May 2026 is waiting for your confirmation"
    prefer(people.admin, NotificationKind.ESCALATION, Delivery.IMMEDIATE)
    prefer(people.other_admin, NotificationKind.ESCALATION, Delivery.APP)
    assert run(remind_unconfirmed_sessions, ESCALATE) == 2
    assert len(emails_to("ada@example.org")) == 1
    assert emails_to("abe@example.org") == []


def test_a_second_run_asks_nothing_of_the_inbox(people, monkeypatch):
    _logged(people)
    assert run(remind_unconfirmed_sessions, ESCALATE) == 3
    calls = counting_notify(monkeypatch)
    assert run(remind_unconfirmed_sessions, ESCALATE + timedelta(days=2)) == 0
    assert calls == []


def test_sessions_of_an_accredited_practitioners_continuing_record_are_reminded(people):
    """Once ratified, the record carries on for the supervision renewal counts: its sessions wait for
    confirmation like any other."""
    session = _logged(people)
    final = next(record for record in people.enrolment.stages if record.is_final)
    final.state = StageState.RATIFIED
    people.enrolment.status, people.enrolment.completed_on = EnrolmentStatus.COMPLETED, date(2026, 5, 20)
    db.session.commit()
    assert people.enrolment.is_continuing
    assert run(remind_unconfirmed_sessions, REMIND) == 1
    assert told()[0].subject == f"session:{session.id}"


def test_confirming_the_session_settles_its_reminder_and_escalations(people):
    session = _logged(people)
    assert run(remind_unconfirmed_sessions, ESCALATE) == 3
    transactions.run(lambda: confirm_session(people.supervisor, session, session.version))
    assert [inbox.unread_count(person) for person in (people.supervisor, people.admin, people.other_admin)] == [0, 0, 0]
