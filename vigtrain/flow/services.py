"""Training flow: keeping the figures fresh, finding stuck trainees, and the cost rates.

The figures are worked out for every scope at once (all, each region, service and cohort) by
`refresh`, which the hourly job `refresh-training-flow` and an administrator's "Refresh now" call;
the pages read what it kept, and say when that was. Until the first refresh, a page works its
scope out as it is asked (the figures are then as of that moment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from sqlalchemy import delete, select

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.dates import utcnow
from vigtrain.errors import STALE, Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.flow import queries
from vigtrain.flow.figures import by_scope, headline, scope_figures
from vigtrain.flow.history import Step, step_of
from vigtrain.flow.models import CostRate, FlowSnapshot
from vigtrain.flow.queries import CurrentStage
from vigtrain.locks import hold
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.pathways.models import PathwayVersion, StageState
from vigtrain.security import can_set_cost_rates

CURRENT = "current"  # the snapshot that holds every active enrolment's current stage


@dataclass(frozen=True)
class Snapshot:
    figures: dict
    computed_at: datetime
    stored: bool  # False: worked out for this request (no refresh has run yet)


def refresh(today: date) -> int:
    """Work out every scope's figures as of `today` and keep them in place of the last; how many scopes."""
    facts = queries.load_facts(today)
    now = utcnow()
    db.session.execute(delete(FlowSnapshot))
    parts = by_scope(facts)
    figures = {scope: scope_figures(part, scope) for scope, part in parts.items()}
    figures["all"]["regions"] = _regions(figures)
    for scope, kept in figures.items():
        db.session.add(FlowSnapshot(scope=scope, computed_at=now, as_of=today, figures=kept))
    current = [_compact(row) for row in queries.current_stages(facts)]
    db.session.add(FlowSnapshot(scope=CURRENT, computed_at=now, as_of=today, figures={"rows": current}))
    db.session.flush()
    return len(parts)


def _regions(figures: dict[str, dict]) -> dict[str, list[dict]]:
    """Each region's headline lines, kept with everyone's figures so that page reads one row."""
    return {scope.partition(":")[2]: headline(kept) for scope, kept in figures.items() if scope.startswith("region:")}


# A current stage kept as a list (dates as day numbers): the stuck page reads thousands at once.
# `_expand` reads them back by position, in this order.
DATE_FIELDS = frozenset({"state_since", "started_on", "last_cycle", "last_supervision"})
KEPT_FIELDS = tuple(name for name in CurrentStage._fields if name != "as_of")
SCOPE_INDEX = {kind: KEPT_FIELDS.index(f"{kind}_id") for kind in ("service", "region", "cohort")}


def _compact(row: CurrentStage) -> list:
    values = []
    for name in KEPT_FIELDS:
        value = getattr(row, name)
        values.append(value.toordinal() if name in DATE_FIELDS and value is not None else value)
    return values


def _expand(values: list, as_of: date) -> CurrentStage:
    """A kept list back to a current stage (positionally: the stuck page expands thousands)."""
    day = date.fromordinal
    (enrolment, record, version, code, state, since, started, cycle, supervision, *rest) = values
    return CurrentStage(
        enrolment,
        record,
        version,
        code,
        StageState(state),
        day(since),
        started and day(started),
        cycle and day(cycle),
        supervision and day(supervision),
        *rest,
        as_of=as_of,
    )


def snapshot(scope: str, today: date) -> Snapshot:
    """The kept figures for `scope`; worked out now if none has been kept yet (an empty scope too)."""
    kept = db.session.scalar(select(FlowSnapshot).where(FlowSnapshot.scope == scope))
    if kept is not None:
        return Snapshot(kept.figures, kept.computed_at, stored=True)
    refreshed = db.session.scalar(select(FlowSnapshot.computed_at).where(FlowSnapshot.scope == CURRENT))
    if refreshed is not None:
        # A refresh has run and this scope had nobody in it then.
        return Snapshot({"scope": scope, "as_of": today.isoformat(), "versions": []}, refreshed, stored=True)
    facts = queries.load_facts(today)
    if scope != "all":
        return Snapshot(scope_figures(facts, scope), utcnow(), stored=False)
    figures = {
        key: scope_figures(part, key)
        for key, part in by_scope(facts).items()
        if key in ("all",) or key.startswith("region:")
    }
    figures["all"]["regions"] = _regions(figures)
    return Snapshot(figures["all"], utcnow(), stored=False)


