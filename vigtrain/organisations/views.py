"""Administrators keep the list of employing services."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from vigtrain import transactions
from vigtrain.extensions import db
from vigtrain.forms import form_status
from vigtrain.organisations import services
from vigtrain.organisations.forms import ServiceForm
from vigtrain.organisations.models import Region, Service, ServiceKind
from vigtrain.pagination import paginate
from vigtrain.security import administrator_required, require

bp = Blueprint("organisations", __name__, url_prefix="/admin/services")


def _form(service: Service | None = None) -> ServiceForm:
    data = {"active": True}
    if service is not None:
        data = {
            "name": service.name,
            "kind": service.kind.value,
            "region": str(service.region_id),
            "active": service.is_active,
        }
    form = ServiceForm(data=data)
    form.region.choices = [("", "Select a region or nation")] + [(str(r.id), r.name) for r in services.regions()]
    return form


@bp.route("/")
@administrator_required
def list_services():
    page = paginate(select(Service).order_by(Service.name), request.args.get("page"))
    return render_template(
        "organisations/list_services.html", page=page, member_counts=services.service_member_counts()
    )


def _save(form: ServiceForm, service: Service | None):
    """Create or update the service from the form; a redirect when saved, None when refused."""
    region = db.session.get(Region, int(form.region.data))
    kind = ServiceKind(form.kind.data)

    def save() -> Service:
        if service is None:
            return services.create_service(current_user, form.name.data, kind, region)
        services.update_service(current_user, service, form.name.data, kind, region, form.active.data)
        return service

    saved = transactions.submit(form, save)
    if not saved:
        return None
    flash(f"{saved.value.name} saved.", "success")
    return redirect(url_for("organisations.list_services"))


@bp.route("/new", methods=["GET", "POST"])
@administrator_required
def create_service():
    form = _form()
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("organisations/edit_service.html", form=form, service=None), form_status(form)


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@administrator_required
def edit_service(service_id: int):
    service = db.session.get(Service, service_id)
    require(service is not None, "no such service", 404)
    form = _form(service)
    if form.validate_on_submit() and (response := _save(form, service)):
        return response
    return render_template("organisations/edit_service.html", form=form, service=service), form_status(form)
