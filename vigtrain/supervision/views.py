"""The supervision log: trainees record sessions, supervisors confirm or query them."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.accounts import people
from vigtrain.accounts.models import Role, User
from vigtrain.casework import signals as casework_signals
from vigtrain.casework.models import Case
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.forms import form_status, whole_number
from vigtrain.pagination import paginate
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import Enrolment, EnrolmentStatus
from vigtrain.pathways.queries import listed_by_name, supervised_enrolments
from vigtrain.security import (
    can_change_supervision,
    can_confirm_supervision,
    can_log_supervision,
    can_view_case,
    can_view_supervision_log,
    can_view_supervision_session,
    login_required,
    require,
    roles_required,
)
from vigtrain.supervision import queries, records, sessions
from vigtrain.supervision.forms import (
    DURATION_CHOICES,
    BulkConfirmForm,
    CorrectionForm,
    GroupSessionForm,
    LogFilterForm,
    ReviewForm,
    SessionForm,
)
from vigtrain.supervision.models import SessionFormat, SessionStatus, SupervisionSession
from vigtrain.supervision.pdf import SupervisionRecordPDF

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

STATUS_TAGS = {
    SessionStatus.LOGGED: "govuk-tag--yellow",
    SessionStatus.CONFIRMED: "govuk-tag--green",
    SessionStatus.QUERIED: "govuk-tag--orange",
    SessionStatus.SUPERSEDED: "govuk-tag--grey",
}
supervisor_role_required = roles_required(Role.SUPERVISOR)


@bp.context_processor
def supervision_labels() -> dict:
    return {
        "FORMAT_LABELS": sessions.FORMAT_LABELS,
        "MODE_LABELS": sessions.MODE_LABELS,
        "STATUS_LABELS": sessions.STATUS_LABELS,
        "STATUS_TAGS": STATUS_TAGS,
        "principle_name": principles().name,
        "format_hours": records.format_hours,
    }


@bp.url_defaults
def keep_enrolment(endpoint: str, values: dict) -> None:
    """Links to the trainee log from the trainee log (pagination) keep the enrolment in the path."""
    if endpoint == "supervision.trainee_log" and "enrolment_id" not in values:
        values["enrolment_id"] = (request.view_args or {}).get("enrolment_id")


def _actor() -> User:
    return current_user._get_current_object()


def _load_session(session_id: int) -> SupervisionSession:
    """The session if the current user may see it; 404 whether it is missing or someone else's."""
    session = db.session.get(SupervisionSession, session_id)
    require(
        session is not None and can_view_supervision_session(current_user, session),
        "no such supervision session, or not theirs",
        404,
    )
    return session


def _load_enrolment(enrolment_id: int | None, allowed: Callable[[User, Enrolment], bool]) -> Enrolment:
    enrolment = db.session.get(Enrolment, enrolment_id) if enrolment_id else None
    require(enrolment is not None and allowed(current_user, enrolment), "no such enrolment, or not theirs", 404)
    return enrolment


# --- the log ----------------------------------------------------------------------------------------


def _render_log(enrolment: Enrolment, template_args: dict):
    form = LogFilterForm(request.args)
    valid = form.validate()
    query = queries.log_query(
        enrolment,
        status=SessionStatus(form.status.data) if valid and form.status.data else None,
        session_format=SessionFormat(form.format.data) if valid and form.format.data else None,
        date_from=form.date_from.data if valid else None,
        date_to=form.date_to.data if valid else None,
    )
    page = paginate(query, request.args.get("page"))
    filtered = any(request.args.get(name) for name in ("status", "format")) or any(
        request.args.getlist(name) != ["", "", ""] and request.args.getlist(name) for name in ("date_from", "date_to")
    )
    return render_template(
        "supervision/log.html",
        enrolment=enrolment,
        page=page,
        form=form,
        filtered=filtered,
        totals=records.totals(enrolment),
        can_log=can_log_supervision(current_user, enrolment) and sessions.logging_open(enrolment),
        is_trainee=enrolment.trainee_id == current_user.id,
        **template_args,
    ), form_status(form)


