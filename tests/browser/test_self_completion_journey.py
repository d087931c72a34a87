"""A client answers an outcome measure on their own phone through a link the practitioner made.

The practitioner makes a post link from the case page and gets a QR code; a second browser, with
nobody signed in and 320 CSS pixels wide, opens the link, answers PHQ-9 with a positive item 9 and
is shown where to get urgent help. The practitioner then sees the answers scored on the case page,
the supervisor has been emailed, and the link refuses a second use. Every page is screenshotted and
scanned with axe (`Browse.check`); the client's pages must not scroll sideways.

The live server runs on the real clock, so dates are relative to `today()`.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, MOBILE, Browse
from tests.browser.test_outcome_entry_journey import (
    MORE_THAN_HALF,
    NOT_AT_ALL,
    SEVERAL_DAYS,
    _answer,
    _responses,
    _seed_case,
)
from tests.browser.test_small_screens import horizontal_overflow
from tests.factories import PASSWORD, load_pathways, make_admin, make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.dates import format_date, today
from vigtrain.dcs.models import Administration, MeasureInvitation, Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage

PHQ9 = "Patient Health Questionnaire (PHQ-9)"
# Item 9 ("thoughts that you would be better off dead ...") on several days: a risk answer.
ANSWERS = [SEVERAL_DAYS, NOT_AT_ALL, MORE_THAN_HALF, SEVERAL_DAYS, NOT_AT_ALL, NOT_AT_ALL, NOT_AT_ALL, NOT_AT_ALL]
ANSWERS.append(SEVERAL_DAYS)  # 1 + 0 + 2 + 1 + 0 + 0 + 0 + 0 + 1 = 5


def assert_fits(page) -> None:
    problem = horizontal_overflow(page)
    assert problem is None, f"{page.url} scrolls sideways at {page.viewport_size['width']}px: {problem}"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_client_answers_phq9_on_their_phone_and_the_practitioner_and_supervisor_are_told(
    app, browser, browse, live_server, tmp_path
):
    app.config["BASE_URL"] = live_server  # the link and its QR code point at this server
    load_pathways()
    practitioner = make_user("tess.trainee@example.org", roles=(Role.TRAINEE,), name="Tess Trainee")
    supervisor = make_user("sue.sup@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    make_enrolment(practitioner, supervisor, start=today() - timedelta(weeks=30), actor=make_admin())
    started = today() - timedelta(weeks=10)
    case = _seed_case(practitioner, started)
    record_administration(practitioner, case, "PHQ-9", Timepoint.PRE, started, _responses([NOT_AT_ALL] * 9), today())
    db.session.commit()

    # The practitioner makes a post link from the case page.
    browse.name = "self-completion-practitioner"
    tess = browse.page
    browse.sign_in("tess.trainee@example.org", PASSWORD)
    # Home lists the case as waiting for a post score, with a one-click invitation.
    waiting = tess.get_by_role("list", name="1 case with a pre score and no post score")
    expect(waiting).to_contain_text(case.code)
    expect(
        waiting.get_by_role("button", name=f"Invite the client of case {case.code} to answer PHQ-9 (post)")
    ).to_be_visible()
    browse.visit(f"/cases/{case.code}")
    browse.act(lambda: tess.get_by_role("link", name="Invite the client to answer on their phone").click())
    expect(tess.get_by_role("heading", level=1)).to_have_text("Invite the client to answer on their phone")
    expect(tess.get_by_role("main")).to_contain_text("Not available for the client to answer alone")
    tess.get_by_role("group", name="Which questionnaires should the client answer?").get_by_label(
        PHQ9, exact=True
    ).check()
    tess.get_by_role("group", name="When in the work is it?").get_by_label("After (post)", exact=True).check()
    browse.act(lambda: tess.get_by_role("button", name="Create the link").click())

    # The QR code page: the code, the link to copy, when it stops working, and that nothing is sent.
    expect(tess.get_by_role("heading", level=1)).to_have_text("Ask the client to scan this code")
    expect(tess.locator(".app-qr svg")).to_be_visible()
    link = tess.locator("#client-link").inner_text().strip()
    assert link.startswith(f"{live_server}/respond/") and len(link.rsplit("/", 1)[1]) == 43
    last_day = format_date(today() + timedelta(days=app.config["SELF_COMPLETION_DAYS"]))
    expect(tess.get_by_role("main")).to_contain_text(f"The end of {last_day}, once")
    expect(tess.get_by_role("main")).to_contain_text("vigtrain sends nothing to the client")
    zbarimg = shutil.which("zbarimg")
    if zbarimg:  # .ci/run installs it: the QR code reads back as the link
        image = tmp_path / "qr.png"
        tess.locator(".app-qr").screenshot(path=image)
        decoded = subprocess.run([zbarimg, "--raw", "-q", str(image)], capture_output=True, text=True, check=False)
        assert decoded.stdout.strip() == link
    tess.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = tess.get_by_role("button", name="Copy the link")
    expect(copy).to_be_visible()
    copy.click()
    expect(tess.get_by_role("status")).to_have_text("Link copied.")
    assert tess.evaluate("navigator.clipboard.readText()") == link
    browse.check()

    # The client's phone: a separate browser, nobody signed in, 320 CSS pixels wide.
    context = browser.new_context(viewport=MOBILE, has_touch=True, is_mobile=True, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        client = Browse(context.new_page(), live_server, "self-completion-client-320")
        phone = client.page
        client.visit(link)
        expect(phone.get_by_role("heading", level=1)).to_have_text("Questions from your practitioner")
        expect(phone.get_by_role("main")).to_contain_text(PHQ9)
        expect(phone.get_by_role("main")).not_to_contain_text(case.code)
        assert_fits(phone)
        client.act(lambda: phone.get_by_role("button", name="Start now").click())
        expect(phone.get_by_role("heading", level=1)).to_have_text(PHQ9)
        expect(phone.locator("input:not([type=radio]):not([type=hidden])")).to_have_count(0)
        assert_fits(phone)

        # Three answers, then the page is reloaded: they are put back from the phone's storage.
        _answer(phone, ANSWERS[:3])
        invitation = db.session.scalar(select(MeasureInvitation))
        key = f"vigtrain:measure:respond:{invitation.id}:PHQ-9"
        phone.wait_for_function("key => window.localStorage.getItem(key) !== null", arg=key)
        assert link.rsplit("/", 1)[1] not in phone.evaluate("JSON.stringify(window.localStorage)")
        phone.close()
        phone = client.page = context.new_page()
        client.visit(link + "/PHQ-9")
        expect(phone.get_by_role("region", name="Answers restored")).to_be_visible()
        expect(phone.locator("[data-measure-progress]")).to_have_text("3 of 9 answered")
        client.check()
        assert_fits(phone)
        # Sent too soon: the questions left are named in an error summary, and nothing is lost.
        client.act(lambda: phone.get_by_role("button", name="Send answers").click(), status=422)
        expect(phone.locator(".govuk-error-summary")).to_contain_text("can only be scored when every item is answered")
        expect(phone.locator("[data-measure-progress]")).to_have_text("3 of 9 answered")
        assert_fits(phone)
        _answer(phone, ANSWERS[3:], start=3)
        expect(phone.locator("[data-measure-progress]")).to_have_text("9 of 9 answered")
        assert_fits(phone)
        client.check()
        client.act(lambda: phone.get_by_role("button", name="Send answers").click())

        # Thanks, no score, and where to get help now.
        expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
        alert = phone.get_by_role("alert")
        expect(alert).to_contain_text("If you need help now, do not wait")
        expect(alert).to_contain_text("Samaritans")
        expect(alert).to_contain_text("NHS 111")
        expect(phone.get_by_role("main")).not_to_contain_text("score")
        expect(phone.get_by_role("main")).not_to_contain_text("Mild")
        phone.wait_for_function("key => window.localStorage.getItem(key) === null", arg=key)
        assert_fits(phone)

        # The practitioner sees the answers, scored, with the risk flag; the supervisor was emailed.
        browse.visit(f"/cases/{case.code}")
        main = tess.get_by_role("main")
        expect(main).to_contain_text("PHQ-9: pre 0, post 5 (answered by the client on their phone)")
        expect(main).to_contain_text("Risk item answered")
        expect(tess.get_by_role("list", name="Links for the client to answer on their phone")).to_contain_text(
            "Answered"
        )
        db.session.expire_all()
        saved = db.session.scalar(select(Administration).where(Administration.timepoint == Timepoint.POST))
        assert (saved.total, saved.administered_on, saved.invitation_id) == (5, today(), invitation.id)
        told = {message.to_address: message.subject for message in db.session.scalars(select(OutboxMessage))}
        assert told == {
            "sue.sup@example.org": f"Risk item answered on case {case.code}",
            "tess.trainee@example.org": f"Risk item answered on case {case.code}: act now",
        }

        # The link has done its work: a second use is refused, with a clear page.
        client.visit(link, status=410)
        expect(phone.get_by_role("heading", level=1)).to_have_text("These answers have already been sent")
        assert_fits(phone)
        client.visit(link + "/PHQ-9", status=410)
        client.visit(link[:-1] + ("A" if link[-1] != "A" else "B"), status=404)
        expect(phone.get_by_role("heading", level=1)).to_have_text("We do not recognise this link")
        assert_fits(phone)
    finally:
        context.close()
