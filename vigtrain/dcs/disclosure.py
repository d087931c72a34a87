"""Disclosure control for DCS figures shown beyond a practitioner's own caseload.

NHS Digital's rule (DESIGN.md, "Anonymity rules"), applied to every report level above the
practitioner's own and to every CSV made from one:

- a count of 1 to 7 is shown as ``*``; any other count is rounded to the nearest 5 (0 stays 0);
- a mean or percentage over fewer than 8 cases is shown as ``*``;
- a total must not reveal a withheld cell.

Rounding and hiding each count on its own is not enough, because the counts of a report are tied
to one another: the rows of a column add up to its total, the cases with pre and post scores are
split into improved, unchanged and deteriorated, recovery is counted among the cases that started
at caseness, and so on. An intruder who writes those ties down as equations can often solve them.
Four services of 8 cases each publish as 10, 10, 10 and 10 with a total of 30: each row is at
least 8 and the total at most 32, so every row is exactly 8. A hidden count of 1 beside two
rounded 8s is pinned the same way.

So a report's counts are published as one :class:`Table`: every count, every tie between counts,
and :func:`protect` decides which counts to withhold. It plays the intruder. Each published count
says where its true value lies (0 exactly; 8 to 12 for a 10; 13 to 17 for a 15; at least 1 for a
``*``), and each tie narrows the counts it joins; these ranges are tightened until nothing changes.
A count that ends up known exactly, or a hidden one known to be between 1 and 7, or a small one
that is the only hidden part of a shown total (subtraction gives it back to within the rounding),
or hidden parts of a shown total that are all 1 (pinned by their sum were the rounding undone),
is protected by withholding the smallest count still shown that is tied to it, and the intruder
tries again.

Some counts are shared between pages: the "All cases" row of a report is the same whichever way
the report is broken down. Those are published first, on their own, and are then *anchors*: a
page may withhold more of its own rows to protect them but never changes them, and no page may
narrow an anchor beyond its own rounding (or put a ceiling on a withheld one). One page then says
nothing about the shared total that another page could add to.

Percentages are worked out from the published, rounded counts, never from the true ones, and are
withheld with either of their counts: from the counts a reader can work out every percentage
themselves, so a percentage adds nothing an intruder could use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SUPPRESSED = "*"
SMALLEST_SHOWN = 8  # counts of 1 to 7 are withheld; means and percentages need at least 8 cases
ROUNDING_BASE = 5
UNBOUNDED = math.inf
MAX_PASSES = 200  # tightening always stops (every range only shrinks); this bounds a pathological table


class CannotProtect(Exception):
    """Raised when nothing this table may change can protect it (its anchors pin it down)."""


def round_count(value: int) -> int:
    """To the nearest 5; counts are whole numbers, so there is never a tie to break."""
    return ROUNDING_BASE * ((value + ROUNDING_BASE // 2) // ROUNDING_BASE)


def is_small(value: int) -> bool:
    """A count NHS Digital's rule withholds: 1 to 7 (0 is shown)."""
    return 1 <= value < SMALLEST_SHOWN


def count(value: int) -> int | str:
    """One count as published on its own: ``*`` for 1 to 7, otherwise rounded to the nearest 5."""
    if value < 0:
        raise ValueError("a count cannot be negative")
    return SUPPRESSED if is_small(value) else round_count(value)


def statistic(value: float | None, base: int) -> float | str | None:
    """A mean or percentage over `base` cases: ``*`` over 1 to 7 cases, None when there is nothing to show.

    Under 8 cases even "nothing to show" (say, no effect size because every score was the same) is
    shown as ``*``: that too would say something about the few cases behind it.
    """
    if base <= 0:
        return None
    return SUPPRESSED if base < SMALLEST_SHOWN else value


