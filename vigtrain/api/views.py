"""The token's owner, the measure library, training progress and public certificate facts."""

from __future__ import annotations

from flask import current_app, url_for

from vigtrain.accounts.models import User
from vigtrain.api import bp
from vigtrain.api.auth import api_user, token_scopes
from vigtrain.api.openapi import operation
from vigtrain.api.paging import page_of_list
from vigtrain.api.problems import ApiProblem
from vigtrain.api.schemas import (
    MAX_ID,
    BandOut,
    CasenessOut,
    CertificateFacts,
    EnrolmentRef,
    ItemOut,
    Me,
    MeasureDetail,
    MeasurePage,
    MeasureSummary,
    MissingOut,
    OptionOut,
    Paging,
    PathwayRef,
    PersonRef,
    Progress,
    ReliableChangeOut,
    RequirementOut,
    RiskOut,
    ScoringOut,
    ServiceRef,
    StageOut,
    SubscaleOut,
)
from vigtrain.api_tokens.models import SCOPES
from vigtrain.certificates import badges
from vigtrain.certificates.services import canonical_number, find_certificate, number_problem
from vigtrain.dates import today
from vigtrain.dcs.measures import Measure, get_measure, library
from vigtrain.extensions import db, limiter
from vigtrain.pathways.models import Enrolment
from vigtrain.security import can_token_list_training, can_view_enrolment, require
from vigtrain.supervision.queries import own_enrolments
from vigtrain.training.progress import StageProgress, overall_percent, progress_for


def person(user: User) -> PersonRef:
    return PersonRef(id=user.id, name=user.display_name)


def enrolment_ref(enrolment: Enrolment) -> EnrolmentRef:
    version = enrolment.pathway_version
    return EnrolmentRef(
        id=enrolment.id,
        pathway=PathwayRef(code=version.code, version=version.version, name=version.name),
        status=enrolment.status,
        start_date=enrolment.start_date,
        supervisor=person(enrolment.supervisor) if enrolment.supervisor else None,
        links={"progress": url_for("api.show_progress", enrolment_id=enrolment.id)},
    )


# --- me -------------------------------------------------------------------------------------------


@bp.get("/me")
@operation("Account", Me)
def me():
    """Who the token acts for

    The token's owner, what the token may do, and the training records where they are the trainee
    (the `id` of one is what supervision sessions and progress ask for). Training records are
    listed only to a token with `enrolments:read`, `supervision:read` or `supervision:write`.
    """
    user = api_user()
    shows_training = can_token_list_training(token_scopes())
    return Me(
        id=user.id,
        email=user.email,
        name=user.display_name,
        roles=sorted(user.roles),
        service=ServiceRef(id=user.service.id, name=user.service.name) if user.service else None,
        scopes=[name for name in SCOPES if name in token_scopes()],
        enrolments=[enrolment_ref(enrolment) for enrolment in own_enrolments(user)] if shows_training else [],
    )


# --- measures -------------------------------------------------------------------------------------


def measure_summary(measure: Measure) -> MeasureSummary:
    return MeasureSummary(
        code=measure.code,
        version=measure.version,
        name=measure.name,
        description=measure.description,
        direction=measure.direction,
        item_count=len(measure.items),
        min_score=measure.min_score,
        max_score=measure.max_score,
        links={"self": url_for("api.show_measure", code=measure.code)},
    )


@bp.get("/measures")
@operation("Measures", MeasurePage, paginated=True)
def list_measures(query: Paging):
    """The outcome measure library

    The current version of each measure, in the order the pages show them.
    """
    fields, headers = page_of_list(list(library().values()), query, measure_summary)
    return MeasurePage(**fields), 200, headers


