"""Each supervisor's load beside the capacity AVIGuk set for them, and setting that capacity.

Read by the capacity page and by people pickers as someone types, so every figure is one grouped
query over the people asked about: the same few statements for one person or a page of them.
A supervisor's trainees in hand are their open personal supervisions plus the stages they have
been asked to accredit; the capacity, where one is set, is the most of those they take on at once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, func, select, union_all

from vigtrain import audit
from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.accounts.queries import name_or_email_holds
from vigtrain.dates import days_since, today
from vigtrain.errors import DomainError, NotFound, PermissionDenied
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment, PathwayVersion, StageRecord, StageState
from vigtrain.pathways.queries import OPEN_ENROLMENT
from vigtrain.security import can_manage_capacity
from vigtrain.supervision.queries import awaiting_by_supervisor

MAX_CAPACITY = 200
CAPACITY_ROLES = (Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR)
# An open enrolment whose stages are all finished has no current stage until it is completed.
ALL_FINISHED = "All stages finished"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Load:
    """What one supervisor has in hand and what waits for them."""

    supervising: int = 0
    # Trainees by the name of the stage they are on, in stage order. Keyed by name, not code: the
    # same code names different stages in different pathways ("itc" is the VIG Initial Training
    # Course and the VERP Initial Training), and a stage keeps its name across pathway versions.
    by_stage: dict[str, int] = field(default_factory=dict)
    accrediting: int = 0
    sessions_to_confirm: int = 0
    awaiting: int = 0  # stages submitted to them for sign-off, and stages they were asked to accredit
    oldest_wait_days: int | None = None
    capacity: int | None = None

    @property
    def in_hand(self) -> int:
        return self.supervising + self.accrediting

    @property
    def over_capacity(self) -> bool:
        return self.capacity is not None and self.in_hand > self.capacity

    @property
    def summary(self) -> str:
        """A few words to show beside the person's name wherever someone chooses a supervisor."""
        if self.over_capacity:
            return f"Over capacity: {self.in_hand} of {self.capacity}"
        trainees = _plural(self.supervising, "trainee")
        accrediting = f" · {self.accrediting} to accredit" if self.accrediting else ""
        if self.capacity is None:
            return f"{trainees}{accrediting} (no limit set)"
        if self.accrediting:
            # The capacity counts accreditations too: say what the limit is measured against.
            return f"{trainees}{accrediting}: {self.in_hand} of {self.capacity}"
        return f"{trainees} of {self.capacity}"


# --- what counts ------------------------------------------------------------------------------------


def _supervising() -> tuple:
    """Open enrolments someone personally supervises (nobody counts as their own trainee)."""
    return (
        Enrolment.supervisor_id.is_not(None),
        Enrolment.status.in_(OPEN_ENROLMENT),
        Enrolment.trainee_id != Enrolment.supervisor_id,
    )


def _with_accreditor() -> tuple:
    """Stages waiting for their accrediting supervisor: the same stages as their accreditation queue."""
    return (StageRecord.accrediting_supervisor_id.is_not(None), StageRecord.state == StageState.WITH_ACCREDITOR)


# --- the figures --------------------------------------------------------------------------------------


def loads(user_ids: Sequence[int]) -> dict[int, Load]:
    """Each person's load, for everyone in `user_ids` (nothing in hand for anyone who supervises nobody)."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    capacities = dict(db.session.execute(select(User.id, User.trainee_capacity).where(User.id.in_(ids))).tuples().all())
    stages = _trainees_by_stage(ids)
    accrediting = _stages_with_accreditor(ids)
    submitted = _stages_submitted(ids)
    sessions = awaiting_by_supervisor(ids)
    result = {}
    for user_id in ids:
        by_stage = stages.get(user_id, {})
        to_accredit, accreditation_since = accrediting.get(user_id, (0, None))
        to_sign_off, submitted_since = submitted.get(user_id, (0, None))
        waiting_since = [moment for moment in (accreditation_since, submitted_since) if moment is not None]
        result[user_id] = Load(
            supervising=sum(by_stage.values()),
            by_stage=by_stage,
            accrediting=to_accredit,
            sessions_to_confirm=sessions.get(user_id, 0),
            awaiting=to_accredit + to_sign_off,
            oldest_wait_days=days_since(min(waiting_since), today()) if waiting_since else None,
            capacity=capacities.get(user_id),
        )
    return result


def _trainees_by_stage(ids: list[int]) -> dict[int, dict[str, int]]:
    """Each supervisor's open supervisions counted by current stage name, in stage order (two queries)."""
    rows = db.session.execute(
        select(
            Enrolment.supervisor_id,
            Enrolment.pathway_version_id,
            StageRecord.stage_code,
            StageRecord.position,
            func.count(),
        )
        .select_from(Enrolment)
        .outerjoin(StageRecord, and_(StageRecord.enrolment_id == Enrolment.id, StageRecord.is_current.is_(True)))
        .where(Enrolment.supervisor_id.in_(ids), *_supervising())
        .group_by(Enrolment.supervisor_id, Enrolment.pathway_version_id, StageRecord.stage_code, StageRecord.position)
    ).all()
    names = _stage_names({version_id for _, version_id, code, _, _ in rows if code is not None})
    found: dict[int, list[tuple[float, str, int]]] = defaultdict(list)
    for supervisor_id, version_id, code, position, number in rows:
        if code is None:
            found[supervisor_id].append((math.inf, ALL_FINISHED, number))
        else:
            found[supervisor_id].append((position, names.get((version_id, code), code), number))
    result = {}
    for supervisor_id, entries in found.items():
        merged: dict[str, int] = {}
        for _, name, number in sorted(entries):
            merged[name] = merged.get(name, 0) + number
        result[supervisor_id] = merged
    return result