@bp.route("")
@login_required
def list_sessions():
    """The signed-in trainee's own log (one enrolment at a time)."""
    mine = queries.own_enrolments(current_user)
    chosen = request.args.get("enrolment", type=int)
    if chosen is not None:
        enrolment = next((e for e in mine if e.id == chosen), None)
        require(enrolment is not None, "not one of their enrolments", 404)
    elif mine:
        # Training in progress first, then the record carrying on after an accreditation.
        enrolment = next((e for e in mine if e.status is EnrolmentStatus.ACTIVE), None)
        enrolment = enrolment or next((e for e in mine if e.is_continuing), mine[0])
    elif current_user.has_role(Role.SUPERVISOR):
        return redirect(url_for("supervision.confirmation_queue"))
    else:
        return render_template("supervision/no_enrolment.html")
    return _render_log(enrolment, {"others": [e for e in mine if e.id != enrolment.id], "endpoint": "list_sessions"})


@bp.route("/trainees/<int:enrolment_id>")
@login_required
def trainee_log(enrolment_id: int):
    """One trainee's log, for their supervisors and administrators."""
    enrolment = _load_enrolment(enrolment_id, can_view_supervision_log)
    if enrolment.trainee_id == current_user.id:
        return redirect(url_for("supervision.list_sessions", enrolment=enrolment.id))
    return _render_log(enrolment, {"others": [], "endpoint": "trainee_log"})


# --- on a case's page ----------------------------------------------------------------------------------


@casework_signals.case_page.connect
def case_page_supervision(case: Case) -> dict:
    """The supervision that reviewed this case's film, and where the practitioner logs more of it."""
    found = queries.case_supervision(case)
    log_in = None
    if case.consent_supervision and current_user.id == case.practitioner_id:
        own = [e for e in queries.loggable_enrolments(current_user) if e.trainee_id == current_user.id]
        log_in = own[0].id if own else None
    return {
        "supervision": [s for s in found.sessions if can_view_supervision_session(current_user, s)],
        "reviewed_in": found.by_cycle,
        "log_review_in": log_in,
        "session_status_labels": sessions.STATUS_LABELS,
        "session_status_tags": STATUS_TAGS,
    }


# --- logging ------------------------------------------------------------------------------------------


def _prepare_session_form(form: SessionForm, enrolment: Enrolment) -> None:
    """The trainee names the supervisor, their personal supervisor (while they still lead sessions)
    unless they search for another; a supervisor logging for a trainee is the supervisor."""
    if enrolment.trainee_id != current_user.id:
        del form.supervisor
        return
    if enrolment.supervisor is not None and sessions.leads_sessions(enrolment.supervisor):
        form.supervisor.description = (
            f"Who led the session. Your personal supervisor is {enrolment.supervisor.display_name}."
        )
        if not form.is_submitted():
            form.supervisor.data = str(enrolment.supervisor_id)


def _offer_cycles(form: SessionForm, enrolment: Enrolment) -> None:
    """Offer the trainee's recent cycles, and any already chosen; `?cycle=` (from a case page) chooses one."""
    asked = request.args.get("cycle", type=int) if not form.is_submitted() else None
    include = [*form.cycle_ids, *([asked] if asked else [])]
    offered = queries.cycle_choices(enrolment, include=include)
    form.cycles.choices = [(str(choice.cycle_id), choice.label) for choice in offered]
    if asked and any(choice.cycle_id == asked for choice in offered):
        form.cycles.data = sorted({*(form.cycles.data or ()), str(asked)})


def _usual_length(form: SessionForm, enrolment: Enrolment) -> None:
    """A new session's length starts as the trainee's usual one (see `queries.usual_minutes`): most
    supervision keeps one rhythm."""
    if form.is_submitted() or (minutes := queries.usual_minutes(enrolment)) is None:
        return
    if str(minutes) in {value for value, _label in DURATION_CHOICES}:
        form.duration.data = str(minutes)
    else:
        form.duration.data, form.duration_minutes.data = None, minutes


