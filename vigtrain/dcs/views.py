"""Recording outcome measures live in a session, and the feedback they give on each case."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.casework import queries as casework_queries
from vigtrain.casework import signals
from vigtrain.casework.models import Case
from vigtrain.casework.views import load_case
from vigtrain.dates import today
from vigtrain.dcs import services, wording
from vigtrain.dcs.forms import ChooseMeasureForm, QuickMeasureForm, entry_form, item_field_name
from vigtrain.dcs.measures import Measure, get_measure, library
from vigtrain.dcs.models import TIMEPOINT_LABELS, Administration, Timepoint
from vigtrain.dcs.outcomes import Classification
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, form_status
from vigtrain.security import can_change_case, can_keep_cases, login_required, require

bp = Blueprint("dcs", __name__)

CLASSIFICATION_LABELS = {
    Classification.RELIABLE_IMPROVEMENT: "Reliable improvement",
    Classification.NO_RELIABLE_CHANGE: "No reliable change",
    Classification.RELIABLE_DETERIORATION: "Reliable deterioration",
}


@bp.app_template_filter("classification")
def classification_label(value: str | Classification | None) -> str:
    return CLASSIFICATION_LABELS[Classification(value)] if value else ""


@bp.app_template_filter("score")
def format_score(value: float | None) -> str:
    """Whole scores without a decimal point; converted (SWEMWBS) and mean (GBO) scores to two places."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


@signals.case_page.connect
def case_page_feedback(case: Case) -> dict:
    """The case's page lists each measure's scores and change, as these pages work them out."""
    return {"feedback": services.case_feedback(case)}


def _load_case(code: str, change: bool = False) -> Case:
    case = load_case(code)
    if change:
        require(can_change_case(current_user, case), "only the practitioner records measures")
    return case


def _load_measure(code: str) -> Measure:
    measure = get_measure(code)
    require(measure is not None, "no such measure", 404)
    return measure


def _entry_field(measure: Measure, field: str | None) -> str | None:
    """Where a refusal goes on the entry form: beside the date or the item it names, else above the form."""
    if field and field in measure.item_numbers:
        return item_field_name(field)
    return field if field == "administered_on" else None


def _timepoint(value: str) -> Timepoint:
    require(value in {timepoint.value for timepoint in Timepoint}, "no such timepoint", 404)
    return Timepoint(value)


def _likely_timepoint(recorded: dict[str, set[Timepoint]]) -> str:
    """What is probably being recorded: pre before anything, post once every measure has its pre and
    one still lacks its post; otherwise nothing is chosen for the practitioner."""
    if not recorded:
        return Timepoint.PRE.value
    points = recorded.values()
    if all(Timepoint.PRE in held for held in points) and any(Timepoint.POST not in held for held in points):
        return Timepoint.POST.value
    return ""


@bp.route("/cases/<code>/measures/new", methods=["GET", "POST"])
@login_required
def choose_measure(code: str):
    case = _load_case(code, change=True)
    recorded = services.recorded_timepoints(case)
    # Offered on the first view only: a choice left out of a sent form is still missing.
    form = ChooseMeasureForm(data=None if request.method == "POST" else {"timepoint": _likely_timepoint(recorded)})
    if form.validate_on_submit():
        return redirect(
            url_for("dcs.enter_measure", code=case.code, measure=form.measure.data, timepoint=form.timepoint.data)
        )
    return render_template("dcs/choose_measure.html", form=form, case=case, recorded=recorded), form_status(form)


@bp.route("/measures/record", methods=["GET", "POST"])
@login_required
def choose_case_and_measure():
    """Record a measure from the home page: the case, the measure and the timepoint on one form, then the questions."""
    require(can_keep_cases(current_user), "keeps no cases")
    choices, by_code = casework_queries.case_choices(current_user, "Choose a case")
    form = QuickMeasureForm(data={"case": choices[1][0] if len(choices) == 2 else ""})
    form.case.choices = choices
    if form.validate_on_submit():
        case = by_code[form.case.data]
        return redirect(
            url_for("dcs.enter_measure", code=case.code, measure=form.measure.data, timepoint=form.timepoint.data)
        )
    return render_template(
        "dcs/choose_measure.html", form=form, case=None, has_open_cases=bool(by_code), recorded=None
    ), form_status(form)


