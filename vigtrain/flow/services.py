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

from sqlalchemy import delete, func, insert, select

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.dates import utcnow
from vigtrain.errors import STALE, Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.flow import queries
from vigtrain.flow.figures import by_scope, headline, scope_figures
from vigtrain.flow.history import Step, step_of
from vigtrain.flow.models import CostRate, FlowCurrentStage, FlowSnapshot
from vigtrain.flow.queries import CurrentStage
from vigtrain.locks import hold
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.pathways.models import PathwayVersion, StageState
from vigtrain.security import can_set_cost_rates

# The snapshot that marks a refresh as having kept every active enrolment's current stage (in
# `FlowCurrentStage`); its figures hold nothing.
CURRENT = "current"


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
    current = Columns.of(list(queries.current_stages(facts)))
    db.session.add(FlowSnapshot(scope=CURRENT, computed_at=now, as_of=today, figures={}))
    db.session.execute(delete(FlowCurrentStage))
    rows = kept_rows(current, _thresholds(figures["all"]), stage_asks())
    if rows:
        db.session.execute(insert(FlowCurrentStage), rows)
    db.session.flush()
    return len(parts)


def _thresholds(figures: dict) -> dict[int, dict[str, float]]:
    """Each version's 90th percentiles, by "stage:step", from everyone's figures."""
    return {version["id"]: version["thresholds"] for version in figures.get("versions", [])}


def kept_rows(
    current: Columns, thresholds: dict[int, dict[str, float]], asks: dict[tuple[int, str], frozenset[RequirementKind]]
) -> list[dict]:
    """The current stages as `FlowCurrentStage` rows, each with what the held-up test asks of its
    pathway and its figures (see `_Rule`), so the stuck list is found in SQL."""
    rule = _Rule(0, 0, thresholds, asks)
    columns, rows = current.columns, []
    for index in current.indices:
        row = {name: columns[name][index] for name in KEPT_FIELDS}
        step = _STEP_OF_VALUE.get(row["state"])
        wants_cycles, wants_supervision = rule.wants(row["version_id"], row["stage_code"])
        rows.append(
            row
            | {
                "step": step.value if step is not None else None,
                "wants_cycles": wants_cycles,
                "wants_supervision": wants_supervision,
                "threshold": rule.threshold(row["version_id"], row["stage_code"], step) if step else None,
            }
        )
    return rows


def _regions(figures: dict[str, dict]) -> dict[str, list[dict]]:
    """Each region's headline lines, kept with everyone's figures so that page reads one row."""
    return {scope.partition(":")[2]: headline(kept) for scope, kept in figures.items() if scope.startswith("region:")}


DATE_FIELDS = frozenset({"state_since", "started_on", "last_cycle", "last_supervision", "as_of"})
KEPT_FIELDS = CurrentStage._fields  # FlowCurrentStage has a column of each name


@dataclass(frozen=True)
class Columns:
    """Current stages kept as one list per field (dates as day numbers), not one object per stage.

    The stuck page reads every active trainee's current stage at once (ten thousand at 10x): as
    columns that is a dozen lists, where one object each made the garbage collector's full passes
    the slowest part of the page.
    """

    columns: dict[str, list]
    indices: list[int]  # the stages in the scope asked for

    @classmethod
    def of(cls, rows: Sequence[CurrentStage]) -> Columns:
        columns: dict[str, list] = {name: [] for name in CurrentStage._fields}
        for row in rows:
            for name, value in zip(CurrentStage._fields, row, strict=True):
                columns[name].append(value.toordinal() if name in DATE_FIELDS and value is not None else value)
        return cls(columns, list(range(len(rows))))

    def within(self, scope: str) -> Columns:
        kind, _, key = scope.partition(":")
        if kind == "all":
            return self
        values, number = self.columns[f"{kind}_id"], int(key)
        return Columns(self.columns, [index for index in self.indices if values[index] == number])

    def row(self, index: int) -> CurrentStage:
        values = []
        for name in CurrentStage._fields:
            value = self.columns[name][index]
            if name in DATE_FIELDS and value is not None:
                value = date.fromordinal(value)
            elif name == "state":
                value = StageState(value)
            values.append(value)
        return CurrentStage(*values)

    def __len__(self) -> int:
        return len(self.indices)


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