def _searching(form: SessionForm, enrolment: Enrolment) -> bool:
    """Bind the supervisor field; True when the request was a search for a supervisor, not a save."""
    return "supervisor" in form and people.bind(form, _actor(), enrolment).searching


def _chosen_supervisor(form: SessionForm) -> User | None:
    """The supervisor the trainee chose (None when this form names nobody: the logger is the supervisor)."""
    return people.chosen(form.supervisor) if "supervisor" in form else None


@bp.route("/new", methods=["GET", "POST"])
@login_required
def log_session():
    options = queries.loggable_enrolments(current_user)
    chosen = request.args.get("enrolment", type=int)
    if chosen is None and len(options) != 1:
        if not options:
            return render_template("supervision/no_enrolment.html")
        return render_template("supervision/choose_enrolment.html", options=options)
    seen = db.session.get(Enrolment, chosen) if chosen is not None else None
    if seen and not can_log_supervision(current_user, seen) and can_view_supervision_log(current_user, seen):
        # They can read this log (an administrator, say), so say who logs in it rather than "not found".
        return render_template("supervision/not_yours_to_log.html", enrolment=seen), 403
    enrolment = options[0] if chosen is None else _load_enrolment(chosen, can_log_supervision)
    form = SessionForm()
    _prepare_session_form(form, enrolment)
    _usual_length(form, enrolment)
    _offer_cycles(form, enrolment)
    if not _searching(form, enrolment) and form.validate_on_submit():

        def after(session: SupervisionSession) -> str:
            """The trainee sees the session they logged (on a phone, the log's totals push it far down);
            a supervisor logging for a trainee goes back to that trainee's log."""
            if enrolment.trainee_id == current_user.id:
                return url_for("supervision.show_session", session_id=session.id)
            return url_for("supervision.trainee_log", enrolment_id=enrolment.id)

        logged = transactions.submit(
            form,
            lambda: sessions.log_session(
                _actor(), enrolment, form.facts(), today(), supervisor=_chosen_supervisor(form)
            ),
            once=form.submission_key.key,
            outcome_url=after,
        )
        if logged.repeat:
            return redirect(logged.repeat)
        if logged:
            session = logged.value
            flash(
                f"Session on {session.session_date.day} {session.session_date:%B %Y} saved. "
                f"It counts once {session.supervisor.display_name} confirms it.",
                "success",
            )
            return redirect(after(session))
    return render_template(
        "supervision/session_form.html", form=form, enrolment=enrolment, mode="new", session=None
    ), form_status(form)


def _group_label(enrolment: Enrolment, continuing: bool) -> str:
    if continuing:
        return f"{enrolment.trainee.display_name} (accredited {enrolment.pathway_version.name}: continuing supervision)"
    return f"{enrolment.trainee.display_name} ({enrolment.pathway_version.name})"


@bp.route("/group/new", methods=["GET", "POST"])
@supervisor_role_required
def log_group_session():
    listed = queries.group_enrolments(current_user)
    supervised = [enrolment for enrolment, _continuing in listed]
    form = GroupSessionForm()
    form.trainees.choices = [(str(e.id), _group_label(e, continuing)) for e, continuing in listed]
    if form.validate_on_submit():
        by_id = {str(e.id): e for e in supervised}
        chosen = [by_id[value] for value in form.trainees.data]
        logged = transactions.submit(
            form,
            lambda: sessions.log_group_session(_actor(), chosen, form.facts(), today()),
            once=form.submission_key.key,
            outcome_url=lambda _sessions: url_for("supervision.confirmation_queue"),
        )
        if logged.repeat:
            return redirect(logged.repeat)
        if logged:
            count = len(logged.value)
            flash(
                f"Group session saved for {count} trainee{'s' if count != 1 else ''}. "
                "Confirm it below when you are ready.",
                "success",
            )
            return redirect(url_for("supervision.confirmation_queue"))
    return render_template("supervision/group_form.html", form=form, supervised=supervised), form_status(form)


