"""Who may do what: every permission predicate and access decorator lives here.

Predicates are plain functions of (actor, thing) so services, views, the API and tests all ask
the same question the same way. Denials answer 403 (or 404 where even existence is private) and
are logged without detail reaching the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from vigtrain.accounts.models import Role, User
from vigtrain.api_tokens.models import PersonalAccessToken
from vigtrain.casework.models import Case
from vigtrain.certificates.models import Certificate, TrainingTranscript
from vigtrain.extensions import db
from vigtrain.organisations.models import Service
from vigtrain.pathways.models import AssessmentKind, Enrolment, EnrolmentStatus, StageRecord, StageState

if TYPE_CHECKING:  # supervision asks these questions, so it is not imported back
    from vigtrain.cohorts.models import Cohort
    from vigtrain.supervision.models import SupervisionSession

log = logging.getLogger("vigtrain.security")

F = TypeVar("F", bound=Callable[..., Any])


# --- predicates -------------------------------------------------------------------------------


def is_administrator(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(Role.ADMINISTRATOR))


def can_manage_accounts(user: User | None) -> bool:
    return is_administrator(user)


def can_manage_services(user: User | None) -> bool:
    return is_administrator(user)


def can_import_people(user: User | None) -> bool:
    """Bulk import creates accounts and enrolments for a whole intake: administrators only."""
    return is_administrator(user)


def can_read_audit_trail(user: User | None) -> bool:
    return is_administrator(user)


def can_read_outbox(user: User | None) -> bool:
    return is_administrator(user)


def can_run_jobs(user: User | None) -> bool:
    """Administrators see the scheduled jobs and may run one now (once per period, as the scheduler)."""
    return is_administrator(user)


def can_manage_capacity(user: User | None) -> bool:
    """See every supervisor's load and set how many trainees each takes on."""
    return is_administrator(user)


def can_change_account(actor: User | None, target: User) -> bool:
    """Administrators change any account, but never their own roles or active flag, and never an erased
    person's (the account is a tombstone: turning it back on would bring the person back)."""
    return is_administrator(actor) and actor.id != target.id and not target.is_erased


def can_erase_person(actor: User | None, person: User) -> bool:
    """Erasure under UK GDPR: administrators only, and never their own account (another must do it)."""
    return is_administrator(actor) and actor.id != person.id


def can_export_personal_data(actor: User | None, person: User) -> bool:
    """Subject access: a person downloads everything held about themselves; administrators answer
    such a request for anyone. Nobody else, whatever their relationship to the person."""
    if actor is None or not actor.is_authenticated:
        return False
    return actor.id == person.id or is_administrator(actor)


# --- training records -------------------------------------------------------------------------
# Access follows relationships: the trainee, their personal supervisor, the accrediting supervisor
# asked for a stage, and administrators. Nobody signs off their own work.


def can_enrol(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(Role.ADMINISTRATOR, Role.SUPERVISOR))


def can_view_enrolment(user: User | None, enrolment: Enrolment) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        user.id in (enrolment.trainee_id, enrolment.supervisor_id)
        or is_administrator(user)
        or _accrediting(user, enrolment)
    )


def _accrediting(user: User, enrolment: Enrolment) -> bool:
    """An accrediting supervisor sees the record they were asked to accredit until their part is over."""
    return user.has_role(Role.ACCREDITING_SUPERVISOR) and any(
        stage.accrediting_supervisor_id == user.id and not accreditation_over(stage) for stage in enrolment.stages
    )


def accreditation_over(stage: StageRecord) -> bool:
    """Finished, and (for a final stage) ratified by AVIGuk: nothing left for the accreditor to do."""
    if stage.state is StageState.ACCREDITED:
        return not stage.is_final
    return stage.state in (StageState.RATIFIED, StageState.COMPLETE, StageState.EXEMPT)


def can_manage_enrolment(user: User | None, enrolment: Enrolment) -> bool:
    """Change supervisor or status: administrators, and the personal supervisor (not for themselves)."""
    if user is None or not user.is_authenticated or user.id == enrolment.trainee_id:
        return False
    return is_administrator(user) or user.id == enrolment.supervisor_id


def can_see_forecast(user: User | None, enrolment: Enrolment) -> bool:
    """The trainee and their personal supervisor, who plan the work together; others who may read
    the record (administrators, an accrediting supervisor) have no use for a guess at a date."""
    if user is None or not user.is_authenticated:
        return False
    return user.id in (enrolment.trainee_id, enrolment.supervisor_id)


