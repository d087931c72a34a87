"""Subject access: a person downloads everything held about them; an administrator does so for anyone.

The download writes an audit event, so it is a POST (with its CSRF token); the GET pages only say
what the download holds.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.accounts.models import User
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, form_status
from vigtrain.privacy import subject_access
from vigtrain.privacy.access_forms import AdminSubjectAccessForm
from vigtrain.security import administrator_required, can_export_personal_data, login_required, require

bp = Blueprint("subject_access", __name__)


def _actor() -> User:
    return current_user._get_current_object()


def _download(archive: subject_access.Archive) -> Response:
    """The zip as an attachment that no cache keeps and no browser sniffs or renders."""
    response = Response(archive.data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{archive.filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/account/my-data", methods=["GET", "POST"])
@login_required
def my_data():
    person = _actor()
    form = ActionForm()
    if form.validate_on_submit():
        archive = transactions.run(lambda: subject_access.export_personal_data(person, person))
        return _download(archive)
    if form.is_submitted():
        return redirect(url_for(".my_data"))
    return render_template("privacy/access_mine.html", person=person, form=form, sections=subject_access.SECTION_TITLES)


def _load_person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    require(person is not None, "no such user", 404)
    return person


@bp.route("/admin/users/<int:user_id>/data", methods=["GET", "POST"])
@administrator_required
def person_data(user_id: int):
    person = _load_person(user_id)
    actor = _actor()
    require(can_export_personal_data(actor, person), "may not export this person's data")
    form = AdminSubjectAccessForm()
    if form.validate_on_submit():
        note = form.request_note.data
        archive = transactions.run(lambda: subject_access.export_personal_data(actor, person, note))
        return _download(archive)
    return render_template(
        "privacy/access_admin.html", person=person, form=form, sections=subject_access.SECTION_TITLES
    ), form_status(form)
