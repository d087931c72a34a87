"""Rule 3: a stage waiting in its state reminds whoever it waits for after 14 days (from the UK day the
state began) and tells every active administrator after 28; each new wait is a new occasion."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.factories import make_user
from tests.reminders.helpers import Told, emails_to, prefer, recipients, run, told
from vigtrain import transactions
from vigtrain.accounts.models import Role
from vigtrain.dates import UK
from vigtrain.extensions import db
from vigtrain.notifications import inbox
from vigtrain.notifications.models import Delivery, NotificationKind
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.reminders.services import remind_waiting_stages
from vigtrain.training.signoff import return_stage
from vigtrain.training.workflow import WAITS_FOR, waiting_for

# Half past midnight on 1 June in British Summer Time is still 31 May in UTC: the UK day counts.
SINCE = datetime(2026, 6, 1, 0, 30, tzinfo=UK)
REMIND = date(2026, 6, 15)
ESCALATE = date(2026, 6, 29)


def _waiting(people, stage_code: str, state: StageState, since: datetime = SINCE, accreditor=None):
    record = people.enrolment.stage_record(stage_code)
    for other in people.enrolment.stages:
        if other.position < record.position:
            other.state = StageState.ACCREDITED if other.position else StageState.COMPLETE
    record.state, record.state_since = state, since
    record.accrediting_supervisor_id = accreditor.id if accreditor else None
    people.enrolment.mark_current_stage()
    db.session.commit()
    return record


def _accreditor():
    return make_user("avi@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Avi Accreditor")


def test_a_submitted_stage_reminds_the_supervisor_then_escalates_to_administrators(people):
    record = _waiting(people, "stage-1", StageState.SUBMITTED)
    subject = f"stage:{record.id}"
    link = f"/enrolments/{people.enrolment.id}/stages/stage-1"
    assert run(remind_waiting_stages, REMIND - timedelta(days=1)) == 0
    assert told() == []

    assert run(remind_waiting_stages, REMIND) == 1
    (reminder,) = told()
    assert reminder == Told(
        "sue@example.org",
        NotificationKind.STAGE_WAITING,
        subject,
        "submitted:2026-06-01:14-days",
        "Ana Silva's Stage 1 is waiting for your sign-off",
        link,
        reminder.body,
    )
    assert "has been submitted to supervisor since 1 June 2026, 2 weeks ago" in reminder.body
    assert "sign it off or return it" in reminder.body
    assert run(remind_waiting_stages, REMIND) == 0
    assert run(remind_waiting_stages, REMIND + timedelta(days=1)) == 0

    assert run(remind_waiting_stages, ESCALATE - timedelta(days=1)) == 0
    assert run(remind_waiting_stages, ESCALATE) == 2
    escalations = told(NotificationKind.ESCALATION)
    assert sorted(item.email for item in escalations) == ["abe@example.org", "ada@example.org"]
    for item in escalations:
        assert (item.subject, item.period, item.link) == (subject, "submitted:2026-06-01:28-days", link)
        assert item.title == "Ana Silva's Stage 1 has waited 4 weeks for sign-off by Sue Supervisor"
        assert "It waits for Sue Supervisor" in item.body
    assert run(remind_waiting_stages, ESCALATE) == 0
    assert run(remind_waiting_stages, ESCALATE + timedelta(days=1)) == 0
    assert len(told()) == 3


def test_a_signed_off_stage_waits_for_the_supervisor_and_every_administrator(people):
    _waiting(people, "stage-1", StageState.SIGNED_OFF)
    assert run(remind_waiting_stages, REMIND) == 3
    assert recipients() == ["abe@example.org", "ada@example.org", "sue@example.org"]
    assert {item.title for item in told()} == {
        "Ana Silva's Stage 1 is waiting for an accrediting supervisor to be asked"
    }


def test_a_stage_with_its_accreditor_waits_for_the_accreditor(people):
    _waiting(people, "stage-2", StageState.WITH_ACCREDITOR, accreditor=_accreditor())
    assert run(remind_waiting_stages, REMIND) == 1
    (item,) = told()
    assert (item.email, item.title) == ("avi@example.org", "Ana Silva's Stage 2 is waiting for its meeting with you")


def test_an_accredited_final_stage_waits_for_administrators_who_may_ratify_it(people):
    # An administrator who accredited the stage may not ratify it, so is not asked to.
    accreditor = make_user(
        "aad@example.org", roles=(Role.ACCREDITING_SUPERVISOR, Role.ADMINISTRATOR), name="Aad Accreditor"
    )
    _waiting(people, "stage-3", StageState.ACCREDITED, accreditor=accreditor)
    people.enrolment.status = EnrolmentStatus.COMPLETED  # ratification waits whatever the status
    db.session.commit()
    assert run(remind_waiting_stages, REMIND) == 2
    assert recipients() == ["abe@example.org", "ada@example.org"]
    assert {item.title for item in told()} == {"Ana Silva's Stage 3 is waiting for ratification"}
    # The escalation goes to every active administrator.
    assert run(remind_waiting_stages, ESCALATE) == 3
    assert recipients(NotificationKind.ESCALATION) == ["aad@example.org", "abe@example.org", "ada@example.org"]


def test_an_accredited_earlier_stage_is_finished_and_waits_for_nobody(people):
    _waiting(people, "stage-1", StageState.ACCREDITED)
    assert run(remind_waiting_stages, ESCALATE) == 0


def test_stages_of_paused_or_withdrawn_training_are_not_reminded(people):
    _waiting(people, "stage-1", StageState.SUBMITTED)
    for status in (EnrolmentStatus.PAUSED, EnrolmentStatus.WITHDRAWN):
        people.enrolment.status = status
        db.session.commit()
        assert run(remind_waiting_stages, ESCALATE) == 0
    assert told() == []


def test_a_stage_that_moves_on_and_comes_back_is_a_new_occasion(people):
    record = _waiting(people, "stage-1", StageState.SUBMITTED)
    assert run(remind_waiting_stages, REMIND) == 1
    _waiting(people, "stage-1", StageState.SUBMITTED, since=datetime(2026, 6, 20, 9, tzinfo=UK))
    assert run(remind_waiting_stages, date(2026, 7, 3)) == 0
    assert run(remind_waiting_stages, date(2026, 7, 4)) == 1
    assert [(item.subject, item.period) for item in told()] == [
        (f"stage:{record.id}", "submitted:2026-06-01:14-days"),
        (f"stage:{record.id}", "submitted:2026-06-20:14-days"),
    ]


def test_a_deactivated_supervisor_is_not_reminded(people):
    _waiting(people, "stage-1", StageState.SUBMITTED)
    people.supervisor.is_active_flag = False
    db.session.commit()
    assert run(remind_waiting_stages, REMIND) == 0
    assert run(remind_waiting_stages, ESCALATE) == 2
    assert "Nobody can move it on now" in told()[0].body


def test_email_follows_each_persons_choice(people):
    _waiting(people, "stage-1", StageState.SIGNED_OFF)
    prefer(people.admin, NotificationKind.STAGE_WAITING, Delivery.APP)
    assert run(remind_waiting_stages, REMIND) == 3
    assert [email.subject for email in emails_to("sue@example.org")] == [
        "Ana Silva's Stage 1 is waiting for an accrediting supervisor to be asked"
    ]
    assert len(emails_to("abe@example.org")) == 1
    assert emails_to("ada@example.org") == []


def test_whom_each_waiting_state_waits_for_comes_from_the_sign_off_table(people):
    """Exactly the people the state's action allows: the stage page offers them that action."""
    admins = [people.admin, people.other_admin]
    accreditor = _accreditor()
    expected = {
        StageState.SUBMITTED: ["sue@example.org"],
        StageState.SIGNED_OFF: ["sue@example.org", "ada@example.org", "abe@example.org"],
        StageState.WITH_ACCREDITOR: ["avi@example.org"],
    }
    for state, emails in expected.items():
        record = _waiting(people, "stage-1", state, accreditor=accreditor)
        assert [person.email for person in waiting_for(record, admins)] == emails
        assert all(WAITS_FOR[state].action.allows(person, record) for person in waiting_for(record, admins))
    record = _waiting(people, "stage-1", StageState.IN_PROGRESS)
    assert waiting_for(record, admins) == []


def test_a_stage_that_moves_on_settles_its_reminders_for_everyone(people):
    """The sign-off chain marks read every reminder about the stage (`stage:{id}`) as it moves on."""
    record = _waiting(people, "stage-1", StageState.SUBMITTED)
    assert run(remind_waiting_stages, ESCALATE) == 3
    assert [inbox.unread_count(person) for person in (people.supervisor, people.admin)] == [1, 1]
    transactions.run(lambda: return_stage(people.supervisor, record, "Add your third client.", record.version))
    assert [inbox.unread_count(person) for person in (people.supervisor, people.admin, people.other_admin)] == [0, 0, 0]
