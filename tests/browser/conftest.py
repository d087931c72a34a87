"""The browser tier: Playwright drives Debian's Chromium against a live server.

Every page a test lands on is scanned with axe-core (WCAG 2.0/2.1/2.2 A and AA rules), measured at
320 CSS pixels wide (it must not scroll sideways: WCAG 1.4.10 Reflow) and saved as a full-page
screenshot in test-artifacts/screenshots/ for people to look at.

The server runs in a thread of this process, on the same SQLite file as the `app` fixture, but each
request has its own app context and database session: data made with the factories must be
committed (they commit by default) before the browser asks for it, and objects the test thread
already holds must be refreshed (`db.session.expire_all()`) to see what the browser changed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from tests import conftest as root_conftest

BROWSER_DIR = Path(__file__).resolve().parent
SCREENSHOTS = BROWSER_DIR.parent.parent / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 320, "height": 640}
DEFAULT_TIMEOUT_MS = 10_000
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
_axe = Axe()
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Mark everything in this folder `browser` before the root conftest decides what to skip."""
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --- the server ---------------------------------------------------------------------------------


class _QuietRequestHandler(WSGIRequestHandler):
    """No line per request on stderr (errors are still logged)."""

    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """Serve the test's app on a free port; yields the base URL (no trailing slash)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    # Links sent outside a page (emails, QR codes) are built from BASE_URL, as in production.
    app.config["BASE_URL"] = base_url
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Without Chromium the root conftest skips these tests, except under CI=true: fail plainly there.
    executable = root_conftest.CHROMIUM
    if not Path(executable).exists():
        pytest.fail(f"the browser tier is required in CI but {executable} is not installed")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
            headless=True,
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


def _new_page(browser: Browser, viewport: dict[str, int]) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    return context, page


@pytest.fixture
def page(browser, live_server) -> Iterator[Page]:
    """A fresh desktop-sized context (no cookies); closed before the server stops."""
    context, page = _new_page(browser, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def mobile_page(browser, live_server) -> Iterator[Page]:
    """A fresh context 320 CSS pixels wide: WCAG 1.4.10 reflow."""
    context, page = _new_page(browser, MOBILE)
    yield page
    context.close()


# --- accessibility ------------------------------------------------------------------------------


def _describe_violation(violation: dict) -> str:
    lines = [f"- {violation['id']} ({violation.get('impact')}): {violation['help']}", f"  {violation['helpUrl']}"]
    for node in violation["nodes"]:
        target = " ".join(str(part) for part in node["target"])
        html = re.sub(r"\s+", " ", node.get("html", ""))[:300]
        lines.append(f"    at {target}: {html}")
        summary = node.get("failureSummary")
        if summary:
            lines.extend(f"      {line}" for line in summary.splitlines())
    return "\n".join(lines)


def axe_check(page: Page) -> None:
    """Run axe-core on the page as it is now and fail with a readable list of any violations."""
    results = _axe.run(page, options=AXE_OPTIONS).response  # injects axe-core, then runs it
    violations = results["violations"]
    if violations:
        report = "\n".join(_describe_violation(violation) for violation in violations)
        pytest.fail(f"{len(violations)} accessibility violation(s) on {page.url}:\n{report}", pytrace=False)


# --- reflow -------------------------------------------------------------------------------------

NARROWEST = 320  # CSS pixels: WCAG 1.4.10 Reflow

# What sticks out past the right edge of the layout viewport, if anything. An element only widens
# the page if no box between it and the page clips or scrolls it: its parent for an element in
# flow, its nearest positioned ancestor for an absolutely positioned one (which is how visually
# hidden text escapes a table's scrolling box that is not positioned). The outermost such elements
# (or runs of text too long for their element) are named, widest first, with the path to them, so
# the failure says where to look.
# The page fits if document.documentElement.scrollWidth is no more than the window's width (its
# innerWidth, or the width inside a vertical scroll bar if that is less). Media queries'
# JavaScript listeners run as the next frame starts: measure in that frame (or after 100 ms,
# should the page get no frames).
_OVERFLOW_SCRIPT = """() => new Promise((resolve) => {
    let measured = false;
    const measure = () => {
        if (measured) return;
        measured = true;
        const root = document.documentElement;
        const width = Math.min(window.innerWidth, root.clientWidth);
        resolve(root.scrollWidth <= width ? null
            : `the page is ${root.scrollWidth}px wide, the window ${width}px; sticking out: ${culprits(width)}`);
    };
    const style = (element) => getComputedStyle(element);
    const name = (element) => element.tagName.toLowerCase() + (element.id ? `#${element.id}` : '')
        + [...element.classList].map((token) => `.${token}`).join('');
    const path = (element) => {
        const names = [];
        for (let node = element; node && node !== document.body && names.length < 6; node = node.parentElement) {
            names.unshift(name(node));
        }
        return names.join(' > ');
    };
    const page = (node) => !node || node === document.body || node === document.documentElement;
    const containedBy = (box) => {
        // The box that clips or scrolls `box`, or null if nothing between it and the page does.
        for (let node = box; !page(node);) {
            const position = node.nodeType === Node.TEXT_NODE ? 'static' : style(node).position;
            if (position === 'fixed') return node;  // fixed boxes never widen the page
            let parent = node.parentElement;
            if (position === 'absolute') {
                while (!page(parent) && style(parent).position === 'static' && style(parent).transform === 'none') {
                    parent = parent.parentElement;
                }
            }
            if (page(parent)) return null;
            if (style(parent).overflowX !== 'visible') return parent;
            node = parent;
        }
        return null;
    };
    // Elements, and runs of text that overflow the element they are in (a long address, say).
    const rect = (box) => {
        if (box.nodeType !== Node.TEXT_NODE) return box.getBoundingClientRect();
        const range = document.createRange();
        range.selectNodeContents(box);
        return range.getBoundingClientRect();
    };
    const right = (box) => rect(box).right + window.scrollX;
    const describe = (box) => {
        const where = box.nodeType === Node.TEXT_NODE
            ? `text "${box.textContent.trim().slice(0, 40)}" in ${path(box.parentElement)}`
            : path(box);
        return `${where} (right edge ${Math.round(right(box))}px, ${Math.round(rect(box).width)}px wide)`;
    };
    const culprits = (width) => {
        const boxes = [...document.body.querySelectorAll('*')];
        const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let text = texts.nextNode(); text; text = texts.nextNode()) {
            if (text.textContent.trim()) boxes.push(text);
        }
        const out = boxes.filter((box) => right(box) > width + 0.5);
        const loose = out.filter((box) => containedBy(box) === null);
        const outermost = (list) => list.filter((box) => !list.some((other) => other !== box && other.contains(box)));
        return outermost(loose.length ? loose : out)
            .sort((a, b) => rect(b).width - rect(a).width || right(b) - right(a))
            .map(describe)
            .filter((line, index, lines) => lines.indexOf(line) === index)
            .slice(0, 3)
            .join('; ');
    };
    requestAnimationFrame(measure);
    setTimeout(measure, 100);
})"""


def horizontal_overflow(page: Page) -> str | None:
    """None if the page fits its window's width; else what sticks out, for the failure message."""
    return page.evaluate(_OVERFLOW_SCRIPT)


