"""Links that let a client answer outcome measures on their own phone: once, and only until they expire.

A link carries a random token (256 bits). Only its SHA-256 digest is stored, so a copy of the database
holds no working link and the practitioner sees the link once, when it is made. The answers are
recorded through `services.record_administration`, exactly as live entry records them (scores, risk
flags and alerts, case outcomes), and the invitation is marked used in the same transaction by a
conditional UPDATE that only an unused, unrevoked, unexpired row matches: of two submissions at once,
the database lets exactly one through, and the other is refused with nothing saved.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select, update

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.casework.models import Case
from vigtrain.dates import UK, utcnow
from vigtrain.dates import today as uk_today
from vigtrain.dcs import services, wording
from vigtrain.dcs.measures import Measure, get_measure, library
from vigtrain.dcs.models import (
    TIMEPOINT_ORDER,
    Administration,
    InvitationStatus,
    MeasureInvitation,
    Timepoint,
)
from vigtrain.dcs.scoring import ScoringError, score
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.security import can_invite_client

INVITATION_FIELDS = ("case_id", "timepoint", "measure_codes", "expires_at", "used_at", "revoked_at", "revoked_by_id")
# What secrets.token_urlsafe(32) gives: 43 URL-safe characters. Anything else is a mistyped link.
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
TOKEN_BYTES = 32

# Why a link no longer opens, in the client's words (the page adds what to do next).
UNAVAILABLE = {
    InvitationStatus.USED: "These answers have already been sent",
    InvitationStatus.EXPIRED: "This link has expired",
    InvitationStatus.REVOKED: "This link has been cancelled",
}
NOT_NEEDED = "This link is no longer needed"
REVOKE_REFUSALS = {
    InvitationStatus.USED: "the client has already answered",
    InvitationStatus.EXPIRED: "it has expired",
    InvitationStatus.REVOKED: "it has already been revoked",
}


class InvitationUnavailable(DomainError):
    """The link cannot be used: answered, expired, revoked, or nothing is left to answer on its case.

    `status` is the invitation's status, or None when the link is still pending but no longer needed
    (the case closed, consent withdrawn, or every measure already recorded some other way).
    """

    def __init__(self, message: str, status: InvitationStatus | None) -> None:
        super().__init__(message)
        self.status = status


class AnswerRefused(DomainError):
    """One measure's answers cannot be scored: `measure` is its code, `field` the item number at fault."""

    def __init__(self, measure: str, message: str, field: str | None) -> None:
        super().__init__(message, field)
        self.measure = measure


# --- the token --------------------------------------------------------------------------------


def digest(token: str) -> str:
    """What is stored and looked up: SHA-256 hex of the token (256 random bits need no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_token(token: str) -> MeasureInvitation | None:
    """The invitation a link's token belongs to; None for a mistyped or unknown one."""
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        return None
    return db.session.scalar(select(MeasureInvitation).where(MeasureInvitation.token_digest == digest(token)))


def expiry_instant(last_day: date) -> datetime:
    """A link works until the end of its last day in UK time, which is the day people are told."""
    return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UK).astimezone(UTC)


def last_day(invitation: MeasureInvitation) -> date:
    """The last day the link works, as the practitioner and the client were told."""
    return (invitation.expires_at.astimezone(UK) - timedelta(microseconds=1)).date()


# --- which measures a client may answer alone ----------------------------------------------------


def shown_to_clients(measure: Measure, licensed: Collection[str]) -> bool:
    """Only measures whose wording may be shown: a client alone cannot answer numbered items.

    `licensed` holds the codes of measures whose wording the case's service holds a licence for
    (`wording.licensed_codes(case.service_id)`): those are shown in the licence's words.
    """
    return measure.item_text_allowed or measure.code in licensed


def client_measures(case: Case) -> list[Measure]:
    licensed = wording.licensed_codes(case.service_id)
    return [measure for measure in library().values() if shown_to_clients(measure, licensed)]


def withheld_measures(case: Case) -> list[Measure]:
    licensed = wording.licensed_codes(case.service_id)
    return [measure for measure in library().values() if not shown_to_clients(measure, licensed)]


WITHHELD_REASON = (
    "its licence does not allow its wording to be shown in vigtrain, so the client would see only item "
    "numbers. Use the printed form with the client and record the answers yourself. If your service holds "
    "a licence for it, an administrator can add its wording to vigtrain for your service."
)


