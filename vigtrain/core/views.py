"""The home page, the audit trail viewer, the health check and error pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, text

from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage, OutboxStatus
from vigtrain.pagination import paginate
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageState, StageTransition
from vigtrain.pathways.queries import supervised_enrolments
from vigtrain.security import administrator_required, can_enrol, can_keep_cases, is_administrator, login_required
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training import queries

bp = Blueprint("core", __name__)

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
            "users": db.session.scalar(select(func.count()).select_from(User)),
            "invited": db.session.scalar(
                select(func.count()).select_from(User).where(User.password_hash.is_(None), User.is_active_flag)
            ),
            "held": db.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.HELD)
            ),
            "to_ratify": queries.count(queries.stages_to_ratify()),
            "needing_accreditor": queries.count(queries.stages_needing_accreditor()),
        }
    return render_template(
        "core/home.html",
        admin_figures=admin_figures,
        training=_own_training(user) if user.has_role(Role.TRAINEE) else None,
        case_count=_case_count(user) if can_keep_cases(user) else None,
        supervising=_supervising(user) if user.has_role(Role.SUPERVISOR) else None,
        accrediting=_accrediting(user) if user.has_role(Role.ACCREDITING_SUPERVISOR) else None,
        can_enrol=can_enrol(user),
    )


def _own_training(user: User) -> dict:
    """The trainee's open and completed enrolments with current-stage progress and comments sent back."""
    enrolments = list(
        db.session.scalars(
            select(Enrolment)
            .where(
                Enrolment.trainee_id == user.id,
                Enrolment.status.in_([*queries.OPEN_ENROLMENT, EnrolmentStatus.COMPLETED]),
            )
            .order_by(Enrolment.start_date, Enrolment.id)
        )
    )
    rows = queries.trainee_rows(enrolments)
    returned_ids = [row.stage.record.id for row in rows if row.stage and row.stage.record.state is StageState.RETURNED]
    returned: dict[int, StageTransition] = {}
    if returned_ids:
        for transition in db.session.scalars(
            select(StageTransition)
            .where(StageTransition.stage_record_id.in_(returned_ids), StageTransition.to_state == StageState.RETURNED)
            .order_by(StageTransition.id)
        ):
            returned[transition.stage_record_id] = transition  # the latest return wins
    return {"rows": rows, "returned": returned}


def _case_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.practitioner_id == user.id))


def _supervising(user: User) -> dict:
    trainees = supervised_enrolments(user)
    sign_off = queries.stages_to_sign_off(user)
    return {
        "rows": queries.trainee_rows(queries.first(trainees, HOME_LIST_LIMIT)),
        "total": queries.count(trainees),
        "sign_off": queries.first(sign_off, HOME_QUEUE_LIMIT),
        "sign_off_total": queries.count(sign_off),
        "sessions_to_confirm": db.session.scalar(
            select(func.count())
            .select_from(SupervisionSession)
            .where(SupervisionSession.supervisor_id == user.id, SupervisionSession.status == SessionStatus.LOGGED)
        ),
    }


def _accrediting(user: User) -> dict:
    requests = queries.stages_to_accredit(user)
    stages = queries.first(requests, HOME_QUEUE_LIMIT)
    return {"stages": stages, "total": queries.count(requests), "asked": queries.asked_dates(stages)}


@bp.route("/admin/audit")
@administrator_required
def list_audit_events():
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    action = (request.args.get("action") or "").strip()[:80]
    entity = (request.args.get("entity") or "").strip()[:60]
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if entity:
        entity_type, _, entity_id = entity.partition(":")
        query = query.where(AuditEvent.entity_type == entity_type)
        if entity_id:
            query = query.where(AuditEvent.entity_id == entity_id)
    page = paginate(query, request.args.get("page"))
    return render_template("core/audit_events.html", page=page, action=action, entity=entity)


@bp.route("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