def can_submit_stage(user: User | None, record: StageRecord) -> bool:
    return bool(user is not None and user.is_authenticated and user.id == record.enrolment.trainee_id)


def can_sign_off_stage(user: User | None, record: StageRecord) -> bool:
    enrolment = record.enrolment
    return bool(
        user is not None
        and user.is_authenticated
        and user.id == enrolment.supervisor_id
        and user.id != enrolment.trainee_id
        and user.has_role(Role.SUPERVISOR)
    )


def can_request_accreditor(user: User | None, record: StageRecord) -> bool:
    if user is None or not user.is_authenticated or user.id == record.enrolment.trainee_id:
        return False
    return is_administrator(user) or can_sign_off_stage(user, record)


def can_accredit_stage(user: User | None, record: StageRecord) -> bool:
    """Only the accrediting supervisor asked for this stage, never the personal supervisor or trainee."""
    enrolment = record.enrolment
    return bool(
        user is not None
        and user.is_authenticated
        and record.accrediting_supervisor_id == user.id
        and user.id not in (enrolment.supervisor_id, enrolment.trainee_id)
        and user.has_role(Role.ACCREDITING_SUPERVISOR)
    )


def can_ratify_stage(user: User | None, record: StageRecord) -> bool:
    enrolment = record.enrolment
    return is_administrator(user) and user.id not in (
        enrolment.trainee_id,
        enrolment.supervisor_id,
        record.accrediting_supervisor_id,
    )


def can_record_exemption(user: User | None, record: StageRecord) -> bool:
    return is_administrator(user) and user.id != record.enrolment.trainee_id


def can_confirm_attendance(user: User | None, record: StageRecord) -> bool:
    if user is None or not user.is_authenticated or user.id == record.enrolment.trainee_id:
        return False
    return is_administrator(user) or user.id == record.enrolment.supervisor_id


def can_assess_stage(user: User | None, record: StageRecord, kind: AssessmentKind) -> bool:
    if kind is AssessmentKind.SELF:
        return can_submit_stage(user, record)
    return can_sign_off_stage(user, record)


def can_read_statement(user: User | None, record: StageRecord) -> bool:
    return can_view_enrolment(user, record.enrolment)


def can_view_case(user: User | None, case: Case) -> bool:
    """The practitioner who owns the case, their current personal supervisor (read only), and administrators."""
    if user is None or not user.is_authenticated:
        return False
    return user.id == case.practitioner_id or is_administrator(user) or supervises(user, case.practitioner_id)


def supervises(user: User, trainee_id: int) -> bool:
    """True while the user is the trainee's personal supervisor on an active or paused enrolment.

    Once the training ends (completed or withdrawn) or another supervisor takes over, the former
    supervisor no longer reads the practitioner's cases, including any they open later.
    """
    if not user.has_role(Role.SUPERVISOR):
        return False
    current = select(Enrolment.id).where(
        Enrolment.trainee_id == trainee_id,
        Enrolment.supervisor_id == user.id,
        Enrolment.status.in_((EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED)),
    )
    return db.session.scalar(current.limit(1)) is not None


def can_change_case(user: User | None, case: Case) -> bool:
    return bool(user is not None and user.is_authenticated and user.id == case.practitioner_id)


def can_invite_client(user: User | None, case: Case) -> bool:
    """Give the client a link to answer measures on their phone, or revoke one: only the case's practitioner.

    The answers land in their case and a risk answered alone reaches them first, so nobody else hands
    out links, a reading supervisor included. Whether the case is open and consented is the service's
    rule, refused with a reason.
    """
    return can_change_case(user, case) and bool(user.is_active_flag)


def can_keep_cases(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(Role.PRACTITIONER, Role.TRAINEE))


# --- supervision ------------------------------------------------------------------------------
#
# Who logs: the trainee, for their own enrolment, naming any active supervisor (their personal
# supervisor by default); or the trainee's personal supervisor, on the trainee's behalf, who is
# then always the session's supervisor. The same holds for an accredited practitioner's continuing
# record, the enrolment that carries on after ratification. Another supervisor (one who ran a
# group, say) does not log into someone else's trainee's record: the trainee logs it naming them,
# and they confirm it.
# Who confirms or queries: only the session's supervisor, holding the supervisor role, and never
# the trainee of the enrolment. Whether the enrolment is active is a rule of the services (with a
# message), not a question of access.


