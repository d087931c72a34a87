"""The access matrix: every route in the URL map, asked by every actor, answered as the table says.

The table is tests/access/matrix.py; the world its addresses are filled from is built once for this
module (tests/access/world.py) and each actor signs in once. A route added to the app without a
row fails `test_every_route_has_a_row`, so no route escapes the matrix. Each row is one test, which
asks every actor and reports every wrong answer of the row at once; each known defect (a cell
marked `!`) is a test of its own, expected to fail until the defect is fixed.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time
from werkzeug.exceptions import HTTPException

from tests.access.matrix import API_ACTORS, DEFECTS, NOT_ASKED, ROWS, WEB_ACTORS, Row, is_refusal
from tests.access.probe import Prober
from tests.access.world import build_world
from tests.conftest import running_app
from vigtrain import create_app

# Rate limits are not what this module tests, and its few thousand requests would meet them.
NO_LIMITS = dict.fromkeys(
    (
        "LOGIN_IP_LIMIT",
        "LOGIN_ACCOUNT_LIMIT",
        "TOKEN_REQUEST_LIMIT",
        "VERIFY_RATE_LIMIT",
        "VERIFY_DOCUMENT_RATE_LIMIT",
        "API_RATE_LIMIT",
        "RESPOND_RATE_LIMIT",
        "RESPOND_MISS_LIMIT",
    ),
    "100000 per minute",
)
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


@pytest.fixture(scope="module")
def prober(database_url):
    """The world, written once for the module, and a signed-in client per actor (emptied on exit)."""
    with freeze_time("2026-03-02 10:00:00"), running_app(database_url) as app:
        app.config.update(NO_LIMITS, BULK_ISSUE_IN_BACKGROUND=False)
        yield Prober(app, build_world(), WEB_ACTORS)


def test_every_route_has_a_row_and_every_row_a_route():
    """Both ways: nothing in the URL map is left out, and nothing in the table is left over."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    adapter = app.url_map.bind("localhost")
    rules = list(app.url_map.iter_rules())
    sample = defaultdict(lambda: "1")  # a value every converter accepts, for every {placeholder}
    covered, stale, misplaced = set(), [], []
    for row in ROWS:
        path = urlsplit(row.url(sample)).path
        try:
            rule, _ = adapter.match(path, row.method, return_rule=True)
        except HTTPException:
            stale.append(row.key)
            continue
        covered.add((rule.rule, row.method))
        if row.api != rule.rule.startswith("/api/"):
            misplaced.append(row.key)
    wanted = {
        (rule.rule, method)
        for rule in rules
        if rule.endpoint not in NOT_ASKED
        for method in sorted(rule.methods - IGNORED_METHODS)
    }
    missing = sorted(wanted - covered)
    keys = [row.key for row in ROWS]
    assert not missing, "routes with no row in tests/access/matrix.py: " + ", ".join(f"{m} {r}" for r, m in missing)
    assert not stale, "rows naming no route of the app: " + ", ".join(stale)
    assert not misplaced, "rows in the wrong table (API routes go in API, pages in WEB): " + ", ".join(misplaced)
    assert len(keys) == len(set(keys)), "a row appears twice"
    assert set(NOT_ASKED) <= {rule.endpoint for rule in rules}, "NOT_ASKED names an endpoint that no longer exists"


def test_the_table_marks_exactly_the_known_defects():
    marked = {(row.key, actor) for row in ROWS for actor, cell in row.cells.items() if cell.endswith("!")}
    assert marked == set(DEFECTS), "every `!` cell needs its entry in DEFECTS, and every entry its `!`"
    assert {actor for _, actor in DEFECTS} <= set(WEB_ACTORS) | set(API_ACTORS)


def _ask(prober: Prober, row: Row, actor: str, known_defect: bool = False) -> list[str]:
    """What is wrong with one cell's answer (nothing, usually)."""
    expected = row.expected(actor)
    refused = is_refusal(expected, actor) and not known_defect
    # A refusal runs for real, so that a change it made would show; anything else runs dry, and so
    # does a known defect, which may well act where it should refuse.
    answer = prober.ask(row, actor, dry=not refused)
    problems = []
    if answer.code != expected:
        problems.append(f"{actor}: expected {expected}, got {answer.describe()}")
    if answer.changed:
        what = "refused, yet" if refused else "in a dry run,"
        problems.append(f"{actor}: {what} the database changed ({', '.join(answer.changed)})")
    return problems


@pytest.mark.parametrize("row", ROWS, ids=[row.key for row in ROWS])
def test_each_actor_gets_the_tables_answer(prober, row):
    problems = [
        problem for actor in row.cells if (row.key, actor) not in DEFECTS for problem in _ask(prober, row, actor)
    ]
    assert not problems, f"{row.key}  [{row.section}]\n  " + "\n  ".join(problems)


KNOWN_DEFECTS = [
    pytest.param(row, actor, id=f"{row.key} as {actor}", marks=pytest.mark.xfail(strict=True, reason=reason))
    for row in ROWS
    for actor in row.cells
    if (reason := DEFECTS.get((row.key, actor)))
]

# Defined only while the table has known defects, so an empty list is not a skipped test in every run.
if KNOWN_DEFECTS:

    @pytest.mark.parametrize(("row", "actor"), KNOWN_DEFECTS)
    def test_known_defect(prober, row, actor):
        """Fails while the defect lasts (xfail, strict): once it is fixed, remove its `!` and DEFECTS entry."""
        problems = _ask(prober, row, actor, known_defect=True)
        assert not problems, "\n".join(problems)
