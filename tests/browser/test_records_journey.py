"""An administrator finds a stage waiting too long in the training records and asks an accrediting supervisor.

The records list is filtered to Stage 2, signed off by the supervisor more than 14 days ago: of three
trainees only the one waiting 20 days is listed (another waits 5 days, a third is on Stage 1). From
the stage page the administrator searches for an accrediting supervisor as they type, sees each
person's load beside their name, chooses one with the keyboard and asks them; the record then
leaves the filter. The same "choose a person" field also works without JavaScript.

Every page is screenshotted and scanned with axe; the records and stage pages fit 320 CSS pixels.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, MOBILE, Browse
from tests.browser.test_small_screens import assert_fits
from tests.factories import PASSWORD, make_admin, make_enrolment, make_service, make_user, place_on_stage
from vigtrain.accounts.models import Role
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment, StageRecord, StageState

SHOTS = Path(tempfile.gettempdir()) / "shots"  # /tmp/shots: for people to look at
LAPTOP = {"width": 1024, "height": 900}
SEARCH = "Search for the accrediting supervisor"
ASK = "Ask this accrediting supervisor"
WAITING_LONG = ("ann.long@example.org", "Ann Long")  # Stage 2, signed off 20 days ago: found
WAITING_SHORT = ("bob.short@example.org", "Bob Short")  # Stage 2, signed off 5 days ago: too recent
ON_STAGE_1 = ("cat.first@example.org", "Cat First")  # Stage 1, signed off 30 days ago: wrong stage
ALEX = ("alex.accreditor@example.org", "Alex Accreditor")  # capacity 8, supervises 2 trainees
ALEXA = ("alexa.second@example.org", "Alexa Second")  # no capacity set, nothing in hand


@pytest.fixture
def world(app) -> dict:
    north = make_service("North Trust")
    db.session.commit()
    admin = make_admin()
    sue = make_user("sue.supervisor@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor", service_id=north.id)
    alex = make_user(ALEX[0], roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name=ALEX[1], trainee_capacity=8)
    alexa = make_user(ALEXA[0], roles=(Role.ACCREDITING_SUPERVISOR,), name=ALEXA[1])

    def trainee(email: str, name: str):
        return make_user(email, roles=(Role.TRAINEE,), name=name, service_id=north.id)

    found = make_enrolment(trainee(*WAITING_LONG), sue, actor=admin)
    recent = make_enrolment(trainee(*WAITING_SHORT), sue, actor=admin)
    stage_1 = make_enrolment(trainee(*ON_STAGE_1), sue, actor=admin)
    place_on_stage(found, "stage-2", StageState.SIGNED_OFF, 20)
    place_on_stage(recent, "stage-2", StageState.SIGNED_OFF, 5)
    place_on_stage(stage_1, "stage-1", StageState.SIGNED_OFF, 30)
    # Alex's own load: two trainees just starting, so the picker shows "2 trainees of 8".
    for number in (1, 2):
        make_enrolment(trainee(f"alex.trainee{number}@example.org", f"Zed Trainee {number}"), alex, actor=admin)
    return {"admin": admin, "sue": sue, "alex": alex, "alexa": alexa, "found": found}


def _stage(enrolment_id: int, code: str) -> StageRecord:
    db.session.expire_all()
    return db.session.get(Enrolment, enrolment_id).stage_record(code)


def _banner(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def _state_is(page: Page, label: str) -> None:
    expect(page.get_by_role("main").locator(".govuk-tag").first).to_have_text(label)


def _fits_320(page: Page, screenshot: str | None = None) -> None:
    """The page as it is now, 320 CSS pixels wide: no sideways scrolling. Back to the desktop after."""
    page.set_viewport_size(MOBILE)
    try:
        assert_fits(page)
        if screenshot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / screenshot, full_page=True, caret="initial")
    finally:
        page.set_viewport_size(DESKTOP)


class _WithoutJavaScript(Browse):
    """A journey with the page's JavaScript switched off, and every page still scanned with axe.

    axe-core is JavaScript too: in a context made with `java_script_enabled=False` its scan waits on
    timers that never fire, and the context's setting cannot be lifted for the scan. So scripts are
    switched off with Chromium's own switch (the one Playwright's setting uses) before the first page
    loads, and each scan switches them on for axe only: the page's own scripts were skipped as it
    loaded and do not run afterwards, so the scan sees the page as a browser without JavaScript has it.
    """

    def __init__(self, page: Page, base_url: str, name: str) -> None:
        super().__init__(page, base_url, name)
        self._scripts = page.context.new_cdp_session(page)
        self._scripts_off(True)

    def _scripts_off(self, off: bool) -> None:
        self._scripts.send("Emulation.setScriptExecutionDisabled", {"value": off})

    def check(self) -> None:
        self._scripts_off(False)
        try:
            super().check()
        finally:
            self._scripts_off(True)


def _records_table(page: Page):
    return page.get_by_role("region", name="Training records", exact=True).locator("tbody tr")


def test_an_administrator_finds_a_waiting_stage_and_asks_an_accrediting_supervisor(world, browse: Browse):
    page = browse.page
    found = world["found"]
    browse.sign_in("admin@example.org", PASSWORD)
    assert browse.path() == "/home"

    # --- the records list, filtered to Stage 2 signed off more than 14 days ago ------------------
    browse.visit("/admin/records")
    expect(page.get_by_text("5 training records match")).to_be_visible()
    page.get_by_text("More filters").click()
    page.get_by_label("Current stage").select_option(label="Stage 2")
    page.get_by_label("Stage state").select_option(label="Signed off by supervisor")
    page.get_by_label("Waiting longer than (days)").fill("14")
    browse.act(lambda: page.get_by_role("button", name="Show records").click())
    filtered = browse.path()
    assert re.search(r"[?&]stage=stage-2(&|$)", filtered), filtered
    assert re.search(r"[?&]state=signed_off(&|$)", filtered), filtered
    assert re.search(r"[?&]waiting=14(&|$)", filtered), filtered
    expect(page.get_by_text("1 training record match", exact=True)).to_be_visible()
    rows = _records_table(page)
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row.get_by_role("link", name=WAITING_LONG[1])).to_have_attribute("href", f"/enrolments/{found.id}")
    expect(row).to_contain_text("Signed off by supervisor")
    expect(row).to_contain_text(re.compile(r"\b(19|20|21) days\b"))  # 20, give or take a clock change
    expect(page.get_by_role("main")).not_to_contain_text(WAITING_SHORT[1])
    expect(page.get_by_role("main")).not_to_contain_text(ON_STAGE_1[1])
    # The filters stay open and filled in on the results page.
    expect(page.get_by_label("Current stage")).to_have_value("stage-2")
    expect(page.get_by_label("Waiting longer than (days)")).to_have_value("14")
    _fits_320(page, screenshot="records-filtered-320.png")

    # --- the stage page: search for an accrediting supervisor as you type -----------------------
    stage_path = f"/enrolments/{found.id}/stages/stage-2"
    browse.act(lambda: row.get_by_role("link", name="Stage 2").click())
    assert browse.path() == stage_path
    _state_is(page, "Signed off by supervisor")
    expect(page.get_by_role("heading", name="Ask an accrediting supervisor")).to_be_visible()
    page.set_viewport_size(LAPTOP)
    search = page.get_by_role("combobox", name=SEARCH)  # the search box once people.js has run
    expect(search).to_have_attribute("aria-expanded", "false")
    search.press_sequentially("Alex")
    listbox = page.get_by_role("listbox", name="People found")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)  # never the personal supervisor, nor the trainee
    expect(options.nth(0)).to_contain_text(ALEX[1])
    expect(options.nth(0)).to_contain_text("2 trainees of 8")
    expect(options.nth(1)).to_contain_text(ALEXA[1])
    expect(options.nth(1)).to_contain_text("0 trainees (no limit set)")
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("status").filter(has_text="2 people found")).to_have_count(1)

    # The keyboard: ArrowDown highlights the first person, then the listbox passes axe while open.
    search.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", re.compile(r".+"))
    browse.check()
    expect(listbox).to_be_visible()  # still open after the scan
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "stage-listbox-1024.png", full_page=True, caret="initial")
    search.press("Enter")
    expect(listbox).to_be_hidden()
    expect(search).to_have_attribute("aria-expanded", "false")
    chosen = page.get_by_role("radio", name=ALEX[1])
    expect(chosen).to_be_checked()
    expect(page.get_by_role("radio")).to_have_count(1)
    expect(page.locator(f"#accreditor-{world['alex'].id}-hint")).to_contain_text("2 trainees of 8")
    assert page.url.endswith(stage_path)  # choosing did not leave the page
    page.set_viewport_size(DESKTOP)
    browse.check()
    _fits_320(page)

    browse.act(lambda: page.get_by_role("button", name=ASK).click())
    assert browse.path() == stage_path
    _banner(page, f"{ALEX[1]} has been asked to hold the")
    _state_is(page, "With accrediting supervisor")
    expect(
        page.locator(".govuk-summary-list__row").filter(
            has=page.locator(".govuk-summary-list__key", has_text=re.compile(r"^\s*Accrediting supervisor\s*$"))
        )
    ).to_contain_text(ALEX[1])
    record = _stage(found.id, "stage-2")
    assert record.state is StageState.WITH_ACCREDITOR
    assert record.accrediting_supervisor_id == world["alex"].id

    # --- the same filter no longer finds it ------------------------------------------------------
    browse.visit(filtered)
    expect(page.get_by_text("0 training records match", exact=True)).to_be_visible()
    expect(_records_table(page)).to_have_count(0)


def test_choosing_an_accrediting_supervisor_without_javascript(world, browser, live_server):
    found = world["found"]
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        ada = _WithoutJavaScript(context.new_page(), live_server, "records-no-javascript")
        page = ada.page
        ada.sign_in("admin@example.org", PASSWORD)
        stage_path = f"/enrolments/{found.id}/stages/stage-2"
        ada.visit(stage_path)
        expect(page.get_by_role("combobox")).to_have_count(0)  # a plain search box: nothing enhanced it
        expect(page.get_by_role("radio")).to_have_count(0)
        page.get_by_role("searchbox", name=SEARCH).fill("alexa")
        ada.act(lambda: page.get_by_role("button", name=SEARCH).click())
        expect(page.get_by_role("combobox")).to_have_count(0)  # scripts stayed off for the new page
        person = page.get_by_role("radio", name=ALEXA[1])
        expect(person).to_be_visible()
        expect(person).not_to_be_checked()
        expect(page.get_by_role("radio")).to_have_count(1)
        expect(page.locator(f"#accreditor-{world['alexa'].id}-hint")).to_contain_text("0 trainees (no limit set)")
        person.check()
        ada.act(lambda: page.get_by_role("button", name=ASK).click())
        assert ada.path() == stage_path
        _banner(page, f"{ALEXA[1]} has been asked to hold the")
        _state_is(page, "With accrediting supervisor")
    finally:
        context.close()
    record = _stage(found.id, "stage-2")
    assert record.state is StageState.WITH_ACCREDITOR
    assert record.accrediting_supervisor_id == world["alexa"].id
