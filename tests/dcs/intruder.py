"""An intruder who tries to undo the disclosure control of DCS reports.

It reads only what a report publishes (the text of each figure on the page or in its CSV) and what
the reports say about how figures are made, writes down every equation and inequality the figures
imply about the true counts, and asks an integer programming solver (HiGHS, through scipy) for the
smallest and largest true value of every count that is consistent with all of them. A count is
given away if its range is a single value other than 0, or if it is non-zero and its range lies
within 1 to 7.

What the intruder knows, besides the published figures:
- the ties between counts: cases with pre and post are among the cases, and so are closed cases;
  closed cases with pre and post are among both; cases with pre and post split into reliable
  improvement, no reliable change and reliable deterioration; cases at caseness are among those
  with pre and post; recovery among those at caseness; reliable recovery among the recovered and
  among the improved; every column's rows add up to "All cases", which is the same on every page;
- a rounded count r > 0 is a true count between r - 2 and r + 2, and at least 8; 0 is exact;
- ``*`` is at least 1 where the count it is part of is shown, else at least 0;
- a percentage p over counts a and b: if the page publishes both and p is what they give, it adds
  nothing; otherwise the intruder takes it as worked out from the true counts,
  p - 0.5 <= 100 a / b <= p + 0.5 (ties at .5 included, which only widens what it allows);
- a mean m to d decimal places of whole-number scores over n cases with pre and post: some whole
  number S with S / n within half a unit of the last place of m ("" means there were none).

Effect sizes and their intervals are not used: they are not linear in the counts. The reports work
the interval out from the rounded count (so it says nothing more about the count), and g itself
depends on the spread of the scores, which the intruder does not know.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import LinearConstraint, milp

from vigtrain.dcs.reports import SUM_FIELDS

COUNTS = (
    "cases",
    "paired",
    "improved_count",
    "unchanged_count",
    "deteriorated_count",
    "at_caseness",
    "recovered_count",
    "reliably_recovered_count",
    "closed",
    "closed_paired",
)
PARENT = {
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
PERCENTAGES = {
    "completeness": ("paired", "cases"),
    "closed_completeness": ("closed_paired", "closed"),
    "improved": ("improved_count", "paired"),
    "unchanged": ("unchanged_count", "paired"),
    "deteriorated": ("deteriorated_count", "paired"),
    "recovery": ("recovered_count", "at_caseness"),
    "reliable_recovery": ("reliably_recovered_count", "at_caseness"),
}
MEANS = {"mean_pre": "pre", "mean_post": "post"}
# How a report's CSV names its columns (both the current and the earlier layout).
CSV_HEADINGS = {
    "Cases": "cases",
    "With pre and post": "paired",
    "With pre and post (%)": "completeness",
    "Closed cases": "closed",
    "Closed with pre and post": "closed_paired",
    "Closed with pre and post (%)": "closed_completeness",
    "Mean before": "mean_pre",
    "Mean after": "mean_post",
    "Reliable improvement": "improved_count",
    "Reliable improvement (%)": "improved",
    "No reliable change": "unchanged_count",
    "No reliable change (%)": "unchanged",
    "Reliable deterioration": "deteriorated_count",
    "Reliable deterioration (%)": "deteriorated",
    "Starting at caseness": "at_caseness",
    "Recovery": "recovered_count",
    "Recovery (%)": "recovery",
    "Reliable recovery": "reliably_recovered_count",
    "Reliable recovery (%)": "reliable_recovery",
}
BIG = 100_000
SUPPRESSED = "*"
TOTAL = "All cases"


# A page as the intruder reads it: row label -> figure key -> the figure's text.
Page = dict[str, dict[str, str]]


def page_of(published) -> Page:
    """The figures of a published report, as text, keyed the way the page and CSV show them."""
    return {
        row.label: {key: value.text for key, value in row.values.items()} for row in [*published.rows, published.total]
    }


def page_of_csv(text: str) -> Page:
    """The figures of a report's CSV download."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader)
    keys = [CSV_HEADINGS.get(heading) for heading in header[1:]]
    page: Page = {}
    for line in reader:
        page[line[0]] = {key: cell for key, cell in zip(keys, line[1:], strict=True) if key}
    # The CSV gives percentages without the sign; the page's text has it.
    for row in page.values():
        for key in PERCENTAGES:
            if key in row and row[key] not in ("", SUPPRESSED):
                row[key] += "%"
    return page


