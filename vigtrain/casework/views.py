"""A practitioner's cases and the VIG cycles recorded against them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from vigtrain import transactions
from vigtrain.casework import queries, services, signals
from vigtrain.casework.forms import CaseForm, CloseCaseForm, CycleForm, QuickCycleForm
from vigtrain.casework.models import AgeBand, Case, CaseStatus, Cycle, EndReason, Population, Relationship
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, add_error, form_status
from vigtrain.organisations.services import regions
from vigtrain.pagination import paginate
from vigtrain.pathways.definitions import principles
from vigtrain.security import can_change_case, can_keep_cases, can_view_case, login_required, require

bp = Blueprint("casework", __name__)


def load_case(code: str) -> Case:
    """The case if the current user may see it; 404 for a malformed code, a missing case or someone else's.

    The outcome measure pages load their case this way too.
    """
    case = services.find_case(code)
    require(case is not None and can_view_case(current_user, case), "no such case, or not theirs", 404)
    return case


@bp.route("/cases")
@login_required
def list_cases():
    require(can_keep_cases(current_user), "keeps no cases")
    page = paginate(
        select(Case).where(Case.practitioner_id == current_user.id).order_by(Case.created_at.desc(), Case.id.desc()),
        request.args.get("page"),
    )
    totals = {}
    if page.items:
        totals = {
            case_id: (cycles, last_review)
            for case_id, cycles, last_review in db.session.execute(
                select(Cycle.case_id, func.count(Cycle.id), func.max(Cycle.shared_review_on))
                .where(Cycle.case_id.in_([case.id for case in page.items]))
                .group_by(Cycle.case_id)
            )
        }
    return render_template("casework/list_cases.html", page=page, totals=totals)


def _region_choices(form: CaseForm) -> dict:
    all_regions = {str(region.id): region for region in regions()}
    form.region.choices = [("", "Choose a region or nation"), *((key, r.name) for key, r in all_regions.items())]
    return all_regions


def _consents(form: CaseForm) -> services.Consents:
    """Consents answered yes: ones already held keep their dates, new ones take the date entered."""
    given = form.consents_given()
    return services.Consents(
        **{
            name: (form.held_consents.get(name) or form.consented_on.data) if name in given else None
            for name in services.CONSENTS
        }
    )


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def create_case():
    require(can_keep_cases(current_user), "keeps no cases")
    service = current_user.service
    form = CaseForm(data={"region": str(service.region_id) if service else "", "started_on": today()})
    all_regions = _region_choices(form)
    if form.validate_on_submit():
        created = transactions.submit(
            form,
            lambda: services.create_case(
                current_user,
                Relationship(form.relationship_type.data),
                AgeBand(form.child_age_band.data),
                Population(form.population.data),
                all_regions[form.region.data],
                form.started_on.data,
                _consents(form),
            ),
            once=form.submission_key.key,
            outcome_url=lambda case: url_for("casework.show_case", code=case.code),
        )
        if created.repeat:
            return redirect(created.repeat)
        if created:
            case = created.value
            flash(f"Case {case.code} added. Use this code whenever you refer to this client in vigtrain.", "success")
            return redirect(url_for("casework.show_case", code=case.code))
    return render_template("casework/create_case.html", form=form), form_status(form)


@bp.route("/cases/<code>/edit", methods=["GET", "POST"])
@login_required
def edit_case(code: str):
    case = load_case(code)
    require(can_change_case(current_user, case), "only the practitioner changes a case")
    held = {name: getattr(case, f"consent_{name}_on") for name in services.CONSENTS if getattr(case, f"consent_{name}")}
    form = CaseForm(
        data={
            "relationship_type": case.relationship_type.value,
            "child_age_band": case.child_age_band.value,
            "population": case.population.value,
            "region": str(case.region_id),
            "started_on": case.started_on,
            **{f"consent_{name}": "yes" if name in held else "no" for name in services.CONSENTS},
        },
        held_consents=held,
    )
    form.submit.label.text = "Save changes"
    all_regions = _region_choices(form)
    if form.validate_on_submit() and transactions.submit(
        form,
        lambda: services.update_case(
            current_user,
            case,
            Relationship(form.relationship_type.data),
            AgeBand(form.child_age_band.data),
            Population(form.population.data),
            all_regions[form.region.data],
            form.started_on.data,
            _consents(form),
            today(),
        ),
    ):
        flash(f"Case {case.code} updated.", "success")
        return redirect(url_for("casework.show_case", code=case.code))
    return render_template("casework/edit_case.html", form=form, case=case), form_status(form)


@bp.route("/cases/<code>/close", methods=["GET", "POST"])
@login_required
def close_case(code: str):
    case = load_case(code)
    require(can_change_case(current_user, case), "only the practitioner closes a case")
    form = CloseCaseForm(data={"ended_on": today()})
    if form.validate_on_submit():
        reason = form.end_reason.data or None
        if reason is not None and reason not in {value.value for value in EndReason}:
            add_error(form, "Select a reason from the list", "end_reason")
        elif transactions.submit(
            form,
            lambda: services.close_case(
                current_user,
                case,
                CaseStatus(form.status.data),
                form.ended_on.data,
                EndReason(reason) if reason else None,
                form.end_note.data,
                today(),
            ),
        ):
            flash(f"Case {case.code} closed.", "success")
            return redirect(url_for("casework.show_case", code=case.code))
    return render_template(
        "casework/close_case.html", form=form, case=case, max_note=services.MAX_END_NOTE
    ), form_status(form)


@bp.route("/cases/<code>/reopen", methods=["POST"])
@login_required
def reopen_case(code: str):
    case = load_case(code)
    require(can_change_case(current_user, case), "only the practitioner reopens a case")
    form = ActionForm()
    if form.validate_on_submit() and transactions.submit(None, lambda: services.reopen_case(current_user, case)):
        flash(f"Case {case.code} reopened.", "success")
    return redirect(url_for("casework.show_case", code=case.code))


@bp.route("/cases/<code>")
@login_required
def show_case(code: str):
    case = load_case(code)
    return render_template(
        "casework/show_case.html",
        case=case,
        principles=principles(),
        can_change=can_change_case(current_user, case),
        reopen_form=ActionForm(),
        # What the outcome measures show (dcs answers; casework does not import it).
        **{key: value for answer in signals.answers(signals.case_page, case) for key, value in answer.items()},
    )


def _save_cycle(form: CycleForm, case: Case):
    """Add the cycle on the form to `case`: a redirect to the case's page, or None when refused (errors on the form)."""
    after = url_for("casework.show_case", code=case.code)
    added = transactions.submit(
        form,
        lambda: services.add_cycle(
            current_user,
            case,
            form.filmed_on.data,
            form.shared_review_on.data,
            form.clips_count.data,
            form.principles.data or [],
            form.note.data,
            today(),
        ),
        once=form.submission_key.key,
        outcome_url=lambda _cycle: after,
    )
    if added.repeat:
        return redirect(added.repeat)
    if added:
        flash(f"Cycle added to case {case.code}.", "success")
        return redirect(after)
    return None