def shown_range(published: int) -> tuple[int, int]:
    """The true values a shown (rounded) count can stand for: 0 is exact; 10 is 8 to 12, as 1 to 7 are hidden."""
    if published == 0:
        return 0, 0
    return max(SMALLEST_SHOWN, published - ROUNDING_BASE // 2), published + ROUNDING_BASE // 2


def least_count(published: int | str) -> int:
    """The smallest true count a published count can stand for (a ``*`` for at least 1)."""
    return 1 if published == SUPPRESSED else shown_range(int(published))[0]


@dataclass
class Table:
    """Counts that are published together, with every tie between them an intruder could use.

    `sums` are (total, parts) where the parts add up to the total; `orders` are (smaller, larger)
    pairs; `parents` maps a count to the count it is a part of, so a count is withheld whenever
    its parent is (a hidden parent's parts would otherwise give it back). `fixed` holds counts
    already published elsewhere (True: withheld), which this table keeps as they are; `limits` holds
    the ranges those counts have where they were published, which this table must not narrow.
    `unpublished` counts are never shown but follow from the others (the cases without a post score
    are the cases less those with both): they too must not be worked out.
    """

    values: list[int] = field(default_factory=list)
    sums: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    orders: list[tuple[int, int]] = field(default_factory=list)
    parents: dict[int, int] = field(default_factory=dict)
    fixed: dict[int, bool] = field(default_factory=dict)
    limits: dict[int, tuple[float, float]] = field(default_factory=dict)
    unpublished: set[int] = field(default_factory=set)

    def add(self, value: int, published: bool = True) -> int:
        if value < 0:
            raise ValueError("a count cannot be negative")
        self.values.append(value)
        if not published:
            self.unpublished.add(len(self.values) - 1)
        return len(self.values) - 1

    def neighbours(self) -> list[set[int]]:
        """For each count, the counts tied to it by a sum or an order."""
        near: list[set[int]] = [set() for _ in self.values]
        for total, parts in self.sums:
            members = {total, *parts}
            for member in members:
                near[member] |= members - {member}
        for small, large in self.orders:
            near[small].add(large)
            near[large].add(small)
        return near


def _own_range(table: Table, withheld: Sequence[bool], index: int) -> tuple[float, float]:
    """What the published figure alone says about a count."""
    if index in table.unpublished:
        return 0, UNBOUNDED
    if not withheld[index]:
        return shown_range(round_count(table.values[index]))
    parent = table.parents.get(index)
    # A count withheld on its own account is never 0 (zeros are shown); one withheld with its parent may be.
    return (0 if parent is not None and withheld[parent] else 1), UNBOUNDED


def ranges(table: Table, withheld: Sequence[bool]) -> tuple[list[float], list[float]]:
    """The intruder's ranges for every count: the published figures, tightened through every tie."""
    low = [0.0] * len(table.values)
    high = [0.0] * len(table.values)
    for index in range(len(table.values)):
        low[index], high[index] = _own_range(table, withheld, index)
    for _ in range(MAX_PASSES):
        changed = False

        def tighten(index: int, new_low: float, new_high: float) -> None:
            nonlocal changed
            if new_low > low[index]:
                low[index], changed = new_low, True
            if new_high < high[index]:
                high[index], changed = new_high, True

        for total, parts in table.sums:
            # Lower bounds are always finite; an upper bound may be unbounded (a withheld count).
            lows, highs = [low[part] for part in parts], [high[part] for part in parts]
            sum_low, unbounded = sum(lows), highs.count(UNBOUNDED)
            finite_high = sum(value for value in highs if value != UNBOUNDED)
            tighten(total, sum_low, UNBOUNDED if unbounded else finite_high)
            total_low, total_high = low[total], high[total]
            for part, part_low, part_high in zip(parts, lows, highs, strict=True):
                if not unbounded:
                    others_high = finite_high - part_high
                elif unbounded == 1 and part_high == UNBOUNDED:
                    others_high = finite_high
                else:
                    others_high = UNBOUNDED
                tighten(part, total_low - others_high, total_high - (sum_low - part_low))
        for small, large in table.orders:
            tighten(small, low[small], high[large])
            tighten(large, low[small], high[large])
        if not changed:
            break
    return low, high


def problems(table: Table, withheld: Sequence[bool]) -> list[tuple[int, tuple[int, ...]]]:
    """Counts the intruder can work out: exactly, or (hidden) to within 1 to 7, or an anchor narrowed.

    Each comes with the counts that must give way for it where that is known (the other parts of a
    sum a lone hidden part is given back by), else an empty tuple."""
    low, high = ranges(table, withheld)
    found = []
    for index, value in enumerate(table.values):
        if index in table.limits:
            # An anchor is shared with other tables: none may say more about it than its own table does.
            least, most = table.limits[index]
            # Raising the floor of a hidden count with no ceiling cannot pin it, on this page or with others.
            floor_matters = not (withheld[index] and most == UNBOUNDED)
            if high[index] < most or (floor_matters and low[index] > least):
                found.append((index, ()))
                continue
        if value == 0:
            continue  # a zero is published exactly: there is nothing in it to protect
        if low[index] == high[index] or (withheld[index] and low[index] >= 1 and high[index] < SMALLEST_SHOWN):
            found.append((index, ()))
    for total, parts in table.sums:
        # Subtraction gives back a lone withheld part to within the rounding: NHS Digital's rule
        # withholds a second part with it, whatever the ranges say.
        hidden = [part for part in parts if withheld[part]]
        if withheld[total] or total in table.unpublished or not hidden:
            continue
        if len(hidden) == 1 and hidden[0] not in table.unpublished and is_small(table.values[hidden[0]]):
            found.append((hidden[0], parts))
        elif len(hidden) > 1 and sum(table.values[part] for part in hidden) == len(hidden):
            # Even to someone who knew the other counts exactly, hidden parts that are all 1 are pinned
            # by their sum: keep the earlier rule's guarantee that they never are.
            found.append((hidden[0], parts))
    return found


def _withhold_children(table: Table, withheld: list[bool]) -> None:
    changed = True
    while changed:
        changed = False
        for child, parent in table.parents.items():
            if withheld[parent] and not withheld[child] and child not in table.fixed:
                withheld[child], changed = True, True


def protect(table: Table) -> list[bool]:
    """Which counts to withhold so the intruder above can work out none of them (True: show ``*``)."""
    withheld = [is_small(value) or index in table.unpublished for index, value in enumerate(table.values)]
    for index, flag in table.fixed.items():
        withheld[index] = flag
    near = table.neighbours()
    free = [index not in table.fixed and index not in table.unpublished for index in range(len(table.values))]
    while True:
        _withhold_children(table, withheld)
        found = problems(table, withheld)
        if not found:
            return withheld
        # One more count for each problem in this round, skipping problems next to a count just
        # withheld (that may already have solved them): far fewer rounds on a large table.
        touched: set[int] = set()
        progress = False
        # A problem that names the counts that must give way is fixed first, there: the same count's
        # other problems may then be solved already.
        found.sort(key=lambda problem: not problem[1])
        for index, line in found:
            if index in touched or near[index] & touched:
                continue
            before = withheld.copy()
            if _withhold_one_more(table, withheld, near, free, index, line):
                progress = True
                touched |= {changed for changed, flag in enumerate(withheld) if flag and not before[changed]}
        if not progress:
            # Nothing tied to them is left to withhold: withhold every count this table may change.
            for index in range(len(table.values)):
                if free[index] and not withheld[index] and table.values[index] > 0:
                    withheld[index] = True
            _withhold_children(table, withheld)
            if problems(table, withheld):
                raise CannotProtect("the table cannot be protected without changing counts published elsewhere")
            return withheld


def _withhold_one_more(
    table: Table, withheld: list[bool], near: list[set[int]], free: list[bool], start: int, line: tuple[int, ...]
) -> bool:
    """Withhold the smallest non-zero count still shown in `line`, else nearest to `start` (itself first).

    False if none is left to withhold.
    """
    seen, ring = {start}, [*line] or [start]
    while ring:
        candidates = [index for index in ring if free[index] and not withheld[index] and table.values[index] > 0]
        if candidates:
            chosen = min(candidates, key=lambda index: (table.values[index], index))
            withheld[chosen] = True
            return True
        ring = sorted({other for index in ring for other in near[index]} - seen)
        seen.update(ring)
    return False


@dataclass(frozen=True)
class Breakdown:
    """Counts that add up to a total, as published (a one-line :class:`Table`)."""

    cells: tuple[int | str, ...]
    total: int | str
    withheld: tuple[bool, ...]
    total_withheld: bool


def publish_count(value: int, withheld: bool) -> int | str:
    return SUPPRESSED if withheld else round_count(value)


def breakdown(values: Iterable[int]) -> Breakdown:
    """Publish counts that partition a total (each case in exactly one cell)."""
    values = list(values)
    table = Table()
    cells = [table.add(value) for value in values]
    total = table.add(sum(values))
    table.sums.append((total, tuple(cells)))
    withheld = protect(table)
    return Breakdown(
        cells=tuple(publish_count(values[index], withheld[index]) for index in cells),
        total=publish_count(table.values[total], withheld[total]),
        withheld=tuple(withheld[index] for index in cells),
        total_withheld=withheld[total],
    )
