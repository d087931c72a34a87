"""The home page, the audit trail viewer, the health checks and error pages."""

from __future__ import annotations

import logging
from contextlib import suppress

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vigtrain import audit
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.services import count_users, invited_count
from vigtrain.api.auth import forget_session_user
from vigtrain.casework.services import case_count
from vigtrain.cohorts.queries import cohorts_led_by
from vigtrain.dates import today
from vigtrain.dcs.queries import completeness
from vigtrain.extensions import db, limiter
from vigtrain.forms import ActionForm, search_words
from vigtrain.notifications.services import held_count
from vigtrain.pagination import paginate, paginate_uncounted
from vigtrain.pathways.queries import supervised_enrolments
from vigtrain.security import (
    administrator_required,
    can_enrol,
    can_keep_cases,
    can_view_service_report,
    is_administrator,
    login_required,
    roles_required,
)
from vigtrain.supervision.queries import awaiting_total, continuing_records
from vigtrain.training import queries

bp = Blueprint("core", __name__)
log = logging.getLogger("vigtrain.health")

# The home page shows the first few of each list and links to the full, paginated page.
HOME_LIST_LIMIT = 10
HOME_QUEUE_LIMIT = 5


@bp.route("/")
def index():
    return redirect(url_for("core.home" if current_user.is_authenticated else "accounts.login"))


@bp.route("/home")
@login_required
def home():
    user = current_user
    admin_figures = None
    if is_administrator(user):
        admin_figures = {
            "users": count_users(),
            "invited": invited_count(),
            "held": held_count(),
            "to_ratify": queries.count(queries.stages_to_ratify()),
            "needing_accreditor": queries.count(queries.stages_needing_accreditor()),
        }
    return render_template(
        "core/home.html",
        admin_figures=admin_figures,
        training=_own_training(user) if user.has_role(Role.TRAINEE) else None,
        continuing=continuing_records(user) if user.has_role(Role.TRAINEE, Role.PRACTITIONER) else [],
        case_count=case_count(user) if can_keep_cases(user) else None,
        outcome_data=completeness(user, HOME_LIST_LIMIT) if can_keep_cases(user) else None,
        invite_form=ActionForm(),
        supervising=_supervising(user) if user.has_role(Role.SUPERVISOR) else None,
        accrediting=_accrediting(user) if user.has_role(Role.ACCREDITING_SUPERVISOR) else None,
        can_enrol=can_enrol(user),
        service_lead=_service_lead(user) if user.has_role(Role.SERVICE_LEAD) else None,
        cohorts_led=queries.first(cohorts_led_by(user), HOME_LIST_LIMIT),
    )


def _own_training(user: User) -> dict:
    rows, returned = queries.own_training(user)
    return {"rows": rows, "returned": returned}


def _supervising(user: User) -> dict:
    trainees = supervised_enrolments(user)
    sign_off = queries.stages_to_sign_off(user)
    return {
        "rows": queries.trainee_rows(queries.first(trainees, HOME_LIST_LIMIT)),
        "total": queries.count(trainees),
        "sign_off": queries.first(sign_off, HOME_QUEUE_LIMIT),
        "sign_off_total": queries.count(sign_off),
        "sessions_to_confirm": awaiting_total(user),
    }


def _accrediting(user: User) -> dict:
    requests = queries.stages_to_accredit(user)
    stages = queries.first(requests, HOME_QUEUE_LIMIT)
    return {"stages": stages, "total": queries.count(requests), "asked": queries.asked_dates(stages)}


def _service_lead(user: User) -> dict:
    """The lead's own service only: its id comes from their account, never from the request."""
    if user.service_id is None:
        return {"service": None}
    staff = queries.service_staff(user.service_id)
    rows = queries.trainee_rows(queries.first(staff, HOME_LIST_LIMIT))
    return {
        "service": user.service,
        "rows": rows,
        "waiting": queries.waiting_on(rows, today()),
        "total": queries.count(staff),
        "report": can_view_service_report(user, user.service),
    }


@bp.route("/service/staff")
@roles_required(Role.SERVICE_LEAD)
def service_staff():
    """Every open enrolment at the lead's own service; no argument can name another service."""
    user = current_user
    if user.service_id is None:
        return render_template("core/service_staff.html", service=None)
    page = paginate(queries.service_staff(user.service_id), request.args.get("page"))
    rows = queries.trainee_rows(page.items)
    return render_template(
        "core/service_staff.html", service=user.service, page=page, rows=rows, waiting=queries.waiting_on(rows, today())
    )


@bp.route("/admin/audit")
@administrator_required
def list_audit_events():
    # Actions are lower-case dotted names; the filter reads them the same way on every database.
    action = search_words(request.args.get("action"), 80).lower()
    entity = search_words(request.args.get("entity"), 60)
    page = paginate_uncounted(audit.event_ids_matching(action, entity), request.args.get("page"))
    page.items = audit.events_by_id(page.items)
    return render_template("core/audit_events.html", page=page, action=action, entity=entity)


# --- health checks for load balancers and orchestrators -------------------------------------------

PROBES = frozenset({"core.health", "core.ready"})


@bp.before_app_request
def _probes_are_anonymous() -> None:
    """Who is signed in is no part of whether vigtrain is up: a probe never reads the session cookie."""
    if request.endpoint in PROBES:
        forget_session_user()


@bp.route("/healthz")
@limiter.exempt
def health():
    """Liveness: the process answers. It never touches the database, so a database outage does not
    get every worker restarted; `/readyz` says whether this worker can serve."""
    return {"status": "ok"}


@bp.route("/readyz")
@limiter.exempt
def ready():
    """Readiness: the database answers, and so does Redis when the rate limits are kept there.

    The answer names each check's state and nothing more: no address, no error text.
    """
    checks = {"database": _database_state(), "redis": _redis_state()}
    if "unavailable" in checks.values():
        retry_after = str(current_app.config["DATABASE_RETRY_AFTER"])
        return {"status": "unavailable", "checks": checks}, 503, {"Retry-After": retry_after}
    return {"status": "ready", "checks": checks}


def _database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        with suppress(SQLAlchemyError):
            db.session.rollback()
        log.warning("not ready: the database did not answer (%s)", type(error).__name__)
        return "unavailable"
    db.session.rollback()
    return "ok"


def _redis_state() -> str:
    if not current_app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        return "not configured"
    if limiter.storage.check():
        return "ok"
    log.warning("not ready: the rate limits' Redis did not answer")
    return "unavailable"