def case_refusal(case: Case) -> str | None:
    """Why the client of this case cannot be sent a link now, or None if they can."""
    if not case.is_open:
        return "The case is closed. Reopen it to invite the client to answer measures."
    if not case.consent_dcs:
        return (
            "The client has not consented to the Data Collection System. Record their consent on the case "
            "before inviting them to answer measures."
        )
    return None


def _later_than(timepoint: Timepoint, recorded: set[Timepoint]) -> Timepoint | None:
    """A timepoint recorded after `timepoint`: answers given from today would come out of order."""
    position = TIMEPOINT_ORDER.index(timepoint)
    return next((point for point in TIMEPOINT_ORDER[position + 1 :] if point in recorded), None)


def _chosen_measures(case: Case, codes: Sequence[str], timepoint: Timepoint) -> list[Measure]:
    """The measures asked for, checked one by one; every refusal names the measures field."""
    if not codes:
        raise DomainError("Select at least one questionnaire", field="measures")
    chosen: list[Measure] = []
    licensed = wording.licensed_codes(case.service_id)
    for code in codes:
        measure = get_measure(code) if isinstance(code, str) else None
        if measure is None:
            raise DomainError("Select questionnaires from the list", field="measures")
        if measure in chosen:
            raise DomainError(f"{measure.code} is listed more than once", field="measures")
        if not shown_to_clients(measure, licensed):
            raise DomainError(f"{measure.code} cannot be sent to the client: {WITHHELD_REASON}", field="measures")
        chosen.append(measure)
    recorded = services.recorded_timepoints(case)
    for measure in chosen:
        points = recorded.get(measure.code, set())
        if timepoint in points:
            raise DomainError(
                f"{measure.code} has already been recorded at {timepoint.value} for this case", field="measures"
            )
        later = _later_than(timepoint, points)
        if later is not None:
            raise DomainError(
                f"{measure.code} already has a {later.value} score for this case, so a {timepoint.value} answered "
                "from today would come after it",
                field="measures",
            )
    order = list(library())
    return sorted(chosen, key=lambda measure: order.index(measure.code))


# --- creating and revoking ----------------------------------------------------------------------------


def create_invitation(
    actor: User, case: Case, measures: Sequence[str], timepoint: Timepoint
) -> tuple[MeasureInvitation, str]:
    """A new link for the case's client; returns it with its token, which is never stored or shown again."""
    if not can_invite_client(actor, case):
        raise PermissionDenied("Only the case's practitioner invites the client to answer measures.")
    refusal = case_refusal(case)
    if refusal is not None:
        raise DomainError(refusal)
    chosen = _chosen_measures(case, measures, timepoint)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = MeasureInvitation(
        case_id=case.id,
        created_by_id=actor.id,
        timepoint=timepoint,
        measure_codes=[measure.code for measure in chosen],
        token_digest=digest(token),
        created_at=utcnow(),
        expires_at=expiry_instant(uk_today() + timedelta(days=current_app.config["SELF_COMPLETION_DAYS"])),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor, "measure_invitation.created", invitation, after=audit.snapshot(invitation, *INVITATION_FIELDS))
    return invitation, token


