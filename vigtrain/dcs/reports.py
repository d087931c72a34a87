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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Select, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from vigtrain.casework.models import POPULATION_LABELS, RELATIONSHIP_LABELS, CaseStatus, Population, Relationship
from vigtrain.dcs import disclosure
from vigtrain.dcs.measures import Measure
from vigtrain.dcs.models import CaseOutcome, ReportCell, ReportGrain, ReportRefresh
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
    STAGE = "stage"


BREAKDOWN_LABELS = {
    Breakdown.POPULATION: "Population",
    Breakdown.RELATIONSHIP: "Relationship",
    Breakdown.SERVICE: "Service",
    Breakdown.REGION: "Region",
    Breakdown.STAGE: "Pathway stage when the case started",
}

# The breakdowns each level offers, the default first.
LEVEL_BREAKDOWNS = {
    Level.PRACTITIONER: (Breakdown.POPULATION, Breakdown.RELATIONSHIP, Breakdown.STAGE),
    Level.SERVICE: (Breakdown.POPULATION, Breakdown.RELATIONSHIP, Breakdown.STAGE),
    Level.REGION: (Breakdown.SERVICE, Breakdown.POPULATION, Breakdown.RELATIONSHIP, Breakdown.STAGE),
    Level.NATIONAL: (Breakdown.REGION, Breakdown.POPULATION, Breakdown.RELATIONSHIP, Breakdown.STAGE),
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
    closed: int = 0  # cases whose work has ended (completed or ended early)
    closed_paired: int = 0  # of those, the ones with a pre and a post score

    def __add__(self, other: Sums) -> Sums:
        return Sums(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class EffectSize:
    value: float
    low: float | None
    high: float | None


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
    kept_at: datetime | None = None  # when the sums it was read from were kept; None: worked out now

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
    Breakdown.STAGE: CaseOutcome.stage_number,
}


def _sum_columns() -> list[ColumnElement]:
    """The sums of the outcome rows in a group, in the order of `Sums`'s fields (after the count)."""
    outcome = CaseOutcome
    paired = and_(outcome.pre.is_not(None), outcome.post.is_not(None))
    closed = outcome.status != CaseStatus.OPEN
    return [
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
        _when(closed),
        _when(and_(paired, closed)),
    ]


def _sums_by_key(statement: Select) -> dict[Any, Sums]:
    return {
        key: Sums(int(n), int(p), float(a), float(b), float(c), float(d), float(e), *(int(v) for v in counts))
        for key, n, p, a, b, c, d, e, *counts in db.session.execute(statement)
    }


def aggregate(scope: Scope, filters: Filters) -> dict[Any, Sums]:
    """The sums for each group of the breakdown: one statement, however many cases there are."""
    group = GROUP_COLUMNS[filters.breakdown]
    statement = select(group, func.count(), *_sum_columns()).where(*_conditions(scope, filters)).group_by(group)
    return _sums_by_key(statement)


# --- the kept sums: what the national and regional reports are read from ---------------------------------

GRAINS = {
    Breakdown.POPULATION: ReportGrain.POPULATION,
    Breakdown.RELATIONSHIP: ReportGrain.RELATIONSHIP,
    Breakdown.STAGE: ReportGrain.STAGE,
    Breakdown.SERVICE: ReportGrain.SERVICE,
    Breakdown.REGION: ReportGrain.STAGE,  # every grain holds each region's cases once; the smallest will do
}
GRAIN_COLUMNS = {
    ReportGrain.POPULATION: "population",
    ReportGrain.RELATIONSHIP: "relationship_type",
    ReportGrain.STAGE: "stage_number",
    ReportGrain.SERVICE: "service_id",
}
CELL_SUMS = [field.name for field in fields(Sums)]


def cells_select(grain: ReportGrain) -> Select:
    """The cells of one grain, worked out from the consented outcome rows: one statement for every
    measure and region, for `INSERT ... SELECT`; columns in the order of `cell_columns(grain)`."""
    outcome = CaseOutcome
    group = getattr(outcome, GRAIN_COLUMNS[grain])
    keys = (outcome.measure_code, outcome.region_id, group)
    return (
        select(literal(grain.value), *keys, func.count(), *_sum_columns())
        .where(outcome.consent_dcs.is_(True))
        .group_by(*keys)
    )


def cell_columns(grain: ReportGrain) -> list[str]:
    return ["grain", "measure_code", "region_id", GRAIN_COLUMNS[grain], *CELL_SUMS]


def kept_sums(scope: Scope, filters: Filters) -> tuple[datetime, dict[Any, Sums]] | None:
    """When the cells were kept and the breakdown's sums added up from them; None when the report
    cannot be read from them (below the regional level, with a filter, or no cells kept)."""
    if scope.level not in (Level.REGION, Level.NATIONAL) or filters != Filters(filters.measure, filters.breakdown):
        return None
    kept_at = db.session.scalar(select(ReportRefresh.refreshed_at).order_by(ReportRefresh.id.desc()).limit(1))
    if kept_at is None:
        return None
    grain = GRAINS[filters.breakdown]
    group = ReportCell.region_id if filters.breakdown is Breakdown.REGION else getattr(ReportCell, GRAIN_COLUMNS[grain])
    conditions = [ReportCell.grain == grain, ReportCell.measure_code == filters.measure.code]
    if scope.region_id is not None:
        conditions.append(ReportCell.region_id == scope.region_id)
    sums = (func.sum(getattr(ReportCell, name)) for name in CELL_SUMS)
    return kept_at, _sums_by_key(select(group, *sums).where(*conditions).group_by(group))


def _labels(scope: Scope, filters: Filters, keys: Iterable[Any]) -> list[tuple[Any, str]]:
    """Every group the breakdown can have, in display order, so empty groups show as 0."""
    if filters.breakdown is Breakdown.POPULATION:
        return [(population, label) for population, label in POPULATION_LABELS.items()]
    if filters.breakdown is Breakdown.RELATIONSHIP:
        return [(relationship, label) for relationship, label in RELATIONSHIP_LABELS.items()]
    if filters.breakdown is Breakdown.STAGE:
        return [(None if key == NOT_IN_TRAINING else int(key), label) for key, label in STAGE_LABELS.items()]
    if filters.breakdown is Breakdown.REGION:
        return [(row.id, row.name) for row in db.session.execute(select(Region.id, Region.name).order_by(Region.name))]
    # By service: the services based in the region, and any others whose staff worked there.
    seen = [key for key in keys if key is not None]
    where = or_(Service.region_id == scope.region_id, Service.id.in_(seen)) if scope.region_id else Service.id.in_(seen)
    labels = [(row.id, row.name) for row in db.session.execute(select(Service.id, Service.name).where(where))]
    labels.sort(key=lambda pair: pair[1].casefold())
    return [*labels, (None, NO_SERVICE)]


def build_report(scope: Scope, filters: Filters) -> Report:
    """The report from the kept sums where it can be, else worked out from the outcome rows now."""
    kept = kept_sums(scope, filters)
    kept_at, by_key = kept if kept is not None else (None, aggregate(scope, filters))
    groups = [Group(key, label, by_key.get(key, Sums())) for key, label in _labels(scope, filters, by_key)]
    if filters.breakdown is Breakdown.SERVICE and not by_key.get(None):
        groups = groups[:-1]  # "No service recorded" only where such cases exist
    total = sum((g.sums for g in groups), Sums())
    return Report(scope=scope, filters=filters, groups=groups, total=total, kept_at=kept_at)


# --- statistics -----------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def bias_correction(df: int) -> float:
    """Hedges' exact J for `df` degrees of freedom (df >= 2)."""
    return math.exp(math.lgamma(df / 2) - 0.5 * math.log(df / 2) - math.lgamma((df - 1) / 2))


def effect_size(sums: Sums, higher_is_better: bool, interval_n: int | None = None) -> EffectSize | None:
    """Becker's standardised mean change (SD before), positive for improvement, with its 95% CI.

    `interval_n` replaces the number of cases in the interval's variance (never in g itself): a
    disclosure-controlled report passes the fewest cases its rounded count allows.
    """
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
    m = interval_n or n
    half_width = Z_95 * math.sqrt(2 * (1 - r) / m + g**2 / (2 * m))
    return EffectSize(g, g - half_width, g + half_width)


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

Kind = Literal["count", "percent", "mean", "effect"]


@dataclass(frozen=True)
class Column:
    """One figure of a report. A percentage names its two counts: it is worked out from them as published."""

    key: str
    heading: str
    kind: Kind
    part: str | None = None  # a percentage's count, or the count a mean or effect size is over
    whole: str | None = None  # a percentage's base
    on_page: bool = True  # counts other than "Cases" are shown beside their percentage, not as columns

    @property
    def percent(self) -> bool:
        return self.kind == "percent"


# How the counts are tied together, for the disclosure table: (count, the count it is part of).
PARENTS = {
    "paired": "cases",
    "improved_count": "paired",
    "unchanged_count": "paired",
    "deteriorated_count": "paired",
    "at_caseness": "paired",
    "recovered_count": "at_caseness",
    "reliably_recovered_count": "recovered_count",
    "closed": "cases",
    "closed_paired": "closed",
}
# Reliable recovery is recovery with a reliable improvement, so it is also among the improved; closed
# cases with pre and post are among all cases with pre and post.
EXTRA_ORDERS = (("reliably_recovered_count", "improved_count"), ("closed_paired", "paired"))
PARTITIONS = (("paired", ("improved_count", "unchanged_count", "deteriorated_count")),)
SUM_FIELDS = {
    "cases": "cases",
    "paired": "paired",
    "improved_count": "improved",
    "unchanged_count": "unchanged",
    "deteriorated_count": "deteriorated",
    "at_caseness": "at_caseness",
    "recovered_count": "recovered",
    "reliably_recovered_count": "reliably_recovered",
    "closed": "closed",
    "closed_paired": "closed_paired",
}


def columns(measure: Measure) -> list[Column]:
    """The figures a report shows, in order; the same list makes the page's table and its CSV."""
    items = [
        Column("cases", "Cases", "count"),
        Column("paired", "With pre and post", "count", on_page=False),
        Column("completeness", "With pre and post", "percent", part="paired", whole="cases"),
        Column("closed", "Closed cases", "count", on_page=False),
        Column("closed_paired", "Closed with pre and post", "count", on_page=False),
        Column("closed_completeness", "Closed with pre and post", "percent", part="closed_paired", whole="closed"),
        Column("mean_pre", "Mean before", "mean", part="paired"),
        Column("mean_post", "Mean after", "mean", part="paired"),
        Column("effect", "Effect size", "effect", part="paired"),
        Column("effect_low", "95% CI from", "effect", part="paired", on_page=False),
        Column("effect_high", "95% CI to", "effect", part="paired", on_page=False),
    ]
    for key, heading in (
        ("improved", "Reliable improvement"),
        ("unchanged", "No reliable change"),
        ("deteriorated", "Reliable deterioration"),
    ):
        items += [
            Column(f"{key}_count", heading, "count", on_page=False),
            Column(key, heading, "percent", part=f"{key}_count", whole="paired"),
        ]
    if measure.caseness is not None:
        items += [
            Column("at_caseness", "Starting at caseness", "count", on_page=False),
            Column("recovered_count", "Recovery", "count", on_page=False),
            Column("recovery", "Recovery", "percent", part="recovered_count", whole="at_caseness"),
            Column("reliably_recovered_count", "Reliable recovery", "count", on_page=False),
            Column(
                "reliable_recovery",
                "Reliable recovery",
                "percent",
                part="reliably_recovered_count",
                whole="at_caseness",
            ),
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
    breakdown_hidden: bool = False  # too few cases in too many groups to show the breakdown at all

    @property
    def controlled(self) -> bool:
        return self.report.scope.controlled

    @property
    def measure(self) -> Measure:
        return self.report.measure

    @property
    def breakdown_label(self) -> str:
        return BREAKDOWN_LABELS[self.report.filters.breakdown]

    @property
    def page_columns(self) -> list[Column]:
        return [column for column in self.columns if column.on_page]


def _count_keys(cols: list[Column]) -> list[str]:
    return [column.key for column in cols if column.kind == "count"]


def _add_row(table: disclosure.Table, sums: Sums, keys: list[str]) -> dict[str, int]:
    """One row's counts in the disclosure table, with the ties between them."""
    cells = {key: table.add(getattr(sums, SUM_FIELDS[key])) for key in keys}
    for child, parent in PARENTS.items():
        if child in cells:
            table.parents[cells[child]] = cells[parent]
            table.orders.append((cells[child], cells[parent]))
    for smaller, larger in EXTRA_ORDERS:
        if smaller in cells:
            table.orders.append((cells[smaller], cells[larger]))
    for whole, parts in PARTITIONS:
        table.sums.append((cells[whole], tuple(cells[part] for part in parts)))
    # Never shown, but a reader can subtract: the cases without both scores, and the closed ones among them.
    cells["unpaired"] = table.add(sums.cases - sums.paired, published=False)
    cells["closed_unpaired"] = table.add(sums.closed - sums.closed_paired, published=False)
    table.sums.append((cells["cases"], (cells["paired"], cells["unpaired"])))
    table.sums.append((cells["closed"], (cells["closed_paired"], cells["closed_unpaired"])))
    table.orders.append((cells["closed_unpaired"], cells["unpaired"]))
    return cells


def protect_counts(report: Report, keys: list[str]) -> tuple[list[dict[str, bool]] | None, dict[str, bool]]:
    """Which counts to withhold, row by row (None: no row can be shown) and in the total row.

    The total row is the same on every page of a report (whatever the breakdown), so it is
    protected first on its own and then kept as it is while the rows are protected around it. When
    even withholding every row's counts would say more about the total than it says itself (many
    rows of one or two cases each: every * is at least 1), the breakdown is not shown at all.
    """
    alone = disclosure.Table()
    cells = _add_row(alone, report.total, keys)
    try:
        flags = disclosure.protect(alone)
    except disclosure.CannotProtect:  # a row with no anchors always can be; if not, show none of it
        flags = [True] * len(alone.values)
    total_withheld = {key: flags[cells[key]] for key in keys}
    low, high = disclosure.ranges(alone, flags)

    table = disclosure.Table()
    total = _add_row(table, report.total, keys)
    table.fixed = {index: total_withheld[key] for key, index in total.items() if key in keys}
    table.limits = {index: (low[cells[key]], high[cells[key]]) for key, index in total.items()}
    rows = [_add_row(table, group.sums, keys) for group in report.groups]
    for key in total:
        table.sums.append((total[key], tuple(row[key] for row in rows)))
    try:
        flags = disclosure.protect(table)
    except disclosure.CannotProtect:
        return None, total_withheld
    return [{key: flags[row[key]] for key in keys} for row in rows], total_withheld


def _mean_format(paired: int | None) -> Callable[[float], str]:
    """Means to one decimal place, except over a published 10 (8 to 12 cases): there, whole numbers.

    A mean of whole-number scores over n cases is a multiple of 1/n; to one place, some values are
    impossible for 8 or 9 cases, so a mean to one place could rule out 8 or 9 and narrow a rounded
    count. Over 10 or more every tenth is reachable, and to a whole number every n can reach it.
    """
    if paired is not None and paired <= 10:
        return _whole
    return _one_place


def _whole(value: float) -> str:
    return str(round(value))


def _one_place(value: float) -> str:
    return f"{value:.1f}"


def _two_places(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


def _percentage(value: float) -> str:
    return f"{round(value)}%"


def _number(value: float | None, format_: Callable[[float], str]) -> Value:
    return NOT_AVAILABLE if value is None else Value(float(value), format_(float(value)))


def _published_row(
    label: str,
    sums: Sums,
    measure: Measure,
    cols: list[Column],
    controlled: bool,
    withheld: Mapping[str, bool],
) -> Row:
    counts: dict[str, Value] = {}
    published: dict[str, int | None] = {}  # a count as a reader sees it; None when withheld
    for key in _count_keys(cols):
        true = getattr(sums, SUM_FIELDS[key])
        if controlled and withheld[key]:
            counts[key], published[key] = WITHHELD, None
        else:
            shown = disclosure.round_count(true) if controlled else true
            counts[key], published[key] = Value(float(shown), str(shown)), shown
    if controlled and withheld["cases"]:
        return Row(label, {column.key: WITHHELD for column in cols}, withheld=True)

    paired = published["paired"]
    # A controlled report works the interval out as if there were the fewest cases the rounded count
    # allows: never narrower than the true one, and saying nothing more about how many cases there are.
    interval_n = sums.paired if not controlled else disclosure.least_count(paired) if paired else None
    effect = effect_size(sums, measure.higher_is_better, interval_n) if paired else None
    values: dict[str, Value] = {}
    for column in cols:
        if column.kind == "count":
            values[column.key] = counts[column.key]
        elif column.kind == "percent":
            part, whole = published[column.part], published[column.whole]
            if part is None or whole is None:
                values[column.key] = WITHHELD
            else:
                values[column.key] = _number(_percent(part, whole), _percentage)
        elif paired is None:
            values[column.key] = WITHHELD
        elif column.kind == "mean":
            total = sums.pre if column.key == "mean_pre" else sums.post
            format_ = _mean_format(paired) if controlled else _one_place
            values[column.key] = _number(total / sums.paired if sums.paired else None, format_)
        else:
            part_of = {"effect": "value", "effect_low": "low", "effect_high": "high"}[column.key]
            values[column.key] = _number(getattr(effect, part_of) if effect else None, _two_places)
    return Row(label, values)


def publish(report: Report) -> Published:
    """Apply disclosure control (above the practitioner's own level) to every figure of a report."""
    measure, controlled = report.measure, report.scope.controlled
    cols = columns(measure)
    keys = _count_keys(cols)
    if controlled:
        row_flags, total_flags = protect_counts(report, keys)
    else:
        row_flags, total_flags = [dict.fromkeys(keys, False) for _ in report.groups], dict.fromkeys(keys, False)
    rows = [
        _published_row(group.label, group.sums, measure, cols, controlled, flags)
        for group, flags in zip(report.groups, row_flags or [], strict=False)
    ]
    total = _published_row("All cases", report.total, measure, cols, controlled, total_flags)
    return Published(report=report, columns=cols, rows=rows, total=total, breakdown_hidden=row_flags is None)
