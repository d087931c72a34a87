"""Administrators read the outbox: what was sent, and held messages when SMTP is not set up."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.notifications.services import email_sender
from vigtrain.pagination import paginate
from vigtrain.security import administrator_required, require

bp = Blueprint("notifications", __name__, url_prefix="/admin/outbox")


@bp.route("/")
@administrator_required
def list_messages():
    page = paginate(select(OutboxMessage).order_by(OutboxMessage.id.desc()), request.args.get("page"))
    return render_template("notifications/list_messages.html", page=page, smtp=email_sender().configured)


@bp.route("/<int:message_id>")
@administrator_required
def show_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    require(message is not None, "no such message", 404)
    return render_template("notifications/show_message.html", message=message)
