"""Training flow in a real browser: an administrator reads everyone's figures, narrows them to one
service, finds the trainees held up, sets a pathway version's cost rates and sees the estimated cost;
a service lead sees their own service only. Every page is screenshotted, scanned with axe and measured
at 320 px (`Browse.check`), at desktop width and on a 320 px screen.

The history is seeded here, dated back from today, so every figure asserted is worked out by hand:

    trainee  service  enrolled      stage steps in days (work, sign-off, accreditor, meeting, ratification)
    Nia      North    500 days ago  ITC 14+3; stage 1 120+7+5+14; stage 2 130+...; stage 3 140+...+15
    Ned      North    560 days ago  ITC 14+3; stage 1 140+...; stage 2 150+...; stage 3 160+...+15
    Noor     North    120 days ago  ITC 14+3; stage 1 in progress (cycle and supervision 40 days ago)
    Nat      North    200 days ago  ITC 14+3; stage 1 60, submitted 123 days ago (supervision 130 days ago)
    Sol      South    400 days ago  ITC 14+3; stage 1 90+...; stage 2 100+...; stage 3 110+...+5
    Sid      South     70 days ago  ITC 14+3; stage 1 in progress (cycle and supervision 21 days ago)

Each accredited trainee's days add up to their time to accreditation: Nia 17 + 390 + 3 x 26 + 15 = 500,
Ned 17 + 450 + 78 + 15 = 560, Sol 17 + 300 + 78 + 5 = 400. Nia, Ned and Sol had 23, 25 and 30 hours
of confirmed supervision and three accrediting meetings each (an hour each): 26, 28 and 33 hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browse
from tests.factories import PASSWORD, make_admin, make_cycles, make_enrolment, make_service, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.flow import services
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageState, StageTransition
from vigtrain.supervision.models import SessionStatus, SupervisionSession

S = StageState
ITC_CHAIN = (S.SUBMITTED, S.COMPLETE)
MEETING_CHAIN = (S.SUBMITTED, S.SIGNED_OFF, S.WITH_ACCREDITOR, S.ACCREDITED, S.RATIFIED)
TABLET = 641  # CSS pixels: below this the main menu folds behind a "Menu" button
WAITS = (7, 5, 14)  # sign-off, asking an accrediting supervisor, the meeting: the same for everyone


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _walk(enrolment: Enrolment, plan: Sequence[Sequence[int]], actor: User) -> date:
    """Move the enrolment's stages along `plan` (each stage's step lengths in days); the last day reached."""
    day = enrolment.start_date
    for record, steps in zip(enrolment.stages, plan, strict=False):
        record.started_on = day
        state = S.IN_PROGRESS
        for days, reached in zip(steps, ITC_CHAIN if record.position == 0 else MEETING_CHAIN, strict=False):
            day += timedelta(days=days)
            record.transitions.append(
                StageTransition(from_state=state, to_state=reached, actor_id=actor.id, occurred_at=_noon(day))
            )
            state = reached
        record.state, record.state_since = state, _noon(day)
    enrolment.mark_current_stage()
    return day


def _supervision(enrolment: Enrolment, supervisor: User, days: Sequence[date]) -> None:
    for day in days:
        db.session.add(
            SupervisionSession(
                enrolment=enrolment,
                supervisor=supervisor,
                session_date=day,
                duration_minutes=60,
                status=SessionStatus.CONFIRMED,
                logged_by_id=enrolment.trainee_id,
            )
        )


@pytest.fixture
def flow(app) -> dict:
    """The six trainees above, their services and the people who read their figures; figures refreshed."""
    now = today()
    north = make_service("North Family Service", region_code="E12000003")
    south = make_service("South Parenting Team", region_code="E12000008")
    admin = make_admin()
    sue = make_user("sue.supervisor@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    make_user("lee.lead@example.org", roles=(Role.SERVICE_LEAD,), name="Lee Lead", service_id=north.id)
    itc = (14, 3)

    def enrolled(name: str, service_id: int, days_ago: int, plan: Sequence[Sequence[int]]) -> Enrolment:
        email = f"{name.split()[0].lower()}@example.org"
        trainee = make_user(email, roles=(Role.TRAINEE,), name=name, service_id=service_id)
        enrolment = make_enrolment(trainee, sue, start=now - timedelta(days=days_ago), actor=admin)
        _walk(enrolment, plan, admin)
        return enrolment

    def accredited(name: str, service_id: int, works: Sequence[int], ratification: int, hours: int) -> None:
        plan = [itc, *((work, *WAITS) for work in works)]
        plan[-1] = (*plan[-1], ratification)
        days = 17 + sum(works) + 3 * sum(WAITS) + ratification
        enrolment = enrolled(name, service_id, days, plan)
        enrolment.status, enrolment.completed_on = EnrolmentStatus.COMPLETED, now
        _supervision(enrolment, sue, [enrolment.start_date + timedelta(days=20 + 12 * n) for n in range(hours)])

    accredited("Nia North", north.id, (120, 130, 140), 15, 23)
    accredited("Ned North", north.id, (140, 150, 160), 15, 25)
    accredited("Sol South", south.id, (90, 100, 110), 5, 30)
    noor = enrolled("Noor North", north.id, 120, [itc, ()])
    _supervision(noor, sue, [now - timedelta(days=40)])
    nat = enrolled("Nat North", north.id, 200, [itc, (60,)])
    _supervision(nat, sue, [now - timedelta(days=130)])
    sid = enrolled("Sid South", south.id, 70, [itc, ()])
    _supervision(sid, sue, [now - timedelta(days=21)])
    db.session.commit()
    make_cycles(noor.trainee, 1, 1, now - timedelta(days=40))
    make_cycles(sid.trainee, 1, 1, now - timedelta(days=21))
    services.refresh(now)
    db.session.commit()
    # One trainee a page, so the held-up list shows its pagination with two people in it.
    app.config["PAGE_SIZE"] = 1
    return {"north": north, "south": south, "version": noor.pathway_version}


def _summary(page, key: str):
    """The value beside `key` in the first pathway version's summary list."""
    row = page.locator(".app-flow-version .govuk-summary-list__row", has=page.locator("dt", has_text=key)).first
    return row.locator("dd")


