"""Erasure: an administrator erases a person, with a recorded reason, keeping what AVIGuk must keep."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from vigtrain import transactions
from vigtrain.accounts.models import User
from vigtrain.extensions import db
from vigtrain.forms import form_status
from vigtrain.pagination import paginate
from vigtrain.privacy import erasure
from vigtrain.privacy.erasure_forms import ErasureForm
from vigtrain.privacy.models import Erasure
from vigtrain.security import administrator_required, can_erase_person, require

bp = Blueprint("erasure", __name__, url_prefix="/admin/erasure")


@bp.route("/")
@administrator_required
def list_erasures():
    """The register of erasures: pseudonym, when, by whom and why (never who the person was)."""
    query = select(Erasure).order_by(Erasure.erased_at.desc(), Erasure.id.desc())
    page = paginate(query, request.args.get("page"))
    return render_template("privacy/erasure_list.html", page=page)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@administrator_required
def erase_person(user_id: int):
    person = db.session.get(User, user_id)
    require(person is not None, "no such user", 404)
    actor = current_user._get_current_object()
    require(can_erase_person(actor, person), "may not erase this person")
    form = ErasureForm(expected_email=person.email)
    if form.validate_on_submit():
        outcome = transactions.submit(form, lambda: erasure.erase_person(actor, person, form.reason.data))
        if outcome:
            # Statement files went when the erasure committed (see `erasure._delete_files_after_commit`).
            flash(f"The person's data was erased. They are now known as {outcome.value.pseudonym}.", "success")
            return redirect(url_for(".list_erasures"))
    return render_template(
        "privacy/erasure_confirm.html",
        person=person,
        form=form,
        preview=erasure.preview(person) if not person.is_erased else None,
        blockers=erasure.blockers(actor, person),
        min_reason=erasure.MIN_REASON,
        max_reason=erasure.MAX_REASON,
    ), form_status(form)
