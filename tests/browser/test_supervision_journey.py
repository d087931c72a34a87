"""A trainee logs a supervision session on a phone; the supervisor confirms it."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import Browse
from tests.factories import PASSWORD, make_admin, make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training import signoff
from vigtrain.training.progress import stage_progress

PHONE = {"width": 375, "height": 740}


def _phone(browser, live_server, name: str) -> Browse:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    context.set_default_timeout(10_000)
    return Browse(context.new_page(), live_server, name)


def test_log_on_a_phone_then_supervisor_confirms(browser, live_server):
    trainee = make_user("tess.trainee@example.org", roles=(Role.TRAINEE,), name="Tess Trainee")
    supervisor = make_user("sue.sup@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    admin = make_admin()
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    itc, stage1 = enrolment.stages[0], enrolment.stages[1]
    signoff.record_exemption(admin, itc, "Equivalent initial training completed elsewhere", today(), itc.version)
    db.session.commit()
    assert _hours(stage1) == "0 h of 7 h confirmed"

    tess = _phone(browser, live_server, "supervision-trainee")
    page = tess.page
    tess.sign_in("tess.trainee@example.org", PASSWORD)
    tess.visit("/supervision/new")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_label("1 hour", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name=supervisor.display_name)).to_be_checked()
    tess.act(lambda: page.get_by_role("button", name="Save session").click())
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    page.context.close()

    session = db.session.scalar(select(SupervisionSession))
    assert session.status is SessionStatus.LOGGED and session.duration_minutes == 60
    assert _hours(stage1) == "0 h of 7 h confirmed"  # logged is not enough

    sue = _phone(browser, live_server, "supervision-supervisor")
    page = sue.page
    sue.sign_in("sue.sup@example.org", PASSWORD)
    sue.visit("/supervision/queue")
    expect(page.get_by_role("main")).to_contain_text("Tess Trainee")
    sue.visit(f"/supervision/{session.id}")
    sue.act(lambda: page.get_by_role("button", name="Confirm session").click())
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()

    db.session.expire_all()
    assert db.session.get(SupervisionSession, session.id).status is SessionStatus.CONFIRMED
    assert _hours(stage1) == "1 h of 7 h confirmed"


def _hours(record) -> str:
    db.session.expire_all()
    return stage_progress(record).status_for(RequirementKind.SUPERVISION_HOURS).figure
