"""When a trainee would finish the work of their current stage at their own pace so far.

Only cycles and confirmed supervision hours drive the estimate: they are the work that takes months.
Each one's pace is what was done in the stage so far over the days of work in it (days the
enrolment was paused left out); the days it needs are what is left over that pace, and the later
requirement sets the date. The range treats each count as Poisson and takes an 80% interval for its
rate, ((sqrt(k) -/+ z/2)^2)/t with z = 1.2816, the lower count floored at 0.1: the range is the date
every requirement would be finished by at the high rates and at the low rates. (Taking the later
requirement at each end, rather than only the binding one's rates, keeps the early end from falling
before the other requirement's own date.)

Too early to estimate before four weeks of work in the stage, or while a requirement with work
left has none done in the stage yet: the forecast then says what it is waiting for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from vigtrain.dates import format_date, uk_date
from vigtrain.extensions import db
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.pathways.models import OPEN_FOR_WORK, Enrolment, EnrolmentStatus
from vigtrain.pathways.spells import StatusChange, overlap, paused_spells
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training.progress import StageProgress

DRIVERS = (RequirementKind.CYCLES, RequirementKind.SUPERVISION_HOURS)
DAYS_PER_MONTH = 30.4375
MIN_DAYS = 28
HALF_Z = 0.6408  # half of 1.2816, the z of an 80% two-sided interval
LOWEST_COUNT = 0.1
# Beyond ten years a month means nothing (and a tiny pace would overflow a date).
HORIZON_DAYS = 3653

_NOUNS = {
    RequirementKind.CYCLES: ("cycle", "cycles"),
    RequirementKind.SUPERVISION_HOURS: ("confirmed hour of supervision", "confirmed hours of supervision"),
}
_MEETINGS = {"transition": "the transition meeting", "accreditation": "the accreditation meeting"}


def _number(value: float) -> str:
    """One decimal place, dropping a trailing '.0'."""
    if 0 < value < 0.05:
        return "less than 0.1"
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _amount(kind: RequirementKind, value: float) -> str:
    singular, plural = _NOUNS[kind]
    text = _number(value)
    return f"{text} {singular if text == '1' else plural}"


def _month(day: date) -> str:
    return f"{day:%B %Y}"


def paused_days(changes: Sequence[StatusChange], start: date, end: date) -> int:
    """Days in [start, end) the enrolment was paused (`vigtrain.pathways.spells` holds the rule)."""
    return overlap(start, end, paused_spells(changes))


@dataclass(frozen=True)
class Work:
    """One requirement that drives the estimate: what is done in the stage, and its target."""

    kind: RequirementKind
    done: float
    target: float

    @property
    def left(self) -> float:
        return max(self.target - self.done, 0.0)

    def rate(self, days: int, bound: float = 0.0) -> float:
        """Per day: the pace so far (bound 0), or the interval's high (+1) or low (-1) end."""
        if not bound:
            return self.done / days
        count = max(math.sqrt(self.done) + bound * HALF_Z, 0.0) ** 2
        return max(count, LOWEST_COUNT) / days

    def days_to_finish(self, days: int, bound: float = 0.0, one_more: bool = False) -> float:
        """Days until it is done at that rate, with one more a month on top if asked."""
        return self.left / (self.rate(days, bound) + (1 / DAYS_PER_MONTH if one_more else 0.0))


@dataclass(frozen=True)
class Voice:
    """Who the forecast speaks of: the trainee reading it ('you'), or the supervisor reading of them."""

    name: str | None = None

    @property
    def subject(self) -> str:
        return self.name or "you"

    @property
    def has(self) -> str:
        return f"{self.name} has" if self.name else "you have"

    @property
    def possessive(self) -> str:
        return "their" if self.name else "your"


