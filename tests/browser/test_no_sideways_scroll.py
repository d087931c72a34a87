"""320 CSS pixels wide (WCAG 1.4.10 Reflow): no page scrolls sideways, whoever is signed in.

`Browse.check()` measures every page the browser tier lands on at 320 px; these tests make sure the
pages people reach every day are among them, with the data that makes them wide (tables of
cycles, sessions, stages, certificates and people).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

from playwright.sync_api import Page

from tests.browser.conftest import Browse, horizontal_overflow
from tests.factories import PASSWORD, make_case, make_user
from vigtrain.casework.models import Cycle
from vigtrain.demo import DEMO_PASSWORD, load_demo
from vigtrain.extensions import db
from vigtrain.pathways.definitions import principles


def test_a_trainees_case_with_cycles_fits_320px(browse_mobile: Browse):
    """The cycles table scrolls inside its own box, with a cue that it does; the visually hidden text
    in its cells must not widen the page (the box holds it only if it is positioned)."""
    trainee = make_user("tess.trainee@example.org", name="Tess Trainee")
    case = make_case(trainee)
    for number in range(3):
        day = date(2025, 2, 3) + timedelta(weeks=3 * number)
        db.session.add(
            Cycle(
                case=case,
                filmed_on=day,
                shared_review_on=day + timedelta(days=9),
                clips_count=3 + number,
                principles=principles().codes[: 2 + number],
                note="Mum noticed her son's initiatives at bath time and received them with a smile.",
            )
        )
    db.session.commit()

    browse_mobile.sign_in("tess.trainee@example.org", PASSWORD)
    browse_mobile.visit(f"/cases/{case.code}")  # fails if the page scrolls sideways
    assert horizontal_overflow(browse_mobile.page) is None

    # The table is wider than the screen and scrolls in its own box, which shows that it does: a
    # shadow on the edge with more table beyond it.
    region = browse_mobile.page.get_by_role("region", name=f"Cycles for case {case.code}")
    assert region.evaluate("(box) => box.scrollWidth > box.clientWidth")
    assert "radial-gradient" in region.evaluate("(box) => getComputedStyle(box).backgroundImage")


# --- every role's everyday pages ------------------------------------------------------------------

# Who signs in for each role in the demo, and pages their crawl must reach (path patterns, numbers and
# codes as <n>): a crawl that found nothing would otherwise pass.
PEOPLE = {
    "trainee": (
        "sam.patel@example.org",
        {
            "/cases",
            "/cases/<n>",
            "/supervision",
            "/supervision/<n>",
            "/enrolments/<n>/stages/<n>",
            "/notifications",
            "/certificates",
        },
    ),
    "supervisor": (
        "ruth.evans@example.org",
        {"/supervisor/trainees", "/supervision/queue", "/enrolments/<n>", "/notifications/<n>"},
    ),
    "accrediting supervisor": ("helen.price@example.org", {"/accreditation", "/enrolments/<n>/stages/<n>"}),
    "administrator": (
        "admin@example.org",
        {
            "/admin/users/",
            "/admin/users/<n>",
            "/admin/services/",
            "/admin/records",
            "/admin/ratification",
            "/admin/certificates",
            "/admin/certificates/<n>",
            "/admin/audit",
            "/admin/outbox/",
            "/admin/outbox/<n>",
            "/admin/jobs",
            "/admin/capacity",
            "/pathways",
            "/admin/cohorts/",
            "/reports/national",
        },
    ),
    "service lead": ("mark.bennett@example.org", {"/reports", "/reports/service/<n>"}),
    "cohort lead": ("daniel.okafor@example.org", {"/cohorts/<n>"}),
    "practitioner": ("nadia.hussain@example.org", {"/cases", "/certificates", "/reports/practitioner"}),
}
# Not pages: files, machine-readable answers, the API (its documentation has its own test), pages for
# people signed out or for clients, and anything outside the app.
NOT_PAGES = re.compile(
    r"\.(pdf|csv|jwt|json)$|/statement/file$"
    r"|^/(api|respond|status|issuer|achievements|healthz|readyz|static|login|password|invitation)(/|$)"
)
# Links in the page but not its footer; in a table, the first row's only (the rows of a table lead to
# pages of the same kinds).
ALL = "a[href]:not(footer a, [download], tbody > tr:not(:first-child) a)"
MENU = ".app-header a[href], .govuk-service-navigation a[href]"

# A system code (a case's VC-XXXX-XXXX), whose random characters may hold no digit.
CODE = re.compile(r"[A-Z]{2,3}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def _pattern(path: str) -> str:
    """One page type per pattern: any path segment with a digit in it (an id, a stage) or shaped like a
    system code (VC-XXXX-XXXX, whose random characters may happen to hold no digit) is <n>."""
    return "/".join(
        "<n>" if re.search(r"\d", segment) or CODE.fullmatch(segment) else segment for segment in path.split("/")
    )


def _links(page: Page, base_url: str, selector: str) -> list[str]:
    """The app's pages that links matching `selector` lead to, as paths (with any query)."""
    found = []
    for href in page.eval_on_selector_all(selector, "links => links.map((link) => link.href)"):
        url = urlsplit(href)
        if f"{url.scheme}://{url.netloc}" == base_url and not NOT_PAGES.search(url.path):
            found.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


