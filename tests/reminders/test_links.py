"""Every reminder's link opens, for the person it was sent to, the page where the thing is done,
and the notification is in their list."""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import escape

from tests.factories import make_user
from tests.reminders.conftest import DAY
from tests.reminders.helpers import run, told
from vigtrain.accounts.models import Role
from vigtrain.dates import UK
from vigtrain.extensions import db
from vigtrain.notifications.models import NotificationKind
from vigtrain.pathways.models import StageState
from vigtrain.reminders.services import (
    remind_expiring_certificates,
    remind_post_measures,
    remind_supervision_lapsed,
    remind_unconfirmed_sessions,
    remind_waiting_stages,
)

RULES = (
    remind_supervision_lapsed,
    remind_unconfirmed_sessions,
    remind_waiting_stages,
    remind_post_measures,
    remind_expiring_certificates,
)


def _each_link_opens_for_its_recipient(app) -> set[NotificationKind]:
    kinds = set()
    for item in told():
        client = app.test_client()
        client.login(item.email)
        assert client.get(item.link).status_code == 200, (item.email, item.link)
        assert str(escape(item.title)) in client.get("/notifications").get_data(as_text=True)
        kinds.add(item.kind)
    return kinds


def test_each_reminder_links_to_a_page_its_recipient_can_open(app, due):
    for rule in RULES:
        run(rule, DAY)
    run(remind_waiting_stages, DAY + timedelta(days=14))  # the stage's escalation
    assert _each_link_opens_for_its_recipient(app) == {
        NotificationKind.SUPERVISION_LAPSED,
        NotificationKind.SESSION_UNCONFIRMED,
        NotificationKind.STAGE_WAITING,
        NotificationKind.ESCALATION,
        NotificationKind.POST_MEASURE_DUE,
        NotificationKind.CERTIFICATE_EXPIRING,
    }


def test_the_accreditor_and_the_ratifying_administrators_can_open_the_stage(app, people):
    accreditor = make_user("avi@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Avi Accreditor")
    since = datetime(2026, 5, 1, 9, tzinfo=UK)
    for record in people.enrolment.stages:
        record.state = StageState.COMPLETE if record.position == 0 else StageState.ACCREDITED
    people.enrolment.stage_record("stage-2").state = StageState.WITH_ACCREDITOR
    for code in ("stage-2", "stage-3"):
        record = people.enrolment.stage_record(code)
        record.state_since, record.accrediting_supervisor_id = since, accreditor.id
    people.enrolment.mark_current_stage()
    db.session.commit()
    assert run(remind_waiting_stages, DAY) > 0
    assert {item.email for item in told(NotificationKind.STAGE_WAITING)} == {
        "avi@example.org",
        "ada@example.org",
        "abe@example.org",
    }
    _each_link_opens_for_its_recipient(app)
