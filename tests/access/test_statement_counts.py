"""No page's SQL grows with the data: every GET in the access matrix costs the same number of
statements in the matrix's world and in the same world with more of everything.

An N+1 (a query per row shown) or a list loaded whole fails here, on every route the matrix has,
which is every route of the app (tests/access/test_matrix.py keeps it so). Each row is asked as one
person of each role it answers (the others add time, not coverage), once to warm caches and then
counted; the world then grows (tests/access/growth.py) and the same requests are counted again.
The world has grown by one of everything before the first count, and by three more before the second.
Only statements are counted, never time: the figures are the same on any machine.
"""

from __future__ import annotations

from collections import Counter

import pytest
from freezegun import freeze_time

from tests.access.growth import grow_world
from tests.access.matrix import ROWS, WEB_ACTORS
from tests.access.probe import Prober
from tests.access.test_matrix import NO_LIMITS
from tests.access.world import build_world
from tests.conftest import running_app

# One person of each kind: the others are the same role in another relationship to the records.
COUNTED = ("anon", "tr", "sup", "acc", "prac", "lead", "clead", "admin", "none", "sess")
GETS = [row for row in ROWS if row.method == "GET"]


def _costs(prober: Prober) -> dict[tuple[str, str], tuple[int, list[str]]]:
    return {
        (row.key, actor): prober.statements(row, actor)
        for row in GETS
        for actor in row.cells
        if actor in COUNTED and row.expected(actor) == "ok"
    }


@pytest.fixture(scope="module")
def costs(database_url):
    """(statements in the world, statements once it has grown), per (row, actor)."""
    with freeze_time("2026-03-02 10:00:00"), running_app(database_url) as app:
        app.config.update(NO_LIMITS, BULK_ISSUE_IN_BACKGROUND=False)
        prober = Prober(app, build_world(), WEB_ACTORS)
        # One more of everything first, so no list is empty when counted (an empty list may rightly
        # skip a query), and the requests are warm (first requests fill caches: keys, definitions).
        grow_world(prober.world, times=1)
        _costs(prober)
        small = _costs(prober)
        grow_world(prober.world, times=3, first=1)
        _costs(prober)
        yield small, _costs(prober)


def test_every_get_route_is_counted():
    counted = {row.key for row in GETS if any(a in COUNTED and row.expected(a) == "ok" for a in row.cells)}
    uncounted = sorted(row.key for row in GETS if row.key not in counted)
    # A GET nobody counted may be answered only with a redirect or a refusal, which costs the same
    # whatever the data; anything else needs a counted person.
    assert all(all(row.expected(actor) != "ok" for actor in row.cells) for row in GETS if row.key in uncounted), (
        uncounted
    )


@pytest.mark.parametrize("row", GETS, ids=[row.key for row in GETS])
def test_statements_do_not_grow_with_the_data(costs, row):
    small, big = costs
    problems = []
    for (key, actor), (status, count) in small.items():
        if key != row.key:
            continue
        grown_status, grown = big[(key, actor)]
        if status != 200 or grown_status != 200:
            problems.append(f"{actor}: answered {status} then {grown_status}, not 200")
        elif len(grown) != len(count):
            extra = Counter(grown) - Counter(count)
            fewer = Counter(count) - Counter(grown)
            problems.append(
                f"{actor}: {len(count)} statements, then {len(grown)} with more data; "
                + "".join(f"\n    +{n}: {sql[-400:]}" for sql, n in extra.items())
                + "".join(f"\n    -{n}: {sql[-400:]}" for sql, n in fewer.items())
            )
    assert not problems, f"{row.key}\n  " + "\n  ".join(problems)
