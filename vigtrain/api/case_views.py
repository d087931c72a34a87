"""Cases, the outcome measures recorded on them, the outcomes they show, and links for the client."""

from __future__ import annotations

from collections.abc import Sequence

from flask import url_for
from sqlalchemy import func, select

from vigtrain import transactions
from vigtrain.api import bp
from vigtrain.api.auth import api_user
from vigtrain.api.openapi import operation
from vigtrain.api.paging import page_of
from vigtrain.api.problems import domain_problem
from vigtrain.api.schemas import (
    AdministrationCreate,
    AdministrationOut,
    CaseContext,
    CaseCreate,
    CaseOut,
    CaseOutcomes,
    CasePage,
    CaseQuery,
    ConsentsOut,
    FlagOut,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    InvitationPage,
    MeasureOutcome,
    Paging,
    RegionRef,
    Scores,
    ServiceRef,
    TimepointScore,
)
from vigtrain.api.views import person
from vigtrain.casework import services
from vigtrain.casework.models import Case, Cycle
from vigtrain.dates import today, utcnow
from vigtrain.dcs import invitations
from vigtrain.dcs.models import Administration, MeasureInvitation, Timepoint
from vigtrain.dcs.respond_views import client_link
from vigtrain.dcs.services import MeasureFeedback, case_feedback, record_administration
from vigtrain.extensions import db
from vigtrain.organisations.models import Region
from vigtrain.security import can_change_case, can_invite_client, can_keep_cases, can_view_case, require

# Where a service names a field differently from the request body.
CASE_FIELDS = {"consented_on": "consents"}
ADMINISTRATION_FIELDS = {"administered_on": "date"}


def _load_case(code: str) -> Case:
    """The case if the token's owner may see it; 404 for a malformed code, a missing case or someone else's."""
    case = services.find_case(code)
    require(case is not None and can_view_case(api_user(), case), "no such case, or not theirs", 404)
    return case


def _cycle_counts(cases: Sequence[Case]) -> dict[int, int]:
    if not cases:
        return {}
    rows = db.session.execute(
        select(Cycle.case_id, func.count(Cycle.id))
        .where(Cycle.case_id.in_([case.id for case in cases]))
        .group_by(Cycle.case_id)
    )
    return dict(rows.tuples().all())


def case_out(case: Case, cycle_count: int) -> CaseOut:
    return CaseOut(
        code=case.code,
        practitioner=person(case.practitioner),
        status=case.status,
        started_on=case.started_on,
        ended_on=case.ended_on,
        end_reason=case.end_reason,
        context=CaseContext(
            relationship=case.relationship_type,
            age_band=case.child_age_band,
            population=case.population,
            region=RegionRef(code=case.region.code, name=case.region.name),
            service=ServiceRef(id=case.service.id, name=case.service.name) if case.service else None,
            stage_number=case.stage_number,
        ),
        consents=ConsentsOut(
            filming=case.consent_filming_on if case.consent_filming else None,
            supervision=case.consent_supervision_on if case.consent_supervision else None,
            dcs=case.consent_dcs_on if case.consent_dcs else None,
        ),
        cycle_count=cycle_count,
        links={
            "self": url_for("api.show_case", code=case.code),
            "outcomes": url_for("api.show_outcomes", code=case.code),
            "administrations": url_for("api.create_administration", code=case.code),
        },
    )


def _cases_out(cases: list[Case]) -> list[CaseOut]:
    counts = _cycle_counts(cases)
    return [case_out(case, counts.get(case.id, 0)) for case in cases]


@bp.get("/cases")
@operation("Cases", CasePage, scope="cases:read", errors=(403,), paginated=True)
def list_cases(query: CaseQuery):
    """Your cases, newest first

    The cases the token's owner keeps as practitioner (a supervisor reads a trainee's case by its code).
    """
    user = api_user()
    require(can_keep_cases(user), "keeps no cases")
    statement = select(Case).where(Case.practitioner_id == user.id)
    if query.status is not None:
        statement = statement.where(Case.status == query.status)
    statement = statement.order_by(Case.created_at.desc(), Case.id.desc())
    fields, headers = page_of(statement, query, _cases_out, {"status": query.status})
    return CasePage(**fields), 200, headers


