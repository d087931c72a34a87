"""Turning the kept figures into what the pages and downloads show: months, tables, CSV rows.

Knows nothing of Flask: the views pass in what they loaded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from vigtrain.dcs.export import csv_cell
from vigtrain.flow.charts import DAYS_PER_MONTH
from vigtrain.flow.figures import Facts
from vigtrain.flow.history import STEP_SPANS, Step
from vigtrain.flow.models import CostRate
from vigtrain.flow.services import cost_estimate

TABLE_MONTHS = (6, 12, 18, 24, 30, 36)
NO_FIGURE = "No figure"


def months(days: float | None) -> str:
    """Days as months to one decimal place ("14.2 months"); a dash when there is no figure."""
    if days is None:
        return NO_FIGURE
    return f"{days / DAYS_PER_MONTH:.1f} months"


def percent(share: float | None) -> str:
    return NO_FIGURE if share is None else f"{share * 100:.0f}%"


def days(value: float | None) -> str:
    if value is None:
        return NO_FIGURE
    return f"{value:g} day" if value == 1 else f"{value:g} days"


@dataclass(frozen=True)
class SurvivalRow:
    month: int
    survival: float
    lower: float
    upper: float
    at_risk: int
    accredited: int  # by then, in all
    censored: int  # by then, in all


def survival_rows(points: Sequence[Sequence[float]], subjects: int) -> list[SurvivalRow]:
    """The curve read at 6, 12, 18 ... months, up to the last month anyone was followed."""
    last = max((point[0] for point in points), default=0)
    rows = []
    for month in TABLE_MONTHS:
        day = month * DAYS_PER_MONTH
        if day > last + DAYS_PER_MONTH * 6:
            break
        survival, lower, upper, events, censored = 1.0, 1.0, 1.0, 0, 0
        for time, _risk, died, lost, value, low, high in points:
            if time > day:
                break
            events, censored = events + died, censored + lost
            if died:
                survival, lower, upper = value, low, high
        rows.append(SurvivalRow(month, survival, lower, upper, subjects - events - censored, events, censored))
    return rows


@dataclass(frozen=True)
class CostFigures:
    rate: CostRate | None
    median: int | None = None  # pence
    q1: int | None = None
    q3: int | None = None
    withdrawn: int | None = None  # pence spent on supervision and meetings of those who withdrew


def cost_figures(cost: dict, rate: CostRate | None) -> CostFigures:
    hours = cost["chargeable_hours"]
    if rate is None or hours is None:
        return CostFigures(rate)
    return CostFigures(
        rate,
        median=cost_estimate(hours["median"], rate),
        q1=cost_estimate(hours["q1"], rate),
        q3=cost_estimate(hours["q3"], rate),
        withdrawn=round(cost["withdrawn_hours"] * rate.supervision_hour_pence),
    )


def pounds(pence: int | None) -> str:
    if pence is None:
        return NO_FIGURE
    return f"£{pence / 100:,.0f}" if pence % 100 == 0 else f"£{pence / 100:,.2f}"


# --- downloads ------------------------------------------------------------------------------------


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """CSV text line by line; text a spreadsheet would run as a formula is defused (a trainee's name)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if value is None else csv_cell(value) for value in row])
        yield buffer.getvalue()


STAGE_TIMES_HEADER = (
    "enrolment_id",
    "pathway",
    "version",
    "stage",
    "state",
    "started",
    "submitted",
    "signed_off",
    "accreditor_asked",
    "accredited",
    "ratified",
    "days_doing_work",
    "days_waiting",
    "days_paused",
    "returns",
    "exempt",
)


def stage_times_csv(facts: Facts, scope: str, pathways: dict[int, tuple[str, str]]) -> Iterator[str]:
    """One row per stage record in `scope` (`pathways`: version id → (pathway name, version))."""

    def rows() -> Iterator[list[object]]:
        for stage in facts.stages:
            if not stage.enrolment.in_scope(scope):
                continue
            times = stage.times
            name, version = pathways[stage.enrolment.version_id]
            started = times.started is not None and times.recorded
            yield [
                stage.enrolment.id,
                name,
                version,
                stage.stage_code,
                stage.state.value,
                times.started,
                times.submitted,
                times.signed_off,
                times.accreditor_asked,
                times.accredited,
                times.ratified,
                times.doing if started else None,
                times.waiting if started else None,
                times.paused_days if started else None,
                times.returns,
                "yes" if times.exempt else "no",
            ]

    return _csv(STAGE_TIMES_HEADER, rows())


def steps_csv(figures: dict) -> Iterator[str]:
    header = ("pathway", "stage", "step", "from_to", "finished", "median_days", "q1_days", "q3_days", "p90_days", "now")

    def rows() -> Iterator[list[object]]:
        for version in figures["versions"]:
            for stage in version["stages"]:
                for step in stage["steps"]:
                    done = step["done"] or {}
                    yield [
                        version["label"],
                        stage["name"],
                        Step(step["step"]).label,
                        STEP_SPANS[Step(step["step"])],
                        done.get("n", 0),
                        done.get("median"),
                        done.get("q1"),
                        done.get("q3"),
                        done.get("p90"),
                        step["now"],
                    ]

    return _csv(header, rows())


def survival_csv(figures: dict) -> Iterator[str]:
    header = (
        "pathway",
        "day",
        "month",
        "at_risk",
        "accredited",
        "censored",
        "still_in_training",
        "lower_95",
        "upper_95",
    )

    def rows() -> Iterator[list[object]]:
        for version in figures["versions"]:
            for time, risk, died, lost, value, low, high in version["survival"]["points"]:
                yield [
                    version["label"],
                    time,
                    round(time / DAYS_PER_MONTH, 2),
                    risk,
                    died,
                    lost,
                    round(value, 4),
                    round(low, 4),
                    round(high, 4),
                ]

    return _csv(header, rows())


def costs_csv(figures: dict, rates: dict[int, CostRate]) -> Iterator[str]:
    header = (
        "pathway",
        "accreditations",
        "supervision_hours_median",
        "supervision_hours_q1",
        "supervision_hours_q3",
        "meetings_median",
        "cost_median_gbp",
        "cost_q1_gbp",
        "cost_q3_gbp",
        "withdrawn",
        "withdrawn_hours",
    )

    def rows() -> Iterator[list[object]]:
        for version in figures["versions"]:
            cost = version["cost"]
            hours = cost["supervision_hours"] or {}
            estimate = cost_figures(cost, rates.get(version["id"]))
            yield [
                version["label"],
                cost["accreditations"],
                _round(hours.get("median")),
                _round(hours.get("q1")),
                _round(hours.get("q3")),
                (cost["meetings"] or {}).get("median"),
                _gbp(estimate.median),
                _gbp(estimate.q1),
                _gbp(estimate.q3),
                cost["withdrawn"],
                _round(cost["withdrawn_hours"]),
            ]

    return _csv(header, rows())


def stuck_csv(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    header = ("enrolment_id", "trainee", "pathway", "stage", "state", "step", "days", "reasons", "waiting_for")
    return _csv(header, rows)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _gbp(pence: int | None) -> str | None:
    return None if pence is None else f"{pence / 100:.2f}"


def as_of_words(as_of: date) -> str:
    return f"{as_of.day} {as_of:%B %Y}"
