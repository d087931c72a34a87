"""Cohort pages: administrators create and change cohorts and choose their members; a cohort's
course lead sees its page, with the progress of its members but no way into their records."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.accounts import people
from vigtrain.accounts.models import User
from vigtrain.cohorts import queries, services
from vigtrain.cohorts.forms import CohortForm, EditCohortForm, MembersForm
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, form_status
from vigtrain.organisations.models import Region
from vigtrain.organisations.services import regions
from vigtrain.pagination import paginate
from vigtrain.pathways.models import Enrolment, PathwayVersion
from vigtrain.pathways.services import pathway_versions, version_key
from vigtrain.security import (
    administrator_required,
    can_view_cohort,
    is_administrator,
    is_safe_next,
    login_required,
    require,
)

bp = Blueprint("cohorts", __name__)

ADMIN = "/admin/cohorts"


def _actor() -> User:
    return current_user._get_current_object()


def _load(cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    require(cohort is not None, "no such cohort", 404)
    return cohort


def _back(default: str) -> str:
    """Where the records list asked to go back to, if it is a path on this site."""
    target = request.form.get("next")
    return target if is_safe_next(target) else default


# --- the list, creating and changing --------------------------------------------------------------


@bp.route(f"{ADMIN}/")
@administrator_required
def list_cohorts():
    page = paginate(queries.all_cohorts(), request.args.get("page"))
    counts = queries.member_counts(cohort.id for cohort in page.items)
    return render_template("cohorts/list_cohorts.html", page=page, counts=counts)


def _form(form_class: type[CohortForm], data: dict) -> tuple[CohortForm, dict[str, PathwayVersion]]:
    """The form with its choices: every pathway version (a cohort may be on an older one) and region."""
    ordered = sorted(pathway_versions(), key=lambda version: version_key(version.version), reverse=True)
    ordered.sort(key=lambda version: (version.name, version.code))  # stable: each pathway's newest first
    versions = {str(version.id): version for version in ordered}
    form = form_class(data=data)
    form.pathway.choices = [(key, version.label) for key, version in versions.items()]
    form.region.choices = [("", "No region")] + [(str(region.id), region.name) for region in regions()]
    return form, versions


def _details(form: CohortForm, versions: dict[str, PathwayVersion]) -> services.CohortDetails:
    return services.CohortDetails(
        name=form.name.data,
        pathway_version=versions[form.pathway.data],
        region=db.session.get(Region, int(form.region.data)) if form.region.data else None,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        lead=None if form.no_lead.data else people.chosen(form.lead),
    )


@bp.route(f"{ADMIN}/new", methods=["GET", "POST"])
@administrator_required
def create_cohort():
    form, versions = _form(CohortForm, {"starts_on": today()})
    binding = people.bind(form, _actor())
    if not binding.searching and form.validate_on_submit():
        details = _details(form, versions)
        # Two administrators naming cohorts alike at once: the loser runs again and is refused beside the name.
        created = transactions.submit(form, lambda: services.create_cohort(_actor(), details), retries=1)
        if created:
            flash(f"{created.value.name} created.", "success")
            return redirect(url_for(".show_cohort", cohort_id=created.value.id))
    return render_template("cohorts/edit_cohort.html", form=form, cohort=None), form_status(form)


@bp.route(f"{ADMIN}/<int:cohort_id>/edit", methods=["GET", "POST"])
@administrator_required
def edit_cohort(cohort_id: int):
    cohort = _load(cohort_id)
    data = {
        "name": cohort.name,
        "pathway": str(cohort.pathway_version_id),
        "region": str(cohort.region_id) if cohort.region_id else "",
        "starts_on": cohort.starts_on,
        "ends_on": cohort.ends_on,
        "lead": cohort.lead_id,
        "version": cohort.version,
    }
    form, versions = _form(EditCohortForm, data)
    binding = people.bind(form, _actor())
    if not binding.searching and form.validate_on_submit():
        details = _details(form, versions)
        if transactions.submit(
            form, lambda: services.update_cohort(_actor(), cohort, details, form.version.data), retries=1
        ):
            flash(f"{cohort.name} saved.", "success")
            return redirect(url_for(".show_cohort", cohort_id=cohort.id))
    return render_template("cohorts/edit_cohort.html", form=form, cohort=cohort), form_status(form)


# --- members ----------------------------------------------------------------------------------------


def _add(cohort: Cohort, form: MembersForm):
    """Add the chosen records and say what happened; a refusal (none chosen, too many) is flashed."""
    added = transactions.submit(None, lambda: services.add_members(_actor(), cohort, form.enrolment.data or []))
    if added:
        flash(added.value.summary(cohort.name), "success" if added.value.added else "info")


@bp.route(f"{ADMIN}/<int:cohort_id>/members", methods=["POST"])
@administrator_required
def add_members(cohort_id: int):
    cohort = _load(cohort_id)
    form = MembersForm()
    _add(cohort, form)
    return redirect(_back(url_for(".show_cohort", cohort_id=cohort.id)))


@bp.route(f"{ADMIN}/members", methods=["POST"])
@administrator_required
def add_members_to_chosen():
    """The same, with the cohort chosen from a drop-down on the training records list."""
    form = MembersForm()
    cohort_id = services.as_id((form.cohort.data or "").strip())
    cohort = db.session.get(Cohort, cohort_id) if cohort_id is not None else None
    if cohort is None:
        flash("Select a cohort to add the records to", "error")
    else:
        _add(cohort, form)
    return redirect(_back(url_for(".list_cohorts")))


@bp.route(f"{ADMIN}/<int:cohort_id>/members/<int:enrolment_id>/remove", methods=["POST"])
@administrator_required
def remove_member(cohort_id: int, enrolment_id: int):
    cohort = _load(cohort_id)
    enrolment = db.session.get(Enrolment, enrolment_id)
    require(enrolment is not None, "no such enrolment", 404)
    form = ActionForm()
    if form.validate_on_submit() and transactions.submit(
        None, lambda: services.remove_member(_actor(), cohort, enrolment)
    ):
        flash(f"{enrolment.trainee.display_name} removed from {cohort.name}.", "success")
    return redirect(url_for(".show_cohort", cohort_id=cohort.id))


# --- the cohort page ----------------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>")
@login_required
def show_cohort(cohort_id: int):
    cohort = db.session.get(Cohort, cohort_id)
    require(cohort is not None and can_view_cohort(current_user, cohort), "no such cohort, or not theirs", 404)
    page = paginate(queries.members(cohort), request.args.get("page"))
    return render_template(
        "cohorts/show_cohort.html",
        cohort=cohort,
        page=page,
        rows=queries.member_rows(page.items, today()),
        stages=queries.stage_counts(cohort),
        is_admin=is_administrator(current_user),
    )
