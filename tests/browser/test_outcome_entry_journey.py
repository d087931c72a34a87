"""Outcome measures entered live in a client session: issue 5's acceptance journey and its safety nets.

A trainee on a phone adds a case, records a PHQ-9 before the work (high scores) and after it (low
scores), and sees the change classified the way NHS Talking Therapies do. Around that journey:
answers typed on the entry screen survive a reload or a closed tab and are forgotten once saved;
the form can be completed with the keyboard alone; a positive answer to PHQ-9 item 9 raises an
alert. Every page is screenshotted and scanned with axe (`Browse.check`).

The live server runs on the real clock, so dates are relative to `today()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, Browse
from tests.browser.test_small_screens import horizontal_overflow
from tests.factories import PASSWORD, make_admin, make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.casework.models import AgeBand, Case, Population, Relationship
from vigtrain.casework.services import Consents, create_case
from vigtrain.dates import format_date, today
from vigtrain.dcs.measures import get_measure
from vigtrain.dcs.models import Administration, Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.organisations.models import Region

PHONE = {"width": 375, "height": 740}
NARROWEST = {"width": 320, "height": 640}
TRAINEE = ("tess.trainee@example.org", "Tess Trainee")
PHQ9 = "Patient Health Questionnaire (PHQ-9)"
NOT_AT_ALL, SEVERAL_DAYS, MORE_THAN_HALF, NEARLY_EVERY_DAY = (
    "Not at all",
    "Several days",
    "More than half the days",
    "Nearly every day",
)
# Items 1-8 nearly every day, item 9 (the risk item) not at all: 24, "Severe", no risk flag.
HIGH = [NEARLY_EVERY_DAY] * 8 + [NOT_AT_ALL]
# Two items on several days: 2, "None to minimal".
LOW = [SEVERAL_DAYS, SEVERAL_DAYS] + [NOT_AT_ALL] * 7
# Three answers given, then the connection drops; the other six given after the answers are restored.
FIRST_THREE = [MORE_THAN_HALF, SEVERAL_DAYS, NEARLY_EVERY_DAY]
RESUMED = FIRST_THREE + [NOT_AT_ALL] * 6
RISK_TEXT = "Risk item answered: act on it now"


@pytest.fixture
def phone(browser, live_server) -> Iterator[Callable[[str], Browse]]:
    """A touch-screen phone 375 CSS pixels wide; every context closes before the server stops."""
    contexts = []

    def open_phone(name: str) -> Browse:
        context = browser.new_context(
            viewport=PHONE, has_touch=True, is_mobile=True, locale="en-GB", timezone_id="Europe/London"
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return Browse(context.new_page(), live_server, name)

    yield open_phone
    for context in contexts:
        context.close()


# --- the acceptance journey (issue 5, "Done when") -------------------------------------------------


def test_pre_and_post_phq9_on_a_phone_show_reliable_improvement(phone):
    make_user(TRAINEE[0], roles=(Role.TRAINEE,), name=TRAINEE[1])
    now = today()
    started = now - timedelta(weeks=10)

    tess = phone("outcome-entry-phone")
    page = tess.page
    tess.sign_in(TRAINEE[0], PASSWORD)
    case_code = _add_case(tess, started)

    # Pre, on the day the work started, with high scores.
    tess.act(lambda: page.get_by_role("link", name="Record a measure").click())
    _choose(tess, PHQ9, "Before (pre)")
    assert tess.path() == f"/cases/{case_code}/measures/PHQ-9/pre"
    expect(_items(page)).to_have_count(9)
    first = _items(page).first.locator("legend")
    expect(first.locator(".govuk-caption-m")).to_have_text("Question 1 of 9")
    expect(first).to_contain_text("Little interest or pleasure in doing things")
    expect(page.get_by_role("main")).not_to_contain_text("<span")
    assert_no_sideways_scroll(page)
    # The narrowest screen WCAG 1.4.10 asks for: the entry page still fits, with its answers.
    page.set_viewport_size(NARROWEST)
    assert_no_sideways_scroll(page)
    tess.check()
    page.set_viewport_size(PHONE)
    _fill_date(page, "Date completed", started)
    _answer(page, HIGH)
    expect(page.locator("[data-measure-progress]")).to_have_text("9 of 9 answered")
    assert_no_sideways_scroll(page)
    page.set_viewport_size(NARROWEST)
    assert_no_sideways_scroll(page)  # answered radios and the counter change nothing
    page.set_viewport_size(PHONE)
    tess.check()
    tess.act(lambda: page.get_by_role("button", name="Save answers").click())
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(PHQ9)
    _summary(page, "Score", "24 (possible range 0 to 27, lower is better)")
    _summary(page, "Band", "Severe")
    expect(main).not_to_contain_text("Reliable improvement")  # nothing to compare with yet
    expect(page.locator(".app-risk-alert")).to_have_count(0)
    assert_no_sideways_scroll(page)

    # Post, today, with low scores.
    tess.act(lambda: page.get_by_role("link", name="Record another measure").click())
    expect(main).to_contain_text("Already recorded for this case: PHQ-9 (pre).")
    _choose(tess, PHQ9, "After (post)")
    assert tess.path() == f"/cases/{case_code}/measures/PHQ-9/post"
    _answer(page, LOW)
    tess.act(lambda: page.get_by_role("button", name="Save answers").click())
    _summary(page, "Score", "2 (possible range 0 to 27, lower is better)")
    _summary(page, "Band", "None to minimal")
    _summary(page, "Change, pre to post", "24 to 2")
    _summary(page, "Classification", "Reliable improvement")
    _summary(page, "Recovery", "Reliable recovery")
    expect(main).not_to_contain_text("Consider whether the client needs further therapeutic input")
    assert_no_sideways_scroll(page)

    # The case's outcomes page says the same, in a table and a chart.
    tess.act(lambda: page.get_by_role("link", name="See all outcomes for this case").click())
    assert tess.path() == f"/cases/{case_code}/outcomes"
    section = page.get_by_role("region", name=PHQ9)
    table = section.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)
    cells = table.get_by_role("row").locator("th, td")
    expect(cells).to_have_text(
        [
            *("When", "Score", "Band"),
            *("Before (pre)" + format_date(started), "24", "Severe"),
            *("After (post)" + format_date(now), "2", "None to minimal"),
        ]
    )
    expect(section.get_by_role("img", name="PHQ-9 scores over time")).to_be_visible()
    _summary(section, "Classification", "Reliable improvement")
    _summary(section, "Recovery", "Reliable recovery")
    assert_no_sideways_scroll(page)

    # And the case page lists both with the classification.
    tess.act(lambda: page.get_by_role("link", name=f"Back to case {case_code}").click())
    expect(main).to_contain_text("PHQ-9: pre 24, post 2 (Reliable improvement)")
    assert_no_sideways_scroll(page)

    db.session.expire_all()
    stored = db.session.scalars(select(Administration).order_by(Administration.id)).all()
    assert [(row.timepoint, row.administered_on, row.total) for row in stored] == [
        (Timepoint.PRE, started, 24),
        (Timepoint.POST, now, 2),
    ]


# --- nothing typed is lost --------------------------------------------------------------------------


def test_answers_survive_a_reload_and_a_closed_tab_and_are_forgotten_once_saved(browse):
    trainee = make_user(TRAINEE[0], roles=(Role.TRAINEE,), name=TRAINEE[1])
    started = today() - timedelta(weeks=2)
    case = _seed_case(trainee, started)
    entry = f"/cases/{case.code}/measures/PHQ-9/pre"
    completed = started + timedelta(days=1)
    storage_key = f"vigtrain:measure:{case.code}:PHQ-9:pre"
    browse.name = "outcome-entry-resume"
    page = browse.page
    browse.sign_in(TRAINEE[0], PASSWORD)

    browse.visit(entry)
    progress = page.locator("[data-measure-progress]")
    restored = page.get_by_role("region", name="Answers restored")
    expect(progress).to_have_text("0 of 9 answered")
    expect(restored).to_be_hidden()
    _fill_date(page, "Date completed", completed)
    _answer(page, FIRST_THREE)
    expect(progress).to_have_text("3 of 9 answered")
    page.wait_for_function("key => window.localStorage.getItem(key) !== null", arg=storage_key)

    # A reload keeps them, and the counter counts them.
    page.reload()
    browse.check()
    expect(progress).to_have_text("3 of 9 answered")
    _expect_answers(page, FIRST_THREE)
    _expect_date(page, "Date completed", completed)

    # So does a closed tab: a new one on the same device puts them back from storage, and says so.
    page.close()
    page = browse.page = page.context.new_page()
    browse.visit(entry)
    progress = page.locator("[data-measure-progress]")
    expect(page.get_by_role("region", name="Answers restored")).to_be_visible()
    expect(progress).to_have_text("3 of 9 answered")
    _expect_answers(page, FIRST_THREE)
    _expect_date(page, "Date completed", completed)
    browse.check()  # the notice passes axe too

    # Finish and save: the saved page forgets what was stored.
    _answer(page, RESUMED[3:], start=3)
    expect(progress).to_have_text("9 of 9 answered")
    browse.act(lambda: page.get_by_role("button", name="Save answers").click())
    _summary(page, "Score", "6 (possible range 0 to 27, lower is better)")
    page.wait_for_function("key => window.localStorage.getItem(key) === null", arg=storage_key)
    db.session.expire_all()
    saved = db.session.scalar(select(Administration))
    assert (saved.administered_on, saved.responses) == (completed, _responses(RESUMED))

    # Reopening the same entry screen starts empty.
    browse.visit(entry)
    expect(page.locator("[data-measure-progress]")).to_have_text("0 of 9 answered")
    expect(page.get_by_role("region", name="Answers restored")).to_be_hidden()
    expect(page.locator("[data-measure-item] input[type=radio]:checked")).to_have_count(0)


# --- keyboard only ----------------------------------------------------------------------------------


def test_the_entry_form_can_be_completed_with_the_keyboard_alone(browse):
    """Tab reaches the date and each question, arrows choose an answer, Space selects, Enter saves."""
    trainee = make_user(TRAINEE[0], roles=(Role.TRAINEE,), name=TRAINEE[1])
    started = today() - timedelta(weeks=8)
    case = _seed_case(trainee, started)
    record_administration(trainee, case, "PHQ-9", Timepoint.PRE, started, _responses(HIGH), today())
    db.session.commit()
    browse.name = "outcome-entry-keyboard"
    page = browse.page
    browse.sign_in(TRAINEE[0], PASSWORD)
    browse.visit(f"/cases/{case.code}/measures/PHQ-9/post")
    keyboard = page.keyboard

    # From the top of the page, Tab alone reaches the date's first box (today's date is filled in).
    for _ in range(40):
        keyboard.press("Tab")
        if _focused(page) == "administered_on":
            break
    assert _focused(page) == "administered_on", "Tab never reached the date"
    keyboard.press("Tab")
    keyboard.press("Tab")
    assert _focused(page) == "administered_on-year"

    # Each question is one Tab stop; Space selects the first answer, arrows move and select.
    progress = page.locator("[data-measure-progress]")
    for number, answer in enumerate(LOW, start=1):
        keyboard.press("Tab")
        assert _focused(page) == f"item_{number}", f"question {number}: focus is on {_focused(page)}"
        keyboard.press("Space")
        for _ in range(OPTIONS.index(answer)):
            keyboard.press("ArrowDown")
        expect(progress).to_have_text(f"{number} of 9 answered")
    _expect_answers(page, LOW)
    # Arrows move within a group only: down and back up leaves the last answer as it was.
    keyboard.press("ArrowDown")
    keyboard.press("ArrowUp")
    _expect_answers(page, LOW)

    # The next Tab stop is the submit button; Enter saves.
    keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save answers")).to_be_focused()
    browse.act(lambda: keyboard.press("Enter"))
    _summary(page, "Score", "2 (possible range 0 to 27, lower is better)")
    _summary(page, "Classification", "Reliable improvement")

    # Desktop view of the outcomes page, for the screenshot review.
    browse.act(lambda: page.get_by_role("link", name="See all outcomes for this case").click())
    expect(page.get_by_role("region", name=PHQ9)).to_contain_text("Reliable improvement")


def test_the_answered_count_stays_in_view_and_never_hides_the_focused_question(phone):
    """The count is sticky; keyboard focus moving back up the form must not land underneath it (WCAG 2.4.11)."""
    trainee = make_user(TRAINEE[0], roles=(Role.TRAINEE,), name=TRAINEE[1])
    case = _seed_case(trainee, today() - timedelta(weeks=1))
    tess = phone("outcome-entry-sticky")
    page = tess.page
    tess.sign_in(TRAINEE[0], PASSWORD)
    tess.visit(f"/cases/{case.code}/measures/PHQ-9/pre")
    progress = page.locator("[data-measure-progress]")

    _answer(page, LOW)
    _items(page).last.scroll_into_view_if_needed()
    expect(progress).to_be_in_viewport()
    expect(progress).to_have_text("9 of 9 answered")
    tess.check()  # scrolled to the end, the count on top

    page.get_by_role("button", name="Save answers").focus()
    hidden = []
    for _ in range(len(LOW) + 3):  # back through every question and the date's three boxes
        page.keyboard.press("Shift+Tab")
        place = page.evaluate(_FOCUS_UNDER_COUNT)
        if place["hidden"]:
            hidden.append(place)
    assert not hidden, f"the focused control is entirely hidden under the sticky count: {hidden}"


# --- the risk item ----------------------------------------------------------------------------------


def test_a_positive_answer_to_phq9_item_9_raises_an_alert(phone):
    trainee = make_user(TRAINEE[0], roles=(Role.TRAINEE,), name=TRAINEE[1])
    supervisor = make_user("sue.sup@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    make_enrolment(trainee, supervisor, start=today() - timedelta(weeks=20), actor=make_admin())
    db.session.commit()
    case = _seed_case(trainee, today() - timedelta(weeks=1))
    tess = phone("outcome-entry-risk")
    page = tess.page
    tess.sign_in(TRAINEE[0], PASSWORD)
    tess.visit(f"/cases/{case.code}/measures/PHQ-9/pre")
    _answer(page, [NOT_AT_ALL] * 8 + [SEVERAL_DAYS])
    tess.act(lambda: page.get_by_role("button", name="Save answers").click())

    alert = page.get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(RISK_TEXT)
    expect(alert).to_contain_text("Item 9 (thoughts of being better off dead or of self-harm) was answered positively")
    expect(alert).to_contain_text("has been told by email, by case code only.")
    _summary(page, "Score", "1 (possible range 0 to 27, lower is better)")
    assert_no_sideways_scroll(page)
    db.session.expire_all()
    told = db.session.scalars(select(OutboxMessage)).all()
    assert [(message.to_address, message.subject) for message in told] == [
        ("sue.sup@example.org", f"Risk item answered on case {case.code}")
    ]

    # The flag stays with the case: on its outcomes page and its own page.
    tess.act(lambda: page.get_by_role("link", name="See all outcomes for this case").click())
    section = page.get_by_role("region", name=PHQ9)
    expect(section).to_contain_text("A risk item was answered at pre on")
    expect(section).to_contain_text("Item 9 (thoughts of being better off dead or of self-harm)")
    # Only a pre so far: the page asks for a post, and does not say the pre is missing.
    expect(section).to_contain_text("Record PHQ-9 again at the end of the work (post) to see the change.")
    expect(section).not_to_contain_text("There is no pre score")
    assert_no_sideways_scroll(page)
    tess.visit(f"/cases/{case.code}")
    expect(page.get_by_role("main")).to_contain_text("Risk item answered")


def test_phq9_item_9_answered_not_at_all_raises_no_alert(phone):
    """The alert's absence is checked too, or the test above could pass on a page that always alerts."""
    trainee = make_user(TRAINEE[0], roles=(Role.TRAINEE,), name=TRAINEE[1])
    case = _seed_case(trainee, today() - timedelta(weeks=1))
    tess = phone("outcome-entry-no-risk")
    page = tess.page
    tess.sign_in(TRAINEE[0], PASSWORD)
    tess.visit(f"/cases/{case.code}/measures/PHQ-9/pre")
    _answer(page, HIGH)
    tess.act(lambda: page.get_by_role("button", name="Save answers").click())
    _summary(page, "Score", "24 (possible range 0 to 27, lower is better)")
    expect(page.locator(".app-risk-alert")).to_have_count(0)
    expect(page.get_by_role("main")).not_to_contain_text(RISK_TEXT)