@bp.post("/cases")
@operation("Cases", CaseOut, scope="cases:write", status=201, errors=(403,), created=True)
def create_case(json: CaseCreate):
    """Add a case

    vigtrain gives the case its code (use it whenever you refer to the client); nothing that names
    the client is stored. Consents are the dates they were given.
    """
    user = api_user()
    require(can_keep_cases(user), "keeps no cases")
    region = db.session.scalar(select(Region).where(Region.code == json.region))
    consents = services.Consents(
        filming=json.consents.filming, supervision=json.consents.supervision, dcs=json.consents.dcs
    )
    case = transactions.run(
        lambda: services.create_case(
            user, json.relationship, json.age_band, json.population, region, json.started_on, consents
        ),
        refusal=lambda error: domain_problem(error, CASE_FIELDS),
    )
    return case_out(case, 0), 201, {"Location": url_for("api.show_case", code=case.code)}


@bp.get("/cases/<code>")
@operation("Cases", CaseOut, scope="cases:read", errors=(404,))
def show_case(code: str):
    """One case, by its code

    The practitioner's own cases, and, read only, their trainees' cases for a personal supervisor.
    """
    case = _load_case(code)
    return _cases_out([case])[0]


# --- outcome measures -----------------------------------------------------------------------------


def _flags(flags: list[dict]) -> list[FlagOut]:
    return [FlagOut(code=flag["code"], message=flag["message"], item=flag.get("item")) for flag in flags]


@bp.post("/cases/<code>/administrations")
@operation("Cases", AdministrationOut, scope="cases:write", status=201, errors=(403, 404))
def create_administration(code: str, json: AdministrationCreate):
    """Record a completed outcome measure

    Scored at once, the same way as on the pages. A risk item answered (PHQ-9 item 9, EPDS item 10)
    comes back in `flags`: follow your service's safeguarding procedure now; the practitioner's
    supervisor is told as well. One administration per measure and timepoint.
    """
    user = api_user()
    case = _load_case(code)
    require(can_change_case(user, case), "only the practitioner records measures")
    administration = transactions.run(
        lambda: record_administration(user, case, json.measure, json.timepoint, json.date, json.responses, today()),
        refusal=lambda error: domain_problem(error, ADMINISTRATION_FIELDS),
    )
    return administration_out(case, administration), 201


def administration_out(case: Case, administration: Administration) -> AdministrationOut:
    return AdministrationOut(
        id=administration.id,
        case=case.code,
        measure=administration.measure_code,
        measure_version=administration.measure_version,
        timepoint=administration.timepoint,
        date=administration.administered_on,
        scores=Scores(total=administration.total, raw=administration.raw, subscales=administration.subscales or {}),
        band=administration.band,
        flags=_flags(administration.flags or []),
        prorated=administration.prorated,
    )


def _timepoint_score(row: Administration) -> TimepointScore:
    return TimepointScore(
        id=row.id,
        timepoint=row.timepoint,
        date=row.administered_on,
        total=row.total,
        band=row.band,
        flags=_flags(row.flags or []),
    )


def _measure_outcome(item: MeasureFeedback) -> MeasureOutcome:
    pre, post, change = item.at(Timepoint.PRE), item.at(Timepoint.POST), item.change
    return MeasureOutcome(
        measure=item.measure.code,
        name=item.measure.name,
        direction=item.measure.direction,
        pre=pre.total if pre else None,
        post=post.total if post else None,
        change=change.change if change else None,
        classification=change.classification if change else None,
        recovery=change.recovery if change else None,
        reliable_recovery=change.reliable_recovery if change else None,
        consider_further_input=item.consider_further_input,
        administrations=[_timepoint_score(row) for row in item.administrations],
    )