# --- one session ---------------------------------------------------------------------------------------


def _render_session(session: SupervisionSession, review_form: ReviewForm | None = None, status: int = 200):
    original, made = queries.corrections(session)
    logged_by = db.session.get(User, session.logged_by_id)
    can_review = can_confirm_supervision(current_user, session) and session.status is SessionStatus.LOGGED
    if review_form is None and can_review:
        review_form = ReviewForm(data={"version": session.version})
    return render_template(
        "supervision/show_session.html",
        session=session,
        enrolment=session.enrolment,
        original=original,
        corrections=made,
        pending_correction=next((c for c in made if c.status in sessions.EDITABLE), None),
        logged_by=logged_by,
        review_form=review_form if can_review else None,
        can_change=can_change_supervision(current_user, session)
        and session.status in sessions.EDITABLE
        and not sessions.before_accreditation(session),
        can_correct=can_log_supervision(current_user, session.enrolment)
        and session.status is SessionStatus.CONFIRMED
        and not sessions.before_accreditation(session),
        counts_in=records.period_name(session.enrolment, session.session_date),
        can_see_log=can_view_supervision_log(current_user, session.enrolment),
        # Every case a session reviewed is the trainee's, so one answer covers them all.
        can_see_cases=bool(session.reviews) and can_view_case(current_user, session.reviews[0].case),
    ), status


@bp.route("/<int:session_id>")
@login_required
def show_session(session_id: int):
    return _render_session(_load_session(session_id))


@bp.route("/<int:session_id>/review", methods=["POST"])
@login_required
def review_session(session_id: int):
    session = _load_session(session_id)
    require(can_confirm_supervision(current_user, session), "only the session's supervisor confirms or queries it")
    form = ReviewForm()
    if not form.validate_on_submit():
        return _render_session(session, form, form_status(form) if form.errors else 400)
    seen = whole_number(form.version.data)
    querying = bool(form.query.data)

    def change() -> None:
        if querying:
            sessions.query_session(_actor(), session, form.comments.data, seen)
        else:
            sessions.confirm_session(_actor(), session, seen, form.comments.data)

    if transactions.submit(form, change):
        trainee = session.enrolment.trainee.display_name
        flash(
            f"Session queried. It has gone back to {trainee} with your comment."
            if querying
            else f"Session confirmed. It now counts toward {trainee}'s supervision hours.",
            "success",
        )
        return redirect(url_for("supervision.confirmation_queue"))
    return _render_session(session, form, 422)


def _locked(session: SupervisionSession):
    return render_template("supervision/locked.html", session=session), 409


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(session_id: int):
    session = _load_session(session_id)
    require(can_change_supervision(current_user, session), "only the trainee or whoever logged it changes a session")
    if session.status not in sessions.EDITABLE:
        return _locked(session)
    enrolment = session.enrolment
    form = SessionForm()
    _prepare_session_form(form, enrolment)
    if session.amends_id is not None and "supervisor" in form:
        del form.supervisor  # a correction goes to the supervisor of the session it corrects
    if not form.is_submitted():
        form.fill_from(session)
    _offer_cycles(form, enrolment)
    if not _searching(form, enrolment) and form.validate_on_submit():
        was_queried = session.status is SessionStatus.QUERIED
        seen = whole_number(form.version.data)

        if transactions.submit(
            form,
            lambda: sessions.resubmit_session(
                _actor(), session, form.facts(), today(), seen, supervisor=_chosen_supervisor(form)
            ),
        ):
            flash(
                f"Session resubmitted to {session.supervisor.display_name} for confirmation."
                if was_queried
                else "Your changes are saved.",
                "success",
            )
            return redirect(url_for("supervision.show_session", session_id=session.id))
    return render_template(
        "supervision/session_form.html", form=form, enrolment=enrolment, mode="edit", session=session
    ), form_status(form)


