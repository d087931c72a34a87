"""The training-flow figures for one scope, worked out from each enrolment's and stage's facts.

Pure: the facts come in (see `queries.load_facts`), plain JSON-ready figures go out, so the hourly
job can keep them and each figure can be tested on hand-built facts. Quartiles are the "inclusive"
method (linear between the ordered values, as spreadsheets compute QUARTILE.INC).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from vigtrain.flow.history import StageTimes, Step, steps_for
from vigtrain.flow.survival import kaplan_meier
from vigtrain.pathways.models import EnrolmentStatus, StageState

# Each accrediting (transition or accreditation) meeting is one hour, as the pathway describes it.
MEETING_HOURS = 1


@dataclass(frozen=True)
class EnrolmentFacts:
    id: int
    version_id: int
    service_id: int | None
    region_id: int | None
    cohort_id: int | None
    start_date: date
    status: EnrolmentStatus
    accredited_on: date | None  # the day AVIGuk ratified the final stage
    withdrawn_on: date | None
    paused_spells: tuple[tuple[date, date | None], ...] = ()
    away_spells: tuple[tuple[date, date | None], ...] = ()  # paused or withdrawn: out of every step
    supervision_minutes: int = 0  # confirmed, up to accreditation
    meetings: int = 0  # accrediting meetings held (each move out of "with the accrediting supervisor")

    def in_scope(self, scope: str) -> bool:
        if scope == "all":
            return True
        kind, _, key = scope.partition(":")
        value = {"region": self.region_id, "service": self.service_id, "cohort": self.cohort_id}.get(kind)
        return value is not None and str(value) == key

    def observation(self, today: date) -> tuple[int, bool]:
        """Days from enrolment to accreditation, or to the day they were last known not accredited."""
        if self.accredited_on is not None:
            return max((self.accredited_on - self.start_date).days, 0), True
        end = self.withdrawn_on if self.withdrawn_on is not None else today
        return max((end - self.start_date).days, 0), False


@dataclass(frozen=True)
class StageFacts:
    record_id: int
    enrolment: EnrolmentFacts
    stage_code: str
    position: int
    is_final: bool
    state: StageState
    times: StageTimes


@dataclass(frozen=True)
class VersionInfo:
    """What the figures need from a pathway version: its label and its stages in order."""

    id: int
    label: str
    stages: tuple[tuple[str, str, bool], ...]  # (code, name, has a meeting)


@dataclass
class Facts:
    today: date
    versions: dict[int, VersionInfo]
    enrolments: list[EnrolmentFacts] = field(default_factory=list)
    stages: list[StageFacts] = field(default_factory=list)


def spread(values: Sequence[float]) -> dict | None:
    """n, median and quartiles (and the 90th percentile) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        only = ordered[0]
        return {"n": 1, "median": only, "q1": only, "q3": only, "p90": only}
    quartiles = statistics.quantiles(ordered, n=4, method="inclusive")
    deciles = statistics.quantiles(ordered, n=10, method="inclusive")
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "q1": quartiles[0],
        "q3": quartiles[2],
        "p90": deciles[8],
    }


def _stage_figures(info: VersionInfo, records: Sequence[StageFacts]) -> tuple[list[dict], dict[str, float]]:
    by_code: dict[str, list[StageFacts]] = defaultdict(list)
    for record in records:
        by_code[record.stage_code].append(record)
    final_code = info.stages[-1][0]
    stages, thresholds = [], {}
    for code, name, has_meeting in info.stages:
        rows = by_code.get(code, [])
        started = [row for row in rows if row.times.started is not None]
        steps = []
        for step in steps_for(has_meeting, code == final_code):
            done = [row.times.days[step] for row in started if row.times.completed(step)]
            now = [row.times.days.get(step, 0) for row in started if row.times.current is step and _live(row)]
            figures = spread(done)
            if figures is not None:
                thresholds[f"{code}:{step.value}"] = figures["p90"]
            steps.append({"step": step.value, "done": figures, "now": len(now), "now_median": _median(now)})
        finished = [row.times for row in started if row.times.finished and row.times.recorded and not row.times.exempt]
        doing = sum(times.doing for times in finished)
        waiting = sum(times.waiting for times in finished)
        stages.append(
            {
                "code": code,
                "name": name,
                "started": len(started),
                "finished": len(finished),
                "exempt": sum(1 for row in started if row.times.exempt),
                "unrecorded": sum(1 for row in started if not row.times.recorded),
                "returned": sum(1 for row in started if row.times.returns),
                "waiting_share": waiting / (doing + waiting) if doing + waiting else None,
                "doing_days": doing,
                "waiting_days": waiting,
                "steps": steps,
            }
        )
    return stages, thresholds


def _live(row: StageFacts) -> bool:
    """In the step now, and still counting: the enrolment is active (not paused or withdrawn)."""
    return row.enrolment.status is EnrolmentStatus.ACTIVE


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _bottleneck(stages: Sequence[dict]) -> dict | None:
    """The waiting step with the longest median, over every stage: where trainees are held longest."""
    candidates = [
        {"stage": stage["name"], "step": step["step"], "median": step["done"]["median"], "n": step["done"]["n"]}
        for stage in stages
        for step in stage["steps"]
        if Step(step["step"]).waiting and step["done"] is not None
    ]
    return max(candidates, key=lambda item: item["median"]) if candidates else None