def current_rows(today: date, scope: str = "all") -> tuple[Columns, datetime]:
    """Every active enrolment's current stage in `scope`, worked out now: what the stuck list reads
    before the first refresh (afterwards it reads the rows the refresh kept, `KeptHeldUp`)."""
    rows = Columns.of(list(queries.current_stages(queries.load_facts(today))))
    return rows.within(scope), utcnow()


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


def _weeks(days: int) -> str:
    weeks = days // 7
    return f"{weeks} week{'s' if weeks != 1 else ''}"


CYCLE_KINDS = frozenset({RequirementKind.CYCLES, RequirementKind.NEW_CLIENTS})
SUPERVISION_KINDS = frozenset({RequirementKind.SUPERVISION_HOURS, RequirementKind.SUPERVISION_SESSIONS})


def stage_asks() -> dict[tuple[int, str], frozenset[RequirementKind]]:
    """What each stage of each pathway version asks for: (version id, stage code) → requirement kinds."""
    return {
        (version.id, stage.code): frozenset(requirement.kind for requirement in stage.active_requirements)
        for version in db.session.scalars(select(PathwayVersion))
        for stage in version.definition.stages
    }


@dataclass(frozen=True)
class _Rule:
    """What the held-up test needs, fixed for one request."""

    today: int  # day number
    limit: int  # days
    thresholds: dict[int, dict[str, float]]
    asks: dict[tuple[int, str], frozenset[RequirementKind]] | None

    def wants(self, version_id: int, stage_code: str) -> tuple[bool, bool]:
        if self.asks is None:
            return True, True
        kinds = self.asks.get((version_id, stage_code), frozenset())
        return bool(kinds & CYCLE_KINDS), bool(kinds & SUPERVISION_KINDS)

    def threshold(self, version_id: int, stage_code: str, step: Step) -> float | None:
        return self.thresholds.get(version_id, {}).get(f"{stage_code}:{step.value}")


# The step a current stage is in, by its state's stored value (an accredited current stage is a
# final one, waiting to be ratified).
_STEP_OF_VALUE = {state.value: step_of(state, is_final=True) for state in StageState}


def _measures(rule: _Rule, columns: dict[str, list], index: int, memo: dict) -> tuple[Step | None, list[tuple]]:
    """Why the stage at `index` is held (an empty list if it is not); numbers only, no words."""
    step = _STEP_OF_VALUE.get(columns["state"][index])
    started = columns["started_on"][index]
    if step is None or started is None:
        return None, []
    version, code = columns["version_id"][index], columns["stage_code"][index]
    key = (version, code, step)
    if key not in memo:
        memo[key] = (*rule.wants(version, code), rule.threshold(version, code, step))
    wants_cycles, wants_supervision, threshold = memo[key]
    measures = []
    if step is Step.WORK and wants_cycles:
        last = columns["last_cycle"][index]
        days = rule.today - (max(last, started) if last is not None else started)
        if days >= rule.limit:
            measures.append(("cycle", days, last is None or last < started))
    if wants_supervision:
        last = columns["last_supervision"][index]
        days = rule.today - (max(last, started) if last is not None else started)
        if days >= rule.limit:
            measures.append(("supervision", days))
    step_days, as_of = columns["step_days"][index], columns["as_of"][index]
    if step_days is not None and as_of is not None:
        in_step = step_days + max(rule.today - as_of, 0)
    else:
        in_step = rule.today - (started if step is Step.WORK else columns["state_since"][index])
    if threshold is not None and in_step > threshold:
        measures.append(("step", in_step, threshold))
    return step, measures


class HeldUp(Sequence):
    """The held-up trainees in a scope, longest held first; each line put together when read."""

    def __init__(self, kept: Columns, rule: _Rule) -> None:
        self.kept, self.rule, self.memo = kept, rule, {}
        columns, keys = kept.columns, []
        enrolments = columns["enrolment_id"]
        for index in kept.indices:
            _step, measures = _measures(rule, columns, index, self.memo)
            if measures:
                # One integer per line, to sort by with nothing else made: longest held first, then
                # by enrolment, and the line's place in the columns in the low bits.
                days = max(measure[1] for measure in measures)
                keys.append((-days << 64) + (enrolments[index] << 32) + index)
        self.order = [key & 0xFFFFFFFF for key in sorted(keys)]

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._line(index) for index in self.order[item]]
        return self._line(self.order[item])

    def _line(self, index: int) -> Stuck:
        step, measures = _measures(self.rule, self.kept.columns, index, self.memo)
        return Stuck(self.kept.row(index), step, tuple(measures), max(measure[1] for measure in measures))