# --- helpers ----------------------------------------------------------------------------------------

OPTIONS = [NOT_AT_ALL, SEVERAL_DAYS, MORE_THAN_HALF, NEARLY_EVERY_DAY]


def assert_no_sideways_scroll(page: Page) -> None:
    problem = horizontal_overflow(page)
    assert problem is None, f"{page.url} scrolls sideways at {page.viewport_size['width']}px: {problem}"
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def _add_case(who: Browse, started: date) -> str:
    """Add a case through the form, with every consent given on the day the work started."""
    page = who.page
    who.visit("/cases/new")
    page.get_by_label("Who is the guidance for?").select_option(label="Parent and baby (under 2)")
    page.get_by_label("Age of the child or young person").select_option(label="Under 1 year")
    page.get_by_label("Area of work").select_option(label="Perinatal mental health")
    page.get_by_label("Region or nation").select_option(label="Yorkshire and The Humber")
    _fill_date(page, "When did the work with this client start?", started)
    for consent in page.get_by_role("group", name=re.compile("^Consent to")).all():
        consent.get_by_label("Yes").check()
    _fill_date(page, "Date consent was given", started)
    who.act(lambda: page.get_by_role("button", name="Add case").click())
    expect(page.locator(".govuk-notification-banner")).to_contain_text("added. Use this code")
    code = who.path().removeprefix("/cases/")
    main = page.get_by_role("main")
    _summary(page, "Started", format_date(started))
    _summary(page, "Consent to the Data Collection System", f"Yes, given {format_date(started)}")
    expect(main).to_contain_text("No outcome measures recorded for this case yet.")
    return code