@dataclass
class Model:
    """The intruder's integer program: variables with bounds, linear constraints lb <= A x <= ub."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[dict[int, float]] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)

    def variable(self, low: float = 0, high: float = BIG) -> int:
        self.lower.append(low)
        self.upper.append(high)
        return len(self.lower) - 1

    def bound(self, index: int, low: float, high: float) -> None:
        self.lower[index] = max(self.lower[index], low)
        self.upper[index] = min(self.upper[index], high)

    def constrain(self, terms: Mapping[int, float], low: float = -np.inf, high: float = np.inf) -> None:
        self.rows.append(dict(terms))
        self.row_lower.append(low)
        self.row_upper.append(high)

    def solver(self) -> Callable[[Mapping[int, float], int], np.ndarray]:
        """A function that returns a solution optimising a linear expression (sign 1: least, -1: most)."""
        size = len(self.lower)
        matrix = np.zeros((len(self.rows), size))
        for number, row in enumerate(self.rows):
            for index, weight in row.items():
                matrix[number, index] = weight
        constraints = [LinearConstraint(matrix, self.row_lower, self.row_upper)] if self.rows else []
        integrality, bounds = np.ones(size), (self.lower, self.upper)

        def solve(terms: Mapping[int, float], sign: int) -> np.ndarray:
            objective = np.zeros(size)
            for index, weight in terms.items():
                objective[index] = sign * weight
            result = milp(objective, integrality=integrality, bounds=bounds, constraints=constraints)
            assert result.status == 0, "the true counts must satisfy what was published"
            return np.round(result.x)

        return solve


@dataclass
class Count:
    """One true count the intruder is after: where it is, what it truly is, and how to read it off the model."""

    page: int
    row: str
    name: str
    terms: dict[int, float]
    truth: int


def _percent_value(text: str) -> float | None:
    return float(text.removesuffix("%")) if text.endswith("%") else None


def _shown(text: str | None) -> int | None:
    """A shown count's number, or None for a withheld or missing one."""
    if text is None or text in ("", SUPPRESSED):
        return None
    return int(float(text))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def attack(
    pages: Sequence[Page],
    truths: Sequence[Mapping[str, Mapping[str, int]]],
    whole_scores: bool,
    score_range: tuple[float, float],
) -> list[str]:
    """What the intruder can give away from these pages of one report (they share the "All cases" row).

    `truths[i][row][count]` are the true counts behind page i, to check the intruder's findings
    against and to report what was given away. Returns a description of each count given away.
    """
    model = Model()
    shared: dict[str, int] = {}
    counts: list[Count] = []
    for number, page in enumerate(pages):
        cells: dict[str, dict[str, int]] = {}
        for label, figures in page.items():
            if label == TOTAL and shared:
                cells[label] = shared
            else:
                cells[label] = {name: model.variable() for name in COUNTS}
                if label == TOTAL:
                    shared = cells[label]
                _ties(model, cells[label])
            _read(model, cells[label], figures, whole_scores, score_range)
        rows = [label for label in page if label != TOTAL]
        for name in COUNTS if rows else ():  # a page whose breakdown is not shown has only its total
            model.constrain({**{cells[label][name]: 1 for label in rows}, cells[TOTAL][name]: -1}, 0, 0)
        for label in page:
            if label == TOTAL and number > 0:
                continue
            truth = truths[number][label]
            for name in COUNTS:
                counts.append(Count(number, label, name, {cells[label][name]: 1}, truth[name]))
            unpaired = {cells[label]["cases"]: 1, cells[label]["paired"]: -1}
            counts.append(Count(number, label, "without a pre and post", unpaired, truth["cases"] - truth["paired"]))
            closed_unpaired = {cells[label]["closed"]: 1, cells[label]["closed_paired"]: -1}
            closed_truth = truth["closed"] - truth["closed_paired"]
            counts.append(Count(number, label, "closed without a pre and post", closed_unpaired, closed_truth))
    return _given_away(model, counts)


def _value(solution: np.ndarray, terms: Mapping[int, float]) -> int:
    return round(sum(weight * solution[index] for index, weight in terms.items()))