def assert_no_sideways_scroll(page: Page) -> None:
    """Fail if the page scrolls sideways at 320 px; a wider page is narrowed to measure, then restored."""
    size = page.viewport_size
    assert size is not None, "the page has no fixed viewport to narrow"
    if size["width"] == NARROWEST:
        problem = horizontal_overflow(page)
    else:
        page.set_viewport_size({"width": NARROWEST, "height": size["height"]})
        try:
            problem = horizontal_overflow(page)
        finally:
            page.set_viewport_size(size)
    if problem:
        pytest.fail(f"{page.url} scrolls sideways at {NARROWEST}px: {problem}", pytrace=False)


# --- journeys -----------------------------------------------------------------------------------


class Browse:
    """A page plus the live server's URL: every page landed on is screenshotted and scanned.

    Use `visit(path)` to open a page and `act(...)` around anything that navigates (clicking a
    link, submitting a form); `check()` re-scans the current page after in-page changes. Errors
    thrown by the page's JavaScript, Content-Security-Policy refusals and a page that scrolls
    sideways at 320 px fail the test too.
    """

    def __init__(self, page: Page, base_url: str, name: str) -> None:
        self.page = page
        self.base_url = base_url
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        self.count = 0
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error on {page.url}: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" and "Failed to load resource" not in text:
            self.problems.append(f"console error on {self.page.url}: {text}")

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)

    def visit(self, path: str, status: int = 200) -> Response:
        response = self.page.goto(self.url(path))
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"{path} answered {response.status}, expected {status}"
        self.check()
        return response

    def act(self, action, status: int = 200) -> Response:
        """Run `action` (a click that navigates), check the status of the page it leads to, scan it."""
        with self.page.expect_navigation() as navigation:
            action()
        response = navigation.value
        assert response is not None, f"no response after navigating to {self.page.url}"
        assert response.status == status, f"{self.page.url} answered {response.status}, expected {status}"
        self.check()
        return response

    def check(self) -> None:
        """Screenshot, scan and measure the current page; fail on any JavaScript or CSP error so far."""
        self.page.wait_for_load_state("load")
        self.count += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret costs a style change and a frame on every screenshot.
        self.page.screenshot(path=SCREENSHOTS / f"{self.name}-{self.count}.png", full_page=True, caret="initial")
        assert not self.problems, "\n".join(self.problems)
        axe_check(self.page)
        assert_no_sideways_scroll(self.page)

    # Small helpers for what journeys do all the time.

    def sign_in(self, email: str, password: str) -> Response:
        if not self.path().startswith("/login"):
            self.visit("/login")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password", exact=True).fill(password)
        return self.act(lambda: self.page.get_by_role("button", name="Sign in").click())

    def sign_out(self) -> Response:
        response = self.act(lambda: self.page.get_by_role("button", name="Sign out").click())
        assert self.path() == "/login"
        return response


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    """Screenshots from an earlier run would mislead whoever reviews them."""
    if SCREENSHOTS.exists():
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink(missing_ok=True)  # another worker may have removed it first


@pytest.fixture
def browse(page, live_server, request) -> Browse:
    return Browse(page, live_server, request.node.name)


@pytest.fixture
def browse_mobile(mobile_page, live_server, request) -> Browse:
    return Browse(mobile_page, live_server, request.node.name + "-mobile")