@bp.route("/<int:session_id>/correct", methods=["GET", "POST"])
@login_required
def amend_session(session_id: int):
    original = _load_session(session_id)
    enrolment = original.enrolment
    require(can_log_supervision(current_user, enrolment), "only the trainee or personal supervisor corrects a session")
    if original.status is not SessionStatus.CONFIRMED:
        return redirect(url_for("supervision.show_session", session_id=original.id))
    form = CorrectionForm()
    del form.supervisor  # a correction goes to the supervisor of the session it corrects
    if not form.is_submitted():
        form.fill_from(original)
    _offer_cycles(form, enrolment)
    if form.validate_on_submit():
        seen = whole_number(form.version.data)
        correction = transactions.submit(
            form,
            lambda: sessions.amend_confirmed_session(
                _actor(), original, form.facts(), form.amendment_reason.data, today(), seen
            ),
        )
        if correction:
            flash(
                f"Correction sent to {original.supervisor.display_name}. The confirmed session keeps counting "
                "until they confirm the correction.",
                "success",
            )
            return redirect(url_for("supervision.show_session", session_id=correction.value.id))
    return render_template(
        "supervision/session_form.html", form=form, enrolment=enrolment, mode="correct", session=original
    ), form_status(form)


# --- the supervisor's queue -------------------------------------------------------------------------------


def _render_queue(form: BulkConfirmForm, status: int = 200):
    page = paginate(queries.queue_query(current_user).options(*queries.listed_sessions()), request.args.get("page"))
    return render_template(
        "supervision/queue.html",
        page=page,
        form=form,
        trainees=list(db.session.scalars(supervised_enrolments(current_user).options(*listed_by_name()))),
        awaiting=queries.awaiting_counts(current_user),
    ), status


@bp.route("/queue")
@supervisor_role_required
def confirmation_queue():
    return _render_queue(BulkConfirmForm())


@bp.route("/queue", methods=["POST"])
@supervisor_role_required
def bulk_confirm():
    form = BulkConfirmForm()
    if not form.validate_on_submit():
        return _render_queue(form, 400)
    selections = form.selections()
    if not selections:
        form.sessions.errors = ["Select the sessions to confirm"]
        return _render_queue(form, 422)
    # Each refusal is reported in the results, so there is no broken rule left to show beside a field.
    results = transactions.run(lambda: sessions.bulk_confirm(_actor(), selections))
    done = [result for result in results if result.confirmed]
    refused = [result for result in results if not result.confirmed]
    if done:
        flash(f"{len(done)} session{'s' if len(done) != 1 else ''} confirmed.", "success")
    if refused:
        flash(
            f"{len(refused)} session{'s were' if len(refused) != 1 else ' was'} not confirmed: "
            + "; ".join(f"session {result.session_id}: {result.message}" for result in refused)
            + ".",
            "warning",
        )
    return redirect(url_for("supervision.confirmation_queue"))


# --- exports -------------------------------------------------------------------------------------------


def _export_name(enrolment: Enrolment, extension: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", enrolment.trainee.display_name.lower()).strip("-") or "trainee"
    return f"supervision-record-{slug}-{today():%Y-%m-%d}.{extension}"


@bp.route("/export.csv")
@login_required
def export_csv():
    enrolment = _load_enrolment(request.args.get("enrolment", type=int), can_view_supervision_log)
    body = records.record_csv(records.supervision_record(enrolment, today()))
    return Response(
        "\ufeff" + body,  # a byte order mark, so spreadsheet programs read the text as UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(enrolment, "csv")}"'},
    )


@bp.route("/record.pdf")
@login_required
def export_pdf():
    enrolment = _load_enrolment(request.args.get("enrolment", type=int), can_view_supervision_log)
    document = SupervisionRecordPDF(records.supervision_record(enrolment, today())).render()
    return Response(
        document,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(enrolment, "pdf")}"'},
    )