def revoke_invitation(actor: User, invitation: MeasureInvitation) -> None:
    """Stop a link that has not been answered; the client then sees that it was cancelled."""
    if not can_invite_client(actor, invitation.case):
        raise PermissionDenied("Only the case's practitioner revokes the client's links.")
    now = utcnow()
    status = invitation.status(now)
    if status is not InvitationStatus.PENDING:
        raise DomainError(f"This link cannot be revoked: {REVOKE_REFUSALS[status]}.")
    before = audit.snapshot(invitation, *INVITATION_FIELDS)
    # Conditional, like submitting: a client who sends their answers at this moment wins or loses cleanly.
    revoked = db.session.execute(
        update(MeasureInvitation)
        .where(MeasureInvitation.id == invitation.id, *_still_open(now))
        .values(revoked_at=now, revoked_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if revoked.rowcount != 1:
        db.session.refresh(invitation)
        status = invitation.status(now)
        raise DomainError(f"This link cannot be revoked: {REVOKE_REFUSALS.get(status, 'it has just changed')}.")
    db.session.refresh(invitation)
    audit.record(
        actor,
        "measure_invitation.revoked",
        invitation,
        before=before,
        after=audit.snapshot(invitation, *INVITATION_FIELDS),
    )


def _still_open(now: datetime) -> tuple:
    return (
        MeasureInvitation.used_at.is_(None),
        MeasureInvitation.revoked_at.is_(None),
        MeasureInvitation.expires_at > now,
    )


# --- answering ---------------------------------------------------------------------------------------


def measures_to_answer(invitation: MeasureInvitation) -> list[Measure]:
    """The invitation's measures still to be answered at its timepoint, as the client sees them.

    A measure the practitioner has recorded some other way since (in a session, say), or that now has a
    later timepoint recorded, is left out: the client is never asked for answers that cannot be kept.
    So is one shown in licensed wording that the service no longer has live: without it the client
    would see item numbers. Licensed measures come back with their wording in place.
    """
    recorded = services.recorded_timepoints(invitation.case)
    licensed = wording.live_wordings(invitation.case.service_id)
    left = []
    for code in invitation.measure_codes:
        measure = get_measure(code)
        points = recorded.get(code, set())
        if measure is None or invitation.timepoint in points or _later_than(invitation.timepoint, points) is not None:
            continue
        if measure.item_text_allowed:
            left.append(measure)
        elif wording.applies(licensed.get(code), measure):
            left.append(wording.worded(measure, licensed[code]))
    return left


def check_usable(invitation: MeasureInvitation, now: datetime) -> list[Measure]:
    """The measures the client is asked for; refuses a link that cannot be used any more."""
    status = invitation.status(now)
    if status is not InvitationStatus.PENDING:
        raise InvitationUnavailable(UNAVAILABLE[status], status)
    if case_refusal(invitation.case) is not None:
        raise InvitationUnavailable(NOT_NEEDED, None)
    measures = measures_to_answer(invitation)
    if not measures:
        raise InvitationUnavailable(NOT_NEEDED, None)
    return measures


def check_answers(measure: Measure, responses: Mapping[str, int | None]) -> None:
    """Refuse answers the measure cannot score (too many left out, say), as recording them would."""
    try:
        score(measure, responses)
    except ScoringError as error:
        raise AnswerRefused(measure.code, error.message, error.field) from None


def submit_answers(
    invitation: MeasureInvitation, answers: Mapping[str, Mapping[str, int | None]], today: date
) -> list[Administration]:
    """Record the client's answers to each measure still to answer, dated today, and use the link up.

    The link is claimed first, by an UPDATE that only matches it while it is unused, unrevoked and
    unexpired: a second submission (or one racing a revocation) matches nothing and is refused. Any
    refusal after that rolls the claim back with everything else, so the link still works.
    """
    now = utcnow()
    measures = check_usable(invitation, now)
    claimed = db.session.execute(
        update(MeasureInvitation)
        .where(MeasureInvitation.id == invitation.id, *_still_open(now))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(invitation)
        status = invitation.status(now)
        raise InvitationUnavailable(UNAVAILABLE.get(status, NOT_NEEDED), status)
    db.session.refresh(invitation)
    recorded = []
    for measure in measures:
        responses = answers.get(measure.code)
        if responses is None:
            raise AnswerRefused(measure.code, f"Answer the questions in {measure.code}", None)
        check_answers(measure, responses)
        recorded.append(
            services.record_administration(
                invitation.created_by,
                invitation.case,
                measure.code,
                invitation.timepoint,
                today,
                responses,
                today,
                invitation=invitation,
            )
        )
    audit.record(
        None,
        "measure_invitation.completed",
        invitation,
        after={**audit.snapshot(invitation, "used_at"), "administration_ids": [row.id for row in recorded]},
    )
    return recorded


# --- what pages show -------------------------------------------------------------------------------


def case_invitations(case: Case) -> list[MeasureInvitation]:
    """Every link made for the case, newest first."""
    return list(
        db.session.scalars(
            select(MeasureInvitation)
            .where(MeasureInvitation.case_id == case.id)
            .order_by(MeasureInvitation.created_at.desc(), MeasureInvitation.id.desc())
        )
    )


def measure_names(codes: Iterable[str]) -> list[str]:
    return [measure.name for code in codes if (measure := get_measure(code)) is not None]
