"""DCS outcome reports: one SQL aggregate over case_outcome, and the statistics drawn from its sums.

A report is one GROUP BY statement whatever the size of the data: each group returns only sums
(n, the sums of pre, pre², post, post² and pre x post over paired cases, and counts of each
classification), which add up, so the report's totals are the sum of its groups and every figure,
the effect size included, comes from those sums. Only cases whose client consented to the DCS are
ever read (DESIGN.md, "Anonymity rules").

Effect size: the standardised mean change of Becker (1988) with the standard deviation of the scores
before, g = J x (mean improvement / SD before), where J = Γ(m/2) / (√(m/2) Γ((m-1)/2)), m = n - 1,
corrects the small-sample bias (Hedges 1981). Its large-sample variance is 2(1 - r)/n + g²/(2n),
r being the correlation of the pre and post scores (Becker 1988; Morris 2000), and the 95%
confidence interval is g ± 1.96 √variance. This is the "SMCR" measure of the R package metafor.
Using the SD before, not the SD of the change, keeps g comparable with the uncontrolled pre-post
effect sizes published for psychological therapies (Minami et al. 2008). g is signed so that a
positive value is an improvement whichever way the measure runs.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from vigtrain.casework.models import POPULATION_LABELS, RELATIONSHIP_LABELS, Population, Relationship
from vigtrain.dcs import disclosure
from vigtrain.dcs.measures import Measure
from vigtrain.dcs.models import CaseOutcome
from vigtrain.dcs.outcomes import Classification
from vigtrain.extensions import db
from vigtrain.organisations.models import Region, Service

Z_95 = 1.959964
MIN_EFFECT_CASES = 3  # the bias correction needs at least two degrees of freedom


class Level(enum.StrEnum):
    PRACTITIONER = "practitioner"
    SERVICE = "service"
    REGION = "region"
    NATIONAL = "national"


class Breakdown(enum.StrEnum):
    """What a report's table splits the cases by. Never by practitioner: that could identify people."""

    POPULATION = "population"
    RELATIONSHIP = "relationship"
    SERVICE = "service"
    REGION = "region"


BREAKDOWN_LABELS = {
    Breakdown.POPULATION: "Population",
    Breakdown.RELATIONSHIP: "Relationship",
    Breakdown.SERVICE: "Service",
    Breakdown.REGION: "Region",
}

# The breakdowns each level offers, the default first.
LEVEL_BREAKDOWNS = {
    Level.PRACTITIONER: (Breakdown.POPULATION, Breakdown.RELATIONSHIP),
    Level.SERVICE: (Breakdown.POPULATION, Breakdown.RELATIONSHIP),
    Level.REGION: (Breakdown.SERVICE, Breakdown.POPULATION, Breakdown.RELATIONSHIP),
    Level.NATIONAL: (Breakdown.REGION, Breakdown.POPULATION, Breakdown.RELATIONSHIP),
}

NOT_IN_TRAINING = "none"
STAGE_LABELS = {
    "0": "Initial training",
    "1": "Stage 1",
    "2": "Stage 2",
    "3": "Stage 3",
    NOT_IN_TRAINING: "Not in training (accredited)",
}
NO_SERVICE = "No service recorded"


@dataclass(frozen=True)
class Scope:
    """Whose cases a report covers; every level but the practitioner's own is disclosure-controlled."""

    level: Level
    practitioner_id: int | None = None
    service_id: int | None = None
    region_id: int | None = None

    @property
    def controlled(self) -> bool:
        return self.level is not Level.PRACTITIONER


@dataclass(frozen=True)
class Filters:
    measure: Measure
    breakdown: Breakdown
    population: Population | None = None
    relationship: Relationship | None = None
    service_id: int | None = None
    region_id: int | None = None
    stage: int | Literal["none"] | None = None
    pre_from: date | None = None
    pre_to: date | None = None


