"""Enrolment and stage pages, the sign-off chain's one action view, enrolling, and the queues."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from vigtrain import audit, transactions, uploads
from vigtrain.accounts import people
from vigtrain.accounts.models import Role, User
from vigtrain.cohorts.queries import cohort_choices
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, add_error, form_status, whole_number
from vigtrain.organisations.models import Service
from vigtrain.organisations.services import regions
from vigtrain.pagination import paginate, query_args
from vigtrain.pathways.definitions import RequirementKind, principles
from vigtrain.pathways.models import (
    ASSESSMENT_OPEN,
    OPEN_FOR_WORK,
    Assessment,
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    PathwayVersion,
    StageRecord,
    StageState,
)
from vigtrain.pathways.queries import supervised_enrolments
from vigtrain.pathways.services import latest_versions
from vigtrain.security import (
    administrator_required,
    can_assess_stage,
    can_enrol,
    can_manage_enrolment,
    can_read_statement,
    can_see_forecast,
    can_submit_stage,
    can_view_enrolment,
    login_required,
    require,
    roles_required,
)
from vigtrain.training import queries, records, services, signoff, workflow
from vigtrain.training.capacity import load_hints
from vigtrain.training.forecast import Voice, forecast_for
from vigtrain.training.forms import (
    EnrolForm,
    RecordFilterForm,
    StatementFileForm,
    StatementTextForm,
    StatusForm,
    SupervisorForm,
    assessment_form,
    rating_value,
)
from vigtrain.training.progress import StageProgress, overall_percent, progress_for

bp = Blueprint("training", __name__)

STATEMENT_TYPES = {uploads.PDF: "PDF", uploads.DOCX: "Word document (DOCX)"}
ASSESSED = {RequirementKind.SELF_ASSESSMENT, RequirementKind.SUPERVISOR_ASSESSMENT}


def _actor() -> User:
    return current_user._get_current_object()


def _load_enrolment(enrolment_id: int) -> Enrolment:
    """The enrolment if the current user may see it; 404 whether it is missing or someone else's."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    require(
        enrolment is not None and can_view_enrolment(current_user, enrolment), "no such enrolment, or not theirs", 404
    )
    return enrolment


def _load_stage(enrolment_id: int, stage_code: str) -> StageRecord:
    record = _load_enrolment(enrolment_id).stage_record(stage_code)
    require(record is not None, "no such stage", 404)
    return record


# --- enrolment ------------------------------------------------------------------------------------


def _growth(enrolment: Enrolment, assessments: dict[tuple[int, AssessmentKind], Assessment]) -> dict:
    """Self and supervisor ratings per principle across the stages that are assessed."""
    definitions = principles()
    stages = [
        record
        for record in enrolment.stages
        if any(r.kind in ASSESSED for r in record.definition.active_requirements)
        or any((record.id, kind) in assessments for kind in AssessmentKind)
    ]

    def rating(record: StageRecord, kind: AssessmentKind, code: str) -> int | None:
        found = assessments.get((record.id, kind))
        return (found.ratings.get(code) or {}).get("rating") if found else None

    rows = [
        {
            "code": principle.code,
            "name": principle.name,
            "values": [
                {
                    "stage": record.definition.name,
                    "self": rating(record, AssessmentKind.SELF, principle.code),
                    "supervisor": rating(record, AssessmentKind.SUPERVISOR, principle.code),
                }
                for record in stages
            ],
        }
        for principle in definitions.principles
    ]
    return {
        "stages": [record.definition.name for record in stages],
        "rows": rows,
        "scale": definitions.scale,
        "top": max(definitions.scale_values),
        "any": bool(assessments),
    }