@bp.get("/cases/<code>/outcomes")
@operation("Cases", CaseOutcomes, scope="cases:read", errors=(404,))
def show_outcomes(code: str):
    """A case's outcomes, measure by measure

    Pre, post and the change between them, classified as NHS Talking Therapies do
    (`reliable_improvement`, `no_reliable_change` or `reliable_deterioration`), with recovery and
    reliable recovery where the measure has a clinical cut-off (null where it has none).
    """
    case = _load_case(code)
    return CaseOutcomes(case=case.code, measures=[_measure_outcome(item) for item in case_feedback(case)])


# --- links for the client -----------------------------------------------------------------------------


def _invitation_fields(invitation: MeasureInvitation) -> dict:
    return {
        "id": invitation.id,
        "measures": list(invitation.measure_codes),
        "timepoint": invitation.timepoint,
        "status": invitation.status(utcnow()),
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "used_at": invitation.used_at,
        "revoked_at": invitation.revoked_at,
    }


@bp.get("/cases/<code>/invitations")
@operation("Cases", InvitationPage, scope="cases:read", errors=(404,), paginated=True)
def list_invitations(code: str, query: Paging):
    """Links made for the client to answer on their phone, newest first

    Each link's status and dates, never the link itself: vigtrain keeps only a digest of it, so the
    `url` is returned once, when the link is made, and no request can return it again.
    """
    case = _load_case(code)
    statement = (
        select(MeasureInvitation)
        .where(MeasureInvitation.case_id == case.id)
        .order_by(MeasureInvitation.created_at.desc(), MeasureInvitation.id.desc())
    )
    fields, headers = page_of(statement, query, lambda rows: [InvitationOut(**_invitation_fields(row)) for row in rows])
    return InvitationPage(**fields), 200, headers


@bp.post("/cases/<code>/invitations")
@operation("Cases", InvitationCreated, scope="cases:write", status=201, errors=(403, 404, 409))
def create_invitation(code: str, json: InvitationCreate):
    """Invite the client to answer measures on their own phone

    The answer holds the link (`url`) for the client, once: show it as a QR code or send it in the
    way your service allows (vigtrain sends the client nothing). The client answers each measure on
    their phone without signing in, and the answers are recorded on the case, scored, dated the day
    they are sent; a risk item answered alerts the practitioner and their supervisor by email. The
    link works once, until the end of its last day. Refused (422, on `measures`) for a measure whose
    wording may not be shown (unless the case's service holds live licensed wording for it), one
    listed twice, or one already recorded at that timepoint; refused
    (409) while the case is closed or the client has not consented to the Data Collection System.
    """
    user = api_user()
    case = _load_case(code)
    require(can_invite_client(user, case), "only the practitioner invites the client")
    invitation, token = transactions.run(
        lambda: invitations.create_invitation(user, case, list(json.measures), json.timepoint),
        refusal=domain_problem,
    )
    return InvitationCreated(url=client_link(token), **_invitation_fields(invitation)), 201


@bp.delete("/cases/<code>/invitations/<int:invitation_id>")
@operation("Cases", None, scope="cases:write", status=204, errors=(403, 404, 409))
def revoke_invitation(code: str, invitation_id: int):
    """Revoke a link the client has not used

    It stops working at once; a client who opens it is told it was cancelled. Only a `pending` link
    can be revoked (409 otherwise).
    """
    user = api_user()
    case = _load_case(code)
    invitation = db.session.get(MeasureInvitation, invitation_id)
    require(invitation is not None and invitation.case_id == case.id, "no such invitation on this case", 404)
    require(can_invite_client(user, case), "only the practitioner revokes the client's links")
    transactions.run(lambda: invitations.revoke_invitation(user, invitation), refusal=domain_problem)
    return "", 204