def _given_away(model: Model, counts: list[Count]) -> list[str]:
    """The counts the intruder pins down, or narrows to 1 to 7.

    A count is safe once some solution gives it another value than the truth (so it is not pinned)
    and, if it is 1 to 7, some solution gives it 0 or 8 or more. Every solution the solver finds is
    checked against every count, so most counts are cleared by the first few solutions; the rest
    get their own least and most values.
    """
    solve = model.solver()
    pinned = {number for number, item in enumerate(counts) if item.truth > 0}
    small = {number for number, item in enumerate(counts) if 1 <= item.truth <= 7}
    extremes: dict[int, list[int]] = {}

    def clear(solution: np.ndarray) -> None:
        for number in list(pinned | small):
            value, item = _value(solution, counts[number].terms), counts[number]
            if value != item.truth:
                pinned.discard(number)
            if value == 0 or value >= 8:
                small.discard(number)

    all_counts = {index: 1.0 for item in counts for index in item.terms}
    clear(solve(all_counts, 1))
    clear(solve(all_counts, -1))
    for number, item in enumerate(counts):
        if number not in pinned and number not in small:
            continue
        found = []
        for sign in (-1, 1):
            solution = solve(item.terms, sign)
            found.append(_value(solution, item.terms))
            clear(solution)
        extremes[number] = [min(found), max(found)]
    given_away = []
    for number in sorted(pinned | small):
        item, (low, high) = counts[number], extremes[number]
        assert low <= item.truth <= high, f"{item.row} {item.name}: the truth {item.truth} is outside {low}..{high}"
        given_away.append(f"page {item.page}, {item.row}, {item.name}: {item.truth}, known to be {low} to {high}")
    return given_away


def _ties(model: Model, cell: Mapping[str, int]) -> None:
    """The ties between one row's counts."""
    for child, parent in PARENT.items():
        model.constrain({cell[child]: 1, cell[parent]: -1}, high=0)
    model.constrain({cell["reliably_recovered_count"]: 1, cell["improved_count"]: -1}, high=0)
    model.constrain({cell["closed_paired"]: 1, cell["paired"]: -1}, high=0)
    parts = ("improved_count", "unchanged_count", "deteriorated_count")
    model.constrain({**{cell[part]: 1 for part in parts}, cell["paired"]: -1}, 0, 0)


def _read(
    model: Model,
    cell: Mapping[str, int],
    figures: Mapping[str, str],
    whole_scores: bool,
    score_range: tuple[float, float],
) -> None:
    """What one row's published figures say about its true counts."""
    for name in COUNTS:
        text = figures.get(name)
        if text is None or text == "":
            continue
        if text == SUPPRESSED:
            parent = PARENT.get(name)
            parent_shown = parent is None or _shown(figures.get(parent)) is not None
            model.bound(cell[name], 1 if parent_shown else 0, BIG)
            continue
        shown = int(float(text))
        model.bound(cell[name], *((0, 0) if shown == 0 else (max(8, shown - 2), shown + 2)))
    for key, (part, whole) in PERCENTAGES.items():
        text = figures.get(key)
        if text is None or text == SUPPRESSED:
            continue
        if text == "":
            model.bound(cell[whole], 0, 0)  # nothing to show: there were no cases to take a share of
            continue
        percent = _percent_value(text)
        shown_part, shown_whole = _shown(figures.get(part)), _shown(figures.get(whole))
        if shown_part is not None and shown_whole and round(100 * shown_part / shown_whole) == percent:
            continue  # worked out from the published counts: nothing new
        model.constrain({cell[part]: 100, cell[whole]: -(percent - 0.5)}, low=0)
        model.constrain({cell[part]: 100, cell[whole]: -(percent + 0.5)}, high=0)
    for key in MEANS:
        text = figures.get(key)
        if text is None or text == SUPPRESSED:
            continue
        if text == "":
            model.bound(cell["paired"], 0, 0)
            continue
        if not whole_scores:
            continue
        mean, half = float(text), 0.5 * 10 ** -_decimals(text)
        total = model.variable(-BIG, BIG)
        model.constrain({total: 1, cell["paired"]: -(mean - half)}, low=0)
        model.constrain({total: 1, cell["paired"]: -(mean + half)}, high=0)
        model.constrain({total: 1, cell["paired"]: -score_range[0]}, low=0)
        model.constrain({total: 1, cell["paired"]: -score_range[1]}, high=0)


def truths_of(report, names: Iterable[str] = COUNTS) -> dict[str, dict[str, int]]:
    """The true counts behind a report's rows and its total, keyed as the intruder keys them."""
    rows = [(group.label, group.sums) for group in report.groups] + [(TOTAL, report.total)]
    return {label: {name: getattr(sums, SUM_FIELDS[name]) for name in names} for label, sums in rows}