def current_rows(today: date, scope: str = "all") -> tuple[list[CurrentStage], datetime]:
    """Every active enrolment's current stage in `scope`, as kept by the last refresh (or read now)."""
    kind, _, key = scope.partition(":")
    kept = db.session.scalar(select(FlowSnapshot).where(FlowSnapshot.scope == CURRENT))
    if kept is None:
        rows = list(queries.current_stages(queries.load_facts(today)))
        if kind != "all":
            rows = [row for row in rows if str(getattr(row, f"{kind}_id")) == key]
        return rows, utcnow()
    kept_rows = kept.figures["rows"]
    if kind != "all":
        index, number = SCOPE_INDEX[kind], int(key)
        kept_rows = [values for values in kept_rows if values[index] == number]
    return [_expand(values, kept.as_of) for values in kept_rows], kept.computed_at


# --- stuck trainees -------------------------------------------------------------------------------


class Stuck(NamedTuple):
    """A trainee held up, and why: each measure that holds them, and the days of the longest.

    `measures`: ("cycle", days, none in this stage), ("supervision", days), ("step", days, threshold);
    put into words only for the lines a page shows.
    """

    row: CurrentStage
    step: Step
    measures: tuple[tuple, ...]
    days: int

    @property
    def reasons(self) -> tuple[str, ...]:
        words = []
        for kind, days, *extra in self.measures:
            if kind == "cycle":
                words.append(f"No cycle for {_weeks(days)}" + (" (none in this stage)" if extra[0] else ""))
            elif kind == "supervision":
                words.append(f"No confirmed supervision for {_weeks(days)}")
            else:
                words.append(f"{self.step.label}: {days} days, longer than 90% took ({extra[0]:g} days)")
        return tuple(words)


def _since(last: date | None, started: int) -> int:
    """Counting from the last time, or the stage's start if that was later (or there was none); as
    day numbers."""
    return max(last.toordinal(), started) if last is not None else started


def _weeks(days: int) -> str:
    weeks = days // 7
    return f"{weeks} week{'s' if weeks != 1 else ''}"


# The step a current stage is in (an accredited current stage is a final one, waiting to be ratified).
_STEP_NOW = {state: step_of(state, is_final=True) for state in StageState}
CYCLE_KINDS = frozenset({RequirementKind.CYCLES, RequirementKind.NEW_CLIENTS})
SUPERVISION_KINDS = frozenset({RequirementKind.SUPERVISION_HOURS, RequirementKind.SUPERVISION_SESSIONS})


def stage_asks() -> dict[tuple[int, str], frozenset[RequirementKind]]:
    """What each stage of each pathway version asks for: (version id, stage code) → requirement kinds."""
    return {
        (version.id, stage.code): frozenset(requirement.kind for requirement in stage.active_requirements)
        for version in db.session.scalars(select(PathwayVersion))
        for stage in version.definition.stages
    }


def find_stuck(
    rows: Sequence[CurrentStage],
    thresholds: dict[int, dict[str, float]],
    weeks: int,
    today: date,
    asks: dict[tuple[int, str], frozenset[RequirementKind]] | None = None,
) -> list[Stuck]:
    """Trainees with no cycle (while doing the work) or no confirmed supervision for `weeks` weeks,
    or in their step longer than nine in ten stages took over it (`thresholds`: version id →
    "stage:step" → the 90th percentile in days), longest held first.

    `asks` (see `stage_asks`): a stage that asks for no cycles (the course, a supervisor's pathway)
    is never held up for want of one, nor one that asks for no supervision for want of that; None
    treats every stage as asking for both.
    """
    limit = weeks * 7
    found = []
    # What each (version, stage, step) asks and its threshold, looked up once for the many rows.
    asked: dict[tuple[int, str], tuple[bool, bool]] = {}
    limits: dict[tuple[int, str, Step], float | None] = {}
    day = today.toordinal()
    for row in rows:
        step = _STEP_NOW.get(row.state)
        if step is None or row.started_on is None:
            continue
        stage = (row.version_id, row.stage_code)
        if stage not in asked:
            kinds = asks.get(stage, frozenset()) if asks is not None else None
            asked[stage] = (
                kinds is None or bool(kinds & CYCLE_KINDS),
                kinds is None or bool(kinds & SUPERVISION_KINDS),
            )
        wants_cycles, wants_supervision = asked[stage]
        measures, longest = [], 0
        started = row.started_on.toordinal()
        if step is Step.WORK and wants_cycles:
            days = day - _since(row.last_cycle, started)
            if days >= limit:
                measures.append(("cycle", days, row.last_cycle is None or row.last_cycle.toordinal() < started))
                longest = days
        if wants_supervision:
            days = day - _since(row.last_supervision, started)
            if days >= limit:
                measures.append(("supervision", days))
                longest = max(longest, days)
        if row.step_days is not None and row.as_of is not None:
            in_step = row.step_days + max(day - row.as_of.toordinal(), 0)
        else:
            in_step = day - (started if step is Step.WORK else row.state_since.toordinal())
        key = (row.version_id, row.stage_code, step)
        if key not in limits:
            limits[key] = thresholds.get(row.version_id, {}).get(f"{row.stage_code}:{step.value}")
        threshold = limits[key]
        if threshold is not None and in_step > threshold:
            measures.append(("step", in_step, threshold))
            longest = max(longest, in_step)
        if measures:
            found.append(Stuck(row, step, tuple(measures), longest))
    found.sort(key=lambda stuck: (-stuck.days, stuck.row.enrolment_id))
    return found


