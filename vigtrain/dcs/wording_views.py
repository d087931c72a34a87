"""Administrators' pages for a service's licensed measure wording: list it, add it, remove it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.dcs import wording
from vigtrain.dcs.forms import wording_form
from vigtrain.dcs.measures import Measure, get_measure
from vigtrain.dcs.models import LicensedWording
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, form_status
from vigtrain.organisations.models import Service
from vigtrain.security import can_manage_licensed_wording, login_required, require

bp = Blueprint("wording", __name__, url_prefix="/admin/services/<int:service_id>/licensed-wording")


def _load_service(service_id: int) -> Service:
    require(can_manage_licensed_wording(current_user), "only administrators manage licensed wording")
    service = db.session.get(Service, service_id)
    require(service is not None, "no such service", 404)
    return service


def _load_wording(service: Service, wording_id: int) -> LicensedWording:
    row = db.session.get(LicensedWording, wording_id)
    require(row is not None and row.service_id == service.id, "no such wording for this service", 404)
    return row


def _load_measure(code: str) -> Measure:
    """Only measures the data files hold without wording have an add page; any other address is not found."""
    measure = get_measure(code)
    require(measure is not None and wording.needs_wording(measure), "no such measure to word", 404)
    return measure


@bp.route("/")
@login_required
def list_wording(service_id: int):
    service = _load_service(service_id)
    rows = wording.service_wordings(service)
    live = {row.measure_code: row for row in rows if row.is_live}
    return render_template(
        "dcs/wording/list.html",
        service=service,
        live=live,
        removed=[row for row in rows if not row.is_live],
        measures=wording.measures_needing_wording(),
        current=lambda row: wording.applies(row, get_measure(row.measure_code)),
    )


@bp.route("/<code>/new", methods=["GET", "POST"])
@login_required
def add_wording(service_id: int, code: str):
    service = _load_service(service_id)
    measure = _load_measure(code)
    form = wording_form(measure)
    if form.validate_on_submit():
        added = transactions.submit(
            form,
            lambda: wording.add_wording(
                current_user,
                service,
                measure.code,
                form.texts(),
                form.stem.data,
                form.licence_reference.data,
                form.answers(),
            ),
            # Two administrators adding at once: the loser runs again and is refused beside the measure.
            retries=1,
        )
        if added:
            flash(
                f"{measure.code} wording added: {service.name}'s clients can now answer it on their phone.", "success"
            )
            return redirect(url_for(".list_wording", service_id=service.id))
    return render_template("dcs/wording/add.html", form=form, service=service, measure=measure), form_status(form)


@bp.route("/<int:wording_id>/remove", methods=["GET", "POST"])
@login_required
def remove_wording(service_id: int, wording_id: int):
    service = _load_service(service_id)
    row = _load_wording(service, wording_id)
    form = ActionForm()
    if form.validate_on_submit() and transactions.submit(form, lambda: wording.remove_wording(current_user, row)):
        flash(f"{row.measure_code} wording removed: {service.name}'s clients see item numbers again.", "success")
        return redirect(url_for(".list_wording", service_id=service.id))
    return render_template("dcs/wording/remove.html", form=form, service=service, wording=row), form_status(form)