def _seed_case(practitioner, started: date) -> Case:
    region = db.session.scalar(select(Region).where(Region.code == "E12000003"))
    case = create_case(
        practitioner,
        Relationship.PARENT_INFANT,
        AgeBand.UNDER_1,
        Population.PERINATAL,
        region,
        started,
        Consents(filming=started, supervision=started, dcs=started),
    )
    db.session.commit()
    return case


def _responses(answers: Sequence[str]) -> dict[str, int | None]:
    measure = get_measure("PHQ-9")
    return {item.number: OPTIONS.index(answer) for item, answer in zip(measure.items, answers, strict=True)}


def _choose(who: Browse, measure: str, timepoint: str) -> None:
    page = who.page
    page.get_by_role("group", name="Which measure?").get_by_label(measure, exact=True).check()
    page.get_by_role("group", name="When in the work is it?").get_by_label(timepoint, exact=True).check()
    who.act(lambda: page.get_by_role("button", name="Continue").click())
    expect(page.get_by_role("heading", level=1)).to_have_text(measure)


def _items(page: Page):
    return page.locator("[data-measure-item]")


def _answer(page: Page, answers: Sequence[str], start: int = 0) -> None:
    """Tap an answer for each question from `start` (0-based), as a practitioner would."""
    for offset, answer in enumerate(answers):
        _items(page).nth(start + offset).get_by_label(answer, exact=True).check()


