"""Enrolling trainees, the pathway browser, and the accreditation and ratification queues.

The queue queries live here as functions so the home page shows the first few items of the
very same lists. Every list is one page query plus a fixed number of batch queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, joinedload

from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.dates import today
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.forms import add_error, form_status
from vigtrain.pagination import paginate
from vigtrain.pathways import services
from vigtrain.pathways.admin_forms import EnrolForm
from vigtrain.pathways.definitions import UNITS, Requirement, RequirementKind
from vigtrain.pathways.models import (
    Enrolment,
    EnrolmentStatus,
    PathwayVersion,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.pathways.progress import StageProgress, last_confirmed_supervision, progress_for
from vigtrain.security import administrator_required, can_enrol, login_required, require, roles_required

bp = Blueprint("training", __name__)

OPEN_ENROLMENT = (EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED)


# --- queue queries (shared with the home page) ---------------------------------------------------


def supervised_enrolments(supervisor: User) -> Select:
    """Open enrolments this person supervises, by trainee name."""
    trainee = aliased(User)
    return (
        select(Enrolment)
        .join(trainee, trainee.id == Enrolment.trainee_id)
        .where(Enrolment.supervisor_id == supervisor.id, Enrolment.status.in_(OPEN_ENROLMENT))
        .order_by(trainee.display_name, Enrolment.id)
    )


def stages_to_sign_off(supervisor: User) -> Select:
    """Stages submitted by this person's trainees, oldest submission first."""
    return (
        select(StageRecord)
        .join(Enrolment, Enrolment.id == StageRecord.enrolment_id)
        .where(
            Enrolment.supervisor_id == supervisor.id,
            Enrolment.status.in_(OPEN_ENROLMENT),
            StageRecord.state == StageState.SUBMITTED,
        )
        .options(joinedload(StageRecord.enrolment, innerjoin=True))
        .order_by(StageRecord.submitted_at, StageRecord.id)
    )


def _asked_at():
    """When the stage was last sent to its accrediting supervisor (for ordering)."""
    return (
        select(func.max(StageTransition.occurred_at))
        .where(
            StageTransition.stage_record_id == StageRecord.id, StageTransition.to_state == StageState.WITH_ACCREDITOR
        )
        .correlate(StageRecord)
        .scalar_subquery()
    )


def stages_to_accredit(accreditor: User) -> Select:
    """Stages this accrediting supervisor has been asked to accredit, longest waiting first."""
    return (
        select(StageRecord)
        .where(StageRecord.accrediting_supervisor_id == accreditor.id, StageRecord.state == StageState.WITH_ACCREDITOR)
        .options(joinedload(StageRecord.enrolment, innerjoin=True))
        .order_by(_asked_at(), StageRecord.id)
    )


def stages_to_ratify() -> Select:
    """Accredited final stages: AVIGuk ratifies them, longest waiting first."""
    return (
        select(StageRecord)
        .where(StageRecord.state == StageState.ACCREDITED, StageRecord.is_final)
        .options(joinedload(StageRecord.enrolment, innerjoin=True), joinedload(StageRecord.accrediting_supervisor))
        .order_by(StageRecord.accredited_at, StageRecord.id)
    )


def stages_needing_accreditor() -> Select:
    """Stages signed off by the personal supervisor and waiting for an accrediting supervisor."""
    return (
        select(StageRecord)
        .where(StageRecord.state == StageState.SIGNED_OFF)
        .options(joinedload(StageRecord.enrolment, innerjoin=True))
        .order_by(StageRecord.signed_off_at, StageRecord.id)
    )


def count(query: Select) -> int:
    """How many rows a queue query returns, counting ids only (no eager loads, no ordering)."""
    return db.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))


def first(query: Select, limit: int) -> list:
    return list(db.session.scalars(query.limit(limit)).unique())


def asked_dates(records: Sequence[StageRecord]) -> dict[int, datetime]:
    """When each stage was sent to its accrediting supervisor, in one query."""
    if not records:
        return {}
    rows = db.session.execute(
        select(StageTransition.stage_record_id, func.max(StageTransition.occurred_at))
        .where(
            StageTransition.stage_record_id.in_([record.id for record in records]),
            StageTransition.to_state == StageState.WITH_ACCREDITOR,
        )
        .group_by(StageTransition.stage_record_id)
    )
    return dict(rows.tuples().all())


@dataclass(frozen=True)
class TraineeRow:
    enrolment: Enrolment
    stage: StageProgress | None  # the current stage (None once every stage is finished)
    last_supervision: date | None


def trainee_rows(enrolments: Sequence[Enrolment]) -> list[TraineeRow]:
    """Each enrolment with its current stage's progress and last confirmed supervision: fixed queries."""
    progress = progress_for(enrolments)
    last = last_confirmed_supervision([enrolment.id for enrolment in enrolments])
    rows = []
    for enrolment in enrolments:
        current = enrolment.current_stage
        stage = next((p for p in progress[enrolment.id] if current is not None and p.record.id == current.id), None)
        rows.append(TraineeRow(enrolment, stage, last.get(enrolment.id)))
    return rows


