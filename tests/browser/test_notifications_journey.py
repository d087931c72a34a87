"""A supervisor is reminded of a session waiting a week for confirmation, follows the notification
to it and confirms it; the notification pages and the jobs page fit a 320 px screen."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import Browse
from tests.browser.test_small_screens import assert_fits
from tests.factories import PASSWORD, make_admin, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role
from vigtrain.dates import today, utcnow
from vigtrain.extensions import db
from vigtrain.jobs.models import JobRun, RunOutcome
from vigtrain.jobs.registry import BY_NAME
from vigtrain.jobs.services import run_job
from vigtrain.notifications import inbox
from vigtrain.notifications.models import Notification, NotificationKind
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training import signoff


def _waiting_session(admin) -> SupervisionSession:
    """Tess logged a session with Sue eight days ago; Sue has not confirmed it."""
    trainee = make_user("tess.trainee@example.org", roles=(Role.TRAINEE,), name="Tess Trainee")
    supervisor = make_user("sue.sup@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    enrolment = make_enrolment(trainee, supervisor, start=today() - timedelta(days=90), actor=admin)
    itc = enrolment.stages[0]
    signoff.record_exemption(admin, itc, "Equivalent initial training completed elsewhere", today(), itc.version)
    db.session.commit()
    session = make_supervision(enrolment, supervisor, 1, today() - timedelta(days=8), confirmed=False)
    session.logged_at = utcnow() - timedelta(days=8)
    db.session.commit()
    return session


def _header_count(browse: Browse):
    return browse.page.get_by_role("banner").locator(".app-header__count")


def test_a_reminder_leads_the_supervisor_to_the_session_and_confirming_it_clears_the_count(browse):
    admin = make_admin()
    session = _waiting_session(admin)
    report = run_job(BY_NAME["remind-unconfirmed-sessions"], today(), "test")
    assert report.ran and report.run.outcome is RunOutcome.SUCCEEDED and report.run.result == 1

    page = browse.page
    browse.sign_in("sue.sup@example.org", PASSWORD)
    expect(_header_count(browse)).to_have_text("1 unread")
    browse.act(lambda: page.get_by_role("banner").get_by_role("link", name=re.compile(r"^Notifications")).click())
    assert browse.path() == "/notifications"
    expect(page.get_by_role("main")).to_contain_text("You have 1 unread notification.")
    title = "Session with Tess Trainee"
    browse.act(lambda: page.get_by_role("main").get_by_role("link", name=re.compile(title)).click())
    expect(page.get_by_role("heading", level=1)).to_contain_text("is waiting for your confirmation")
    expect(_header_count(browse)).to_have_count(0)  # opened: read

    browse.act(lambda: page.get_by_role("button", name="Go to it now").click())
    assert browse.path() == f"/supervision/{session.id}"
    browse.act(lambda: page.get_by_role("button", name="Confirm session").click())
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    expect(_header_count(browse)).to_have_count(0)

    db.session.expire_all()
    assert db.session.get(SupervisionSession, session.id).status is SessionStatus.CONFIRMED
    assert db.session.scalar(db.select(Notification.read_at)) is not None


def _sue_has_news(supervisor) -> Notification:
    """A handful of notifications, read and unread, one with a long title and a long word."""
    for number, title in enumerate(
        (
            "Stage 1 of Tess Trainee's VIG Practitioner training has been submitted for your sign-off",
            "Session with Tess Trainee on 3 November 2026 is waiting for your confirmation",
            "Supercalifragilisticexpialidociousnessfullyandthensomemoretomakeitlong needs a look",
        )
    ):
        told = inbox.notify(
            supervisor,
            NotificationKind.STAGE_UPDATE if number == 0 else NotificationKind.SESSION_UNCONFIRMED,
            f"layout:{number}",
            "once",
            title,
            "It counts towards Tess Trainee's training only once you confirm it.\n\n"
            "Open it to confirm it, or query it if something is not right.",
            link="/supervision/queue",
        )
        if number == 0:
            inbox.mark_read(told)
    db.session.commit()
    return told


def _jobs_have_run() -> None:
    """The jobs page with something in each column: a success, a failure, and never run."""
    run_job(BY_NAME["expire-certificates"], today(), "test")
    started = utcnow() - timedelta(minutes=1)
    db.session.add(
        JobRun(
            job="remind-waiting-stages",
            period=today().isoformat(),
            outcome=RunOutcome.FAILED,
            started_at=started,
            finished_at=started + timedelta(seconds=4),
            error="OperationalError: database is locked",
            started_by="scheduler vigtrain-worker-1:4242",
        )
    )
    db.session.commit()


def _visit_the_four_pages(browse: Browse, notification: Notification) -> None:
    fits = browse.page.viewport_size["width"] == 320
    browse.sign_in("sue.sup@example.org", PASSWORD)
    for path in ("/notifications", f"/notifications/{notification.id}", "/notifications/settings"):
        browse.visit(path)
        if fits:
            assert_fits(browse.page)
    browse.sign_out()
    browse.sign_in("admin@example.org", PASSWORD)
    browse.visit("/admin/jobs")
    if fits:
        assert_fits(browse.page)
    main = browse.page.get_by_role("main")
    expect(main.locator(".govuk-tag--red")).to_have_text("Failed")
    browse.act(lambda: main.get_by_role("link", name="remind-waiting-stages").click())
    expect(main).to_contain_text("OperationalError: database is locked")
    if fits:
        assert_fits(browse.page)


def test_the_notification_and_jobs_pages_fit_320px_and_pass_axe_at_both_widths(browse_mobile, browse):
    admin = make_admin()
    session = _waiting_session(admin)
    notification = _sue_has_news(session.supervisor)
    _jobs_have_run()
    _visit_the_four_pages(browse_mobile, notification)
    _visit_the_four_pages(browse, notification)
