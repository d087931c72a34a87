"""DCS outcome reports (practitioner, service, regional, national) and the research export."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from vigtrain import audit, transactions
from vigtrain.dates import format_datetime, today, utcnow
from vigtrain.dcs import export, reports
from vigtrain.dcs.report_forms import ExportForm, filter_form
from vigtrain.dcs.reports import Level, Scope
from vigtrain.extensions import db
from vigtrain.forms import form_status
from vigtrain.organisations.models import Region, Service
from vigtrain.pagination import query_args
from vigtrain.security import (
    can_export_dcs,
    can_view_national_report,
    can_view_practitioner_report,
    can_view_regional_report,
    can_view_service_report,
    login_required,
    require,
)

bp = Blueprint("reports", __name__, url_prefix="/reports")

LEVEL_CAPTIONS = {
    Level.PRACTITIONER: "Your own cases",
    Level.SERVICE: "Service report",
    Level.REGION: "Regional report",
    Level.NATIONAL: "National report",
}


def _attachment(body, filename: str, mimetype: str = "text/csv") -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _services() -> list[tuple[int, str]]:
    statement = select(Service.id, Service.name).order_by(Service.name)
    return [(row.id, row.name) for row in db.session.execute(statement)]


def _regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.name)))


STALE_AFTER = timedelta(hours=2)  # the hourly refresh has missed a run: say so


def freshness(published: reports.Published | None) -> str | None:
    """How fresh a national or regional report's figures are (lower levels are always worked out now)."""
    if published is None or published.report.scope.level not in (Level.REGION, Level.NATIONAL):
        return None
    kept_at = published.report.kept_at
    if kept_at is None:
        return "Added up just now from the latest data."
    note = ""
    if utcnow() - kept_at > STALE_AFTER:
        note = " The hourly refresh seems not to be running: check the scheduled jobs."
    return (
        f"Figures as of {format_datetime(kept_at)}; they are added up again every hour, so cases recorded "
        f"since then appear after the next refresh.{note}"
    )


def _report(scope: Scope, title: str, slug: str):
    """Validate the filters, build and publish the report, then answer with the page or its CSV."""
    output = request.args.get("format") or "html"
    if output not in ("html", "csv"):
        abort(400)
    form = filter_form(scope.level, request.args)
    published = None
    if form.validate():
        published = reports.publish(reports.build_report(scope, form.filters()))
        if output == "csv":
            measure = published.measure.code.lower()
            return _attachment(export.report_csv(published), f"dcs-{slug}-{measure}-{today():%Y-%m-%d}.csv")
    return render_template(
        "dcs/reports/report.html",
        form=form,
        published=published,
        title=title,
        caption=LEVEL_CAPTIONS[scope.level],
        scope=scope,
        freshness=freshness(published),
        csv_url=url_for(request.endpoint, **(request.view_args or {}), **query_args(format="csv")),
        clear_url=url_for(request.endpoint, **(request.view_args or {})),
    ), form_status(form)


@bp.route("")
@login_required
def index():
    user = current_user
    own_service = user.service if can_view_service_report(user, user.service) else None
    administrator = can_view_national_report(user)
    require(
        can_view_practitioner_report(user) or own_service is not None or administrator,
        "no outcome reports for this person",
    )
    return render_template(
        "dcs/reports/index.html",
        practitioner=can_view_practitioner_report(user),
        own_service=own_service,
        administrator=administrator,
        regions=_regions() if can_view_regional_report(user) else [],
        services=_services() if administrator else [],
        can_export=can_export_dcs(user),
    )


@bp.route("/practitioner")
@login_required
def practitioner_report():
    require(can_view_practitioner_report(current_user), "keeps no cases")
    return _report(Scope(Level.PRACTITIONER, practitioner_id=current_user.id), "Outcomes for your cases", "own")


@bp.route("/service")
@login_required
def own_service_report():
    """The signed-in person's own service, or the one an administrator picked from the list."""
    arguments = query_args()
    chosen = request.args.get("service", type=int)
    arguments.pop("service", None)
    arguments.pop("service_id", None)
    if chosen is not None:
        return redirect(url_for("reports.service_report", service_id=chosen, **arguments))
    service = current_user.service
    if not can_view_service_report(current_user, service):
        flash("Your account is not linked to a service, so there is no service report to show.", "info")
        return redirect(url_for("reports.index"))
    return redirect(url_for("reports.service_report", service_id=service.id, **arguments))


@bp.route("/service/<int:service_id>")
@login_required
def service_report(service_id: int):
    service = db.session.get(Service, service_id)
    require(can_view_service_report(current_user, service), "not their service", 404)
    return _report(Scope(Level.SERVICE, service_id=service.id), f"Outcomes for {service.name}", f"service-{service.id}")


@bp.route("/region/<int:region_id>")
@login_required
def regional_report(region_id: int):
    require(can_view_regional_report(current_user), "regional reports are for administrators")
    region = db.session.get(Region, region_id)
    require(region is not None, "no such region", 404)
    return _report(
        Scope(Level.REGION, region_id=region.id), f"Outcomes in {region.name}", f"region-{region.code.lower()}"
    )


@bp.route("/national")
@login_required
def national_report():
    require(can_view_national_report(current_user), "the national report is for administrators")
    return _report(Scope(Level.NATIONAL), "Outcomes across all services", "national")


# --- the research export --------------------------------------------------------------------------------


@bp.route("/export", methods=["GET", "POST"])
@login_required
def research_export():
    require(can_export_dcs(current_user), "the research export is for administrators")
    form = ExportForm()
    if form.validate_on_submit():
        measure = form.measure.data or None
        transactions.run(
            lambda: audit.record(current_user, "dcs.exported", ("DcsExport", None), after={"measure": measure or "all"})
        )
        name = f"dcs-research-export-{(measure or 'all').lower()}-{today():%Y-%m-%d}.csv"
        return _attachment(stream_with_context(export.stream_csv(measure)), name)
    return render_template("dcs/reports/export.html", form=form, columns=export.COLUMNS), form_status(form)


@bp.route("/export/dictionary.csv")
@login_required
def export_dictionary():
    require(can_export_dcs(current_user), "the research export is for administrators")
    return _attachment(export.dictionary_csv(), "dcs-research-export-data-dictionary.csv")
