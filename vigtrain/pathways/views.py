"""Enrolment and stage pages: progress, the sign-off chain, assessments and statements."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from vigtrain import uploads
from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.dates import today
from vigtrain.errors import Conflict, DomainError, NotFound, PermissionDenied
from vigtrain.extensions import db
from vigtrain.forms import add_error, form_status
from vigtrain.pathways import services
from vigtrain.pathways.definitions import RequirementKind, principles
from vigtrain.pathways.forms import (
    AttendanceForm,
    ExemptionForm,
    MeetingForm,
    RatifyForm,
    RequestAccreditorForm,
    ReturnForm,
    SignOffForm,
    StatementFileForm,
    StatementTextForm,
    StatusForm,
    SubmitStageForm,
    SupervisorForm,
    assessment_form,
    rating_value,
)
from vigtrain.pathways.models import (
    Assessment,
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    StageRecord,
    StageState,
)
from vigtrain.pathways.progress import StageProgress, progress_for
from vigtrain.security import (
    can_accredit_stage,
    can_assess_stage,
    can_confirm_attendance,
    can_manage_enrolment,
    can_ratify_stage,
    can_read_statement,
    can_record_exemption,
    can_request_accreditor,
    can_sign_off_stage,
    can_submit_stage,
    can_view_enrolment,
    login_required,
    require,
)

bp = Blueprint("pathways", __name__)

STATEMENT_TYPES = {uploads.PDF: "PDF", uploads.DOCX: "Word document (DOCX)"}
STALE = "Someone else changed this while you were working on it. Nothing was saved: check the latest and try again."
ASSESSED = {RequirementKind.SELF_ASSESSMENT, RequirementKind.SUPERVISOR_ASSESSMENT}
# The stage page offers each action only while its service would accept it; the services still
# decide, so a stale page gets a message (or a 409), never a change it should not make.
ASSESSMENT_OPEN, EXEMPTABLE, OPEN_FOR_WORK = services.ASSESSMENT_OPEN, services.EXEMPTABLE, services.OPEN_FOR_WORK
ACTION_FORMS: dict[str, type[FlaskForm]] = {
    "submit": SubmitStageForm,
    "sign_off": SignOffForm,
    "return": ReturnForm,
    "attendance": AttendanceForm,
    "request_accreditor": RequestAccreditorForm,
    "meeting": MeetingForm,
    "ratify": RatifyForm,
    "exemption": ExemptionForm,
}


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


def _attempt(form: FlaskForm, change: Callable[[], None]) -> bool:
    """Run a service call and commit; a broken rule goes beside its field and nothing is saved.

    A stale version (seen by the service, or by the database when two people act at once) and a
    refused permission escape to the app's handlers, which roll back and answer 409 or 403.
    """
    try:
        change()
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(STALE) from None
    except (Conflict, PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        db.session.rollback()
        add_error(form, exc.message, exc.field)
        return False
    return True


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
    overall = round(sum(p.percent for p in progress) / len(progress)) if progress else 0
    return render_template(
        "pathways/show_enrolment.html",
        enrolment=enrolment,
        progress=progress,
        overall=overall,
        current_progress=current_progress,
        growth=_growth(enrolment, services.assessments_for(enrolment)),
        can_manage=can_manage_enrolment(current_user, enrolment) and enrolment.status is not EnrolmentStatus.COMPLETED,
        is_trainee=current_user.id == enrolment.trainee_id,
    )


def _supervisor_choices(enrolment: Enrolment) -> list[tuple[str, str]]:
    people = db.session.scalars(
        select(User)
        .where(
            User.is_active_flag.is_(True),
            User.id != enrolment.trainee_id,
            User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.SUPERVISOR)),
        )
        .order_by(User.display_name, User.id)
    )
    return [("", "Choose a supervisor")] + [(str(user.id), f"{user.display_name} ({user.email})") for user in people]


@bp.route("/enrolments/<int:enrolment_id>/supervisor", methods=["GET", "POST"])
@login_required
def change_supervisor(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    require(can_manage_enrolment(current_user, enrolment), "cannot manage this enrolment")
    form = SupervisorForm(data={"version": enrolment.version, "supervisor": str(enrolment.supervisor_id or "")})
    form.supervisor.choices = _supervisor_choices(enrolment)
    if form.validate_on_submit():
        supervisor = db.session.get(User, int(form.supervisor.data))
        if _attempt(form, lambda: services.change_supervisor(_actor(), enrolment, supervisor, form.version.data)):
            flash(f"{supervisor.display_name} is now the personal supervisor.", "success")
            return redirect(url_for(".show_enrolment", enrolment_id=enrolment.id))
    return render_template("pathways/change_supervisor.html", enrolment=enrolment, form=form), form_status(form)


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
        if _attempt(
            form,
            lambda: services.set_enrolment_status(_actor(), enrolment, status, form.reason.data, form.version.data),
        ):
            flash(f"The enrolment is now {status.value}.", "success")
            return redirect(url_for(".show_enrolment", enrolment_id=enrolment.id))
    return render_template("pathways/change_status.html", enrolment=enrolment, form=form), form_status(form)


# --- one stage and its sign-off chain -------------------------------------------------------------


def _may_assess(user: User, record: StageRecord, kind: AssessmentKind) -> bool:
    return record.state in ASSESSMENT_OPEN[kind] and can_assess_stage(user, record, kind)


def _stage_progress(record: StageRecord) -> StageProgress:
    return next(p for p in progress_for([record.enrolment])[record.enrolment_id] if p.record.id == record.id)


def _available_actions(user: User, record: StageRecord) -> list[str]:
    """The actions to offer this person on this stage now (who: the predicates; when: the state)."""
    state, active = record.state, record.enrolment.status is EnrolmentStatus.ACTIVE
    kinds = {requirement.kind for requirement in record.definition.active_requirements}
    offers = {
        "submit": active and state in OPEN_FOR_WORK and can_submit_stage(user, record),
        "sign_off": active and state is StageState.SUBMITTED and can_sign_off_stage(user, record),
        "return": state is StageState.SUBMITTED and can_sign_off_stage(user, record),
        "attendance": RequirementKind.COURSE_ATTENDANCE in kinds
        and not record.finished
        and can_confirm_attendance(user, record),
        "request_accreditor": active and state is StageState.SIGNED_OFF and can_request_accreditor(user, record),
        "meeting": active and state is StageState.WITH_ACCREDITOR and can_accredit_stage(user, record),
        "ratify": record.is_final and state is StageState.ACCREDITED and can_ratify_stage(user, record),
        "exemption": not record.is_final and state in EXEMPTABLE and can_record_exemption(user, record),
    }
    return [name for name, offered in offers.items() if offered]


def _accreditor_choices(record: StageRecord) -> list[tuple[str, str]]:
    enrolment = record.enrolment
    excluded = [user_id for user_id in (enrolment.trainee_id, enrolment.supervisor_id) if user_id is not None]
    people = db.session.scalars(
        select(User)
        .where(
            User.is_active_flag.is_(True),
            User.id.not_in(excluded),
            User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.ACCREDITING_SUPERVISOR)),
        )
        .order_by(User.display_name, User.id)
    )
    return [("", "Choose an accrediting supervisor")] + [
        (str(user.id), f"{user.display_name} ({user.email})") for user in people
    ]


def _render_stage(record: StageRecord, failed: tuple[str, FlaskForm] | None = None):
    """The stage page; `failed` is the action form that was refused, shown with its messages."""
    user = _actor()
    progress = _stage_progress(record)
    forms: dict[str, FlaskForm] = {}
    for name in _available_actions(user, record):
        initial = {"version": record.version, "sessions": record.course_sessions_attended}
        forms[name] = ACTION_FORMS[name](formdata=None, data=initial)
    if failed is not None:
        forms[failed[0]] = failed[1]
    if "request_accreditor" in forms:
        forms["request_accreditor"].accreditor.choices = _accreditor_choices(record)
    transitions = record.transitions
    returned = transitions[-1] if record.state is StageState.RETURNED and transitions else None
    kinds = {requirement.kind for requirement in record.definition.active_requirements}
    status = 422 if failed is not None else 200
    return render_template(
        "pathways/show_stage.html",
        record=record,
        enrolment=record.enrolment,
        stage=record.definition,
        progress=progress,
        forms=forms,
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


@bp.route("/enrolments/<int:enrolment_id>/stages/<stage_code>")
@login_required
def show_stage(enrolment_id: int, stage_code: str):
    return _render_stage(_load_stage(enrolment_id, stage_code))


def _act(record: StageRecord, name: str, form: FlaskForm, change: Callable[[], None], done: Callable[[], str]):
    """Validate an action form, run the service, then back to the stage page (or show what is wrong).

    Someone whose part ended with the action (an accrediting supervisor who accredited a stage)
    goes back to their queue instead, as the record is no longer theirs to see.
    """
    if form.validate_on_submit() and _attempt(form, change):
        flash(done(), "success")
        if not can_view_enrolment(current_user, record.enrolment):
            return redirect(url_for("training.accreditation_queue"))
        return redirect(url_for(".show_stage", enrolment_id=record.enrolment_id, stage_code=record.stage_code))
    return _render_stage(record, failed=(name, form))


STAGE = "/enrolments/<int:enrolment_id>/stages/<stage_code>"


@bp.route(f"{STAGE}/submit", methods=["POST"])
@login_required
def submit_stage(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_submit_stage(current_user, record), "only the trainee submits their stage")
    form = SubmitStageForm()
    return _act(
        record,
        "submit",
        form,
        lambda: services.submit_stage(_actor(), record, form.version.data),
        lambda: "Stage submitted for sign-off. Your supervisor can now review it.",
    )


@bp.route(f"{STAGE}/sign-off", methods=["POST"])
@login_required
def sign_off_stage(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_sign_off_stage(current_user, record), "only the personal supervisor signs off")
    form = SignOffForm()
    return _act(
        record,
        "sign_off",
        form,
        lambda: services.sign_off_stage(_actor(), record, form.comments.data, today(), form.version.data),
        lambda: f"Stage signed off. It is now {record.state.label.lower()}.",
    )


@bp.route(f"{STAGE}/return", methods=["POST"])
@login_required
def return_stage(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_sign_off_stage(current_user, record), "only the personal supervisor returns a submitted stage")
    form = ReturnForm()
    return _act(
        record,
        "return",
        form,
        lambda: services.return_stage(_actor(), record, form.comments.data, form.version.data),
        lambda: "Stage returned to the trainee with your comments.",
    )


@bp.route(f"{STAGE}/attendance", methods=["POST"])
@login_required
def confirm_attendance(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_confirm_attendance(current_user, record), "cannot confirm attendance")
    form = AttendanceForm()
    return _act(
        record,
        "attendance",
        form,
        lambda: services.confirm_attendance(_actor(), record, form.sessions.data, form.version.data),
        lambda: f"Course attendance confirmed: {form.sessions.data} sessions.",
    )


@bp.route(f"{STAGE}/accreditor", methods=["POST"])
@login_required
def request_accreditor(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_request_accreditor(current_user, record), "cannot ask for an accrediting supervisor")
    form = RequestAccreditorForm()
    form.accreditor.choices = _accreditor_choices(record)
    chosen: list[User] = []

    def change() -> None:
        accreditor = db.session.get(User, int(form.accreditor.data))
        chosen.append(accreditor)
        services.request_accreditor(_actor(), record, accreditor, form.version.data)

    return _act(
        record,
        "request_accreditor",
        form,
        change,
        lambda: f"{chosen[0].display_name} has been asked to hold the {record.definition.meeting_name or 'meeting'}.",
    )


@bp.route(f"{STAGE}/meeting", methods=["POST"])
@login_required
def record_meeting(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_accredit_stage(current_user, record), "only the accrediting supervisor records the meeting")
    form = MeetingForm()

    def change() -> None:
        if form.outcome.data == "accredit":
            services.accredit_stage(
                _actor(), record, form.meeting_date.data, form.comments.data, today(), form.version.data
            )
        else:
            services.return_after_meeting(
                _actor(), record, form.meeting_date.data, form.comments.data, today(), form.version.data
            )

    return _act(
        record,
        "meeting",
        form,
        change,
        lambda: (
            "Meeting recorded: the stage is accredited."
            if record.state is StageState.ACCREDITED
            else "Meeting recorded: the stage has been returned to the trainee with your comments."
        ),
    )


@bp.route(f"{STAGE}/ratify", methods=["POST"])
@login_required
def ratify_stage(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_ratify_stage(current_user, record), "cannot ratify")
    form = RatifyForm()
    return _act(
        record,
        "ratify",
        form,
        lambda: services.ratify_stage(_actor(), record, today(), form.version.data),
        lambda: f"Accreditation ratified. {record.enrolment.trainee.display_name} has completed the pathway.",
    )


@bp.route(f"{STAGE}/exemption", methods=["POST"])
@login_required
def record_exemption(enrolment_id: int, stage_code: str):
    record = _load_stage(enrolment_id, stage_code)
    require(can_record_exemption(current_user, record), "cannot record an exemption")
    form = ExemptionForm()
    return _act(
        record,
        "exemption",
        form,
        lambda: services.record_exemption(_actor(), record, form.reason.data, today(), form.version.data),
        lambda: "Exemption recorded: the stage is recognised as prior learning.",
    )


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
        if _attempt(form, lambda: services.save_assessment(_actor(), record, assessment_kind, ratings)):
            flash(
                "Your self-assessment has been saved."
                if assessment_kind is AssessmentKind.SELF
                else "Your assessment has been saved.",
                "success",
            )
            return redirect(url_for(".show_stage", enrolment_id=record.enrolment_id, stage_code=record.stage_code))
    return render_template(
        "pathways/edit_assessment.html",
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
        "pathways/show_assessments.html",
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
        "pathways/edit_statement.html",
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
            if _attempt(
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
        and _attempt(text_form, lambda: services.save_statement_text(_actor(), record, text_form.text.data))
    ):
        flash("Your reflective statement has been saved.", "success")
        return redirect(url_for(".show_stage", enrolment_id=record.enrolment_id, stage_code=record.stage_code))
    return _render_statement(record, text_form, file_form)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge):
    """A request too big to read at all: on the statement page, say so beside the file field."""
    db.session.rollback()
    record = None
    if request.endpoint == "pathways.edit_statement" and current_user.is_authenticated:
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