def _stage_names(version_ids: set[int]) -> dict[tuple[int, str], str]:
    """(pathway version, stage code) → the stage's name in that version's definition."""
    if not version_ids:
        return {}
    versions = db.session.scalars(select(PathwayVersion).where(PathwayVersion.id.in_(version_ids)))
    return {(version.id, stage.code): stage.name for version in versions for stage in version.definition.stages}


def _stages_with_accreditor(ids: list[int]) -> dict[int, tuple[int, datetime | None]]:
    rows = db.session.execute(
        select(StageRecord.accrediting_supervisor_id, func.count(), func.min(StageRecord.state_since))
        .where(StageRecord.accrediting_supervisor_id.in_(ids), *_with_accreditor())
        .group_by(StageRecord.accrediting_supervisor_id)
    )
    return {user_id: (number, since) for user_id, number, since in rows}


def _stages_submitted(ids: list[int]) -> dict[int, tuple[int, datetime | None]]:
    """Stages their trainees submitted for them to sign off."""
    rows = db.session.execute(
        select(Enrolment.supervisor_id, func.count(), func.min(StageRecord.state_since))
        .select_from(StageRecord)
        .join(Enrolment, Enrolment.id == StageRecord.enrolment_id)
        .where(Enrolment.supervisor_id.in_(ids), *_supervising(), StageRecord.state == StageState.SUBMITTED)
        .group_by(Enrolment.supervisor_id)
    )
    return {user_id: (number, since) for user_id, number, since in rows}


# --- the capacity page --------------------------------------------------------------------------------


def holds_capacity(user: User) -> bool:
    """Whether the person is someone whose capacity is set: an active (accrediting) supervisor."""
    return bool(user.is_active_flag and user.has_role(*CAPACITY_ROLES))


def _in_hand():
    """Everyone's trainees in hand, as (user_id, in_hand): what the page sorts and filters on in SQL."""
    held = union_all(
        select(Enrolment.supervisor_id.label("user_id")).where(*_supervising()),
        select(StageRecord.accrediting_supervisor_id.label("user_id")).where(*_with_accreditor()),
    ).subquery("held")
    return select(held.c.user_id, func.count().label("in_hand")).group_by(held.c.user_id).subquery("in_hand")


def supervisors_query(
    search: str = "", role: Role | None = None, over_capacity_only: bool = False, by_load: bool = False
) -> Select:
    """Active supervisors and accrediting supervisors, by name or by trainees in hand (most first).

    The load is only worked out in SQL when the page sorts or filters on it.
    """
    roles = [role] if role is not None else list(CAPACITY_ROLES)
    query = select(User).where(
        User.is_active_flag.is_(True), User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles)))
    )
    if search:
        query = query.where(name_or_email_holds(search))
    by_name = (User.display_name, User.id)
    if not (over_capacity_only or by_load):
        return query.order_by(*by_name)
    in_hand = _in_hand()
    held = func.coalesce(in_hand.c.in_hand, 0)
    query = query.outerjoin(in_hand, in_hand.c.user_id == User.id)
    if over_capacity_only:
        query = query.where(User.trainee_capacity.is_not(None), held > User.trainee_capacity)
    return query.order_by(held.desc(), *by_name) if by_load else query.order_by(*by_name)


# --- setting it ---------------------------------------------------------------------------------------


def set_capacity(actor: User, user: User, capacity: int | None) -> None:
    """Set how many trainees the person takes on at once, or clear it (None: no limit)."""
    if not can_manage_capacity(actor):
        raise PermissionDenied("Only administrators set a supervisor's capacity")
    if not holds_capacity(user):
        raise NotFound("Only active supervisors and accrediting supervisors have a capacity")
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(
            f"The capacity must be between 1 and {MAX_CAPACITY}, or leave it blank for no limit", field="capacity"
        )
    if capacity == user.trainee_capacity:
        return
    before = audit.snapshot(user, "trainee_capacity")
    user.trainee_capacity = capacity
    db.session.flush()
    audit.record(actor, "user.capacity_changed", user, before=before, after=audit.snapshot(user, "trainee_capacity"))


def load_hints(people: Sequence[User]) -> dict[int, str]:
    """Each person's load in a few words, shown beside their name when someone chooses a supervisor."""
    return {user_id: load.summary for user_id, load in loads([person.id for person in people]).items()}