def _open_training_flow(browse: Browse) -> None:
    """Follow "Training flow" in the main menu, opening the menu first on a narrow screen."""
    menu = browse.page.get_by_role("navigation", name="Main menu")
    # Not `is_visible()`: each check narrows the window to 320 px and back, and the button shows until
    # the menu's script has heard the width change.
    if browse.page.viewport_size["width"] < TABLET:
        menu.get_by_role("button", name="Menu").click()
    browse.act(lambda: menu.get_by_role("link", name="Training flow").click())


def _administrator_journey(browse: Browse, flow: dict) -> None:
    page = browse.page
    browse.sign_in("admin@example.org", PASSWORD)
    _open_training_flow(browse)
    assert browse.path() == "/training-flow/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Where the time goes: Everyone (all services)")
    expect(page.locator("#freshness")).to_contain_text("Figures as of")
    # Six enrolled; accredited at 400, 500 and 560 days, the others followed for 70, 120 and 200 days:
    # at 400 days 1 of 3 still followed is accredited (2/3 left), at 500 1 of 2 (1/3 left): median
    # 500 days, 500 / 30.4375 = 16.4 months.
    expect(_summary(page, "Enrolled")).to_have_text("6: 3 in training, 0 paused now, 3 accredited, 0 withdrawn")
    expect(_summary(page, "Median time to accreditation")).to_contain_text("16.4 months")
    expect(page.get_by_role("img", name="Still in training: VIG Practitioner")).to_be_visible()
    expect(page.get_by_role("img", name="Median days in each step: VIG Practitioner")).to_be_visible()
    # Stage 1's work, finished by Nia, Ned, Sol and Nat: 120, 140, 90, 60 days; median 105, quartiles
    # (inclusive) 82.5 and 125.
    steps = page.get_by_role("region", name="Days in each step, stage by stage")
    work = steps.get_by_role("row").filter(has_text="Stage 1").first
    expect(work).to_contain_text("Doing the work")
    expect(work.locator("td[data-label='Median']")).to_have_text("105 days")
    expect(work.locator("td[data-label='Middle half']")).to_have_text("82.5 to 125")
    expect(page.get_by_role("region", name="By region")).to_contain_text("Yorkshire and The Humber")
    expect(page.get_by_text("No rates are set for this pathway version")).to_be_visible()

    # One service's figures from the picker.
    north = flow["north"]
    page.get_by_label("Whose figures").select_option(label="North Family Service")
    browse.act(lambda: page.get_by_role("button", name="Show", exact=True).click())
    assert browse.path() == f"/training-flow/?scope=service%3A{north.id}"
    expect(page.get_by_role("heading", level=1)).to_have_text("Where the time goes: North Family Service")
    expect(_summary(page, "Enrolled")).to_have_text("4: 2 in training, 0 paused now, 2 accredited, 0 withdrawn")
    # Nia at 500 days (Ned and Nia still followed: half left), so the median is again 500 days.
    expect(_summary(page, "Median time to accreditation")).to_contain_text("16.4 months")
    expect(page.get_by_role("region", name="By region")).to_have_count(0)

    # Trainees held up: by default (8 weeks) only Nat, waiting 123 days for a sign-off every earlier
    # stage 1 had within 7 days, and 130 days since supervision (18 weeks).
    browse.act(lambda: page.get_by_role("link", name="Trainees held up now").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Trainees held up: North Family Service")
    expect(page.get_by_role("heading", name="1 trainee held up")).to_be_visible()
    table = page.get_by_role("region", name="1 trainee held up")
    expect(table.get_by_role("row", name="Nat North")).to_contain_text(
        "Waiting for sign-off: 123 days, longer than 90% took (7 days)"
    )
    expect(table.get_by_role("row", name="Nat North")).to_contain_text("No confirmed supervision for 18 weeks")
    expect(table.get_by_role("row", name="Nat North")).to_contain_text("Sue Supervisor")

    weeks = page.get_by_label("Weeks with no cycle or confirmed supervision")
    weeks.fill("eight")
    browse.act(lambda: page.get_by_role("button", name="Show trainees").click(), status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the number of weeks as a whole number, like 8")
    expect(page.locator("#weeks-error")).to_contain_text("Enter the number of weeks as a whole number, like 8")
    expect(page.get_by_role("table")).to_have_count(0)

    # Four weeks: Noor's cycle and supervision 40 days ago (5 weeks) count too; Nat (130 days) first.
    page.get_by_label("Weeks with no cycle or confirmed supervision").fill("4")
    browse.act(lambda: page.get_by_role("button", name="Show trainees").click())
    expect(page.get_by_role("heading", name="2 trainees held up")).to_be_visible()
    expect(page.get_by_role("row", name="Nat North")).to_be_visible()
    browse.act(lambda: page.get_by_role("navigation", name="Pagination").get_by_role("link", name="Next").click())
    assert "weeks=4" in browse.path()
    row = page.get_by_role("row", name="Noor North")
    expect(row).to_contain_text("No cycle for 5 weeks")
    expect(row).to_contain_text("No confirmed supervision for 5 weeks")
    expect(page.get_by_role("row", name="Nat North")).to_have_count(0)

    # Cost rates: a bad amount is refused beside its field and nothing is saved; then good ones.
    browse.act(lambda: page.get_by_role("link", name="Back to where the time goes").click())
    browse.act(lambda: page.get_by_role("link", name="Cost rates").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Cost rates")
    label = flow["version"].label
    browse.act(lambda: page.get_by_role("link", name=f"Set the rates for {label}").click())
    page.get_by_label("Supervision, per hour").fill("sixty")
    page.get_by_label("Initial Training Course fee").fill("500")
    page.get_by_label("Accreditation fee").fill("150")
    browse.act(lambda: page.get_by_role("button", name="Save rates").click(), status=422)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter an amount in pounds, for example 85 or 85.50")
    expect(page.locator("#supervision_hour-error")).to_contain_text("Enter an amount in pounds")
    assert services.rates() == {}
    page.get_by_label("Supervision, per hour").fill("60")
    browse.act(lambda: page.get_by_role("button", name="Save rates").click())
    assert browse.path() == "/training-flow/rates"
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Cost rates saved for {label}")
    expect(page.get_by_role("row", name=label).first).to_contain_text("£60")

    # Everyone's estimate: 26, 28 and 33 chargeable hours, median 28 (quartiles 27 and 30.5) at £60,
    # plus £500 and £150: £2,330 (£2,270 to £2,480).
    browse.act(lambda: page.get_by_role("link", name="Back to the training flow").click())
    expect(_summary(page, "Estimated cost")).to_contain_text("A median of £2,330 (middle half £2,270 to £2,480)")
    browse.sign_out()


def _service_lead_journey(browse: Browse, flow: dict) -> None:
    page = browse.page
    browse.sign_in("lee.lead@example.org", PASSWORD)
    _open_training_flow(browse)
    expect(page.get_by_role("heading", level=1)).to_have_text("Where the time goes: North Family Service")
    # Their service is the only scope they may read, so there is nothing to pick.
    expect(page.get_by_label("Whose figures")).to_have_count(0)
    expect(page.get_by_text("South Parenting Team")).to_have_count(0)
    expect(_summary(page, "Enrolled")).to_have_text("4: 2 in training, 0 paused now, 2 accredited, 0 withdrawn")
    # Nia's and Ned's 26 and 28 hours: median 27 (quartiles 26.5 and 27.5) at £60, plus £650.
    expect(_summary(page, "Estimated cost")).to_contain_text("A median of £2,270 (middle half £2,240 to £2,300)")
    expect(page.get_by_role("link", name="Cost rates")).to_have_count(0)
    browse.act(lambda: page.get_by_role("link", name="Trainees held up now").click())
    expect(page.get_by_role("heading", name="1 trainee held up")).to_be_visible()
    expect(page.get_by_role("row", name="Nat North")).to_be_visible()
    browse.visit(f"/training-flow/?scope=service:{flow['south'].id}", status=403)
    browse.visit("/training-flow/?scope=all", status=403)
    browse.visit("/training-flow/rates", status=403)


def test_the_training_flow_at_desktop_width(flow, browse: Browse):
    _administrator_journey(browse, flow)
    _service_lead_journey(browse, flow)


def test_the_training_flow_on_a_320px_screen(flow, browse_mobile: Browse):
    _administrator_journey(browse_mobile, flow)
    _service_lead_journey(browse_mobile, flow)
