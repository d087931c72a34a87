"""The demo checks that need a load of their own: signing in writes to the audit trail, and the
same day's history must come out the same from two loads at different hours."""

from __future__ import annotations

import re

from freezegun import freeze_time
from sqlalchemy import select

from tests.conftest import running_app
from tests.test_demo import STAGE_PAGE, TODAYS_ACTIONS, _load
from vigtrain.accounts.models import User
from vigtrain.audit import AuditEvent
from vigtrain.certificates.models import Certificate
from vigtrain.dates import format_date, today
from vigtrain.demo import DEMO_PASSWORD
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment, StageTransition
from vigtrain.supervision.models import SupervisionSession


def test_the_pages_show_the_dates_of_the_story(app, clock):
    _load(app)
    client = app.test_client()
    client.login("admin@example.org", DEMO_PASSWORD)
    html = client.get("/admin/certificates/to-issue").get_data(as_text=True)
    earned = re.findall(r'<td class="govuk-table__cell">(\d{1,2} \w+ \d{4})</td>', html)
    assert len(earned) >= 5 and format_date(today()) not in earned and len(set(earned)) >= 5
    # Jo's Stage 1: its history, from starting to accreditation, and her certificate, all months ago.
    jo = db.session.scalar(select(Enrolment).join(Enrolment.trainee).where(User.email == "jo.williams@example.org"))
    page = client.get(STAGE_PAGE.format(id=jo.id, code="stage-1")).get_data(as_text=True)
    assert "Accredited" in page and format_date(today()) not in page


def _fingerprint() -> list[list[str]]:
    """Every dated step of the story (not today's reminders), in a fixed order."""
    rows = [
        *((t.occurred_at,) for t in db.session.scalars(select(StageTransition))),
        *((c.number, c.issued_on, c.created_at, c.status_changed_at) for c in db.session.scalars(select(Certificate))),
        *((s.session_date, s.logged_at, s.confirmed_at) for s in db.session.scalars(select(SupervisionSession))),
        *((e.action, e.occurred_at) for e in db.session.scalars(select(AuditEvent)) if e.action not in TODAYS_ACTIONS),
    ]
    return sorted(str(row) for row in rows)


def test_the_history_is_the_same_for_the_same_day_whatever_the_hour(database_url):
    prints = []
    for hour in ("2026-03-02 07:05:00", "2026-03-02 18:40:00"):
        with freeze_time(hour), running_app(database_url) as app:
            _load(app)
            prints.append(_fingerprint())
    assert prints[0] == prints[1]
