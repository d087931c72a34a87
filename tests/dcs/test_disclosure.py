"""NHS Digital's disclosure rule, and that no total gives a withheld count back."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vigtrain.dcs.disclosure import (
    SUPPRESSED,
    CannotProtect,
    Table,
    breakdown,
    count,
    protect,
    ranges,
    round_count,
    statistic,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, 0), (1, "*"), (4, "*"), (7, "*"), (8, 10), (12, 10), (13, 15), (22, 20), (23, 25), (1000, 1000)],
)
def test_counts_of_1_to_7_are_withheld_and_others_rounded_to_5(value, shown):
    assert count(value) == shown


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        count(-1)
    with pytest.raises(ValueError):
        breakdown([3, -1])


@given(st.integers(min_value=0, max_value=10**7))
def test_rounding_is_to_the_nearest_multiple_of_5(value):
    rounded = round_count(value)
    assert rounded % 5 == 0
    assert abs(rounded - value) <= 2


@pytest.mark.parametrize(("base", "shown"), [(0, None), (1, "*"), (7, "*"), (8, 42.5), (500, 42.5)])
def test_means_and_percentages_need_8_cases(base, shown):
    assert statistic(42.5, base) == shown
    assert statistic(None, base) == (shown if shown == "*" else None)


def test_the_rounding_alone_would_give_a_cell_back_so_a_second_cell_is_withheld():
    """1, 8, 8 would publish as *, 10, 10 and 15: 15 + 2 - 8 - 8 = 1 pins the * down to exactly 1."""
    published = breakdown([1, 8, 8])
    assert published.cells == ("*", "*", 10)
    assert published.total == 15
    assert published.withheld == (True, True, False)


def test_the_next_smallest_cell_is_withheld_and_zeros_stay_zero():
    published = breakdown([0, 3, 40, 20, 0])
    assert published.cells == (0, "*", 40, "*", 0)
    assert published.total == 65


def test_two_small_cells_protect_each_other():
    assert breakdown([3, 5, 30]).cells == ("*", "*", 30)


def test_small_cells_that_are_all_1_are_pinned_by_their_sum_so_another_is_withheld():
    published = breakdown([1, 1, 30, 40])
    assert published.cells == ("*", "*", "*", 40)
    assert published.total == 70


def test_when_nothing_is_left_to_withhold_the_total_goes():
    published = breakdown([1] * 9)
    assert published.cells == ("*",) * 9
    assert published.total == SUPPRESSED and published.total_withheld


def test_a_small_total_is_withheld_itself():
    published = breakdown([0, 5, 0])
    assert published.cells == (0, "*", 0)
    assert published.total == SUPPRESSED


def test_nothing_small_means_nothing_withheld():
    published = breakdown([10, 0, 23])
    assert published.cells == (10, 0, 25)
    assert published.total == 35
    assert not any(published.withheld)


# --- properties ----------------------------------------------------------------------------------

cells = st.lists(
    st.one_of(st.integers(min_value=0, max_value=9), st.integers(min_value=0, max_value=60)), min_size=1, max_size=8
)


@given(cells)
def test_every_published_count_follows_the_rule(values):
    published = breakdown(values)
    for value, shown, withheld in zip(values, published.cells, published.withheld, strict=True):
        if 1 <= value <= 7:
            assert shown == SUPPRESSED
        if value == 0:
            assert shown == 0  # a zero is never withheld: there is nothing in it to protect
        if shown == SUPPRESSED:
            assert withheld
        else:
            assert shown == round_count(value) and abs(shown - value) <= 2
    total = sum(values)
    if 1 <= total <= 7:
        assert published.total == SUPPRESSED
    if published.total != SUPPRESSED:
        assert published.total == round_count(total)
        hidden = [value for value, withheld in zip(values, published.withheld, strict=True) if withheld]
        # Subtraction gives a lone withheld cell back to within the rounding: never a small one.
        assert len(hidden) != 1 or hidden[0] >= 8, "a small cell alone beside a published total is given away"


def _possible_values(values: list[int], published, cell: int) -> set[int]:
    """Every value the intruder cannot rule out for withheld `cell`, by brute force over achievable sums.

    This intruder knows more than any reader: every published count EXACTLY (not just to within
    the rounding), and that each * is a count of at least 1. So when the total is published the *s
    add up to the total minus the shown cells. An intruder who only sees the rounded figures knows
    less, so cannot do better.
    """
    shown = [value for value, withheld in zip(values, published.withheld, strict=True) if not withheld]
    hidden = [index for index, withheld in enumerate(published.withheld) if withheld]
    total = sum(values)
    if published.total_withheld:
        return set(range(1, total + 2))
    remainder = total - sum(shown)
    candidates = range(1, remainder + 1)
    reachable = {0}  # sums the other withheld cells can make together
    for _ in hidden[1:]:
        reachable = {partial + value for partial in reachable for value in candidates if partial + value <= remainder}
    return {value for value in candidates if remainder - value in reachable}


@settings(max_examples=300, deadline=None)
@given(cells)
@example([1, 8, 8])
@example([1, 1, 30])
def test_no_withheld_count_can_be_recovered_from_the_total_and_the_other_cells(values):
    published = breakdown(values)
    for index, value in enumerate(values):
        if not 1 <= value <= 7:
            continue
        possible = _possible_values(values, published, index)
        assert value in possible, "the truth must be consistent with what was published"
        assert len(possible) >= 2, f"cell {index} ({value}) of {values} is pinned by {published}"


@settings(max_examples=200, deadline=None)
@given(cells)
@example([1, 8, 8])
@example([1, 1, 8, 8, 8, 8, 8])
def test_within_the_rounding_subtraction_leaves_a_withheld_count_uncertain(values):
    """The plain attack of the brief: total minus the other shown cells, each known to within 2."""
    published = breakdown(values)
    if published.total == SUPPRESSED:
        return
    hidden = [index for index, withheld in enumerate(published.withheld) if withheld]
    if not hidden:
        return
    shown = [cell for cell in published.cells if cell != SUPPRESSED]
    nonzero = [cell for cell in shown if cell != 0]
    low = published.total - 2 - sum(cell + 2 for cell in nonzero)
    high = published.total + 2 - sum(cell - 2 for cell in nonzero)
    # The withheld cells share what is left; each is at least 1, so one alone is at most high - (m - 1).
    for index in hidden:
        most = high - (len(hidden) - 1)
        least = max(1, low - (len(hidden) - 1) * max(7, min(nonzero, default=7) + 2))
        assert most > least, f"cell {index} of {values} is pinned between {least} and {most}"


# --- tied tables -----------------------------------------------------------------------------------------------


def test_rounded_counts_whose_ranges_meet_the_total_are_not_all_shown():
    """Four 8s publish as 10s adding to 30: each is at least 8 and the total at most 32, so each is 8."""
    published = breakdown([8, 8, 8, 8])
    assert published.cells == (SUPPRESSED, 10, 10, 10) and published.total == 30  # the * is 1 to 8


def test_a_table_never_narrows_a_count_it_shares_with_other_tables():
    """The total is published on its own first; rows that would narrow it are withheld instead."""
    alone = Table()
    total = alone.add(24)
    flags = protect(alone)
    low, high = ranges(alone, flags)
    assert (low[total], high[total]) == (23, 27)
    table = Table()
    shared = table.add(24)
    rows = [table.add(8) for _ in range(3)]  # three 10s: at least 24, so the total would be 24 exactly
    table.sums.append((shared, tuple(rows)))
    table.fixed, table.limits = {shared: False}, {shared: (23, 27)}
    withheld = protect(table)
    assert not withheld[shared]
    low, high = ranges(table, withheld)
    assert (low[shared], high[shared]) == (23, 27)
    assert any(withheld[row] for row in rows)


def test_a_hidden_count_hides_its_parts():
    """Five paired cases hidden: the improved, unchanged and deteriorated among them are hidden too."""
    table = Table()
    cases, paired = table.add(20), table.add(5)
    parts = (table.add(0), table.add(5), table.add(0))
    table.parents.update({paired: cases, **dict.fromkeys(parts, paired)})
    table.orders.append((paired, cases))
    table.sums.append((paired, parts))
    withheld = protect(table)
    assert [withheld[index] for index in (cases, paired, *parts)] == [False, True, True, True, True]


def test_a_table_that_cannot_be_protected_says_so():
    table = Table()
    shared = table.add(9)
    rows = [table.add(1) for _ in range(9)]
    table.sums.append((shared, tuple(rows)))
    table.fixed, table.limits = {shared: False}, {shared: (8, 12)}
    with pytest.raises(CannotProtect):
        protect(table)