def can_log_supervision(user: User | None, enrolment: Enrolment) -> bool:
    """The trainee, or their personal supervisor on the trainee's behalf."""
    if user is None or not user.is_authenticated:
        return False
    if user.id == enrolment.trainee_id:
        return True
    return user.id == enrolment.supervisor_id and user.has_role(Role.SUPERVISOR)


def can_log_continuing_supervision(user: User | None) -> bool:
    """An accredited practitioner whose training record carries on (see `Enrolment.is_continuing`)."""
    if user is None or not user.is_authenticated:
        return False
    continuing = select(Enrolment.id).where(Enrolment.trainee_id == user.id, Enrolment.is_continuing)
    return db.session.scalar(continuing.limit(1)) is not None


def can_confirm_supervision(user: User | None, session: SupervisionSession) -> bool:
    """Only the session's supervisor, never the trainee it is about."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.id == session.supervisor_id
        and user.id != session.enrolment.trainee_id
        and user.has_role(Role.SUPERVISOR)
    )


def can_view_supervision_log(user: User | None, enrolment: Enrolment) -> bool:
    """The whole log: whoever may see the enrolment (trainee, supervisors of its stages, administrators)."""
    return can_view_enrolment(user, enrolment)


def can_view_supervision_session(user: User | None, session: SupervisionSession) -> bool:
    """One session: whoever may see the log, and the supervisor named on the session."""
    if user is None or not user.is_authenticated:
        return False
    return user.id == session.supervisor_id or can_view_supervision_log(user, session.enrolment)


def can_change_supervision(user: User | None, session: SupervisionSession) -> bool:
    """Change (and resubmit) a session not yet confirmed: the trainee, or whoever logged it."""
    return can_log_supervision(user, session.enrolment) and user.id in (
        session.enrolment.trainee_id,
        session.logged_by_id,
    )


# --- certificates -------------------------------------------------------------------------------
# Holders see and download their own certificates and ask for their renewal; administrators issue
# and manage them, but never their own (as nobody ratifies their own accreditation).


def can_view_certificate(user: User | None, certificate: Certificate) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.id == certificate.holder_id or is_administrator(user)


def can_request_renewal(user: User | None, certificate: Certificate) -> bool:
    """Asking AVIGuk to renew an accreditation is the holder's own request."""
    return bool(user is not None and user.is_authenticated and user.id == certificate.holder_id)


def can_offer_to_wallet(user: User | None, certificate: Certificate) -> bool:
    """Only the holder sends a certificate to a digital wallet: it is bound to the wallet's key, so an
    administrator (who may download anyone's) must not put someone else's into their own wallet."""
    return bool(user is not None and user.is_authenticated and user.id == certificate.holder_id)


def can_manage_certificates(user: User | None) -> bool:
    """See every certificate, the issue queue and bulk issues."""
    return is_administrator(user)


def can_create_transcript(user: User | None, holder: User) -> bool:
    """A training transcript is made by its holder, or by an administrator for anyone."""
    if user is None or not user.is_authenticated:
        return False
    return user.id == holder.id or can_manage_certificates(user)


def can_view_transcript(user: User | None, transcript: TrainingTranscript) -> bool:
    """Its holder and administrators see and download a transcript (anyone may verify it by number)."""
    if user is None or not user.is_authenticated:
        return False
    return user.id == transcript.holder_id or can_manage_certificates(user)


def can_issue_certificate(user: User | None, record: StageRecord) -> bool:
    return is_administrator(user) and user.id != record.enrolment.trainee_id


def can_change_certificate(user: User | None, certificate: Certificate) -> bool:
    """Renew, revoke or reissue: administrators, never for their own certificate."""
    return is_administrator(user) and user.id != certificate.holder_id


def can_choose_register_listing(user: User | None, practitioner: User) -> bool:
    """Appearing in the public register is the practitioner's own choice: nobody makes it for them."""
    return bool(user is not None and user.is_authenticated and user.id == practitioner.id)


# --- outcome reports (DCS) ----------------------------------------------------------------------
# Practitioners and trainees see their own cases unsuppressed and their own service's report, as the
# DCS promises; service leads their service's; administrators every level and the research export.


