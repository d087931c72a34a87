"""A reminder is done with once its thing is done: confirmed, queried, moved on, measured."""

from __future__ import annotations

from datetime import date, timedelta

from tests.factories import make_case, make_enrolment, make_supervision, make_user
from vigtrain import transactions
from vigtrain.accounts.models import Role
from vigtrain.casework.services import Consents
from vigtrain.dates import utcnow
from vigtrain.dcs.models import Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db
from vigtrain.notifications import inbox
from vigtrain.notifications.models import NotificationKind
from vigtrain.pathways.models import StageState
from vigtrain.supervision.sessions import confirm_session, query_session
from vigtrain.training.signoff import return_stage

WAITING = (NotificationKind.SESSION_UNCONFIRMED, NotificationKind.ESCALATION)


def remind(person, kind, subject, period="7-days"):
    return transactions.run(lambda: inbox.notify(person, kind, subject, period, "Waiting", "Please look.", "/"))


def test_confirming_a_session_settles_its_reminders_for_everyone_and_the_lapse(app, clock):
    trainee, supervisor = make_user(), make_user(roles=(Role.SUPERVISOR,))
    admin = make_user(roles=(Role.ADMINISTRATOR,))
    enrolment = make_enrolment(trainee, supervisor, actor=admin)
    session = make_supervision(enrolment, supervisor, 1, date(2026, 2, 20), confirmed=False)
    other = make_supervision(enrolment, supervisor, 1, date(2026, 2, 21), confirmed=False)
    remind(supervisor, NotificationKind.SESSION_UNCONFIRMED, f"session:{session.id}")
    remind(admin, NotificationKind.ESCALATION, f"session:{session.id}", "14-days")
    remind(supervisor, NotificationKind.SESSION_UNCONFIRMED, f"session:{other.id}")
    remind(trainee, NotificationKind.SUPERVISION_LAPSED, f"enrolment:{enrolment.id}", "since:2026-01-05")

    transactions.run(lambda: confirm_session(supervisor, session, session.version))
    assert inbox.unread_count(supervisor) == 1  # the other session still waits
    assert inbox.unread_count(admin) == 0
    assert inbox.unread_count(trainee) == 0

    transactions.run(lambda: query_session(supervisor, other, "Which case was this?", other.version))
    assert inbox.unread_count(supervisor) == 0


def test_a_stage_that_moves_on_settles_the_reminders_that_it_waited(app, clock):
    trainee, supervisor = make_user(), make_user(roles=(Role.SUPERVISOR,))
    admin = make_user(roles=(Role.ADMINISTRATOR,))
    enrolment = make_enrolment(trainee, supervisor, actor=admin)
    record = enrolment.stage_record("stage-1")
    record.state, record.state_since = StageState.SUBMITTED, utcnow() - timedelta(days=15)
    db.session.commit()
    remind(supervisor, NotificationKind.STAGE_WAITING, f"stage:{record.id}", "submitted:2026-02-15:14-days")
    remind(admin, NotificationKind.ESCALATION, f"stage:{record.id}", "submitted:2026-02-15:28-days")

    transactions.run(lambda: return_stage(supervisor, record, "Add your third client.", record.version))
    assert inbox.unread_count(supervisor) == 0 and inbox.unread_count(admin) == 0
    [told] = db.session.scalars(inbox.inbox_query(trainee)).all()  # and the trainee hears it came back
    assert told.kind is NotificationKind.STAGE_UPDATE and told.link.endswith("/stages/stage-1")


def test_recording_the_post_measure_settles_its_reminder(app, clock):
    practitioner = make_user(roles=(Role.PRACTITIONER,))
    day = date(2025, 2, 1)
    case = make_case(practitioner, consents=Consents(filming=day, supervision=day, dcs=day))
    db.session.commit()
    remind(practitioner, NotificationKind.POST_MEASURE_DUE, f"case:{case.id}:GAD-7", "pre:1")
    answers = {str(item): 1 for item in range(1, 8)}

    def measure(timepoint: Timepoint, on: date):
        return transactions.run(
            lambda: record_administration(practitioner, case, "GAD-7", timepoint, on, answers, date(2026, 3, 2))
        )

    measure(Timepoint.PRE, date(2025, 2, 3))
    assert inbox.unread_count(practitioner) == 1  # a pre measure is not what was due
    measure(Timepoint.POST, date(2025, 6, 2))
    assert inbox.unread_count(practitioner) == 0