@bp.route("/cases/<code>/measures/<measure>/<timepoint>", methods=["GET", "POST"])
@login_required
def enter_measure(code: str, measure: str, timepoint: str):
    case = _load_case(code, change=True)
    definition, point = _load_measure(measure), _timepoint(timepoint)
    # Where the case's service holds the measure's licence, the practitioner reads it in words too.
    licensed = wording.wording_for(case.service_id, definition)
    shown = definition if licensed is None else wording.worded(definition, licensed)
    form = entry_form(shown, data={"administered_on": today()})
    if form.validate_on_submit():
        recorded = transactions.submit(
            form,
            lambda: services.record_administration(
                current_user, case, definition.code, point, form.administered_on.data, form.responses(), today()
            ),
            refusal=lambda error: DomainError(error.message, _entry_field(definition, error.field)),
        )
        if recorded:
            administration = recorded.value
            if not administration.flags:  # otherwise the risk alert is the one message that matters
                flash(f"{definition.code} ({point.value}) saved for case {case.code}.", "success")
            return redirect(
                url_for("dcs.show_administration", code=case.code, administration_id=administration.id, saved=1)
            )
    return render_template(
        "dcs/enter_measure.html",
        form=form,
        case=case,
        measure=shown,
        licensed=licensed,
        timepoint=point,
        timepoint_label=TIMEPOINT_LABELS[point],
    ), form_status(form)


def _load_administration(case: Case, administration_id: int) -> Administration:
    administration = db.session.get(Administration, administration_id)
    require(administration is not None and administration.case_id == case.id, "no such administration here", 404)
    return administration


@bp.route("/cases/<code>/measures/<int:administration_id>")
@login_required
def show_administration(code: str, administration_id: int):
    case = _load_case(code)
    administration = _load_administration(case, administration_id)
    # Shown as it was scored: the items, options and bands of the version it used.
    measure = get_measure(administration.measure_code, administration.measure_version)
    require(measure is not None, "no such measure", 404)
    feedback = next(item for item in services.case_feedback(case) if item.measure.code == measure.code)
    return render_template(
        "dcs/show_administration.html",
        case=case,
        administration=administration,
        measure=measure,
        feedback=feedback,
        can_change=can_change_case(current_user, case),
        saved_key=f"{case.code}:{measure.code}:{administration.timepoint.value}",
        fresh=request.args.get("saved") == "1",
        supervisors=services.supervisors_to_alert(case) if administration.flags else [],
    )


@bp.route("/cases/<code>/measures/<int:administration_id>/delete", methods=["GET", "POST"])
@login_required
def delete_administration(code: str, administration_id: int):
    case = _load_case(code, change=True)
    administration = _load_administration(case, administration_id)
    form = ActionForm()
    if form.validate_on_submit():
        label = f"{administration.measure_code} ({administration.timepoint.value})"
        transactions.run(lambda: services.delete_administration(current_user, administration))
        flash(f"{label} deleted from case {case.code}.", "success")
        return redirect(url_for("dcs.show_outcomes", code=case.code))
    return render_template(
        "dcs/delete_administration.html", form=form, case=case, administration=administration
    ), form_status(form)


@bp.route("/cases/<code>/outcomes")
@login_required
def show_outcomes(code: str):
    case = _load_case(code)
    feedback = services.case_feedback(case)
    return render_template(
        "dcs/show_outcomes.html",
        case=case,
        feedback=feedback,
        timepoints=list(Timepoint),
        timepoint_labels=TIMEPOINT_LABELS,
        can_change=can_change_case(current_user, case),
    )


@bp.route("/measures")
@login_required
def list_measures():
    return render_template("dcs/list_measures.html", measures=list(library().values()))


@bp.route("/measures/<code>")
@login_required
def show_measure(code: str):
    return render_template("dcs/show_measure.html", measure=_load_measure(code))
