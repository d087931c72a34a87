"""Where one stage's time went, read from its dated history: doing the work, or waiting for someone.

A stage's history is the day it started and each move of the sign-off chain after it. Every day from
the start belongs to the step the stage was in that day: in progress or returned with comments is the
trainee doing the work (so a return adds to it); submitted is waiting for sign-off; signed off is
waiting for an accrediting supervisor to be asked; with the accrediting supervisor is waiting for
the meeting; an accredited final stage is waiting for AVIGuk to ratify. Days while the enrolment
was paused (or withdrawn, before being reopened) count to none of these, only as paused. A
finished step's days come from its dates alone; only the step a stage is in now counts on to
today (or to the day the enrolment was withdrawn). Days are whole UK calendar days, each in its
half-open window [from, to).

Pure functions on plain values, so each rule can be tested on a hand-built history.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from vigtrain.pathways.models import StageState
from vigtrain.pathways.spells import overlap


class Step(enum.StrEnum):
    WORK = "work"
    SIGN_OFF = "sign_off"
    ACCREDITOR = "accreditor"
    MEETING = "meeting"
    RATIFICATION = "ratification"

    @property
    def label(self) -> str:
        return STEP_LABELS[self]

    @property
    def waiting(self) -> bool:
        return self is not Step.WORK


STEP_LABELS = {
    Step.WORK: "Doing the work",
    Step.SIGN_OFF: "Waiting for sign-off",
    Step.ACCREDITOR: "Waiting for an accrediting supervisor to be asked",
    Step.MEETING: "Waiting for the accrediting meeting",
    Step.RATIFICATION: "Waiting for ratification",
}
# From which step to which, in words, as the issue and the CSV describe each one.
STEP_SPANS = {
    Step.WORK: "start to submission",
    Step.SIGN_OFF: "submission to sign-off",
    Step.ACCREDITOR: "sign-off to accrediting supervisor asked",
    Step.MEETING: "asked to accredited",
    Step.RATIFICATION: "accredited to ratified",
}
STEPS = tuple(Step)

_STEP_OF_STATE = {
    StageState.IN_PROGRESS: Step.WORK,
    StageState.RETURNED: Step.WORK,
    StageState.SUBMITTED: Step.SIGN_OFF,
    StageState.SIGNED_OFF: Step.ACCREDITOR,
    StageState.WITH_ACCREDITOR: Step.MEETING,
}


def step_of(state: StageState, is_final: bool) -> Step | None:
    """The step a stage in `state` is in (None: not started, or finished)."""
    if state is StageState.ACCREDITED:
        return Step.RATIFICATION if is_final else None
    return _STEP_OF_STATE.get(state)


def steps_for(has_meeting: bool, is_final: bool) -> tuple[Step, ...]:
    """The steps a stage passes through: a stage with no meeting is finished once signed off."""
    steps = [Step.WORK, Step.SIGN_OFF]
    if has_meeting:
        steps += [Step.ACCREDITOR, Step.MEETING]
        if is_final:
            steps.append(Step.RATIFICATION)
    return tuple(steps)


@dataclass(frozen=True)
class Move:
    """One move of the sign-off chain, on the UK day it was made."""

    on: date
    from_state: StageState
    to_state: StageState


@dataclass(frozen=True)
class StageTimes:
    """The dates a stage reached each step and the days it spent in each (paused days apart)."""

    started: date | None
    submitted: date | None = None  # the last submission, when a stage was returned
    signed_off: date | None = None
    accreditor_asked: date | None = None
    accredited: date | None = None
    ratified: date | None = None
    days: dict[Step, int] = field(default_factory=dict)
    paused_days: int = 0
    current: Step | None = None  # the step it is in now; None once finished (or never started)
    finished: bool = False
    exempt: bool = False
    returns: int = 0
    # False for a finished stage with no move into its final state: its history was entered from
    # before vigtrain (or imported), so when it started is known but not where its days went.
    recorded: bool = True

    @property
    def doing(self) -> int:
        return self.days.get(Step.WORK, 0)

    @property
    def waiting(self) -> int:
        return sum(days for step, days in self.days.items() if step.waiting)

    def completed(self, step: Step) -> bool:
        """Whether the stage has gone past `step` for good (its days are final, not counted to today)."""
        if self.exempt or self.started is None:
            return False
        if step not in self.days:
            # Never reached in the recorded history (a move made before it was kept): no known length.
            return False
        return self.finished or (self.current is not None and STEPS.index(step) < STEPS.index(self.current))


def stage_times(
    started_on: date | None,
    state: StageState,
    is_final: bool,
    moves: Sequence[Move],
    today: date,
    paused: Sequence[tuple[date, date | None]] = (),
    stopped_on: date | None = None,
) -> StageTimes:
    """Where the stage's days went, from its start to now (`today`, or `stopped_on` if withdrawn).

    `paused`: the spells the enrolment was out of training (see `away_spells`), counted apart.
    """
    if started_on is None:
        return StageTimes(started=None)
    exempt = state is StageState.EXEMPT
    finished = state in (StageState.RATIFIED, StageState.COMPLETE, StageState.EXEMPT) or (
        state is StageState.ACCREDITED and not is_final
    )
    if finished and not any(move.to_state is state for move in moves):
        return StageTimes(started=started_on, finished=True, exempt=exempt, recorded=False)
    # The chain's own "started" move repeats `started_on`; every other move changes the step.
    events = [(started_on, StageState.IN_PROGRESS)]
    for move in moves:
        if move.from_state is StageState.NOT_STARTED and move.to_state is StageState.IN_PROGRESS:
            continue
        events.append((max(move.on, started_on), move.to_state))
    end = stopped_on if stopped_on is not None else today
    days: dict[Step, int] = {}
    paused_days = 0
    for index, (day, reached) in enumerate(events):
        step = step_of(reached, is_final)
        if step is None:
            continue
        until = events[index + 1][0] if index + 1 < len(events) else max(end, day)
        away = overlap(day, until, paused)
        days[step] = days.get(step, 0) + (until - day).days - away
        paused_days += away

    def last(*targets: StageState, after: frozenset[StageState] | None = None) -> date | None:
        found = [
            max(move.on, started_on)
            for move in moves
            if move.to_state in targets and (after is None or move.from_state in after)
        ]
        return found[-1] if found else None

    return StageTimes(
        started=started_on,
        submitted=last(StageState.SUBMITTED),
        signed_off=last(StageState.SIGNED_OFF, StageState.COMPLETE, after=frozenset({StageState.SUBMITTED})),
        accreditor_asked=last(StageState.WITH_ACCREDITOR),
        accredited=last(StageState.ACCREDITED),
        ratified=last(StageState.RATIFIED),
        days=days,
        paused_days=paused_days,
        current=None if finished else step_of(state, is_final),
        finished=finished,
        exempt=exempt,
        returns=sum(1 for move in moves if move.to_state is StageState.RETURNED),
    )
