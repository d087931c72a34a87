"""Each person's notifications: the list, one notification, marking read, and how to be told."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, form_status, whole_number
from vigtrain.notifications import inbox
from vigtrain.notifications.forms import preferences_form
from vigtrain.notifications.models import Delivery, Notification, NotificationKind
from vigtrain.pagination import paginate
from vigtrain.security import login_required, require

bp = Blueprint("inbox", __name__, url_prefix="/notifications")


def _own(notification_id: int) -> Notification:
    """One of the signed-in person's notifications; anyone else's is not found."""
    notification = db.session.get(Notification, notification_id)
    require(notification is not None and notification.recipient_id == current_user.id, "not their notification", 404)
    return notification


@bp.route("")
@login_required
def list_notifications():
    unread_only = request.args.get("show") == "unread"
    page = paginate(inbox.inbox_query(current_user, unread_only), request.args.get("page"))
    newest = page.items[0].id if page.items and page.page == 1 else None
    return render_template(
        "notifications/inbox.html",
        page=page,
        unread_only=unread_only,
        newest=newest,
        action_form=ActionForm(),
    )


@bp.route("/<int:notification_id>")
@login_required
def show_notification(notification_id: int):
    """Opening a notification reads it, as opening an email does."""
    notification = _own(notification_id)
    transactions.run(lambda: inbox.mark_read(notification))
    return render_template("notifications/show_notification.html", notification=notification)


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    notification = _own(notification_id)
    form = ActionForm()
    require(form.validate_on_submit(), "bad mark-read request", 400)
    transactions.run(lambda: inbox.mark_read(notification))
    flash(f"Marked as read: {notification.title}", "success")
    return redirect(url_for("inbox.list_notifications"))


@bp.route("/read-all", methods=["POST"])
@login_required
def mark_all_read():
    form = ActionForm()
    require(form.validate_on_submit(), "bad mark-all-read request", 400)
    # Up to the newest the page showed: one that arrived while the person read the page stays unread.
    # Without it, everything unread; with one that is no id, nothing (it is not a page's request).
    given = request.form.get("up_to")
    up_to = whole_number(given)
    require(given is None or up_to is not None, "bad mark-all-read request", 400)
    count = transactions.run(lambda: inbox.mark_all_read(current_user, up_to))
    flash(f"{count} marked as read." if count else "Nothing was unread.", "success")
    return redirect(url_for("inbox.list_notifications"))


def _kinds_for(user) -> list[NotificationKind]:
    return [kind for kind in NotificationKind if kind.chosen_by_person and user.has_role(*kind.audience)]


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def preferences():
    kinds = _kinds_for(current_user)
    form = preferences_form(kinds, inbox.preferences(current_user))
    if form.validate_on_submit():
        choices = {kind: Delivery(form[kind.value].data) for kind in kinds}
        changed = transactions.run(lambda: inbox.set_preferences(current_user, choices))
        flash("Your notification settings have been saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("inbox.preferences"))
    return render_template(
        "notifications/preferences.html",
        form=form,
        kinds=kinds,
        risk=current_user.has_role(*NotificationKind.RISK_ALERT.audience),
    ), form_status(form)