# --- cost rates -----------------------------------------------------------------------------------

MAX_PENCE = 100_000_000  # £1,000,000: beyond any real fee; a typo, not a price


def parse_pounds(text: str | None, field: str) -> int:
    """Pounds as typed ("£1,250", "85.50") to pence; a clear refusal for anything else."""
    cleaned = (text or "").strip().replace(",", "").removeprefix("£").strip()
    if not cleaned:
        raise DomainError("Enter an amount in pounds, for example 85 or 85.50", field=field)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise DomainError("Enter an amount in pounds, for example 85 or 85.50", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise DomainError("Enter an amount of £0 or more", field=field)
    # Before rounding: an amount with more digits than Decimal's precision cannot be quantized at all.
    # Compared, not multiplied: 1e999999 * 100 overflows Decimal's exponent.
    if amount > Decimal(MAX_PENCE) / 100:
        raise DomainError("Enter an amount of £1,000,000 or less", field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError("Enter pounds and pence, with no more than two decimal places", field=field)
    return int(amount * 100)


def rates() -> dict[int, CostRate]:
    return {rate.pathway_version_id: rate for rate in db.session.scalars(select(CostRate))}


RATE_FIELDS = ("supervision_hour_pence", "course_fee_pence", "accreditation_fee_pence")


def set_rates(
    actor: User,
    version: PathwayVersion,
    supervision_hour: str | None,
    course_fee: str | None,
    accreditation_fee: str | None,
    seen_version: int | None,
) -> CostRate:
    """Set what one pathway version's training costs; every figure is checked before anything is saved.

    `seen_version`: the rate's version the page showed, None if it showed none. Two administrators
    setting the first rates at once: the second waits for the first (the version row is held), then
    finds rates it did not see and is refused, as when changing rates someone else changed.
    """
    if not can_set_cost_rates(actor):
        raise PermissionDenied("Only administrators set cost rates")
    values = {
        "supervision_hour_pence": parse_pounds(supervision_hour, "supervision_hour"),
        "course_fee_pence": parse_pounds(course_fee, "course_fee"),
        "accreditation_fee_pence": parse_pounds(accreditation_fee, "accreditation_fee"),
    }
    hold(version)
    rate = db.session.scalar(
        select(CostRate).where(CostRate.pathway_version_id == version.id).execution_options(populate_existing=True)
    )
    if rate is not None and rate.version != seen_version:
        raise Conflict(STALE)
    before = audit.snapshot(rate, *RATE_FIELDS) if rate is not None else None
    if rate is None:
        rate = CostRate(pathway_version=version, **values, updated_by_id=actor.id, updated_at=utcnow())
        db.session.add(rate)
    else:
        for name, value in values.items():
            setattr(rate, name, value)
        rate.updated_by_id, rate.updated_at = actor.id, utcnow()
    db.session.flush()
    audit.record(actor, "cost_rate.set", rate, before=before, after=audit.snapshot(rate, *RATE_FIELDS))
    return rate


def cost_estimate(chargeable_hours: float, rate: CostRate) -> int:
    """Pence: the hours at the supervision rate, plus the course and accreditation fees."""
    return round(chargeable_hours * rate.supervision_hour_pence) + rate.course_fee_pence + rate.accreditation_fee_pence


STALE_AFTER = timedelta(hours=2)  # the page warns when the hourly refresh seems not to be running
