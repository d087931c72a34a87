"""Report statistics from SQL sums: the same figures as computed case by case, and disclosure on publishing."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.dcs.report_factories import PHQ9, WEMWBS, make_report, sums_of
from vigtrain.dcs import disclosure
from vigtrain.dcs.reports import (
    Level,
    Sums,
    bias_correction,
    effect_size,
    publish,
)


def _exact(sums: Sums) -> dict[str, float | None]:
    """A practitioner's own figures (no disclosure control): every figure exact."""
    published = publish(make_report(Level.PRACTITIONER, [("a", sums)]))
    return {key: value.number for key, value in published.total.values.items()}


def test_figures_for_a_worked_example():
    """PHQ-9 18->9 (reliable recovery), 12->8 (recovery, not reliable), 10->17 (reliable deterioration), 5->3."""
    result = _exact(sums_of(PHQ9, [(18, 9), (12, 8), (10, 17), (5, 3)], unpaired=1))
    assert result["cases"] == 5 and result["paired"] == 4
    assert result["completeness"] == 80
    assert result["mean_pre"] == 11.25 and result["mean_post"] == 9.25
    assert (result["improved"], result["unchanged"], result["deteriorated"]) == (25, 50, 25)
    assert (result["improved_count"], result["unchanged_count"], result["deteriorated_count"]) == (1, 2, 1)
    assert result["at_caseness"] == 3
    assert result["recovery"] == pytest.approx(200 / 3)
    assert result["reliable_recovery"] == pytest.approx(100 / 3)


def test_effect_size_matches_the_case_by_case_formula():
    """g = J (mean pre - mean post) / SD pre, variance 2(1 - r)/n + g²/2n (Becker 1988; metafor "SMCR")."""
    pre = [20, 18, 15, 12, 10, 16, 14]
    post = [10, 12, 8, 9, 4, 15, 6]
    pairs = list(zip(pre, post, strict=True))
    n = len(pairs)
    d = (statistics.mean(pre) - statistics.mean(post)) / statistics.stdev(pre)
    g = (1 - 3 / (4 * (n - 1) - 1)) * d  # Hedges' approximation of J, close to the exact one used
    r = statistics.correlation(pre, post)
    half_width = 1.959964 * math.sqrt(2 * (1 - r) / n + g**2 / (2 * n))
    effect = effect_size(sums_of(PHQ9, pairs), higher_is_better=False)
    assert effect.value == pytest.approx(g, rel=0.01)
    assert effect.low == pytest.approx(effect.value - half_width, rel=0.02)
    assert effect.high == pytest.approx(effect.value + half_width, rel=0.02)
    assert effect.value > 0  # scores fell on a measure where lower is better: an improvement


def test_effect_size_is_positive_for_improvement_whichever_way_the_measure_runs():
    rising = [(40.0, 50.0), (35.0, 47.0), (44.0, 52.0), (30.0, 45.0)]
    assert effect_size(sums_of(WEMWBS, rising), higher_is_better=True).value > 0
    assert effect_size(sums_of(PHQ9, [(pre / 3, post / 3) for pre, post in rising]), False).value < 0


def test_bias_correction():
    assert bias_correction(2) == pytest.approx(0.5642, abs=1e-4)
    for df in (5, 10, 50, 500):
        assert bias_correction(df) == pytest.approx(1 - 3 / (4 * df - 1), abs=0.005)


def test_no_effect_size_without_spread_or_enough_cases():
    assert effect_size(sums_of(PHQ9, [(12, 5), (14, 3)]), False) is None  # too few
    assert effect_size(sums_of(PHQ9, [(12, 5), (12, 3), (12, 9)]), False) is None  # no spread before
    same_after = effect_size(sums_of(PHQ9, [(12, 5), (14, 5), (16, 5)]), False)
    assert same_after.value > 0 and same_after.low is None  # no correlation, so no interval


pairs = st.lists(
    st.tuples(st.integers(min_value=0, max_value=27), st.integers(min_value=0, max_value=27)), min_size=0, max_size=40
)


@settings(max_examples=150, deadline=None)
@given(pairs, pairs)
def test_sums_add_up_across_groups(first, second):
    """The report's total is the sum of its groups' sums, so totals need no second query."""
    together = sums_of(PHQ9, first + second)
    added = sums_of(PHQ9, first) + sums_of(PHQ9, second)
    for name in ("cases", "paired", "improved", "unchanged", "deteriorated", "at_caseness", "recovered"):
        assert getattr(added, name) == getattr(together, name)
    assert added.pre_post == pytest.approx(together.pre_post)


@settings(max_examples=150, deadline=None)
@given(pairs)
def test_figures_from_sums_equal_figures_case_by_case(data):
    result = _exact(sums_of(PHQ9, data))
    if not data:
        assert result["mean_pre"] is None and result["improved"] is None and result["effect"] is None
        return
    assert result["mean_pre"] == pytest.approx(statistics.mean(pre for pre, _ in data))
    assert result["mean_post"] == pytest.approx(statistics.mean(post for _, post in data))
    assert result["improved"] + result["unchanged"] + result["deteriorated"] == pytest.approx(100)
    pre = [p for p, _ in data]
    post = [q for _, q in data]
    assume(len(data) >= 3 and statistics.stdev(pre) > 0)
    expected = bias_correction(len(data) - 1) * (statistics.mean(pre) - statistics.mean(post)) / statistics.stdev(pre)
    assert result["effect"] == pytest.approx(expected, abs=0.005)  # as published, to two places
    if result["effect_low"] is not None:
        assert result["effect_low"] <= result["effect"] <= result["effect_high"]


