"""Time to accreditation as survival data: the Kaplan-Meier estimate of "still in training".

A trainee who has not been accredited yet (in training, paused, or withdrawn) is censored on the
day they were last known not to be accredited: dropping them would leave only the quick finishers,
and counting them as finished would be false. The curve steps down at each accreditation by the
share of those still at risk who were accredited that day.

The 95% confidence band is Greenwood's variance on the log(-log) scale (the "exponential Greenwood"
band of Kalbfleisch and Prentice, which stays within 0 and 1). The median is the first time the
estimate is at or below one half; its interval is where the band's lower and upper curves first
reach one half (Brookmeyer and Crowley's method read off that band), and is "not reached" when the
upper curve never does. The tests check all of it against an independent implementation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Point:
    """The estimate just after `time`: who was at risk, what happened, and the survival with its band."""

    time: int
    at_risk: int
    events: int
    censored: int
    survival: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Estimate:
    points: list[Point]
    subjects: int
    events: int
    median: int | None
    median_lower: int | None
    median_upper: int | None

    @property
    def censored(self) -> int:
        return self.subjects - self.events

    def survival_at(self, time: float) -> float:
        """The estimate at `time` (1 before the first event)."""
        value = 1.0
        for point in self.points:
            if point.time > time:
                break
            value = point.survival
        return value


def kaplan_meier(observations: Sequence[tuple[int, bool]], z: float = Z_95) -> Estimate:
    """`observations`: (time, whether the event happened then; False = censored then)."""
    events = Counter(time for time, happened in observations if happened)
    censored = Counter(time for time, happened in observations if not happened)
    at_risk = len(observations)
    survival, variance_sum = 1.0, 0.0
    points: list[Point] = []
    for time in sorted(set(events) | set(censored)):
        died, lost = events.get(time, 0), censored.get(time, 0)
        if died:
            survival *= 1 - died / at_risk
            variance_sum = math.inf if died == at_risk else variance_sum + died / (at_risk * (at_risk - died))
        points.append(Point(time, at_risk, died, lost, survival, *_band(survival, variance_sum, z)))
        at_risk -= died + lost
    return Estimate(
        points=points,
        subjects=len(observations),
        events=sum(events.values()),
        median=_first_at_or_below_half(points, lambda point: point.survival),
        median_lower=_first_at_or_below_half(points, lambda point: point.lower),
        median_upper=_first_at_or_below_half(points, lambda point: point.upper),
    )


def _band(survival: float, variance_sum: float, z: float) -> tuple[float, float]:
    if survival >= 1.0:
        return 1.0, 1.0
    if survival <= 0.0 or math.isinf(variance_sum):
        return 0.0, 0.0
    spread = z * math.sqrt(variance_sum) / abs(math.log(survival))
    return survival ** math.exp(spread), survival ** math.exp(-spread)


def _first_at_or_below_half(points: Sequence[Point], value) -> int | None:
    # A tiny tolerance: 1 - 1/2 computed in floating point must count as one half.
    return next((point.time for point in points if value(point) <= 0.5 + 1e-12), None)
