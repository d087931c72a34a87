"""A trainee's everyday work on a phone 375 px wide, each action started from the home page.

Signed in, the trainee adds a case, adds a cycle to it, logs a supervision session that reviewed
that cycle, and records a PHQ-9 for the case. Each action starts on the home page's "Record your
work" buttons and ends on the page that says it was saved. The test measures, for each action:

- taps: taps that navigate or submit, from the home page to the saved page (the home page's
  button, "Continue", the save button). Typing and choosing in the form are not taps;
- field interactions, the second figure: each control the trainee has to change from what the
  form already holds: a choice in a select, a radio or checkbox ticked, a box typed into (a date is
  three boxes: day, month, year). Defaults left alone (today's date, the usual length, the personal
  supervisor, the case chosen already) cost nothing;
- form height: `document.documentElement.scrollHeight` of each form page as it opens, at 375 px
  (header and footer included). The JSON also gives the height of the form itself and how far
  down the page its submit button starts.

Every page landed on must fit the phone's width (`scrollWidth` no more than `window.innerWidth`)
and be axe clean (`Browse.check` scans it and saves a screenshot). The figures are written to
test-artifacts/everyday-phone-journey.json and printed.

The live server runs on the real clock, so dates are relative to `today()`. The PHQ-9 is entered
live, so its date is left at the default: today.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, Browse
from tests.factories import PASSWORD, make_admin, make_enrolment, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.casework.models import Case
from vigtrain.dates import format_date, today
from vigtrain.dcs.models import Administration, Timepoint
from vigtrain.extensions import db
from vigtrain.supervision.models import SessionStatus, SupervisionSession

PHONE = {"width": 375, "height": 667}
FIGURES = Path(__file__).resolve().parents[2] / "test-artifacts" / "everyday-phone-journey.json"
TRAINEE = ("tara.trainee@example.org", "Tara Trainee")
SUPERVISOR = ("sam.supervisor@example.org", "Sam Supervisor")
PHQ9 = "Patient Health Questionnaire (PHQ-9)"
# Two items on several days, one more than half the days, item 9 (the risk item) not at all: 4.
PHQ9_ANSWERS = ["Several days", "Several days", "More than half the days"] + ["Not at all"] * 6
# The taps each action takes today, as ceilings: one to open the form from home, one to save, plus
# "Continue" between choosing a measure and its questions. An extra step fails here, not only in the table.
MAX_TAPS = {"Add a case": 2, "Add a cycle": 2, "Log supervision": 2, "Record a PHQ-9": 3}


@dataclass
class Action:
    """One everyday action's figures."""

    name: str
    taps: int = 0
    fields: int = 0
    forms: list[dict[str, int | str]] = field(default_factory=list)


class Journey:
    """A phone's `Browse`, counting taps and field interactions, measuring each form page as it opens."""

    def __init__(self, browse: Browse) -> None:
        self.browse = browse
        self.page = browse.page
        self.actions: list[Action] = []

    @property
    def action(self) -> Action:
        return self.actions[-1]

    def start(self, name: str, button: str) -> None:
        """From the home page, tap the "Record your work" button that begins the action."""
        self.browse.visit("/home")
        fits_the_width(self.page)
        self.actions.append(Action(name))
        nav = self.page.get_by_role("navigation", name="Record your work")
        self.tap(nav.get_by_role("link", name=button, exact=True))

    def tap(self, target: Locator, status: int = 200) -> None:
        """A tap that navigates or submits: counted; the page it leads to is checked and must fit."""
        self.action.taps += 1
        self.browse.act(target.tap, status)
        fits_the_width(self.page)

    def measure_form(self) -> None:
        """The form page as it opens, before anything is filled in: its height, the form's, the button's place."""
        figures = self.page.evaluate(_FORM_FIGURES)
        self.action.forms.append({"page": self.browse.path().split("?")[0], **figures})

    def choose(self, label: str, option: str) -> None:
        self.action.fields += 1
        self.page.get_by_label(label, exact=True).select_option(label=option)

    def tick(self, target: Locator) -> None:
        self.action.fields += 1
        target.check()

    def answer(self, legend: str, answer: str) -> None:
        self.tick(self.page.get_by_role("group", name=legend, exact=True).get_by_label(answer, exact=True))

    def type(self, target: Locator, text: str) -> None:
        self.action.fields += 1
        target.fill(text)

    def date(self, legend: str, day: date) -> None:
        group = self.page.get_by_role("group", name=legend, exact=True)
        for part, value in (("Day", day.day), ("Month", day.month), ("Year", day.year)):
            self.type(group.get_by_label(part, exact=True), str(value))