# --- enrolling ------------------------------------------------------------------------------------


def _active_people(role: Role) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.is_active_flag, User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
            .order_by(User.display_name, User.id)
        )
    )


def _active_person(user_id: str | None) -> User | None:
    if not user_id or not user_id.isdigit() or len(user_id) > 12:
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active_flag else None


def _person_label(user: User) -> str:
    return f"{user.display_name} ({user.email})"


@bp.route("/enrolments/new", methods=["GET", "POST"])
@login_required
def enrol_trainee():
    require(can_enrol(current_user), "cannot enrol trainees")
    versions = {str(version.id): version for version in services.latest_versions()}
    is_supervisor = current_user.has_role(Role.SUPERVISOR)
    form = EnrolForm(data={"supervisor": str(current_user.id) if is_supervisor else "", "start_date": today()})
    form.trainee.choices = [("", "Choose a trainee")] + [
        (str(user.id), _person_label(user)) for user in _active_people(Role.TRAINEE)
    ]
    form.supervisor.choices = [("", "Not chosen yet")] + [
        (str(user.id), _person_label(user)) for user in _active_people(Role.SUPERVISOR)
    ]
    form.pathway.choices = [(key, version.label) for key, version in versions.items()]
    if form.validate_on_submit():
        trainee = _active_person(form.trainee.data)
        supervisor = _active_person(form.supervisor.data)
        if trainee is None:
            add_error(form, "Select a trainee from the list", "trainee")
        if form.supervisor.data and supervisor is None:
            add_error(form, "Select a supervisor from the list", "supervisor")
        if not form.errors:
            version = versions[form.pathway.data]
            try:
                enrolment = services.enrol(
                    current_user, trainee, version, supervisor, None, form.start_date.data, today()
                )
            except DomainError as exc:
                db.session.rollback()
                add_error(form, exc.message, exc.field)
            else:
                db.session.commit()
                flash(f"{trainee.display_name} is enrolled on {version.label}.", "success")
                return redirect(url_for("pathways.show_enrolment", enrolment_id=enrolment.id))
    return render_template("training/enrol_trainee.html", form=form, versions=versions), form_status(form)


# --- the pathway browser -------------------------------------------------------------------------


def requirement_target(requirement: Requirement) -> str:
    """The target in words, e.g. '6 cycles', '7 hours', or 'Required'."""
    if not requirement.counted:
        return "Required"
    target = requirement.target
    figure = f"{target:g}"
    if requirement.kind is RequirementKind.SUPERVISION_HOURS:
        return f"{figure} hour" + ("" if target == 1 else "s")
    singular, plural = UNITS[requirement.kind]
    return f"{figure} {singular if target == 1 else plural}"


def renewal_period(months: int) -> str:
    if months % 12 == 0:
        years = months // 12
        return f"Every {years} year" + ("s" if years != 1 else "")
    return f"Every {months} months"


@bp.route("/pathways")
@login_required
def list_pathways():
    page = paginate(
        select(PathwayVersion).order_by(PathwayVersion.name, PathwayVersion.version), request.args.get("page")
    )
    enrolments = {}
    if page.items:
        enrolments = dict(
            db.session.execute(
                select(Enrolment.pathway_version_id, func.count())
                .where(Enrolment.pathway_version_id.in_([version.id for version in page.items]))
                .group_by(Enrolment.pathway_version_id)
            )
            .tuples()
            .all()
        )
    return render_template("training/list_pathways.html", page=page, enrolments=enrolments)


@bp.route("/pathways/<code>/<version>")
@login_required
def show_pathway(code: str, version: str):
    found = db.session.scalar(
        select(PathwayVersion).where(PathwayVersion.code == code, PathwayVersion.version == version)
    )
    require(found is not None, "no such pathway version", 404)
    return render_template(
        "training/show_pathway.html",
        version=found,
        pathway=found.definition,
        requirement_target=requirement_target,
        renewal_period=renewal_period,
    )


# --- queues ----------------------------------------------------------------------------------------


@bp.route("/accreditation")
@roles_required(Role.ACCREDITING_SUPERVISOR)
def accreditation_queue():
    page = paginate(stages_to_accredit(current_user), request.args.get("page"))
    return render_template("training/accreditation_queue.html", page=page, asked=asked_dates(page.items))


@bp.route("/admin/ratification")
@administrator_required
def ratification_queue():
    ratify = paginate(stages_to_ratify(), request.args.get("page"))
    waiting = paginate(stages_needing_accreditor(), request.args.get("waiting_page"))
    return render_template("training/ratification_queue.html", ratify=ratify, waiting=waiting)


@bp.route("/supervisor/trainees")
@roles_required(Role.SUPERVISOR)
def my_trainees():
    page = paginate(supervised_enrolments(current_user), request.args.get("page"))
    return render_template("training/my_trainees.html", page=page, rows=trainee_rows(page.items))