def held_up(
    kept: Columns,
    thresholds: dict[int, dict[str, float]],
    weeks: int,
    today: date,
    asks: dict[tuple[int, str], frozenset[RequirementKind]] | None = None,
) -> HeldUp:
    """Trainees with no cycle (while doing the work) or no confirmed supervision for `weeks` weeks,
    or in their step longer than nine in ten stages took over it (`thresholds`: version id →
    "stage:step" → the 90th percentile in days), longest held first.

    `asks` (see `stage_asks`): a stage that asks for no cycles (the course, a supervisor's pathway)
    is never held up for want of one, nor one that asks for no supervision for want of that; None
    treats every stage as asking for both.
    """
    return HeldUp(kept, _Rule(today.toordinal(), weeks * 7, thresholds, asks))


class KeptHeldUp(Sequence):
    """The held-up trainees in a scope, found, counted and paged in SQL over the kept current stages
    (`FlowCurrentStage`); each line read is put together by the same `_measures` as `HeldUp`'s."""

    def __init__(self, scope: str, weeks: int, today: date) -> None:
        self.query = queries.held_up_in_scope(scope, today, weeks * 7)
        self.today, self.limit = today.toordinal(), weeks * 7
        self._length: int | None = None

    def __len__(self) -> int:
        if self._length is None:
            self._length = db.session.scalar(select(func.count()).select_from(self.query.order_by(None).subquery()))
        return self._length

    def __getitem__(self, item):
        if not isinstance(item, slice):
            found = self[item : item + 1]
            if not found:
                raise IndexError(item)
            return found[0]
        start, stop, _step = item.indices(len(self))
        if stop <= start:
            return []
        kept = db.session.execute(self.query.offset(start).limit(stop - start)).all()
        return [self._line(row) for row, _days in kept]

    def __iter__(self):
        return iter(self[0 : len(self)])

    def _line(self, kept: FlowCurrentStage) -> Stuck:
        columns = {name: [getattr(kept, name)] for name in KEPT_FIELDS}
        step = Step(kept.step)
        thresholds = (
            {} if kept.threshold is None else {kept.version_id: {f"{kept.stage_code}:{step.value}": kept.threshold}}
        )
        asks = {(kept.version_id, kept.stage_code): _kinds(kept.wants_cycles, kept.wants_supervision)}
        rule = _Rule(self.today, self.limit, thresholds, asks)
        step, measures = _measures(rule, columns, 0, {})
        row = Columns(columns, [0]).row(0)
        return Stuck(row, step, tuple(measures), max(measure[1] for measure in measures))


def _kinds(wants_cycles: bool, wants_supervision: bool) -> frozenset[RequirementKind]:
    """Requirement kinds that say the same to `_Rule.wants` as the kept flags."""
    return frozenset(
        ([RequirementKind.CYCLES] if wants_cycles else [])
        + ([RequirementKind.SUPERVISION_HOURS] if wants_supervision else [])
    )


def stuck_list(scope: str, weeks: int, today: date) -> Sequence[Stuck]:
    """The stuck-trainee list for a page: from the kept current stages once a refresh has run,
    otherwise worked out now (in Python, over every active enrolment's current stage)."""
    refreshed = db.session.scalar(select(FlowSnapshot.id).where(FlowSnapshot.scope == CURRENT))
    if refreshed is not None:
        return KeptHeldUp(scope, weeks, today)
    rows, _ = current_rows(today, scope)
    return held_up(rows, _thresholds(snapshot("all", today).figures), weeks, today, stage_asks())


def find_stuck(
    rows: Sequence[CurrentStage],
    thresholds: dict[int, dict[str, float]],
    weeks: int,
    today: date,
    asks: dict[tuple[int, str], frozenset[RequirementKind]] | None = None,
) -> list[Stuck]:
    """`held_up` for current stages in hand, every line put together."""
    return list(held_up(Columns.of(rows), thresholds, weeks, today, asks))


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