def _expect_answers(page: Page, answers: Sequence[str]) -> None:
    for index, answer in enumerate(answers):
        expect(_items(page).nth(index).get_by_label(answer, exact=True)).to_be_checked()
        expect(_items(page).nth(index).locator("input:checked")).to_have_count(1)


def _expect_date(page: Page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    for part, value in (("Day", day.day), ("Month", day.month), ("Year", day.year)):
        expect(group.get_by_label(part)).to_have_value(str(value))


def _fill_date(page: Page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _summary(scope, key: str, value: str) -> None:
    """The summary-list row whose key is exactly `key` shows `value`."""
    row = scope.locator(f'.govuk-summary-list__row:has(> .govuk-summary-list__key:text-is("{key}"))')
    expect(row).to_have_count(1)
    expect(row.locator(".govuk-summary-list__value")).to_contain_text(value)


_FOCUS_UNDER_COUNT = """() => {
    const focused = document.activeElement.getBoundingClientRect()
    const count = document.querySelector('[data-measure-progress]').getBoundingClientRect()
    return {
        focused: document.activeElement.id,
        top: focused.top,
        bottom: focused.bottom,
        countTop: count.top,
        countBottom: count.bottom,
        hidden: focused.top >= count.top && focused.bottom <= count.bottom,
    }
}"""


def _focused(page: Page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.name || document.activeElement.tagName")
