"""The Kaplan-Meier estimate of time to accreditation: by hand on tiny data, and against scipy's."""

from __future__ import annotations

import math
import random
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from vigtrain.flow.survival import kaplan_meier

# Five trainees: accredited on days 2, 5 and 8; censored on day 3 and on day 5 (with an event that day).
FIVE = [(2, True), (3, False), (5, True), (5, False), (8, True)]


def test_five_subjects_by_hand():
    estimate = kaplan_meier(FIVE)
    rows = [(p.time, p.at_risk, p.events, p.censored) for p in estimate.points]
    # At risk: 5 on day 2; 4 on day 3; 3 on day 5 (one event and one censored that day); 1 on day 8.
    assert rows == [(2, 5, 1, 0), (3, 4, 0, 1), (5, 3, 1, 1), (8, 1, 1, 0)]
    day2, day3, day5, day8 = estimate.points
    # S(2) = 1 - 1/5 = 0.8. Greenwood: Σ d/(n(n-d)) = 1/(5·4) = 0.05 (Var S = 0.64 · 0.05 = 0.032).
    # log(-log) band: spread = 1.96 · √0.05 / |ln 0.8| = 1.96 · 0.22361 / 0.22314 = 1.96403;
    # lower = 0.8^exp(1.96403) = 0.8^7.1278 = 0.20381; upper = 0.8^exp(-1.96403) = 0.8^0.14030 = 0.96918.
    assert (day2.survival, day2.lower, day2.upper) == pytest.approx((0.8, 0.20381, 0.96918), abs=5e-5)
    # Censoring changes nothing but the number at risk.
    assert (day3.survival, day3.lower, day3.upper) == (day2.survival, day2.lower, day2.upper)
    # S(5) = 0.8 · (1 - 1/3) = 0.53333. Σ = 0.05 + 1/(3·2) = 0.21667;
    # spread = 1.96 · 0.46547 / |ln 0.53333| = 1.96 · 0.46547 / 0.62861 = 1.45132;
    # lower = 0.53333^4.2690 = 0.06833; upper = 0.53333^0.23424 = 0.86307.
    assert (day5.survival, day5.lower, day5.upper) == pytest.approx((0.53333, 0.06833, 0.86307), abs=5e-5)
    # The last one at risk is accredited: S = 0 and the band closes on it.
    assert (day8.survival, day8.lower, day8.upper) == (0.0, 0.0, 0.0)
    # Median: first S ≤ 0.5 is day 8; the lower curve is 0.204 on day 2, the upper first ≤ 0.5 on day 8.
    assert (estimate.median, estimate.median_lower, estimate.median_upper) == (8, 2, 8)
    assert (estimate.subjects, estimate.events, estimate.censored) == (5, 3, 2)
    assert [estimate.survival_at(t) for t in (0, 1.9, 2, 4, 5, 7, 8, 100)] == pytest.approx(
        [1, 1, 0.8, 0.8, 0.53333, 0.53333, 0, 0], abs=5e-5
    )


def test_all_censored_has_no_median_and_stays_at_one():
    estimate = kaplan_meier([(3, False), (5, False), (5, False)])
    assert [(p.survival, p.lower, p.upper) for p in estimate.points] == [(1.0, 1.0, 1.0), (1.0, 1.0, 1.0)]
    assert (estimate.median, estimate.median_lower, estimate.median_upper) == (None, None, None)
    assert (estimate.events, estimate.censored) == (0, 3)
    assert estimate.survival_at(1000) == 1.0


def test_nobody_at_all():
    estimate = kaplan_meier([])
    assert estimate.points == [] and estimate.median is None and estimate.subjects == 0


def test_everyone_accredited_the_same_day():
    estimate = kaplan_meier([(7, True)] * 3)
    (only,) = estimate.points
    # 3 at risk, 3 events: S = 0 and the variance is infinite, so the band is [0, 0].
    assert (only.time, only.at_risk, only.events, only.survival, only.lower, only.upper) == (7, 3, 3, 0.0, 0.0, 0.0)
    assert (estimate.median, estimate.median_lower, estimate.median_upper) == (7, 7, 7)


def test_a_median_exactly_at_one_half_is_that_day():
    # Two trainees accredited on days 1 and 2: S(1) = 1/2 exactly, so the median is day 1 (not 1.5).
    assert kaplan_meier([(1, True), (2, True)]).median == 1
    # S(1) = 3/4, S(2) = 3/4 · 2/3, which is 0.5 only up to floating point: still day 2.
    estimate = kaplan_meier([(1, True), (2, True), (3, False), (4, False)])
    assert estimate.points[1].survival == pytest.approx(0.5)
    assert estimate.median == 2


# --- against scipy's independent implementation -----------------------------------------------------


def _first_at_or_below_half(times, values):
    return next((int(t) for t, v in zip(times, values, strict=True) if v <= 0.5 + 1e-12), None)


def _check_against_scipy(observations):
    estimate = kaplan_meier(observations)
    result = stats.ecdf(
        stats.CensoredData(
            uncensored=[t for t, happened in observations if happened],
            right=[t for t, happened in observations if not happened],
        )
    )
    times, survival = result.sf.quantiles, result.sf.probabilities
    with warnings.catch_warnings():
        # scipy warns that the band is undefined where the curve reaches zero; handled below.
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        band = result.sf.confidence_interval(0.95, method="log-log")
    lower, upper = band.low.probabilities, band.high.probabilities
    index = {int(t): i for i, t in enumerate(times)}
    for point in estimate.points:
        if not point.events:
            continue
        i = index[point.time]
        assert point.survival == pytest.approx(survival[i], abs=1e-9)
        if point.survival == 0.0:
            # scipy leaves the band undefined (or closed) where the curve reaches zero; ours closes it.
            assert point.lower == point.upper == 0.0
            continue
        assert point.lower == pytest.approx(lower[i], abs=1e-9)
        assert point.upper == pytest.approx(upper[i], abs=1e-9)
    assert estimate.median == _first_at_or_below_half(times, survival)
    assert estimate.median_lower == _first_at_or_below_half(times, _closed(lower, survival))
    assert estimate.median_upper == _first_at_or_below_half(times, _closed(upper, survival))


def _closed(curve, survival):
    """scipy's band where the curve is zero is NaN; it is [0, 0] there (nobody is left)."""
    return [0.0 if s == 0.0 and math.isnan(v) else v for v, s in zip(curve, survival, strict=True)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_matches_scipy_on_seeded_random_data(seed):
    rng = random.Random(seed)
    # Days 0-60 for 40 trainees: many tied times, and censoring on days with accreditations.
    observations = [(rng.randint(0, 60), rng.random() < 0.6) for _ in range(40)]
    assert any(happened for _, happened in observations)
    _check_against_scipy(observations)


def test_matches_scipy_with_ties_and_censoring_on_event_days():
    observations = [
        (4, True),
        (4, True),
        (4, False),
        (6, True),
        (6, False),
        (6, False),
        (9, True),
        (9, True),
        (12, False),
    ]
    _check_against_scipy(observations)


def test_matches_scipy_when_the_last_one_at_risk_is_accredited():
    _check_against_scipy([(2, True), (3, False), (5, True), (8, True)])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=40).filter(
        lambda rows: any(happened for _, happened in rows)
    )
)
def test_matches_scipy_on_any_data(observations):
    _check_against_scipy(observations)