@bp.get("/measures/<code>")
@operation("Measures", MeasureDetail, errors=(404,))
def show_measure(code: str):
    """One measure: its items, answers and how they score

    `options` give each answer's `position`: send that in an administration's `responses`.
    Codes are those of the library, e.g. `PHQ-9`, `GAD-7`, `SWEMWBS`, `GBO`, `VIG-SCALING`.
    """
    measure = get_measure(code)
    if measure is None:
        raise ApiProblem(404, f"There is no measure with the code {code!r}. GET /api/v1/measures lists them.")
    return MeasureDetail(
        code=measure.code,
        version=measure.version,
        name=measure.name,
        description=measure.description,
        completed_by=measure.completed_by,
        recall_period=measure.recall_period,
        stem=measure.stem,
        direction=measure.direction,
        licence=measure.licence,
        item_text_allowed=measure.item_text_allowed,
        items=[
            ItemOut(
                number=item.number,
                text=item.text,
                label=item.label,
                options=[
                    OptionOut(position=position, label=option.label, score=option.score)
                    for position, option in enumerate(measure.options_for(item.number))
                ],
            )
            for item in measure.items
        ],
        scoring=ScoringOut(
            method=measure.scoring.method,
            min_score=measure.min_score,
            max_score=measure.max_score,
            converted=measure.scoring.conversion is not None,
        ),
        missing=MissingOut(
            rule=measure.missing.rule,
            max_missing=measure.missing.max_missing,
            min_answered=measure.missing.min_answered,
            required=list(measure.missing.required),
            note=measure.missing.note,
        ),
        subscales=[
            SubscaleOut(code=subscale.code, name=subscale.name, items=list(subscale.items))
            for subscale in measure.subscales
        ],
        bands=[BandOut(label=band.label, min=band.min, max=band.max) for band in measure.bands],
        caseness=(
            CasenessOut(
                threshold=measure.caseness.threshold,
                direction=measure.caseness.direction,
                label=measure.caseness.label,
            )
            if measure.caseness
            else None
        ),
        reliable_change=ReliableChangeOut(points=measure.reliable_change, status=measure.reliable_change_basis.status),
        risks=[
            RiskOut(
                code=risk.code,
                item=risk.item,
                subscale=risk.subscale,
                at_or_above=risk.at_or_above,
                message=risk.message,
            )
            for risk in measure.risks
        ],
    )


# --- progress -------------------------------------------------------------------------------------


def stage_out(progress: StageProgress) -> StageOut:
    record = progress.record
    return StageOut(
        code=record.stage_code,
        name=progress.stage.name,
        position=record.position,
        state=record.state,
        state_label=record.state.label,
        started_on=record.started_on,
        ended_on=record.ended_on,
        percent=progress.percent,
        all_met=progress.all_met,
        requirements=[
            RequirementOut(
                kind=status.kind,
                title=status.title,
                value=status.value,
                target=status.requirement.target,
                met=status.met,
                exempt=status.exempt,
                percent=status.percent,
                figure=status.figure,
                left=status.left,
            )
            for status in progress.requirements
        ],
    )


@bp.get(f"/enrolments/<int(max={MAX_ID}):enrolment_id>/progress")
@operation("Training", Progress, scope="enrolments:read", errors=(404,))
def show_progress(enrolment_id: int):
    """Progress of one training record, stage by stage

    The same figures as the record's task list: each requirement's value against its target, and
    what is left to do. The trainee, their supervisors and administrators may read it.
    """
    enrolment = db.session.get(Enrolment, enrolment_id)
    require(
        enrolment is not None and can_view_enrolment(api_user(), enrolment), "no such enrolment, or not theirs", 404
    )
    stages = progress_for([enrolment])[enrolment.id]
    current = enrolment.current_stage
    return Progress(
        enrolment=enrolment_ref(enrolment),
        trainee=person(enrolment.trainee),
        overall_percent=overall_percent(stages),
        current_stage=current.stage_code if current else None,
        stages=[stage_out(stage) for stage in stages],
    )


# --- certificates ---------------------------------------------------------------------------------


@bp.get("/certificates/<number>")
@limiter.shared_limit(lambda: current_app.config["VERIFY_RATE_LIMIT"], scope="verify-pages")
@operation("Certificates", CertificateFacts, public=True, errors=(404,))
def show_certificate(number: str):
    """Verify a certificate from its number

    The verification page's facts, for software: holder, credential, status today (valid, expired,
    revoked with its reason, suspended with its reason and the day it ends, or superseded by its
    renewal) and dates. Numbers read leniently
    (case, spaces, O for 0). It shares the verification page's limit on requests per address.
    """
    canonical = canonical_number(number)
    certificate = find_certificate(canonical) if canonical else None
    if certificate is None:
        detail = number_problem(number) if canonical is None else f"No certificate has the number {canonical}."
        raise ApiProblem(404, detail or "No certificate has this number.")
    facts = badges.certificate_facts(certificate, today(), current_app.config["BASE_URL"])
    # Only the facts the verification page gives for this certificate (no nulls for reasons it lacks).
    return CertificateFacts.model_validate(facts).model_dump(mode="json", exclude_unset=True)