def _survival(enrolments: Sequence[EnrolmentFacts], today: date) -> dict:
    estimate = kaplan_meier([enrolment.observation(today) for enrolment in enrolments])
    return {
        "subjects": estimate.subjects,
        "events": estimate.events,
        "censored": estimate.censored,
        "median": estimate.median,
        "median_lower": estimate.median_lower,
        "median_upper": estimate.median_upper,
        "points": [
            [point.time, point.at_risk, point.events, point.censored, point.survival, point.lower, point.upper]
            for point in estimate.points
        ],
    }


def _statuses(enrolments: Sequence[EnrolmentFacts], today: date) -> dict:
    spells = [spell for enrolment in enrolments for spell in enrolment.paused_spells]
    lengths = [((end or today) - start).days for start, end in spells]
    counts = {status.value: 0 for status in EnrolmentStatus}
    for enrolment in enrolments:
        counts[enrolment.status.value] += 1
    total = len(enrolments)
    ever_paused = sum(1 for enrolment in enrolments if enrolment.paused_spells)
    return {
        "total": total,
        **counts,
        "ever_paused": ever_paused,
        "pause_rate": ever_paused / total if total else None,
        "withdrawal_rate": counts["withdrawn"] / total if total else None,
        "pause_days": spread(lengths),
    }


def _cost(enrolments: Sequence[EnrolmentFacts]) -> dict:
    """Confirmed supervision and meeting hours per accreditation; what those who withdrew had used."""
    accredited = [enrolment for enrolment in enrolments if enrolment.accredited_on is not None]
    withdrawn = [enrolment for enrolment in enrolments if enrolment.status is EnrolmentStatus.WITHDRAWN]
    return {
        "accreditations": len(accredited),
        "supervision_hours": spread([enrolment.supervision_minutes / 60 for enrolment in accredited]),
        "meetings": spread([enrolment.meetings for enrolment in accredited]),
        "chargeable_hours": spread(
            [enrolment.supervision_minutes / 60 + enrolment.meetings * MEETING_HOURS for enrolment in accredited]
        ),
        "withdrawn": len(withdrawn),
        "withdrawn_hours": sum(
            enrolment.supervision_minutes / 60 + enrolment.meetings * MEETING_HOURS for enrolment in withdrawn
        ),
    }


def scope_figures(facts: Facts, scope: str) -> dict:
    """Every figure for `scope`, pathway version by version (only versions with someone enrolled)."""
    enrolments = [enrolment for enrolment in facts.enrolments if enrolment.in_scope(scope)]
    stages = [stage for stage in facts.stages if stage.enrolment.in_scope(scope)]
    enrolments_by_version: dict[int, list[EnrolmentFacts]] = defaultdict(list)
    for enrolment in enrolments:
        enrolments_by_version[enrolment.version_id].append(enrolment)
    stages_by_version: dict[int, list[StageFacts]] = defaultdict(list)
    for stage in stages:
        stages_by_version[stage.enrolment.version_id].append(stage)
    versions = []
    for version_id, info in facts.versions.items():
        members = enrolments_by_version.get(version_id, [])
        if not members:
            continue
        stage_rows, thresholds = _stage_figures(info, stages_by_version.get(version_id, []))
        versions.append(
            {
                "id": version_id,
                "label": info.label,
                "statuses": _statuses(members, facts.today),
                "survival": _survival(members, facts.today),
                "stages": stage_rows,
                "bottleneck": _bottleneck(stage_rows),
                "cost": _cost(members),
                "thresholds": thresholds,
            }
        )
    return {"scope": scope, "as_of": facts.today.isoformat(), "versions": versions}


def _memberships(enrolment: EnrolmentFacts) -> list[str]:
    """The scopes one enrolment is in: all, and its region, service and cohort (those it has)."""
    found = ["all"]
    for kind, value in (
        ("region", enrolment.region_id),
        ("service", enrolment.service_id),
        ("cohort", enrolment.cohort_id),
    ):
        if value is not None:
            found.append(f"{kind}:{value}")
    return found


def scopes_of(enrolments: Iterable[EnrolmentFacts]) -> list[str]:
    """Every scope someone is in: all, and each region, service and cohort with an enrolment."""
    return sorted({"all"}.union(*(_memberships(enrolment) for enrolment in enrolments)))


def by_scope(facts: Facts) -> dict[str, Facts]:
    """Each scope's own facts (in `scopes_of` order), sorted out in one pass over everyone: filtering
    everyone once per scope costs scopes times people, minutes with hundreds of services at scale."""
    parts = {scope: Facts(facts.today, facts.versions) for scope in scopes_of(facts.enrolments)}
    for enrolment in facts.enrolments:
        for scope in _memberships(enrolment):
            parts[scope].enrolments.append(enrolment)
    for stage in facts.stages:
        for scope in _memberships(stage.enrolment):
            parts[scope].stages.append(stage)
    return parts


def headline(figures: dict) -> list[dict]:
    """One line per version for comparing scopes: size, median time to accreditation, waiting share."""
    lines = []
    for version in figures["versions"]:
        doing = sum(stage["doing_days"] for stage in version["stages"])
        waiting = sum(stage["waiting_days"] for stage in version["stages"])
        lines.append(
            {
                "version": version["label"],
                "enrolments": version["statuses"]["total"],
                "accredited": version["survival"]["events"],
                "median": version["survival"]["median"],
                "median_lower": version["survival"]["median_lower"],
                "median_upper": version["survival"]["median_upper"],
                "waiting_share": waiting / (doing + waiting) if doing + waiting else None,
                "withdrawal_rate": version["statuses"]["withdrawal_rate"],
            }
        )
    return lines
