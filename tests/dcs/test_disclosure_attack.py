"""An intruder attacks the published reports: no hidden or rounded count may be worked out.

Many data sets are generated (seeded, so a failure can be replayed); each is published the way a
service, regional or national report publishes it, broken down every way the level offers, and
the intruder of `intruder.py` solves for the true counts from all of those pages together, and
from the CSV of each page.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from tests.dcs.intruder import attack, page_of, page_of_csv, truths_of
from tests.dcs.report_factories import PHQ9, WEMWBS, make_report, sums_of
from vigtrain.dcs import export
from vigtrain.dcs.measures import Measure
from vigtrain.dcs.reports import Breakdown, Level, publish

DATA_SETS = 80


@dataclass(frozen=True)
class Case:
    population: str
    relationship: str
    stage: str
    pre: int | None
    post: int | None
    closed: bool = False


def generate(seed: int, measure: Measure) -> list[Case]:
    """A service's worth of cases: a few big groups and many small ones, as real services have."""
    rng = random.Random(seed)
    size = rng.choice([rng.randint(0, 12), rng.randint(8, 40), rng.randint(20, 90)])
    populations = [f"population {n}" for n in range(rng.randint(2, 7))]
    relationships = [f"relationship {n}" for n in range(rng.randint(2, 4))]
    stages = ["stage 1", "stage 2", "not in training"]
    weights = [rng.random() ** 2 for _ in populations]
    low, high = int(measure.min_score), int(measure.max_score)
    cases = []
    for _ in range(size):
        pre = rng.randint(low, high) if rng.random() < 0.9 else None
        post = None
        if pre is not None and rng.random() < rng.choice([0.5, 0.8, 0.95]):
            post = max(low, min(high, pre + rng.randint(-(high - low) // 2, (high - low) // 4)))
        cases.append(
            Case(
                rng.choices(populations, weights)[0],
                rng.choice(relationships),
                rng.choice(stages),
                pre,
                post,
                rng.random() < 0.6,
            )
        )
    return cases


def _report(cases: list[Case], by: str, measure: Measure, level: Level):
    labels = sorted({getattr(case, by) for case in cases}) or ["none"]
    groups = []
    for label in labels:
        chosen = [case for case in cases if getattr(case, by) == label]
        paired = [case for case in chosen if case.pre is not None and case.post is not None]
        paired.sort(key=lambda case: not case.closed)  # closed first, as sums_of counts them
        pairs = [(case.pre, case.post) for case in paired]
        closed_paired = sum(case.closed for case in paired)
        closed_unpaired = sum(case.closed for case in chosen) - closed_paired
        groups.append((label, sums_of(measure, pairs, len(chosen) - len(pairs), closed_paired, closed_unpaired)))
    return make_report(level, groups, measure, Breakdown.POPULATION)


def _given_away(cases: list[Case], measure: Measure, level: Level, csv: bool) -> list[str]:
    reports = [_report(cases, by, measure, level) for by in ("population", "relationship", "stage")]
    published = [publish(report) for report in reports]
    pages = [page_of_csv(export.report_csv(item)) if csv else page_of(item) for item in published]
    truths = [truths_of(report) for report in reports]
    # A hidden breakdown publishes no rows: the intruder sees only the total.
    for number, item in enumerate(published):
        if getattr(item, "breakdown_hidden", False):
            truths[number] = {"All cases": truths[number]["All cases"]}
    whole = float(measure.min_score).is_integer() and measure.code != "GBO"
    return attack(pages, truths, whole_scores=whole, score_range=(measure.min_score, measure.max_score))


@pytest.mark.parametrize("seed", range(DATA_SETS))
def test_no_count_can_be_worked_out_from_every_breakdown_of_a_report(seed):
    measure = PHQ9 if seed % 4 else WEMWBS
    cases = generate(seed, measure)
    assert _given_away(cases, measure, Level.SERVICE, csv=False) == []


@pytest.mark.parametrize("seed", range(0, DATA_SETS, 3))
def test_no_count_can_be_worked_out_from_the_csv_downloads(seed):
    cases = generate(1000 + seed, PHQ9)
    assert _given_away(cases, PHQ9, Level.NATIONAL, csv=True) == []


def _cases(population: str, paired: int, unpaired: int) -> list[Case]:
    made = [Case(population, "r", "s", 12 + n % 9, 6 + n % 5) for n in range(paired)]
    return made + [Case(population, "r", "s", 14, None) for _ in range(unpaired)]


@pytest.mark.parametrize(
    "cases",
    [
        _cases("a", 7, 1),  # the "10 cases, 88% with pre and post": 8 cases, 7 paired
        _cases("a", 22, 3),  # "25 cases, 89%" pins 25 and 22
        _cases("a", 8, 0) + _cases("b", 8, 0) + _cases("c", 8, 0) + _cases("d", 8, 0),  # 10s adding to 30
        _cases("a", 1, 0) + _cases("b", 8, 0) + _cases("c", 8, 0),  # a * beside two 10s and a 15
    ],
    ids=["8-cases-7-paired", "25-cases-22-paired", "four-rows-of-8", "one-beside-two-8s"],
)
def test_the_known_attacks_fail(cases):
    assert _given_away(cases, PHQ9, Level.REGION, csv=False) == []