@dataclass(frozen=True)
class Wording:
    summary: list[str]
    forward: list[str] = field(default_factory=list)
    still_to_do: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class Forecast:
    stage_name: str
    on: date
    works: tuple[Work, ...]
    # Days of work in the stage so far: from its start to `on`, paused days left out.
    days: int
    # Supervision sessions in the stage logged by the trainee and not yet confirmed.
    waiting: int = 0
    # The stage's other unmet requirements, in plain words.
    other_left: tuple[str, ...] = ()
    ends_with: str = "none"

    @property
    def unmet(self) -> tuple[Work, ...]:
        return tuple(work for work in self.works if work.left)

    @property
    def not_begun(self) -> tuple[Work, ...]:
        """Requirements with work left and nothing done in the stage: no pace to go on."""
        return tuple(work for work in self.unmet if not work.done)

    @property
    def too_early(self) -> bool:
        return self.days < MIN_DAYS or bool(self.not_begun)

    @property
    def done(self) -> bool:
        return not self.unmet

    def days_needed(self, bound: float = 0.0, extra: Sequence[RequirementKind] = ()) -> float:
        """Days from `on` until every requirement is done, at the pace so far (or an interval end),
        with one more a month of each kind in `extra`."""
        return max(work.days_to_finish(self.days, bound, work.kind in extra) for work in self.unmet)

    def finish(self, bound: float = 0.0, extra: Sequence[RequirementKind] = ()) -> date | None:
        """The day it would be done, or None if that is more than ten years away."""
        days = self.days_needed(bound, extra)
        return None if days > HORIZON_DAYS else self.on + timedelta(days=round(days))

    @property
    def binding(self) -> Work:
        """The requirement that sets the date: the one that would take longest at the pace so far."""
        return max(self.unmet, key=lambda work: work.days_to_finish(self.days))

    def per_month(self, work: Work) -> float:
        return work.rate(self.days) * DAYS_PER_MONTH

    def wording(self, voice: Voice) -> Wording:
        if self.done:
            return self._done_wording()
        if self.too_early:
            return Wording(summary=self._early_wording(voice), forward=self._waiting_wording())
        return Wording(summary=[self._estimate_wording(voice)], forward=self._forward_wording(), note=self._note())

    def _done_wording(self) -> Wording:
        counted = " and ".join(_NOUNS[work.kind][1] for work in self.works)
        summary = f"The {counted} that {self.stage_name} asks for are done, so there is no date to estimate."
        if self.other_left:
            return Wording(summary=[summary, "Still to do:"], still_to_do=list(self.other_left))
        return Wording(summary=[summary, "Every other requirement is met too, so the stage can be submitted."])

    def _early_wording(self, voice: Voice) -> list[str]:
        opening = f"It is too early to estimate when {voice.subject} will finish the work of {self.stage_name}."
        needs = " and ".join(
            "logged a cycle" if work.kind is RequirementKind.CYCLES else "had a supervision session confirmed"
            for work in self.not_begun
        )
        once = f"once {voice.has} {needs} in this stage"
        if self.days >= MIN_DAYS:
            return [opening, f"We can estimate {once}."]
        from_day = format_date(self.on + timedelta(days=MIN_DAYS - self.days))
        if needs:
            return [opening, f"We can estimate from {from_day} at the earliest, {once}."]
        return [opening, f"We can estimate from {from_day}, after four weeks of work in this stage."]

    def _estimate_wording(self, voice: Voice) -> str:
        pace = " and ".join(_amount(work.kind, self.per_month(work)) for work in self.works)
        opening = f"At {voice.possessive} pace so far in {self.stage_name} ({pace} a month), "
        estimate = self.finish()
        if estimate is None:
            return opening + "its work would take more than ten years to finish."
        early, late = self.finish(bound=1), self.finish(bound=-1)
        return (
            opening
            + f"{voice.subject} would finish its work around {_month(estimate)}, most likely {_range(early, late)}."
        )

    def _forward_wording(self) -> list[str]:
        binding = self.binding
        left, pace = _number(binding.left), _number(self.per_month(binding))
        at = pace if pace.startswith("less") else f"about {pace}"
        if binding.kind is RequirementKind.CYCLES:
            sets = f"Cycles set the date: {left} more {'is' if left == '1' else 'are'} needed, at {at} a month."
        else:
            needed = "hour is" if left == "1" else "hours are"
            sets = (
                f"Confirmed supervision sets the date: {left} more {needed} needed, "
                f"at {at} {'hour' if pace == '1' else 'hours'} a month."
            )
        return [sets, self._one_more(binding), *self._waiting_wording()]

    def _one_more(self, binding: Work) -> str:
        """What one more of the binding requirement a month would do, and of both where the other
        requirement would then set the date."""
        now = self.finish()
        sentence = (
            f"One more {_NOUNS[binding.kind][0]} a month would {_brought(now, self.finish(extra=(binding.kind,)))}"
        )
        other = next((work for work in self.unmet if work is not binding), None)
        if other is None or other.days_to_finish(self.days) < binding.days_to_finish(self.days, one_more=True):
            return sentence + "."
        both = self.finish(extra=(binding.kind, other.kind))
        return (
            f"{sentence}; {_NOUNS[other.kind][1]} would then set the date, and one more "
            f"{_NOUNS[other.kind][0]} a month as well would {_brought(now, both)}."
        )

    def _waiting_wording(self) -> list[str]:
        hours = next((work for work in self.works if work.kind is RequirementKind.SUPERVISION_HOURS), None)
        if not self.waiting or hours is None or not hours.left:
            return []
        if self.waiting == 1:
            return ["1 supervision session is logged and waiting for confirmation: once confirmed it counts."]
        return [
            f"{self.waiting} supervision sessions are logged and waiting for confirmation: once confirmed they count."
        ]

    def _note(self) -> str:
        meeting = _MEETINGS.get(self.ends_with)
        after = f"submitting the stage, sign-off and {meeting}" if meeting else "submitting the stage and sign-off"
        return f"The date is for the work; {after} follow it."