@dataclass(frozen=True)
class Sums:
    """What one SQL group returns; every field adds up across groups."""

    cases: int = 0
    paired: int = 0
    pre: float = 0.0
    pre_squared: float = 0.0
    post: float = 0.0
    post_squared: float = 0.0
    pre_post: float = 0.0
    improved: int = 0
    unchanged: int = 0
    deteriorated: int = 0
    at_caseness: int = 0
    recovered: int = 0
    reliably_recovered: int = 0

    def __add__(self, other: Sums) -> Sums:
        return Sums(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class EffectSize:
    value: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Figures:
    """A group's figures before any disclosure control. Percentages are 0 to 100."""

    cases: int
    paired: int
    at_caseness: int
    completeness: float | None
    mean_pre: float | None
    mean_post: float | None
    effect: EffectSize | None
    improved: float | None
    unchanged: float | None
    deteriorated: float | None
    recovery: float | None
    reliable_recovery: float | None


@dataclass(frozen=True)
class Group:
    key: Any
    label: str
    sums: Sums


@dataclass(frozen=True)
class Report:
    scope: Scope
    filters: Filters
    groups: list[Group]
    total: Sums

    @property
    def measure(self) -> Measure:
        return self.filters.measure


# --- the query ------------------------------------------------------------------------------------


def _when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum_when(condition: ColumnElement[bool], value: ColumnElement[float]) -> ColumnElement[float]:
    return func.coalesce(func.sum(case((condition, value), else_=None)), 0.0)


def _conditions(scope: Scope, filters: Filters) -> list[ColumnElement[bool]]:
    outcome = CaseOutcome
    conditions = [outcome.measure_code == filters.measure.code, outcome.consent_dcs.is_(True)]
    if scope.level is Level.PRACTITIONER:
        conditions.append(outcome.practitioner_id == scope.practitioner_id)
    if scope.service_id is not None:
        conditions.append(outcome.service_id == scope.service_id)
    if scope.region_id is not None:
        conditions.append(outcome.region_id == scope.region_id)
    if filters.population is not None:
        conditions.append(outcome.population == filters.population)
    if filters.relationship is not None:
        conditions.append(outcome.relationship_type == filters.relationship)
    if filters.service_id is not None:
        conditions.append(outcome.service_id == filters.service_id)
    if filters.region_id is not None:
        conditions.append(outcome.region_id == filters.region_id)
    if filters.stage == NOT_IN_TRAINING:
        conditions.append(outcome.stage_number.is_(None))
    elif filters.stage is not None:
        conditions.append(outcome.stage_number == filters.stage)
    if filters.pre_from is not None:
        conditions.append(outcome.pre_on >= filters.pre_from)
    if filters.pre_to is not None:
        conditions.append(outcome.pre_on <= filters.pre_to)
    return conditions


# Region and service are grouped by `id + 0`, not the bare column: given the bare column, SQLite walks
# the whole table in that column's index order (to save sorting a dozen groups), reading every row at
# random, which is several times slower than reading only the rows the filters select.
GROUP_COLUMNS = {
    Breakdown.POPULATION: CaseOutcome.population,
    Breakdown.RELATIONSHIP: CaseOutcome.relationship_type,
    Breakdown.SERVICE: CaseOutcome.service_id + literal_column("0"),
    Breakdown.REGION: CaseOutcome.region_id + literal_column("0"),
}


def aggregate(scope: Scope, filters: Filters) -> dict[Any, Sums]:
    """The sums for each group of the breakdown: one statement, however many cases there are."""
    outcome = CaseOutcome
    paired = and_(outcome.pre.is_not(None), outcome.post.is_not(None))
    group = GROUP_COLUMNS[filters.breakdown]
    statement = (
        select(
            group,
            func.count(),
            _when(paired),
            _sum_when(paired, outcome.pre),
            _sum_when(paired, outcome.pre * outcome.pre),
            _sum_when(paired, outcome.post),
            _sum_when(paired, outcome.post * outcome.post),
            _sum_when(paired, outcome.pre * outcome.post),
            _when(outcome.classification == Classification.RELIABLE_IMPROVEMENT.value),
            _when(outcome.classification == Classification.NO_RELIABLE_CHANGE.value),
            _when(outcome.classification == Classification.RELIABLE_DETERIORATION.value),
            _when(and_(paired, outcome.pre_case.is_(True))),
            _when(and_(paired, outcome.recovery.is_(True))),
            _when(and_(paired, outcome.reliable_recovery.is_(True))),
        )
        .where(*_conditions(scope, filters))
        .group_by(group)
    )
    return {
        key: Sums(int(n), int(p), float(a), float(b), float(c), float(d), float(e), *(int(v) for v in counts))
        for key, n, p, a, b, c, d, e, *counts in db.session.execute(statement)
    }


def _labels(scope: Scope, filters: Filters, keys: Iterable[Any]) -> list[tuple[Any, str]]:
    """Every group the breakdown can have, in display order, so empty groups show as 0."""
    if filters.breakdown is Breakdown.POPULATION:
        return [(population, label) for population, label in POPULATION_LABELS.items()]
    if filters.breakdown is Breakdown.RELATIONSHIP:
        return [(relationship, label) for relationship, label in RELATIONSHIP_LABELS.items()]
    if filters.breakdown is Breakdown.REGION:
        return [(row.id, row.name) for row in db.session.execute(select(Region.id, Region.name).order_by(Region.name))]
    # By service: the services based in the region, and any others whose staff worked there.
    seen = [key for key in keys if key is not None]
    where = or_(Service.region_id == scope.region_id, Service.id.in_(seen)) if scope.region_id else Service.id.in_(seen)
    labels = [(row.id, row.name) for row in db.session.execute(select(Service.id, Service.name).where(where))]
    labels.sort(key=lambda pair: pair[1].casefold())
    return [*labels, (None, NO_SERVICE)]


def build_report(scope: Scope, filters: Filters) -> Report:
    by_key = aggregate(scope, filters)
    groups = [Group(key, label, by_key.get(key, Sums())) for key, label in _labels(scope, filters, by_key)]
    if filters.breakdown is Breakdown.SERVICE and not by_key.get(None):
        groups = groups[:-1]  # "No service recorded" only where such cases exist
    return Report(scope=scope, filters=filters, groups=groups, total=sum((g.sums for g in groups), Sums()))


# --- statistics -----------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def bias_correction(df: int) -> float:
    """Hedges' exact J for `df` degrees of freedom (df >= 2)."""
    return math.exp(math.lgamma(df / 2) - 0.5 * math.log(df / 2) - math.lgamma((df - 1) / 2))


def effect_size(sums: Sums, higher_is_better: bool) -> EffectSize | None:
    """Becker's standardised mean change (SD before), positive for improvement, with its 95% CI."""
    n = sums.paired
    if n < MIN_EFFECT_CASES:
        return None
    mean_pre, mean_post = sums.pre / n, sums.post / n
    var_pre = (sums.pre_squared - n * mean_pre**2) / (n - 1)
    var_post = (sums.post_squared - n * mean_post**2) / (n - 1)
    covariance = (sums.pre_post - n * mean_pre * mean_post) / (n - 1)
    scale = max(1.0, abs(mean_pre), abs(mean_post))
    if var_pre <= 1e-9 * scale**2:
        return None  # every pre score the same: no spread to standardise by
    improvement = mean_post - mean_pre if higher_is_better else mean_pre - mean_post
    g = bias_correction(n - 1) * improvement / math.sqrt(var_pre)
    if var_post <= 1e-9 * scale**2:
        return EffectSize(g, None, None)  # the correlation, and so the interval, is undefined
    r = min(1.0, max(-1.0, covariance / math.sqrt(var_pre * var_post)))
    half_width = Z_95 * math.sqrt(2 * (1 - r) / n + g**2 / (2 * n))
    return EffectSize(g, g - half_width, g + half_width)


def figures(sums: Sums, measure: Measure) -> Figures:
    paired = sums.paired
    caseness = measure.caseness is not None
    return Figures(
        cases=sums.cases,
        paired=paired,
        at_caseness=sums.at_caseness,
        completeness=_percent(paired, sums.cases),
        mean_pre=sums.pre / paired if paired else None,
        mean_post=sums.post / paired if paired else None,
        effect=effect_size(sums, measure.higher_is_better),
        improved=_percent(sums.improved, paired),
        unchanged=_percent(sums.unchanged, paired),
        deteriorated=_percent(sums.deteriorated, paired),
        recovery=_percent(sums.recovered, sums.at_caseness) if caseness else None,
        reliable_recovery=_percent(sums.reliably_recovered, sums.at_caseness) if caseness else None,
    )


# --- publishing: what a page and its CSV show -------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One published figure: `number` is None when withheld or not available."""

    number: float | None
    text: str
    withheld: bool = False

    @property
    def csv(self) -> str:
        """The figure for a spreadsheet: no per cent sign, an ASCII minus, blank where not available."""
        return self.text.removesuffix("%").replace("\u2212", "-")


WITHHELD = Value(None, disclosure.SUPPRESSED, withheld=True)
NOT_AVAILABLE = Value(None, "")


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    base: Callable[[Figures], int]
    value: Callable[[Figures], float | None]
    format: Callable[[float], str]

    @property
    def percent(self) -> bool:
        return self.format is _percentage


def _whole(value: float) -> str:
    return str(round(value))


def _one_place(value: float) -> str:
    return f"{value:.1f}"


def _two_places(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


def _percentage(value: float) -> str:
    return f"{round(value)}%"


def columns(measure: Measure) -> list[Column]:
    """The figures a report shows, in order; the same list makes the page's table and its CSV."""
    paired: Callable[[Figures], int] = lambda f: f.paired  # noqa: E731
    items = [
        Column("cases", "Cases", lambda f: f.cases, lambda f: f.cases, _whole),
        Column("completeness", "With pre and post", lambda f: f.cases, lambda f: f.completeness, _percentage),
        Column("mean_pre", "Mean before", paired, lambda f: f.mean_pre, _one_place),
        Column("mean_post", "Mean after", paired, lambda f: f.mean_post, _one_place),
        Column("effect", "Effect size", paired, lambda f: f.effect and f.effect.value, _two_places),
        Column("effect_low", "95% CI from", paired, lambda f: f.effect and f.effect.low, _two_places),
        Column("effect_high", "95% CI to", paired, lambda f: f.effect and f.effect.high, _two_places),
        Column("improved", "Reliable improvement", paired, lambda f: f.improved, _percentage),
        Column("unchanged", "No reliable change", paired, lambda f: f.unchanged, _percentage),
        Column("deteriorated", "Reliable deterioration", paired, lambda f: f.deteriorated, _percentage),
    ]
    if measure.caseness is not None:
        at_caseness: Callable[[Figures], int] = lambda f: f.at_caseness  # noqa: E731
        items += [
            Column("recovery", "Recovery", at_caseness, lambda f: f.recovery, _percentage),
            Column("reliable_recovery", "Reliable recovery", at_caseness, lambda f: f.reliable_recovery, _percentage),
        ]
    return items


@dataclass(frozen=True)
class Row:
    label: str
    values: dict[str, Value]
    withheld: bool = False


@dataclass(frozen=True)
class Published:
    """A report as shown: the breakdown rows, the total row (the headline figures) and the columns."""

    report: Report
    columns: list[Column]
    rows: list[Row]
    total: Row

    @property
    def controlled(self) -> bool:
        return self.report.scope.controlled

    @property
    def measure(self) -> Measure:
        return self.report.measure

    @property
    def breakdown_label(self) -> str:
        return BREAKDOWN_LABELS[self.report.filters.breakdown]


def _row(label: str, figures_: Figures, cols: list[Column], controlled: bool, withheld: bool, count: int | str) -> Row:
    if withheld:
        return Row(label, {column.key: WITHHELD for column in cols}, withheld=True)
    values: dict[str, Value] = {}
    for column in cols:
        if column.key == "cases":
            values["cases"] = Value(float(count), str(count)) if isinstance(count, int) else WITHHELD
            continue
        raw = column.value(figures_)
        shown = disclosure.statistic(raw, column.base(figures_)) if controlled else raw
        if shown is None:
            values[column.key] = NOT_AVAILABLE
        elif shown == disclosure.SUPPRESSED:
            values[column.key] = WITHHELD
        else:
            values[column.key] = Value(float(shown), column.format(float(shown)))
    return Row(label, values)


def publish(report: Report) -> Published:
    """Apply disclosure control (above the practitioner's own level) to every figure of a report."""
    measure, controlled = report.measure, report.scope.controlled
    cols = columns(measure)
    counts = [group.sums.cases for group in report.groups]
    if controlled:
        published = disclosure.breakdown(counts)
        cells, withheld, total_count = published.cells, published.withheld, published.total
        total_withheld = published.total_withheld
    else:
        cells, withheld, total_count, total_withheld = tuple(counts), (False,) * len(counts), sum(counts), False
    rows = [
        _row(group.label, figures(group.sums, measure), cols, controlled, flag, cell)
        for group, cell, flag in zip(report.groups, cells, withheld, strict=True)
    ]
    total_withheld = total_withheld or total_count == disclosure.SUPPRESSED
    total = _row("All cases", figures(report.total, measure), cols, controlled, total_withheld, total_count)
    return Published(report=report, columns=cols, rows=rows, total=total)