@bp.route("/enrolments/<int:enrolment_id>")
@login_required
def show_enrolment(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    progress = progress_for([enrolment])[enrolment.id]
    current = enrolment.current_stage
    current_progress = next((p for p in progress if current is not None and p.record.id == current.id), None)
    overall = overall_percent(progress)
    forecast = forecast_for(enrolment, current_progress, today()) if can_see_forecast(current_user, enrolment) else None
    is_trainee = current_user.id == enrolment.trainee_id
    return render_template(
        "training/show_enrolment.html",
        enrolment=enrolment,
        progress=progress,
        overall=overall,
        current_progress=current_progress,
        forecast=forecast.wording(Voice(None if is_trainee else enrolment.trainee.display_name)) if forecast else None,
        growth=_growth(enrolment, services.assessments_for(enrolment)),
        can_manage=can_manage_enrolment(current_user, enrolment) and enrolment.status is not EnrolmentStatus.COMPLETED,
        is_trainee=is_trainee,
    )


@bp.route("/enrolments/<int:enrolment_id>/supervisor", methods=["GET", "POST"])
@login_required
def change_supervisor(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    require(can_manage_enrolment(current_user, enrolment), "cannot manage this enrolment")
    form = SupervisorForm(data={"version": enrolment.version, "supervisor": enrolment.supervisor_id})
    binding = people.bind(form, _actor(), enrolment, hints=load_hints)
    if not binding.searching and form.validate_on_submit():
        supervisor = people.chosen(form.supervisor)
        if transactions.submit(
            form, lambda: services.change_supervisor(_actor(), enrolment, supervisor, form.version.data)
        ):
            flash(f"{supervisor.display_name} is now the personal supervisor.", "success")
            return redirect(url_for(".show_enrolment", enrolment_id=enrolment.id))
    return render_template("training/change_supervisor.html", enrolment=enrolment, form=form), form_status(form)


@bp.route("/enrolments/<int:enrolment_id>/status", methods=["GET", "POST"])
@login_required
def change_status(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    require(can_manage_enrolment(current_user, enrolment), "cannot manage this enrolment")
    form = StatusForm(
        data={"version": enrolment.version, "status": enrolment.status.value, "reason": enrolment.status_reason}
    )
    if form.validate_on_submit():
        status = EnrolmentStatus(form.status.data)
        if transactions.submit(
            form,
            lambda: services.set_enrolment_status(_actor(), enrolment, status, form.reason.data, form.version.data),
        ):
            flash(f"The enrolment is now {status.value}.", "success")
            return redirect(url_for(".show_enrolment", enrolment_id=enrolment.id))
    return render_template("training/change_status.html", enrolment=enrolment, form=form), form_status(form)


# --- one stage and its sign-off chain -------------------------------------------------------------


def _may_assess(user: User, record: StageRecord, kind: AssessmentKind) -> bool:
    return record.state in ASSESSMENT_OPEN[kind] and can_assess_stage(user, record, kind)


def _stage_progress(record: StageRecord) -> StageProgress:
    return next(p for p in progress_for([record.enrolment])[record.enrolment_id] if p.record.id == record.id)


def _render_stage(record: StageRecord, failed: tuple[workflow.Action, FlaskForm] | None = None, searched: bool = False):
    """The stage page, offering exactly the actions the workflow table allows this person now.

    `failed` is the action whose form was refused, shown again with its messages, or (`searched`)
    the form whose person search was asked for, shown again with the people found.
    """
    user = _actor()
    progress = _stage_progress(record)
    actions = workflow.offered(user, record)
    forms: dict[str, FlaskForm] = {action.name: action.form.blank(record) for action in actions}
    for form in forms.values():
        form.offer(record, user)
    if failed is not None:
        forms[failed[0].name] = failed[1]
    transitions = record.transitions
    returned = transitions[-1] if record.state is StageState.RETURNED and transitions else None
    kinds = {requirement.kind for requirement in record.definition.active_requirements}
    status = 422 if failed is not None and not searched else 200
    return render_template(
        "training/show_stage.html",
        Kind=RequirementKind,
        record=record,
        enrolment=record.enrolment,
        stage=record.definition,
        progress=progress,
        forms=forms,
        paths=PATHS,
        error_form=failed[1] if failed else None,
        transitions=transitions,
        returned=returned,
        is_trainee=user.id == record.enrolment.trainee_id,
        submit_gaps=[s.left for s in progress.unmet if s.kind is not RequirementKind.SUPERVISOR_ASSESSMENT],
        assessed=bool(kinds & ASSESSED),
        can_self_assess=_may_assess(user, record, AssessmentKind.SELF),
        can_supervisor_assess=_may_assess(user, record, AssessmentKind.SUPERVISOR),
        wants_statement=RequirementKind.REFLECTIVE_STATEMENT in kinds or record.has_statement,
        can_write_statement=can_submit_stage(user, record) and record.state in OPEN_FOR_WORK,
        can_read=can_read_statement(user, record),
        accreditor=record.accrediting_supervisor,
    ), status


STAGE = "/enrolments/<int:enrolment_id>/stages/<stage_code>"
PATHS = {action.name: action.path for action in workflow.ACTIONS}  # each form posts to its row's address


@bp.route(STAGE)
@login_required
def show_stage(enrolment_id: int, stage_code: str):
    return _render_stage(_load_stage(enrolment_id, stage_code))


@bp.route(f"{STAGE}/<any({', '.join(map(repr, workflow.BY_PATH))}):path>", methods=["POST"])
@login_required
def act_on_stage(enrolment_id: int, stage_code: str, path: str):
    """Take one action of the sign-off chain: its row in `workflow` names the form, rule and message.

    Someone whose part ended with the action (an accrediting supervisor who accredited a stage)
    goes back to their queue instead, as the record is no longer theirs to see.
    """
    record = _load_stage(enrolment_id, stage_code)
    action = workflow.BY_PATH[path]
    require(action.may(current_user, record), action.denied)
    form = action.form()
    if form.offer(record, _actor()):
        return _render_stage(record, failed=(action, form), searched=True)
    if form.validate_on_submit() and transactions.submit(
        form, lambda: signoff.perform(action, _actor(), record, form.arguments(today()))
    ):
        flash(action.done(record), "success")
        if not can_view_enrolment(current_user, record.enrolment):
            return redirect(url_for(".accreditation_queue"))
        return redirect(url_for(".show_stage", enrolment_id=record.enrolment_id, stage_code=record.stage_code))
    return _render_stage(record, failed=(action, form))


# --- assessments ----------------------------------------------------------------------------------


def _assessment_kind(kind: str) -> AssessmentKind:
    require(kind in {k.value for k in AssessmentKind}, "no such assessment kind", 404)
    return AssessmentKind(kind)


@bp.route(f"{STAGE}/assessment/<kind>", methods=["GET", "POST"])
@login_required
def edit_assessment(enrolment_id: int, stage_code: str, kind: str):
    record = _load_stage(enrolment_id, stage_code)
    assessment_kind = _assessment_kind(kind)
    require(can_assess_stage(current_user, record, assessment_kind), "not theirs to assess")
    definitions = principles()
    existing = services.assessments_for(record.enrolment).get((record.id, assessment_kind))
    data = {}
    if existing is not None:
        for code, entry in existing.ratings.items():
            data[f"rating_{code}"] = str(entry.get("rating", ""))
            data[f"evidence_{code}"] = entry.get("evidence") or ""
    form = assessment_form(definitions, formdata=request.form if request.method == "POST" else None, data=data)
    if request.method == "POST" and form.validate():
        ratings = {
            code: (rating_value(form[f"rating_{code}"].data), form[f"evidence_{code}"].data)
            for code in definitions.codes
        }
        if transactions.submit(form, lambda: services.save_assessment(_actor(), record, assessment_kind, ratings)):
            flash(
                "Your self-assessment has been saved."
                if assessment_kind is AssessmentKind.SELF
                else "Your assessment has been saved.",
                "success",
            )
            return redirect(url_for(".show_stage", enrolment_id=record.enrolment_id, stage_code=record.stage_code))
    return render_template(
        "training/edit_assessment.html",
        record=record,
        enrolment=record.enrolment,
        stage=record.definition,
        kind=assessment_kind,
        form=form,
        definitions=definitions,
        existing=existing,
        editable=record.state in ASSESSMENT_OPEN[assessment_kind],
    ), form_status(form)


@bp.route(f"{STAGE}/assessments")
@login_required
def show_assessments(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    found = services.assessments_for(record.enrolment)
    return render_template(
        "training/show_assessments.html",
        record=record,
        enrolment=record.enrolment,
        stage=record.definition,
        definitions=principles(),
        own=found.get((record.id, AssessmentKind.SELF)),
        supervisor=found.get((record.id, AssessmentKind.SUPERVISOR)),
        can_self_assess=_may_assess(_actor(), record, AssessmentKind.SELF),
        can_supervisor_assess=_may_assess(_actor(), record, AssessmentKind.SUPERVISOR),
    )


# --- the reflective statement ---------------------------------------------------------------------


def _render_statement(record: StageRecord, text_form: FlaskForm, file_form: FlaskForm):
    return render_template(
        "training/edit_statement.html",
        record=record,
        enrolment=record.enrolment,
        stage=record.definition,
        text_form=text_form,
        file_form=file_form,
        editable=record.state in OPEN_FOR_WORK,
        max_size=uploads.describe_size(uploads.max_upload_bytes()),
        file_size=uploads.describe_size(record.statement_file_size or 0),
        max_text=services.MAX_STATEMENT,
    ), form_status(text_form) if text_form.errors else form_status(file_form)


@bp.route(f"{STAGE}/statement", methods=["GET", "POST"])
@login_required
def edit_statement(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_submit_stage(current_user, record), "only the trainee writes their statement")
    uploading = request.method == "POST" and "upload" in request.form
    text_form = StatementTextForm(
        formdata=request.form if request.method == "POST" and not uploading else None,
        data={"text": record.statement_text or ""},
    )
    file_form = StatementFileForm(formdata=None) if not uploading else StatementFileForm()
    if uploading and file_form.validate_on_submit():
        try:
            checked = uploads.check_upload(file_form.file.data, STATEMENT_TYPES)
        except uploads.UploadError as exc:
            add_error(file_form, exc.message, "file")
        else:
            if transactions.submit(
                file_form,
                lambda: services.attach_statement_file(
                    _actor(), record, checked.filename, checked.content_type, checked.size, store=checked.store
                ),
            ):
                flash(f"Your statement file {checked.filename} has been uploaded.", "success")
                return redirect(url_for(".show_stage", enrolment_id=record.enrolment_id, stage_code=record.stage_code))
    elif (
        request.method == "POST"
        and not uploading
        and text_form.validate_on_submit()
        and transactions.submit(text_form, lambda: services.save_statement_text(_actor(), record, text_form.text.data))
    ):
        flash("Your reflective statement has been saved.", "success")
        return redirect(url_for(".show_stage", enrolment_id=record.enrolment_id, stage_code=record.stage_code))
    return _render_statement(record, text_form, file_form)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge):
    """A request too big to read at all: on the statement page, say so beside the file field."""
    record = None
    if request.endpoint == "training.edit_statement" and current_user.is_authenticated:
        enrolment = db.session.get(Enrolment, request.view_args["enrolment_id"])
        record = enrolment.stage_record(request.view_args["stage_code"]) if enrolment else None
    if record is None or not can_submit_stage(current_user, record):
        return render_template("errors/generic.html", error=error), 413
    file_form = StatementFileForm(formdata=None)
    limit = uploads.describe_size(uploads.max_upload_bytes())
    add_error(file_form, f"The selected file must be smaller than {limit}", "file")
    text_form = StatementTextForm(formdata=None, data={"text": record.statement_text or ""})
    page, _ = _render_statement(record, text_form, file_form)
    return page, 413


@bp.route(f"{STAGE}/statement/file")
@login_required
def download_statement(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_read_statement(current_user, record), "cannot read this statement", 404)
    require(record.statement_file_key is not None, "no statement file", 404)
    return uploads.send_upload(record.statement_file_key, record.statement_file_name, record.statement_file_type)


# --- enrolling ------------------------------------------------------------------------------------


@bp.route("/enrolments/new", methods=["GET", "POST"])
@login_required
def enrol_trainee():
    require(can_enrol(current_user), "cannot enrol trainees")
    versions = {str(version.id): version for version in latest_versions()}
    is_supervisor = current_user.has_role(Role.SUPERVISOR)
    form = EnrolForm(data={"supervisor": current_user.id if is_supervisor else None, "start_date": today()})
    form.pathway.choices = [(key, version.label) for key, version in versions.items()]
    binding = people.bind(form, _actor(), hints=load_hints)
    if not binding.searching and form.validate_on_submit():
        trainee, supervisor = people.chosen(form.trainee), people.chosen(form.supervisor)
        version = versions[form.pathway.data]
        done = transactions.submit(
            form,
            lambda: services.enrol(current_user, trainee, version, supervisor, None, form.start_date.data, today()),
        )
        if done:
            flash(f"{trainee.display_name} is enrolled on {version.label}.", "success")
            return redirect(url_for(".show_enrolment", enrolment_id=done.value.id))
    return render_template("training/enrol_trainee.html", form=form, versions=versions), form_status(form)


@bp.route("/people/search")
@login_required
def search_people():
    """The people a "choose a person" field may offer, as JSON for searching as you type."""
    purpose = people.PURPOSES.get(request.args.get("for", ""))
    require(purpose is not None, "no such search", 404)
    context = _search_context(purpose.context, request.args.get("context", ""))
    scope = purpose.scope(_actor(), context)
    require(scope is not None, "may not search for these people", 404)
    found, more = people.search(scope, request.args.get("q"))
    matches = people.describe(found, scope, load_hints if purpose.shows_load else None)
    response = jsonify(results=[match.as_json() for match in matches], more=more)
    response.headers["Cache-Control"] = "no-store"
    return response


SEARCH_CONTEXTS = {"enrolment": Enrolment, "stage": StageRecord, "service": Service}


def _search_context(kind: str | None, given: str) -> Enrolment | StageRecord | Service | None:
    """The record a search is for (an enrolment, a stage or a service), or None when it names none."""
    number = whole_number(given)
    if kind is None or number is None:
        return None
    return db.session.get(SEARCH_CONTEXTS[kind], number)


# --- queues ----------------------------------------------------------------------------------------


@bp.route("/accreditation")
@roles_required(Role.ACCREDITING_SUPERVISOR)
def accreditation_queue():
    page = paginate(queries.stages_to_accredit(current_user), request.args.get("page"))
    return render_template("training/accreditation_queue.html", page=page, asked=queries.asked_dates(page.items))


@bp.route("/admin/ratification")
@administrator_required
def ratification_queue():
    ratify = paginate(queries.stages_to_ratify(), request.args.get("page"))
    waiting = paginate(queries.stages_needing_accreditor(), request.args.get("waiting_page"))
    issue = paginate(queries.ratified_without_certificate(), request.args.get("issue_page"))
    return render_template("training/ratification_queue.html", ratify=ratify, waiting=waiting, issue=issue)


@bp.route("/supervisor/trainees")
@roles_required(Role.SUPERVISOR)
def my_trainees():
    page = paginate(supervised_enrolments(current_user), request.args.get("page"))
    return render_template("training/my_trainees.html", page=page, rows=queries.trainee_rows(page.items))


# --- the training records list -----------------------------------------------------------------------


def _offer_filters(form: RecordFilterForm) -> None:
    """The choices each drop-down offers: pathways, versions, stages and regions are short lists."""
    versions = list(db.session.scalars(select(PathwayVersion).order_by(PathwayVersion.code, PathwayVersion.id)))
    pathways = {version.code: version.name for version in versions}
    stage_names: dict[str, list[str]] = {}
    for version in versions:
        for stage in version.definition.stages:
            names = stage_names.setdefault(stage.code, [])
            if stage.name not in names:
                names.append(stage.name)
    form.pathway.choices = [("", "Any pathway"), *sorted(pathways.items(), key=lambda item: item[1])]
    form.version.choices = [("", "Any version"), *((str(version.id), version.label) for version in versions)]
    form.stage.choices = [("", "Any stage"), *((code, " / ".join(names)) for code, names in stage_names.items())]
    form.state.choices = [("", "Any state"), *((state.value, state.label) for state in StageState)]
    form.status.choices = [
        ("", "Any status"),
        *((status.value, status.value.capitalize()) for status in EnrolmentStatus),
    ]
    form.region.choices = [("", "Any region"), *((str(region.id), region.name) for region in regions())]
    form.cohort.choices = [("", "Any cohort"), *cohort_choices()]
    form.sort.choices = [(sort.value, sort.label) for sort in records.Sort]


def _filters(form: RecordFilterForm) -> records.Filters:
    def number(value: str | None) -> int | None:
        return int(value) if value else None

    return records.Filters(
        text=form.q.data or "",
        pathway=form.pathway.data or None,
        version_id=number(form.version.data),
        stage=form.stage.data or None,
        state=StageState(form.state.data) if form.state.data else None,
        status=EnrolmentStatus(form.status.data) if form.status.data else None,
        supervisor=form.supervisor.data or "",
        accreditor=form.accreditor.data or "",
        service=form.service.data or "",
        region_id=number(form.region.data),
        cohort_id=number(form.cohort.data),
        waiting_days=form.waiting.data,
        sort=records.Sort(form.sort.data or records.Sort.ACTIVITY),
    )


def _record_filters() -> tuple[RecordFilterForm, records.Filters | None]:
    form = RecordFilterForm(request.args)
    _offer_filters(form)
    if not form.validate():
        return form, None
    if form.waiting.data is not None and not 0 <= form.waiting.data <= records.MAX_DAYS:
        add_error(form, f"Enter a number of days from 0 to {records.MAX_DAYS:,}", "waiting")
        return form, None
    return form, _filters(form)


@bp.route("/admin/records")
@administrator_required
def list_records():
    """Every training record, filtered and sorted, a page at a time by key."""
    form, filters = _record_filters()
    found = records.page(filters, request.args.get("after"), current_app.config["PAGE_SIZE"]) if filters else None
    return render_template(
        "training/list_records.html",
        form=form,
        found=found,
        cohorts=form.cohort.choices[1:],
        csv_args=query_args(after=None),
        first_args=query_args(after=None),
        next_args=query_args(after=found.next_cursor) if found and found.next_cursor else None,
        bulk_form=ActionForm(),
    ), (200 if filters else 400)


@bp.route("/admin/records.csv")
@administrator_required
def export_records():
    """The records the filters show, as CSV: every page, in the list's order; the download is audited."""
    form, filters = _record_filters()
    if filters is None:
        return render_template(
            "training/list_records.html",
            form=form,
            found=None,
            cohorts=[],
            csv_args={},
            first_args={},
            next_args=None,
            bulk_form=ActionForm(),
        ), 400
    transactions.run(
        lambda: audit.record(
            current_user,
            "training_records.exported",
            ("TrainingRecords", None),
            after={"filters": request.args.to_dict()},
        )
    )
    name = f"training-records-{today():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(records.stream_csv(filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
