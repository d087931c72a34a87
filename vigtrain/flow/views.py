"""Training-flow pages: where the time goes, time to accreditation, stuck trainees, cost per
accreditation, and their downloads. Administrators read any scope; a service lead their service;
a cohort's course lead that cohort."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from vigtrain import transactions
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.queries import role_holders
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import format_datetime, today, utcnow
from vigtrain.extensions import db
from vigtrain.flow import charts, pages, queries, services
from vigtrain.flow.forms import RatesForm, RefreshForm, StuckFilterForm
from vigtrain.flow.history import STEP_SPANS, Step
from vigtrain.forms import form_status
from vigtrain.organisations.models import Region, Service
from vigtrain.pagination import paginate_list, query_args
from vigtrain.pathways.models import PathwayVersion, StageRecord
from vigtrain.security import (
    can_refresh_flow,
    can_set_cost_rates,
    can_view_cohort,
    can_view_enrolment,
    can_view_regional_flow,
    can_view_service_flow,
    is_administrator,
    login_required,
    require,
)
from vigtrain.training import workflow

bp = Blueprint("flow", __name__, url_prefix="/training-flow")
SCOPE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


def _actor() -> User:
    return current_user._get_current_object()


@dataclass(frozen=True)
class Scope:
    key: str  # "all", "region:3", "service:12", "cohort:7"
    label: str


def _led_cohorts(user: User) -> list[Cohort]:
    return list(db.session.scalars(select(Cohort).where(Cohort.lead_id == user.id).order_by(Cohort.name)))


def _choices(user: User) -> list[tuple[str, list[Scope]]]:
    """The scopes this person may read, grouped for the picker."""
    if is_administrator(user):
        regions = db.session.scalars(select(Region).order_by(Region.name))
        services_ = db.session.execute(select(Service.id, Service.name).order_by(Service.name))
        cohorts = db.session.execute(select(Cohort.id, Cohort.name).order_by(Cohort.name))
        return [
            ("Everyone", [Scope("all", "Everyone (all services)")]),
            ("Regions", [Scope(f"region:{region.id}", region.name) for region in regions]),
            ("Services", [Scope(f"service:{row.id}", row.name) for row in services_]),
            ("Cohorts", [Scope(f"cohort:{row.id}", row.name) for row in cohorts]),
        ]
    groups = []
    if user.service is not None and can_view_service_flow(user, user.service):
        groups.append(("Your service", [Scope(f"service:{user.service.id}", user.service.name)]))
    led = _led_cohorts(user)
    if led:
        groups.append(("Cohorts you lead", [Scope(f"cohort:{cohort.id}", cohort.name) for cohort in led]))
    return groups


def _scope(user: User, key: str | None) -> tuple[Scope, list[tuple[str, list[Scope]]]]:
    """The scope asked for (or this person's first), refused unless they may read it."""
    choices = _choices(user)
    require(bool(choices), "training flow: not an administrator, service lead or cohort lead")
    if not key:
        return choices[0][1][0], choices
    kind, _, number = key.partition(":")
    if key == "all":
        require(is_administrator(user), "training flow: all scopes are for administrators")
        return Scope("all", "Everyone (all services)"), choices
    # A plain number only: int() refuses some of what str.isdigit() allows, and takes others ("01",
    # other scripts' digits) that would name a real service under a key no figure is kept for.
    plain = SCOPE_NUMBER.fullmatch(number) is not None
    require(kind in ("region", "service", "cohort") and plain, "no such scope", 404)
    if kind == "region":
        region = db.session.get(Region, int(number))
        require(region is not None, "no such region", 404)
        require(can_view_regional_flow(user), "training flow: regions are for administrators")
        return Scope(key, region.name), choices
    if kind == "service":
        service = db.session.get(Service, int(number))
        require(service is not None, "no such service", 404)
        require(can_view_service_flow(user, service), "training flow: not this service's lead")
        return Scope(key, service.name), choices
    cohort = db.session.get(Cohort, int(number))
    require(cohort is not None, "no such cohort", 404)
    require(can_view_cohort(user, cohort), "training flow: not this cohort's lead")
    return Scope(key, cohort.name), choices


def _freshness(snapshot: services.Snapshot) -> str:
    if not snapshot.stored:
        return f"Worked out just now ({format_datetime(snapshot.computed_at)}): the hourly refresh has not run yet."
    stale = utcnow() - snapshot.computed_at > services.STALE_AFTER
    note = " The hourly refresh seems not to be running: ask an administrator." if stale else ""
    return f"Figures as of {format_datetime(snapshot.computed_at)}; they are worked out again every hour.{note}"


@bp.route("/")
@login_required
def overview():
    user = _actor()
    scope, choices = _scope(user, request.args.get("scope"))
    snapshot = services.snapshot(scope.key, today())
    rates = services.rates()
    versions = []
    for number, version in enumerate(snapshot.figures["versions"]):
        versions.append(
            {
                **version,
                "survival_chart": charts.survival_chart(
                    f"survival-{number}", version["survival"]["points"], version["survival"]["median"], version["label"]
                ),
                "steps_chart": charts.steps_chart(f"steps-{number}", version["stages"], version["label"]),
                "survival_rows": pages.survival_rows(version["survival"]["points"], version["survival"]["subjects"]),
                "cost_figures": pages.cost_figures(version["cost"], rates.get(version["id"])),
            }
        )
    regions = _region_lines(snapshot.figures.get("regions", {}))
    return render_template(
        "flow/overview.html",
        scope=scope,
        choices=choices,
        versions=versions,
        regions=regions,
        freshness=_freshness(snapshot),
        refresh_form=RefreshForm() if can_refresh_flow(user) else None,
        can_set_rates=can_set_cost_rates(user),
        pages=pages,
        Step=Step,
        spans=STEP_SPANS,
    )


def _region_lines(kept: dict[str, list[dict]]) -> list[tuple[str, list[dict]]]:
    """Each region's headline lines (kept with everyone's figures), named and in name order."""
    if not kept:
        return []
    regions = db.session.scalars(select(Region).where(Region.id.in_([int(key) for key in kept])).order_by(Region.name))
    return [(region.name, kept[str(region.id)]) for region in regions]


@bp.route("/refresh", methods=["POST"])
@login_required
def refresh():
    require(can_refresh_flow(_actor()), "training flow: refresh is for administrators")
    form = RefreshForm()
    back = url_for("flow.overview", scope=request.form.get("scope") or None)
    if not form.validate_on_submit():
        flash("The form had expired: try again.", "error")
        return redirect(back)
    # Two refreshes at once (this and the hourly job): the one that loses keeps the other's figures.
    count = transactions.run_unless_taken(lambda: services.refresh(today()))
    if count is None:
        flash("The figures were being worked out at the same moment; these are the latest.", "info")
    else:
        flash(f"Figures worked out again for {count} scopes.", "success")
    return redirect(back)


# --- stuck trainees -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StuckLine:
    stuck: services.Stuck
    record: StageRecord | None
    waiting_for: str
    link: str | None


def _lines(user: User, found: list[services.Stuck]) -> list[StuckLine]:
    """The page's lines, with each record loaded (one query) and whom it waits for."""
    ids = [stuck.row.record_id for stuck in found]
    loaded = select(StageRecord).where(StageRecord.id.in_(ids))
    # Inner: a stage always has its enrolment, and an outer join around its own inner joins makes
    # SQLite read every enrolment first.
    loaded = loaded.options(
        joinedload(StageRecord.enrolment, innerjoin=True), joinedload(StageRecord.accrediting_supervisor)
    )
    records = {record.id: record for record in db.session.scalars(loaded).unique()}
    administrators = list(db.session.scalars(role_holders(Role.ADMINISTRATOR)))
    lines = []
    for stuck in found:
        record = records.get(stuck.row.record_id)
        if record is None:
            continue
        if stuck.step is Step.WORK:
            waiting = f"{record.enrolment.trainee.display_name} (the trainee's own work)"
        else:
            people = workflow.waiting_for(record, administrators)
            names = [person.display_name for person in people if not person.has_role(Role.ADMINISTRATOR)]
            waiting = ", ".join(names) or workflow.WAITS_FOR[record.state].described(record)
        link = (
            url_for("training.show_enrolment", enrolment_id=record.enrolment_id)
            if can_view_enrolment(user, record.enrolment)
            else None
        )
        lines.append(StuckLine(stuck, record, waiting, link))
    return lines


@bp.route("/stuck")
@login_required
def stuck():
    user = _actor()
    scope, choices = _scope(user, request.args.get("scope"))
    form = StuckFilterForm(request.args, meta={"csrf": False})
    if request.args.get("weeks") is not None and not form.validate():
        return render_template("flow/stuck.html", scope=scope, choices=choices, form=form, page=None), 400
    weeks = form.weeks.data or StuckFilterForm.DEFAULT_WEEKS
    found = services.stuck_list(scope.key, weeks, today())
    page = paginate_list(found, request.args.get("page"))
    return render_template(
        "flow/stuck.html",
        scope=scope,
        choices=choices,
        form=form,
        weeks=weeks,
        page=page,
        lines=_lines(user, list(page.items)),
        versions={version.id: version for version in db.session.scalars(select(PathwayVersion))},
        query_args=query_args,
    )


# --- cost rates -----------------------------------------------------------------------------------


@bp.route("/rates")
@login_required
def list_rates():
    require(can_set_cost_rates(_actor()), "cost rates are for administrators")
    versions = list(db.session.scalars(select(PathwayVersion).order_by(PathwayVersion.name, PathwayVersion.id)))
    return render_template("flow/rates.html", versions=versions, rates=services.rates(), pages=pages)


@bp.route("/rates/<int:version_id>", methods=["GET", "POST"])
@login_required
def edit_rates(version_id: int):
    actor = _actor()
    require(can_set_cost_rates(actor), "cost rates are for administrators")
    version = db.session.get(PathwayVersion, version_id)
    require(version is not None, "no such pathway version", 404)
    rate = services.rates().get(version.id)
    data = {}
    if rate is not None:
        data = {
            "supervision_hour": f"{rate.supervision_hour_pence / 100:.2f}",
            "course_fee": f"{rate.course_fee_pence / 100:.2f}",
            "accreditation_fee": f"{rate.accreditation_fee_pence / 100:.2f}",
            "seen_version": rate.version,
        }
    form = RatesForm(data=data)
    if form.validate_on_submit():
        saved = transactions.submit(
            form,
            lambda: services.set_rates(
                actor,
                version,
                form.supervision_hour.data,
                form.course_fee.data,
                form.accreditation_fee.data,
                form.seen_version.data,
            ),
        )
        if saved:
            flash(f"Cost rates saved for {version.label}.", "success")
            return redirect(url_for("flow.list_rates"))
    return render_template("flow/edit_rates.html", form=form, version=version), form_status(form)


# --- downloads ------------------------------------------------------------------------------------


def _download(body, name: str, scope: Scope) -> Response:
    filename = f"training-flow-{scope.key.replace(':', '-')}-{name}"
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/stage-times.csv")
@login_required
def stage_times_csv():
    scope, _ = _scope(_actor(), request.args.get("scope"))
    facts = queries.load_facts(today())
    names = {version.id: (version.name, version.version) for version in db.session.scalars(select(PathwayVersion))}
    return _download(pages.stage_times_csv(facts, scope.key, names), "stage-times.csv", scope)


@bp.route("/steps.csv")
@login_required
def steps_csv():
    scope, _ = _scope(_actor(), request.args.get("scope"))
    return _download(pages.steps_csv(services.snapshot(scope.key, today()).figures), "steps.csv", scope)


@bp.route("/survival.csv")
@login_required
def survival_csv():
    scope, _ = _scope(_actor(), request.args.get("scope"))
    return _download(pages.survival_csv(services.snapshot(scope.key, today()).figures), "survival.csv", scope)


@bp.route("/costs.csv")
@login_required
def costs_csv():
    scope, _ = _scope(_actor(), request.args.get("scope"))
    figures = services.snapshot(scope.key, today()).figures
    return _download(pages.costs_csv(figures, services.rates()), "costs.csv", scope)


@bp.route("/stuck.csv")
@login_required
def stuck_csv():
    user = _actor()
    scope, _ = _scope(user, request.args.get("scope"))
    form = StuckFilterForm(request.args, meta={"csrf": False})
    require(request.args.get("weeks") is None or form.validate(), "bad number of weeks", 400)
    found = list(services.stuck_list(scope.key, form.weeks.data or StuckFilterForm.DEFAULT_WEEKS, today()))
    versions = {version.id: version for version in db.session.scalars(select(PathwayVersion))}
    rows = [
        [
            line.stuck.row.enrolment_id,
            line.record.enrolment.trainee.display_name,
            versions[line.stuck.row.version_id].label,
            line.record.definition.name,
            line.record.state.label,
            line.stuck.step.label,
            line.stuck.days,
            "; ".join(line.stuck.reasons),
            line.waiting_for,
        ]
        for line in _lines(user, found)
    ]
    return _download(pages.stuck_csv(rows), "stuck.csv", scope)