def _range(early: date | None, late: date | None) -> str:
    """'between February and May 2027', in whole months."""
    if early is None:
        return "more than ten years away"
    if late is None:
        return f"not before {_month(early)}, and possibly more than ten years away"
    if (early.year, early.month) == (late.year, late.month):
        return f"in {_month(early)}"
    if early.year == late.year:
        return f"between {early:%B} and {_month(late)}"
    return f"between {_month(early)} and {_month(late)}"


def _brought(now: date | None, then: date | None) -> str:
    if then is None:
        return "still leave it more than ten years away"
    if now is not None and (then.year, then.month) == (now.year, now.month):
        return f"bring it forward a little, still within {_month(then)}"
    return f"bring it to {_month(then)}"


def stage_forecast(progress: StageProgress, on: date, paused: int = 0, waiting: int = 0) -> Forecast | None:
    """The forecast for one stage's progress on `on`; None if the stage counts neither cycles nor hours."""
    works = tuple(
        Work(status.kind, status.value, status.requirement.target)
        for status in progress.requirements
        if status.kind in DRIVERS and not status.exempt
    )
    if not works or progress.record.started_on is None:
        return None
    return Forecast(
        stage_name=progress.stage.name,
        on=on,
        works=works,
        days=(on - progress.record.started_on).days - paused,
        waiting=waiting,
        other_left=tuple(status.left for status in progress.unmet if status.kind not in DRIVERS and status.left),
        ends_with=progress.stage.ends_with,
    )


def forecast_for(enrolment: Enrolment, progress: StageProgress | None, on: date) -> Forecast | None:
    """The forecast for an active enrolment's current stage while its work is open, from the progress
    the page already has, plus two queries: its status history and its unconfirmed sessions."""
    if progress is None or enrolment.status is not EnrolmentStatus.ACTIVE:
        return None
    record = progress.record
    if record.state not in OPEN_FOR_WORK or record.started_on is None:
        return None
    if not any(status.kind in DRIVERS for status in progress.requirements):
        return None
    in_stage = [SupervisionSession.session_date >= record.started_on]
    if record.ended_on is not None:
        in_stage.append(SupervisionSession.session_date < record.ended_on)
    waiting = db.session.scalar(
        select(func.count())
        .select_from(SupervisionSession)
        .where(SupervisionSession.enrolment_id == enrolment.id, SupervisionSession.status == SessionStatus.LOGGED)
        .where(*in_stage)
    )
    changes = [StatusChange(uk_date(change.occurred_at), change.status) for change in enrolment.status_changes]
    return stage_forecast(progress, on, paused_days(changes, record.started_on, on), waiting or 0)
