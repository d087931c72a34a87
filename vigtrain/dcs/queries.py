"""Read-only questions about a practitioner's outcome data: how complete it is, and which cases lack a post."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case as when
from sqlalchemy import exists, func, select

from vigtrain.accounts.models import User
from vigtrain.casework.models import Case, CaseStatus
from vigtrain.dates import utcnow
from vigtrain.dcs import invitations, services, wording
from vigtrain.dcs.measures import Measure, get_measure, library
from vigtrain.dcs.models import Administration, CaseOutcome, MeasureInvitation, Timepoint
from vigtrain.extensions import db

CLOSED = (CaseStatus.COMPLETED, CaseStatus.ENDED_EARLY)


def _waiting_for_post(points: set[Timepoint]) -> bool:
    """A pre and no post yet (nor a follow-up, which a post answered now would come after)."""
    return Timepoint.PRE in points and Timepoint.POST not in points and Timepoint.FOLLOW_UP not in points


def _post_measures(recorded: dict[str, set[Timepoint]], licensed: Collection[str]) -> list[Measure]:
    """Of a case's measures, those waiting for a post that the client may answer alone, in library order.

    `licensed`: the measures whose wording the case's service holds a licence for.
    """
    return [
        measure
        for code, measure in library().items()
        if _waiting_for_post(recorded.get(code, set())) and invitations.shown_to_clients(measure, licensed)
    ]


def post_measures_to_invite(case: Case) -> list[Measure]:
    """What the home page's one-click invitation asks the client to answer at post."""
    return _post_measures(services.recorded_timepoints(case), wording.licensed_codes(case.service_id))


@dataclass(frozen=True)
class WaitingCase:
    """A case with a pre and no post on some measure, and whether the client can be sent a link for it."""

    case: Case
    missing: list[str]
    to_invite: list[Measure]
    pending_until: date | None
    refusal: str | None

    @property
    def can_invite(self) -> bool:
        return self.refusal is None and bool(self.to_invite) and self.pending_until is None


@dataclass(frozen=True)
class Completeness:
    """The share of closed cases with pre and post on at least one measure, and the cases still lacking a post."""

    closed: int
    paired: int
    waiting_total: int
    waiting: list[WaitingCase] = field(default_factory=list)

    @property
    def percent(self) -> int | None:
        return None if not self.closed else round(100 * self.paired / self.closed)


def completeness(practitioner: User, limit: int) -> Completeness:
    """The practitioner's own figures (no suppression: they are theirs), in a fixed number of queries."""
    paired_outcome = exists().where(
        CaseOutcome.case_id == Case.id, CaseOutcome.pre.is_not(None), CaseOutcome.post.is_not(None)
    )
    closed, paired = db.session.execute(
        select(func.count(Case.id), func.count(when((paired_outcome, Case.id)))).where(
            Case.practitioner_id == practitioner.id, Case.status.in_(CLOSED)
        )
    ).one()
    lacking_post = exists().where(
        CaseOutcome.case_id == Case.id, CaseOutcome.pre.is_not(None), CaseOutcome.post.is_(None)
    )
    waiting = select(Case).where(Case.practitioner_id == practitioner.id, lacking_post)
    total = db.session.scalar(select(func.count()).select_from(waiting.subquery()))
    cases = list(db.session.scalars(waiting.order_by(Case.started_on, Case.id).limit(limit)))
    return Completeness(closed, paired, total, _waiting_rows(cases))


def _waiting_rows(cases: list[Case]) -> list[WaitingCase]:
    if not cases:
        return []
    ids = [case.id for case in cases]
    recorded: dict[int, dict[str, set[Timepoint]]] = defaultdict(lambda: defaultdict(set))
    for case_id, code, timepoint in db.session.execute(
        select(Administration.case_id, Administration.measure_code, Administration.timepoint).where(
            Administration.case_id.in_(ids)
        )
    ):
        recorded[case_id][code].add(timepoint)
    now = utcnow()
    pending: dict[int, date] = {}
    for invitation in db.session.scalars(
        select(MeasureInvitation).where(
            MeasureInvitation.case_id.in_(ids),
            MeasureInvitation.timepoint == Timepoint.POST,
            MeasureInvitation.used_at.is_(None),
            MeasureInvitation.revoked_at.is_(None),
            MeasureInvitation.expires_at > now,
        )
    ):
        last = invitations.last_day(invitation)
        pending[invitation.case_id] = max(last, pending.get(invitation.case_id, last))
    # One question per service, not per case: a practitioner's cases are nearly always in one service.
    licensed = {service_id: wording.licensed_codes(service_id) for service_id in {case.service_id for case in cases}}
    rows = []
    for case in cases:
        points = recorded[case.id]
        missing = [code for code in library() if Timepoint.PRE in points[code] and Timepoint.POST not in points[code]]
        to_invite = _post_measures(points, licensed[case.service_id])
        refusal = invitations.case_refusal(case)
        if refusal is None and not to_invite:
            names = ", ".join(measure.code for code in missing if (measure := get_measure(code)) is not None)
            refusal = f"{names}: record the post measure with the client in a session."
        rows.append(WaitingCase(case, missing, to_invite, pending.get(case.id), refusal))
    return rows