_FORM_FIGURES = """() => {
    const form = document.querySelector('main form[method=post]');
    const submit = [...form.querySelectorAll('button, input[type=submit]')].pop();  // after any search button
    return {
        height_px: document.documentElement.scrollHeight,
        form_px: Math.round(form.getBoundingClientRect().height),
        submit_top_px: Math.round(submit.getBoundingClientRect().top + window.scrollY),
    };
}"""


def fits_the_width(page: Page) -> None:
    """The page does not scroll sideways at the phone's width (WCAG 1.4.10 asks the same at 320 px)."""
    widths = page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
            inner: window.innerWidth,
        })"""
    )
    # A mobile browser may zoom out to show an overflowing page whole, widening innerWidth with it.
    assert widths["inner"] == PHONE["width"], f"{page.url}: the window is {widths['inner']}px wide, not 375px"
    assert widths["scroll"] <= min(widths["inner"], widths["client"]), f"{page.url} scrolls sideways: {widths}"


def _banner(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


@pytest.fixture
def phone(browser, live_server, request) -> Iterator[Journey]:
    """A touch-screen phone 375 x 667 CSS pixels, closed before the server stops."""
    context = browser.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield Journey(Browse(context.new_page(), live_server, "everyday-phone"))
    context.close()


def test_everyday_actions_on_a_phone_from_the_home_page(phone: Journey) -> None:
    now = today()
    started = now - timedelta(days=14)
    filmed, reviewed = now - timedelta(days=10), now - timedelta(days=3)
    service = make_service("Riverside Family Service", region_code="E12000003")
    trainee = make_user(TRAINEE[0], roles=(Role.TRAINEE,), name=TRAINEE[1], service_id=service.id)
    supervisor = make_user(SUPERVISOR[0], roles=(Role.SUPERVISOR,), name=SUPERVISOR[1])
    make_enrolment(trainee, supervisor, start=now - timedelta(days=60), actor=make_admin())
    page = phone.page

    phone.browse.sign_in(TRAINEE[0], PASSWORD)
    assert phone.browse.path() == "/home"
    fits_the_width(page)

    # --- Add a case: selects, the start date, three yes-or-no consents and their date -------------
    phone.start("Add a case", "Add a case")
    assert phone.browse.path() == "/cases/new"
    phone.measure_form()
    expect(page.get_by_label("Region or nation")).to_have_value(str(service.region_id))  # the service's
    phone.choose("Who is the guidance for?", "Parent and baby (under 2)")
    phone.choose("Age of the child or young person", "Under 1 year")
    phone.choose("Area of work", "Perinatal mental health")
    phone.date("When did the work with this client start?", started)
    phone.answer("Consent to filming", "Yes")
    phone.answer("Consent to clips being shown in your VIG supervision", "Yes")
    phone.answer("Consent to sharing anonymised outcome data with AVIGuk", "Yes")
    phone.date("Date consent was given", started)
    phone.tap(page.get_by_role("button", name="Add case"))
    _banner(page, "added. Use this code whenever you refer to this client")
    code = phone.browse.path().removeprefix("/cases/")
    assert db.session.scalar(select(Case.code)) == code

    # --- Add a cycle: the new case is chosen already ----------------------------------------------
    phone.start("Add a cycle", "Add a cycle")
    assert phone.browse.path() == "/cycles/new"
    phone.measure_form()
    expect(page.get_by_label("Which case?").locator("option:checked")).to_contain_text(code)
    phone.date("Date of filming", filmed)
    phone.date("Date of the shared review", reviewed)
    phone.type(page.get_by_label("Number of clips shown in the shared review"), "3")
    phone.tick(page.get_by_label("Receiving initiatives", exact=True))
    phone.tap(page.get_by_role("button", name="Save cycle"))
    _banner(page, f"Cycle added to case {code}.")
    assert phone.browse.path() == f"/cases/{code}"
    expect(page.get_by_role("region", name=f"Cycles for case {code}")).to_contain_text(format_date(reviewed))

    # --- Log supervision: today, the usual hour, the personal supervisor; tick the film reviewed ----
    phone.start("Log supervision", "Log supervision")
    assert phone.browse.path() == "/supervision/new"
    phone.measure_form()
    session_date = page.get_by_role("group", name="Date of the session")
    expect(session_date.get_by_label("Day")).to_have_value(str(now.day))
    expect(page.get_by_label("1 hour", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name=SUPERVISOR[1])).to_be_checked()
    film = page.get_by_role("group", name="Whose film did you review?")
    phone.tick(film.get_by_label(f"{code}, cycle 1: filmed {format_date(filmed)}", exact=True))
    phone.tap(page.get_by_role("button", name="Save session"))
    _banner(page, f"Session on {format_date(now)} saved. It counts once {SUPERVISOR[1]} confirms it.")

    # The trainee lands on the session itself, which names the film; the case shows its cycle reviewed.
    assert re.fullmatch(r"/supervision/\d+", phone.browse.path()), phone.browse.path()
    fits_the_width(page)
    film_row = page.locator(".govuk-summary-list__row").filter(has_text="Film reviewed")
    expect(film_row.locator(".govuk-summary-list__value")).to_have_text(f"{code}, filmed {format_date(filmed)}")
    phone.browse.act(lambda: film_row.get_by_role("link").tap())
    assert phone.browse.path() == f"/cases/{code}"
    fits_the_width(page)
    cycle_row = page.get_by_role("region", name=f"Cycles for case {code}").locator("tbody tr")
    expect(cycle_row).to_have_count(1)
    expect(cycle_row.locator("td").nth(6)).to_contain_text(f"{format_date(now)} (awaiting confirmation)")
    supervision = page.get_by_role("list", name="Supervision of this case’s film")
    expect(supervision).to_contain_text(f"{format_date(now)} with {SUPERVISOR[1]}")
    expect(supervision).to_contain_text("Awaiting confirmation")
    expect(supervision).to_contain_text(f"Reviewed: cycle filmed {format_date(filmed)}")
    db.session.expire_all()
    session = db.session.scalar(select(SupervisionSession))
    assert session.status is SessionStatus.LOGGED and session.duration_minutes == 60
    assert [(review.case.code, review.cycle.filmed_on) for review in session.reviews] == [(code, filmed)]

    # --- Record a PHQ-9: the case chosen already; the measure, the timepoint, then nine answers ----
    phone.start("Record a PHQ-9", "Record a measure")
    assert phone.browse.path() == "/measures/record"
    phone.measure_form()
    expect(page.get_by_label("Which case?").locator("option:checked")).to_contain_text(code)
    phone.answer("Which measure?", PHQ9)
    phone.answer("When in the work is it?", "Before (pre)")
    phone.tap(page.get_by_role("button", name="Continue"))
    assert phone.browse.path() == f"/cases/{code}/measures/PHQ-9/pre"
    phone.measure_form()
    items = page.locator("[data-measure-item]")
    expect(items).to_have_count(len(PHQ9_ANSWERS))
    for index, answer in enumerate(PHQ9_ANSWERS):
        phone.tick(items.nth(index).get_by_label(answer, exact=True))
    phone.tap(page.get_by_role("button", name="Save answers"))
    score = page.locator(".govuk-summary-list__row").filter(has_text="Score")
    expect(score.first).to_contain_text("4 (possible range 0 to 27, lower is better)")
    db.session.expire_all()
    stored = db.session.scalars(select(Administration)).all()
    assert [(row.timepoint, row.administered_on, row.total) for row in stored] == [(Timepoint.PRE, now, 4)]

    # --- The figures ----------------------------------------------------------------------------------
    _record(phone.actions)
    assert [action.name for action in phone.actions] == list(MAX_TAPS)
    for action in phone.actions:
        assert action.taps <= MAX_TAPS[action.name], f"{action.name} took {action.taps} taps"


def _record(actions: list[Action]) -> None:
    """Write the figures where people reviewing the screenshots will find them, and print a table."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    figures = {"viewport": PHONE, "actions": [asdict(action) for action in actions]}
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\n{'Action':<18}{'Taps':>6}{'Fields':>8}  Page height at 375 px (form; submit button's top)")
    for action in actions:
        heights = " + ".join(
            f"{form['height_px']} ({form['form_px']}; {form['submit_top_px']}) {form['page']}" for form in action.forms
        )
        print(f"{action.name:<18}{action.taps:>6}{action.fields:>8}  {heights}")
