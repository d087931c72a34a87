"""The home page, the audit trail viewer, the health check and error pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, text

from vigtrain.accounts.models import User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage, OutboxStatus
from vigtrain.pagination import paginate
from vigtrain.security import administrator_required, is_administrator, login_required

bp = Blueprint("core", __name__)


@bp.route("/")
def index():
    return redirect(url_for("core.home" if current_user.is_authenticated else "accounts.login"))


@bp.route("/home")
@login_required
def home():
    admin_figures = None
    if is_administrator(current_user):
        admin_figures = {
            "users": db.session.scalar(select(func.count()).select_from(User)),
            "invited": db.session.scalar(
                select(func.count()).select_from(User).where(User.password_hash.is_(None), User.is_active_flag)
            ),
            "held": db.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.HELD)
            ),
        }
    return render_template("core/home.html", admin_figures=admin_figures)


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