class Crawl:
    """Visits one page of each pattern, noting each that fails to load or scrolls sideways.

    What a person's menu leads to (their cases, their supervision, their reports) depends on who they
    are, so each person visits all of their menu. Every other page (what their home page and menu
    pages link to: a case, a stage, a session, a form) is visited once, by the first person to reach it.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.visited: set[str] = {"/", "/home"}  # the service name links home
        self.problems: list[str] = []

    def person(self, page: Page, who: str) -> set[str]:
        """Crawl from the home page `page` is on; returns the patterns of every page reached."""
        reached = {"/home"}
        menu = _links(page, self.base_url, MENU)
        first_step = menu + _links(page, self.base_url, ALL)
        next_step = []
        mine = {"/", "/home"}
        for path in first_step:
            pattern = _pattern(urlsplit(path).path)
            reached.add(pattern)
            if pattern in mine or (pattern in self.visited and path not in menu):
                continue
            mine.add(pattern)
            if self._visit(page, path, who):
                next_step.extend(_links(page, self.base_url, ALL))
        for path in next_step:
            pattern = _pattern(urlsplit(path).path)
            reached.add(pattern)
            if pattern not in mine and pattern not in self.visited:
                mine.add(pattern)
                self._visit(page, path, who)
        self.visited |= mine
        return reached

    def _visit(self, page: Page, path: str, who: str) -> bool:
        response = page.goto(self.base_url + path)
        if response is None or response.status != 200:
            self.problems.append(f"{who}, {path} answered {response.status if response else 'nothing'}")
            return False
        if problem := horizontal_overflow(page):
            self.problems.append(f"{who}, {path}: {problem}")
        return True


def test_every_roles_pages_fit_320px(mobile_page: Page, live_server, monkeypatch):
    """Each role signs in to the demo on a 320 px screen and goes everywhere their home page and menu
    lead, and one step further: no page scrolls sideways."""
    # The demo's year of earlier, closed cases (there for the reports' figures) takes most of its
    # loading time and adds no page that the demo's own cases do not.
    monkeypatch.setattr("vigtrain.dcs.demo._earlier_caseload", lambda rng: None)
    load_demo()
    db.session.commit()

    page = mobile_page
    browse = Browse(page, live_server, "every-role")  # notes JavaScript errors and CSP refusals
    crawl = Crawl(live_server)
    for role, (email, expected) in PEOPLE.items():
        response = page.goto(live_server + "/login")
        assert response is not None and response.status == 200, f"/login answered {response and response.status}"
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert browse.path() == "/home", f"{email} did not reach their home page"
        if problem := horizontal_overflow(page):
            crawl.problems.append(f"{role}, /home: {problem}")
        reached = crawl.person(page, role)
        if missing := expected - reached:
            crawl.problems.append(f"{role}: never reached {sorted(missing)}, only {sorted(reached)}")
        # Signed out as a person would be, which ends the session on the server. Clearing the browser's
        # cookies is not enough: a response still on its way (the favicon, after the page has loaded)
        # sets the permanent session's cookie again, and the next person's /login went to /home.
        with page.expect_navigation():
            page.get_by_role("button", name="Sign out").click()
        assert browse.path() == "/login", f"{email} was not signed out"
    assert not crawl.problems + browse.problems, "\n".join(crawl.problems + browse.problems)
