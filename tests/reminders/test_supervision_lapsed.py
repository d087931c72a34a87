"""Rule 1: an active enrolment with no confirmed supervision for six weeks tells the trainee and the
personal supervisor, once per lapse (a new confirmed session starts a new one)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.factories import make_enrolment, make_supervision, make_user
from tests.reminders.conftest import START
from tests.reminders.helpers import Told, counting_notify, emails_to, prefer, recipients, run, told
from vigtrain.accounts.models import Role
from vigtrain.extensions import db
from vigtrain.notifications.models import Delivery, NotificationKind
from vigtrain.pathways.models import EnrolmentStatus
from vigtrain.reminders.services import remind_supervision_lapsed

KIND = NotificationKind.SUPERVISION_LAPSED
LAST = date(2026, 2, 2)
DUE = LAST + timedelta(weeks=6)  # 16 March 2026


def test_six_weeks_after_the_last_confirmed_session_trainee_and_supervisor_are_told_once(people):
    make_supervision(people.enrolment, people.supervisor, 1, date(2026, 1, 19))
    make_supervision(people.enrolment, people.supervisor, 1, LAST)
    make_supervision(people.enrolment, people.supervisor, 1, date(2026, 2, 23), confirmed=False)  # not confirmed
    enrolment_id = people.enrolment.id

    assert run(remind_supervision_lapsed, DUE - timedelta(days=1)) == 0
    assert told() == []

    assert run(remind_supervision_lapsed, DUE) == 2
    trainee, supervisor = told()
    assert trainee == Told(
        "ana@example.org",
        KIND,
        f"enrolment:{enrolment_id}",
        "since:2026-02-02",
        "No confirmed supervision since 2 February 2026",
        f"/supervision?enrolment={enrolment_id}",
        trainee.body,
    )
    assert (
        "Your last confirmed supervision session on the VIG Practitioner pathway was on 2 February 2026, 6 weeks ago"
        in trainee.body
    )
    assert supervisor == Told(
        "sue@example.org",
        KIND,
        f"enrolment:{enrolment_id}",
        "since:2026-02-02",
        "Ana Silva has had no confirmed supervision since 2 February 2026",
        f"/supervision/trainees/{enrolment_id}",
        supervisor.body,
    )
    assert "Arrange a session with them" in supervisor.body

    assert run(remind_supervision_lapsed, DUE) == 0
    assert run(remind_supervision_lapsed, DUE + timedelta(days=1)) == 0
    assert len(told()) == 2


def test_a_new_confirmed_session_starts_a_new_lapse(people):
    make_supervision(people.enrolment, people.supervisor, 1, LAST)
    assert run(remind_supervision_lapsed, DUE) == 2
    make_supervision(people.enrolment, people.supervisor, 1, date(2026, 3, 20))
    assert run(remind_supervision_lapsed, date(2026, 4, 30)) == 0
    assert run(remind_supervision_lapsed, date(2026, 5, 1)) == 2
    assert sorted(item.period for item in told()) == ["since:2026-02-02"] * 2 + ["since:2026-03-20"] * 2


def test_with_no_confirmed_session_the_lapse_counts_from_the_start(people):
    due = START + timedelta(weeks=6)
    assert run(remind_supervision_lapsed, due - timedelta(days=1)) == 0
    assert run(remind_supervision_lapsed, due) == 2
    trainee, supervisor = told()
    assert trainee.period == supervisor.period == "since:2026-01-05"
    assert trainee.title == "No confirmed supervision since 5 January 2026"
    assert "You have had no confirmed supervision on the VIG Practitioner pathway since it started" in trainee.body
    assert "Ana Silva has had no confirmed supervision" in supervisor.body


def test_paused_withdrawn_and_completed_enrolments_are_not_reminded(people):
    make_supervision(people.enrolment, people.supervisor, 1, LAST)
    for status in (EnrolmentStatus.PAUSED, EnrolmentStatus.WITHDRAWN, EnrolmentStatus.COMPLETED):
        people.enrolment.status = status
        db.session.commit()
        assert run(remind_supervision_lapsed, DUE) == 0
    assert told() == []


def test_a_deactivated_trainee_is_not_told_and_a_trainee_without_a_supervisor_is_told_alone(people):
    other = make_user("ben@example.org", roles=(Role.TRAINEE,), name="Ben Jones")
    alone = make_enrolment(other, None, start=START, actor=people.admin)
    make_supervision(alone, people.supervisor, 1, LAST)
    make_supervision(people.enrolment, people.supervisor, 1, LAST)
    people.trainee.is_active_flag = False
    db.session.commit()
    assert run(remind_supervision_lapsed, DUE) == 2
    assert recipients() == ["ben@example.org", "sue@example.org"]


def test_email_follows_each_persons_choice(people):
    make_supervision(people.enrolment, people.supervisor, 1, LAST)
    prefer(people.supervisor, KIND, Delivery.APP)
    assert run(remind_supervision_lapsed, DUE) == 2
    (email,) = emails_to("ana@example.org")
    assert email.subject == "No confirmed supervision since 2 February 2026"
    assert f"http://localhost/supervision?enrolment={people.enrolment.id}" in email.body
    assert emails_to("sue@example.org") == []


def test_a_second_run_asks_nothing_of_the_inbox(people, monkeypatch):
    """The told keys are left out in SQL, so the key written there matches the one written in Python."""
    make_supervision(people.enrolment, people.supervisor, 1, LAST)
    assert run(remind_supervision_lapsed, DUE) == 2
    calls = counting_notify(monkeypatch)
    assert run(remind_supervision_lapsed, DUE + timedelta(days=3)) == 0
    assert calls == []