def _case_rows(count: int, paired: int) -> Sums:
    return sums_of(PHQ9, [(15 + i % 5, 8 + i % 3) for i in range(paired)], unpaired=count - paired)


def test_publishing_above_the_practitioner_withholds_small_figures_and_protects_the_total():
    published = publish(
        make_report(Level.SERVICE, [("a", _case_rows(3, 3)), ("b", _case_rows(20, 5)), ("c", _case_rows(12, 9))])
    )
    a, b, c = published.rows
    assert a.withheld and c.withheld  # a is small; c, the next smallest, goes with it
    assert all(value.text == "*" for value in [*a.values.values(), *c.values.values()])
    assert b.values["cases"].text == "20"
    assert b.values["paired"].text == "*"  # 5 paired cases
    assert b.values["completeness"].withheld  # its count is withheld, so the share is too
    assert b.values["mean_pre"].withheld and b.values["improved"].withheld
    total = published.total.values
    assert total["cases"].text == "35" and total["paired"].text == "15"  # 35 and 17
    assert total["completeness"].text == "43%"  # 15 of 35, as published; 17 of 35 would be 49%
    assert total["mean_pre"].text not in ("", "*")


def test_percentages_come_from_the_published_counts():
    """The issue's example: "10 cases" with "88%" pinned 8 cases of which 7 paired."""
    published = publish(make_report(Level.REGION, [("a", _case_rows(8, 7)), ("b", _case_rows(0, 0))]))
    total = published.total.values
    assert total["cases"].text == "10"
    assert total["paired"].text == "*" and total["completeness"].withheld
    published = publish(make_report(Level.REGION, [("a", _case_rows(25, 22)), ("b", _case_rows(0, 0))]))
    total = published.total.values
    assert (total["cases"].text, total["paired"].text, total["completeness"].text) == ("25", "20", "80%")


def test_means_over_a_rounded_10_are_whole_numbers_and_intervals_use_the_fewest_cases():
    pairs = [(10 + i, 4 + i % 4) for i in range(9)]  # 9 paired cases: published as 10, so 8 to 12
    controlled = publish(make_report(Level.SERVICE, [("a", sums_of(PHQ9, pairs, unpaired=11))])).total.values
    exact = publish(make_report(Level.PRACTITIONER, [("a", sums_of(PHQ9, pairs, unpaired=11))])).total.values
    assert controlled["paired"].text == "10"
    assert controlled["mean_pre"].text == "14" and exact["mean_pre"].text == "14.0"
    assert controlled["effect"].text == exact["effect"].text
    controlled_width = controlled["effect_high"].number - controlled["effect_low"].number
    exact_width = exact["effect_high"].number - exact["effect_low"].number
    assert controlled_width > exact_width  # worked out over 8 cases, the fewest a 10 can be


def test_the_practitioners_own_report_is_exact():
    published = publish(make_report(Level.PRACTITIONER, [("a", _case_rows(3, 3)), ("b", _case_rows(2, 1))]))
    a, b = published.rows
    assert a.values["cases"].text == "3" and b.values["cases"].text == "2"
    assert a.values["mean_pre"].text == "16.0"
    assert published.total.values["cases"].text == "5"
    assert not any(value.withheld for row in [*published.rows, published.total] for value in row.values.values())


def test_a_withheld_total_takes_the_headline_figures_with_it():
    published = publish(make_report(Level.NATIONAL, [(str(i), _case_rows(1, 1)) for i in range(5)]))
    assert published.total.withheld
    assert published.total.values["mean_pre"].text == "*"


def test_many_groups_of_one_case_hide_the_breakdown_not_the_total():
    """Nine *s, each at least 1, would tell that the total "10" is at least 9: the rows go instead."""
    published = publish(make_report(Level.NATIONAL, [(str(i), _case_rows(1, 1)) for i in range(9)]))
    assert published.breakdown_hidden and published.rows == []
    assert published.total.values["cases"].text == "10"


def test_csv_values_are_plain():
    published = publish(make_report(Level.PRACTITIONER, [("a", sums_of(PHQ9, [(5, 18), (6, 20), (4, 22)]))]))
    effect = published.total.values["effect"]
    assert effect.text.startswith("\u2212") and effect.csv.startswith("-")
    assert published.total.values["improved"].csv == "0"
    assert published.total.values["recovery"].csv == ""  # nobody started at caseness


def test_if_nothing_can_protect_a_report_nothing_of_it_is_shown(monkeypatch):
    """Never seen with real counts, but a table that cannot be protected must fail closed, not open."""

    def refuse(table):
        raise disclosure.CannotProtect("no")

    monkeypatch.setattr(disclosure, "protect", refuse)
    published = publish(make_report(Level.SERVICE, [("a", _case_rows(20, 12)), ("b", _case_rows(30, 25))]))
    assert published.breakdown_hidden and published.rows == []
    assert published.total.withheld and {value.text for value in published.total.values.values()} == {"*"}