@bp.route("/cases/<code>/cycles/new", methods=["GET", "POST"])
@login_required
def add_cycle(code: str):
    case = load_case(code)
    require(can_change_case(current_user, case), "only the practitioner adds cycles")
    form = CycleForm(data={"shared_review_on": today()})
    if form.validate_on_submit() and (done := _save_cycle(form, case)):
        return done
    return render_template(
        "casework/add_cycle.html", form=form, case=case, max_note=services.MAX_NOTE, max_clips=services.MAX_CLIPS
    ), form_status(form)


@bp.route("/cycles/new", methods=["GET", "POST"])
@login_required
def add_cycle_to_a_case():
    """Add a cycle from the home page, choosing the case on the same form (the latest worked on first)."""
    require(can_keep_cases(current_user), "keeps no cases")
    choices, by_code = queries.case_choices(current_user, "Choose a case")
    form = QuickCycleForm(data={"shared_review_on": today(), "case": choices[1][0] if len(choices) == 2 else ""})
    form.case.choices = choices
    if form.validate_on_submit() and (done := _save_cycle(form, by_code[form.case.data])):
        return done
    return render_template(
        "casework/add_cycle.html",
        form=form,
        case=None,
        has_open_cases=bool(by_code),
        max_note=services.MAX_NOTE,
        max_clips=services.MAX_CLIPS,
    ), form_status(form)


@bp.route("/cases/<code>/cycles/<int:cycle_id>/delete", methods=["GET", "POST"])
@login_required
def delete_cycle(code: str, cycle_id: int):
    case = load_case(code)
    cycle = db.session.get(Cycle, cycle_id)
    require(cycle is not None and cycle.case_id == case.id, "no such cycle on this case", 404)
    require(can_change_case(current_user, case), "only the practitioner deletes cycles")
    form = ActionForm()
    if form.validate_on_submit() and transactions.submit(form, lambda: services.delete_cycle(current_user, cycle)):
        flash(f"Cycle deleted from case {case.code}.", "success")
        return redirect(url_for("casework.show_case", code=case.code))
    return render_template(
        "casework/delete_cycle.html", form=form, case=case, cycle=cycle, principles=principles()
    ), form_status(form)