def can_view_practitioner_report(user: User | None) -> bool:
    return can_keep_cases(user)


def can_view_service_report(user: User | None, service: Service | None) -> bool:
    if service is None or user is None or not user.is_authenticated:
        return False
    if is_administrator(user):
        return True
    return user.service_id == service.id and user.has_role(Role.PRACTITIONER, Role.TRAINEE, Role.SERVICE_LEAD)


def can_view_regional_report(user: User | None) -> bool:
    return is_administrator(user)


def can_view_national_report(user: User | None) -> bool:
    return is_administrator(user)


def can_export_dcs(user: User | None) -> bool:
    return is_administrator(user)


def can_manage_licensed_wording(user: User | None) -> bool:
    """Enter or remove a service's licensed measure wording: it is shown to clients on that licence's terms."""
    return is_administrator(user)


# --- API tokens ---------------------------------------------------------------------------------
# Any active person may make tokens for their own account: a token never does more than its owner
# could do on the pages, because the API asks these same questions. Nobody makes a token for anyone
# else (an operator can, at the command line). Administrators may revoke anyone's.


def can_create_api_token(user: User | None, owner: User) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active_flag and user.id == owner.id)


def can_view_api_tokens(user: User | None, owner: User) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.id == owner.id or is_administrator(user)


def can_revoke_api_token(user: User | None, token: PersonalAccessToken) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.id == token.user_id or is_administrator(user)


# A token shows its owner's training records (the ids progress and supervision ask for) only if one
# of its scopes is about their training.
TRAINING_SCOPES = frozenset({"enrolments:read", "supervision:read", "supervision:write"})


def can_token_list_training(scopes: frozenset[str]) -> bool:
    return bool(scopes & TRAINING_SCOPES)


# --- cohorts --------------------------------------------------------------------------------------
# Administrators run cohorts; a cohort's course lead sees its figures and members' progress, but
# opens no trainee's record through it (`can_view_enrolment` is unchanged).


def can_manage_cohorts(user: User | None) -> bool:
    return is_administrator(user)


def can_view_cohort(user: User | None, cohort: Cohort) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return is_administrator(user) or (cohort.lead_id is not None and cohort.lead_id == user.id)


def needs_second_factor_enrolment(user: User | None) -> bool:
    """Administrators must enrol a second factor where the configuration requires it."""
    return (
        is_administrator(user) and not user.second_factor_enabled and current_app.config["REQUIRE_ADMIN_SECOND_FACTOR"]
    )


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


# --- denial ------------------------------------------------------------------------------------


def deny(reason: str, status: int = 403) -> NoReturn:
    """Log a refused access and answer with a status that reveals nothing.

    The path is whatever the caller sent: logged quoted, with line breaks escaped, so it cannot
    forge a log line of its own.
    """
    user_id = current_user.get_id() if current_user.is_authenticated else "anonymous"
    log.warning(
        "access denied: %s (user=%s endpoint=%s path=%r request=%s)",
        reason,
        user_id,
        request.endpoint,
        request.path,
        g.get("request_id"),
    )
    abort(status)


def require(allowed: bool, reason: str, status: int = 403) -> None:
    """Deny unless `allowed`; the one way views check a predicate."""
    if not allowed:
        deny(reason, status)


# --- decorators ----------------------------------------------------------------------------------


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            flash("Sign in to continue.", "info")
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Signed in and holding at least one of `roles`."""

    def decorator(view: F) -> F:
        @login_required
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                deny(f"needs role {'/'.join(r.value for r in roles)}")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


administrator_required = roles_required(Role.ADMINISTRATOR)
supervisor_required = roles_required(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR)


# --- training flow --------------------------------------------------------------------------------
# Administrators read every scope's figures; a service lead reads their own service's; a cohort's
# course lead reads that cohort's (`can_view_cohort`). Only administrators set the cost rates.


def can_view_service_flow(user: User | None, service: Service | None) -> bool:
    if service is None or user is None or not user.is_authenticated:
        return False
    return is_administrator(user) or (user.has_role(Role.SERVICE_LEAD) and user.service_id == service.id)


def can_view_regional_flow(user: User | None) -> bool:
    return is_administrator(user)


def can_set_cost_rates(user: User | None) -> bool:
    return is_administrator(user)


def can_refresh_flow(user: User | None) -> bool:
    return is_administrator(user)
