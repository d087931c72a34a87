"""Spells out of training, read from an enrolment's status history: the one rule both the
training-flow figures and a trainee's forecast use to leave paused time out.

A spell runs from the change into a status to the next change out of it; the last is open (None)
while the enrolment is still in it. Days are UK calendar days, each spell half-open [from, to).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from vigtrain.pathways.models import EnrolmentStatus

Spell = tuple[date, date | None]


@dataclass(frozen=True)
class StatusChange:
    on: date
    status: EnrolmentStatus


def _spells(changes: Sequence[StatusChange], statuses: frozenset[EnrolmentStatus]) -> list[Spell]:
    spells: list[Spell] = []
    began: date | None = None
    for change in changes:
        inside = change.status in statuses
        if inside and began is None:
            began = change.on
        elif not inside and began is not None:
            spells.append((began, change.on))
            began = None
    if began is not None:
        spells.append((began, None))
    return spells


def paused_spells(changes: Sequence[StatusChange]) -> list[Spell]:
    """The enrolment's paused spells, [paused, resumed), the last open (None) if it is paused now."""
    return _spells(changes, frozenset({EnrolmentStatus.PAUSED}))


def away_spells(changes: Sequence[StatusChange]) -> list[Spell]:
    """Spells out of training, paused or withdrawn (a withdrawal can be reopened)."""
    return _spells(changes, frozenset({EnrolmentStatus.PAUSED, EnrolmentStatus.WITHDRAWN}))


def withdrawn_on(status: EnrolmentStatus, changes: Sequence[StatusChange]) -> date | None:
    """The day a withdrawn enrolment was withdrawn (its clock stops there); None if it is not withdrawn."""
    if status is not EnrolmentStatus.WITHDRAWN:
        return None
    days = [change.on for change in changes if change.status is EnrolmentStatus.WITHDRAWN]
    return days[-1] if days else None


def overlap(start: date, end: date, spells: Iterable[Spell]) -> int:
    """Days of [start, end) inside the spells (an open spell runs on past `end`)."""
    total = 0
    for spell_start, spell_end in spells:
        low = max(start, spell_start)
        high = end if spell_end is None else min(end, spell_end)
        total += max((high - low).days, 0)
    return total
