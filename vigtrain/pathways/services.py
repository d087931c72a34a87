"""Pathway versions, enrolment, and the stage sign-off chain: one state machine, every move audited.

The chain: trainee submits (requirements met) → personal supervisor signs off or returns →
an administrator or the personal supervisor asks an accrediting supervisor → the accrediting
supervisor records the meeting and accredits or returns → for the final stage an administrator
ratifies. Stages that end with no meeting are complete once signed off. Every move checks the
actor with a predicate from `vigtrain.security`, checks the state, and checks the version the
actor saw, so two people acting at once cannot both win.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from vigtrain import audit
from vigtrain.accounts.models import Role, User
from vigtrain.dates import utcnow
from vigtrain.errors import Conflict, DomainError, NotFound, PermissionDenied
from vigtrain.extensions import db
from vigtrain.notifications.services import send_email
from vigtrain.organisations.models import Service
from vigtrain.pathways.definitions import Pathway, load_pathway_files, principles
from vigtrain.pathways.models import (
    Assessment,
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    PathwayVersion,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.pathways.progress import stage_progress
from vigtrain.screening import screen
from vigtrain.security import (
    can_accredit_stage,
    can_assess_stage,
    can_confirm_attendance,
    can_enrol,
    can_manage_enrolment,
    can_ratify_stage,
    can_record_exemption,
    can_request_accreditor,
    can_sign_off_stage,
    can_submit_stage,
)

# The states in which each kind of work is open; pages offer an action only while it is.
OPEN_FOR_WORK = frozenset({StageState.IN_PROGRESS, StageState.RETURNED})
EXEMPTABLE = frozenset({StageState.NOT_STARTED, StageState.IN_PROGRESS, StageState.RETURNED})
ASSESSMENT_OPEN = {
    AssessmentKind.SELF: OPEN_FOR_WORK,
    AssessmentKind.SUPERVISOR: OPEN_FOR_WORK | {StageState.SUBMITTED},
}
STAGE_FIELDS = ("state", "started_on", "ended_on", "accrediting_supervisor_id", "meeting_date")
ENROLMENT_FIELDS = ("trainee_id", "pathway_version_id", "supervisor_id", "service_id", "start_date", "status")
MAX_COMMENTS = 4000
MAX_STATEMENT = 20000


# --- pathway versions ---------------------------------------------------------------------------


def sync_pathways(pathways: list[Pathway] | None = None) -> tuple[list[PathwayVersion], list[PathwayVersion]]:
    """Load new pathway versions; refuse any change to a version already loaded.

    Returns (added, unchanged). Raises DomainError naming the version if a published file was
    edited in place (a version is immutable: copy the file and give it a new version).
    """
    pathways = pathways if pathways is not None else load_pathway_files()
    principles()  # fail early if the principles file is malformed
    existing = {(v.code, v.version): v for v in db.session.scalars(select(PathwayVersion))}
    added, unchanged = [], []
    for pathway in pathways:
        current = existing.get((pathway.code, pathway.version))
        if current is not None:
            if current.checksum != pathway.checksum():
                raise DomainError(
                    f"{pathway.code} version {pathway.version} is already loaded and cannot change. "
                    "Copy the file, give it a new version, and sync again."
                )
            unchanged.append(current)
            continue
        version = PathwayVersion(
            code=pathway.code,
            version=pathway.version,
            name=pathway.name,
            credential=pathway.credential,
            provisional=pathway.is_provisional,
            definition_json=pathway.canonical_json(),
            checksum=pathway.checksum(),
        )
        db.session.add(version)
        db.session.flush()
        audit.record(None, "pathway.version_loaded", version, after={"code": pathway.code, "version": pathway.version})
        added.append(version)
    return added, unchanged


def pathway_versions() -> list[PathwayVersion]:
    return list(db.session.scalars(select(PathwayVersion).order_by(PathwayVersion.code, PathwayVersion.version)))


def version_key(version: str) -> tuple:
    """Sort "2024.10" after "2024.9": numeric parts compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.-]", version))


def latest_versions() -> list[PathwayVersion]:
    """The newest version of each pathway: what new enrolments are offered."""
    newest: dict[str, PathwayVersion] = {}
    for version in pathway_versions():
        if version.code not in newest or version_key(version.version) > version_key(newest[version.code].version):
            newest[version.code] = version
    return sorted(newest.values(), key=lambda v: v.name)


# --- enrolment ----------------------------------------------------------------------------------


def enrol(
    actor: User,
    trainee: User,
    version: PathwayVersion,
    supervisor: User | None,
    service: Service | None,
    start_date: date,
    today: date,
) -> Enrolment:
    """Put a trainee on a pathway version; the first stage starts on the start date."""
    if not can_enrol(actor):
        raise PermissionDenied("Only administrators and supervisors can enrol trainees")
    if not trainee.is_active_flag:
        raise DomainError("This person's account is deactivated", field="trainee")
    if not trainee.has_role(Role.TRAINEE):
        raise DomainError("This person does not hold the trainee role", field="trainee")
    if supervisor is not None:
        if not supervisor.is_active_flag or not supervisor.has_role(Role.SUPERVISOR):
            raise DomainError("The personal supervisor must hold the supervisor role", field="supervisor")
        if supervisor.id == trainee.id:
            raise DomainError("A trainee cannot be their own supervisor", field="supervisor")
    if start_date > today.replace(year=today.year + 1):
        raise DomainError("The start date must be within the next year", field="start_date")
    clash = db.session.scalar(
        select(Enrolment).where(
            Enrolment.trainee_id == trainee.id,
            Enrolment.pathway_version_id.in_(select(PathwayVersion.id).where(PathwayVersion.code == version.code)),
            Enrolment.status.in_([EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED]),
        )
    )
    if clash is not None:
        raise DomainError(f"{trainee.display_name} is already enrolled on {version.name}", field="trainee")
    enrolment = Enrolment(
        trainee=trainee,
        pathway_version=version,
        supervisor=supervisor,
        service=service or trainee.service,
        start_date=start_date,
    )
    for position, stage in enumerate(version.definition.stages):
        record = StageRecord(
            stage_code=stage.code,
            position=position,
            state=StageState.NOT_STARTED,
            is_final=stage.code == version.definition.final_stage.code,
        )
        if position == 0:
            record.state, record.started_on = StageState.IN_PROGRESS, start_date
        enrolment.stages.append(record)
    db.session.add(enrolment)
    db.session.flush()
    audit.record(actor, "enrolment.created", enrolment, after=audit.snapshot(enrolment, *ENROLMENT_FIELDS))
    return enrolment


def change_supervisor(actor: User, enrolment: Enrolment, supervisor: User, seen_version: int) -> None:
    if not can_manage_enrolment(actor, enrolment):
        raise PermissionDenied("You cannot change this enrolment")
    _check_version(enrolment, seen_version)
    if enrolment.status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.WITHDRAWN):
        raise DomainError(f"This enrolment is {enrolment.status.value}; its supervisor cannot change")
    if not supervisor.is_active_flag or not supervisor.has_role(Role.SUPERVISOR):
        raise DomainError("Choose someone with an active account who holds the supervisor role", field="supervisor")
    if supervisor.id == enrolment.trainee_id:
        raise DomainError("A trainee cannot be their own supervisor", field="supervisor")
    before = audit.snapshot(enrolment, *ENROLMENT_FIELDS)
    enrolment.supervisor = supervisor
    db.session.flush()
    audit.record(
        actor,
        "enrolment.supervisor_changed",
        enrolment,
        before=before,
        after=audit.snapshot(enrolment, *ENROLMENT_FIELDS),
    )


def set_enrolment_status(
    actor: User, enrolment: Enrolment, status: EnrolmentStatus, reason: str | None, seen_version: int
) -> None:
    if not can_manage_enrolment(actor, enrolment):
        raise PermissionDenied("You cannot change this enrolment")
    _check_version(enrolment, seen_version)
    if status is EnrolmentStatus.COMPLETED:
        raise DomainError("An enrolment is completed by ratifying its final stage", field="status")
    if enrolment.status is EnrolmentStatus.COMPLETED:
        raise DomainError("This enrolment is complete and cannot change", field="status")
    if status in (EnrolmentStatus.PAUSED, EnrolmentStatus.WITHDRAWN) and not (reason or "").strip():
        raise DomainError("Give a reason for pausing or withdrawing", field="reason")
    if len((reason or "").strip()) > 500:
        raise DomainError("The reason must be 500 characters or fewer", field="reason")
    before = audit.snapshot(enrolment, "status", "status_reason")
    enrolment.status = status
    enrolment.status_reason = screen(reason, "reason") if status is not EnrolmentStatus.ACTIVE else None
    db.session.flush()
    audit.record(
        actor,
        "enrolment.status_changed",
        enrolment,
        before=before,
        after=audit.snapshot(enrolment, "status", "status_reason"),
    )


# --- the sign-off chain -------------------------------------------------------------------------


def _check_version(thing: StageRecord | Enrolment, seen_version: int) -> None:
    if thing.version != seen_version:
        raise Conflict(
            "Someone else changed this while you were working on it. Nothing was saved: check the latest and try again."
        )


def _require_active(record: StageRecord) -> None:
    if record.enrolment.status is not EnrolmentStatus.ACTIVE:
        raise DomainError(
            f"This enrolment is {record.enrolment.status.value}; stages cannot move until it is active again"
        )


def _move(actor: User, record: StageRecord, to: StageState, action: str, comments: str | None = None) -> None:
    before = audit.snapshot(record, *STAGE_FIELDS)
    transition = StageTransition(from_state=record.state, to_state=to, actor_id=actor.id, comments=comments)
    record.state = to
    record.transitions.append(transition)
    db.session.flush()
    audit.record(
        actor, action, record, before=before, after={**audit.snapshot(record, *STAGE_FIELDS), "comments": comments}
    )
    _tell_whoever_acts_next(actor, record, to, comments)


def _tell_whoever_acts_next(actor: User, record: StageRecord, to: StageState, comments: str | None) -> None:
    """Email the person the stage now waits for (or the trainee when it moves on)."""
    enrolment = record.enrolment
    stage_name = record.definition.name
    trainee = enrolment.trainee
    waiting_for: dict[StageState, tuple[User | None, str, str]] = {
        StageState.SUBMITTED: (
            enrolment.supervisor,
            f"{trainee.display_name} has submitted {stage_name} for sign-off",
            "Please review the stage, complete your assessment if you have not, and sign it off or return it.",
        ),
        StageState.RETURNED: (
            trainee,
            f"{stage_name} has been returned to you",
            f"{actor.display_name} returned the stage with these comments:\n\n{comments or ''}",
        ),
        StageState.WITH_ACCREDITOR: (
            record.accrediting_supervisor,
            f"Please accredit {trainee.display_name}'s {stage_name}",
            "You have been asked to hold the transition or accreditation meeting for this stage.",
        ),
        StageState.ACCREDITED: (
            trainee,
            f"{stage_name} has been accredited",
            "Congratulations."
            + (" AVIGuk will now ratify your accreditation." if record.is_final else " Your next stage has started."),
        ),
        StageState.RATIFIED: (
            trainee,
            f"You are an {enrolment.pathway_version.credential}",
            "AVIGuk has ratified your accreditation. Congratulations.",
        ),
    }
    if to not in waiting_for:
        return
    recipient, subject, body = waiting_for[to]
    if recipient is None or recipient.id == actor.id or not recipient.is_active_flag:
        return
    send_email(
        recipient.email,
        subject,
        f"Hello {recipient.display_name},\n\n{body}\n\nSign in to vigtrain to see the stage: "
        f"{enrolment.pathway_version.label}, {stage_name}.\n",
    )


def _clean_comments(comments: str | None, required: bool, field: str = "comments") -> str | None:
    text = (comments or "").strip()
    if required and not text:
        raise DomainError("Write comments for the trainee explaining what to do next", field=field)
    if len(text) > MAX_COMMENTS:
        raise DomainError(f"Comments must be {MAX_COMMENTS} characters or fewer", field=field)
    return screen(text, field) or None


def _start_next_stage(actor: User, record: StageRecord, on: date) -> None:
    record.ended_on = on
    following = [stage for stage in record.enrolment.stages if stage.position > record.position]
    for stage in following:
        if stage.state is StageState.EXEMPT:
            continue
        if stage.state is StageState.NOT_STARTED:
            stage.started_on = on
            _move(actor, stage, StageState.IN_PROGRESS, "stage.started")
        return


def submit_stage(actor: User, record: StageRecord, seen_version: int) -> None:
    """The trainee submits a stage whose requirements (bar the supervisor's own) are met."""
    if not can_submit_stage(actor, record):
        raise PermissionDenied("Only the trainee can submit their stage")
    _check_version(record, seen_version)
    _require_active(record)
    if record.state not in OPEN_FOR_WORK:
        raise DomainError(f"This stage cannot be submitted while it is {record.state.label.lower()}")
    progress = stage_progress(record)
    missing = [status.left for status in progress.unmet if status.kind.value != "supervisor_assessment"]
    if missing:
        raise DomainError("This stage is not ready to submit: " + "; ".join(missing) + ".")
    record.submitted_at = utcnow()
    _move(actor, record, StageState.SUBMITTED, "stage.submitted")


def return_stage(actor: User, record: StageRecord, comments: str | None, seen_version: int) -> None:
    """The personal supervisor (after submission) or the accrediting supervisor sends it back."""
    _check_version(record, seen_version)
    if record.state is StageState.SUBMITTED and can_sign_off_stage(actor, record):
        action = "stage.returned_by_supervisor"
    elif record.state is StageState.WITH_ACCREDITOR and can_accredit_stage(actor, record):
        action = "stage.returned_by_accreditor"
    else:
        raise PermissionDenied("You cannot return this stage now")
    text = _clean_comments(comments, required=True)
    _move(actor, record, StageState.RETURNED, action, text)


def sign_off_stage(actor: User, record: StageRecord, comments: str | None, today: date, seen_version: int) -> None:
    """The personal supervisor signs off a submitted stage (it is then complete if no meeting ends it)."""
    if not can_sign_off_stage(actor, record):
        raise PermissionDenied("Only the trainee's personal supervisor can sign off this stage")
    _check_version(record, seen_version)
    _require_active(record)
    if record.state is not StageState.SUBMITTED:
        raise DomainError(f"Only a submitted stage can be signed off; this one is {record.state.label.lower()}")
    progress = stage_progress(record)
    if not progress.all_met:
        raise DomainError("Requirements are not all met yet: " + "; ".join(s.left for s in progress.unmet) + ".")
    text = _clean_comments(comments, required=False)
    record.signed_off_by_id, record.signed_off_at = actor.id, utcnow()
    if record.definition.has_meeting:
        _move(actor, record, StageState.SIGNED_OFF, "stage.signed_off", text)
    else:
        _move(actor, record, StageState.COMPLETE, "stage.signed_off", text)
        _start_next_stage(actor, record, today)


def request_accreditor(actor: User, record: StageRecord, accreditor: User, seen_version: int) -> None:
    """An administrator or the personal supervisor asks an accrediting supervisor to hold the meeting."""
    if not can_request_accreditor(actor, record):
        raise PermissionDenied("Only an administrator or the personal supervisor can ask for an accrediting supervisor")
    _check_version(record, seen_version)
    _require_active(record)
    if record.state is not StageState.SIGNED_OFF:
        raise DomainError("An accrediting supervisor is asked for once the personal supervisor has signed off")
    enrolment = record.enrolment
    if not accreditor.is_active_flag or not accreditor.has_role(Role.ACCREDITING_SUPERVISOR):
        raise DomainError("Choose someone who holds the accrediting supervisor role", field="accreditor")
    if accreditor.id == enrolment.supervisor_id:
        raise DomainError(
            "The accrediting supervisor must not be the trainee's personal supervisor", field="accreditor"
        )
    if accreditor.id == enrolment.trainee_id:
        raise DomainError("Trainees cannot accredit their own stage", field="accreditor")
    record.accrediting_supervisor_id = accreditor.id
    _move(actor, record, StageState.WITH_ACCREDITOR, "stage.accreditor_requested", f"Asked {accreditor.display_name}")


def accredit_stage(
    actor: User, record: StageRecord, meeting_date: date, comments: str | None, today: date, seen_version: int
) -> None:
    """The accrediting supervisor records the meeting and accredits the stage."""
    if not can_accredit_stage(actor, record):
        raise PermissionDenied("Only the accrediting supervisor asked for this stage can accredit it")
    _check_version(record, seen_version)
    _require_active(record)
    if record.state is not StageState.WITH_ACCREDITOR:
        raise DomainError(f"This stage cannot be accredited while it is {record.state.label.lower()}")
    _check_meeting_date(record, meeting_date, today)
    if record.is_final and not record.has_statement:
        raise DomainError("The reflective statement must be in place before the accreditation meeting")
    record.meeting_date = meeting_date
    record.meeting_comments = _clean_comments(comments, required=False)
    record.accredited_by_id, record.accredited_at = actor.id, utcnow()
    _move(actor, record, StageState.ACCREDITED, "stage.accredited", record.meeting_comments)
    if not record.is_final:
        _start_next_stage(actor, record, meeting_date)


def return_after_meeting(
    actor: User, record: StageRecord, meeting_date: date, comments: str | None, today: date, seen_version: int
) -> None:
    """The accrediting supervisor held the meeting and the stage is not yet ready."""
    if not can_accredit_stage(actor, record):
        raise PermissionDenied("Only the accrediting supervisor asked for this stage can return it")
    _check_version(record, seen_version)
    if record.state is not StageState.WITH_ACCREDITOR:
        raise DomainError(f"This stage cannot be returned while it is {record.state.label.lower()}")
    _check_meeting_date(record, meeting_date, today)
    record.meeting_date = meeting_date
    text = _clean_comments(comments, required=True)
    record.meeting_comments = text
    _move(actor, record, StageState.RETURNED, "stage.returned_by_accreditor", text)


def _check_meeting_date(record: StageRecord, meeting_date: date, today: date) -> None:
    if meeting_date > today:
        raise DomainError("The meeting date must be today or in the past", field="meeting_date")
    if record.started_on and meeting_date < record.started_on:
        raise DomainError("The meeting cannot be before the stage started", field="meeting_date")


def ratify_stage(actor: User, record: StageRecord, today: date, seen_version: int) -> None:
    """An administrator ratifies the accredited final stage: the trainee is accredited."""
    if not can_ratify_stage(actor, record):
        raise PermissionDenied("Only an AVIGuk administrator who is not the trainee can ratify")
    _check_version(record, seen_version)
    if not record.is_final or record.state is not StageState.ACCREDITED:
        raise DomainError("Only an accredited final stage can be ratified")
    record.ratified_by_id, record.ratified_at = actor.id, utcnow()
    record.ended_on = today
    _move(actor, record, StageState.RATIFIED, "stage.ratified")
    enrolment = record.enrolment
    before = audit.snapshot(enrolment, "status")
    enrolment.status, enrolment.completed_on = EnrolmentStatus.COMPLETED, today
    db.session.flush()
    audit.record(
        actor,
        "enrolment.completed",
        enrolment,
        before=before,
        after=audit.snapshot(enrolment, "status", "completed_on"),
    )


def record_exemption(actor: User, record: StageRecord, reason: str, today: date, seen_version: int) -> None:
    """Recognised prior learning: an administrator exempts a whole stage, with a reason."""
    if not can_record_exemption(actor, record):
        raise PermissionDenied("Only an AVIGuk administrator can record an exemption")
    _check_version(record, seen_version)
    if record.state not in EXEMPTABLE:
        raise DomainError("Only a stage that is not started or in progress can be exempted")
    if record.is_final:
        raise DomainError("The final stage cannot be exempted: accreditation needs its meeting")
    text = (reason or "").strip()
    if len(text) < 10:
        raise DomainError("Give the reason for the exemption (the prior training it recognises)", field="reason")
    if len(text) > 1000:
        raise DomainError("The reason must be 1000 characters or fewer", field="reason")
    record.exemption_reason = screen(text, "reason")
    was_current = record.state is not StageState.NOT_STARTED
    record.started_on = record.started_on or today
    _move(actor, record, StageState.EXEMPT, "stage.exempted", record.exemption_reason)
    if was_current:
        _start_next_stage(actor, record, today)


def confirm_attendance(actor: User, record: StageRecord, sessions: int, seen_version: int) -> None:
    """A supervisor or administrator confirms how many course sessions the trainee attended."""
    if not can_confirm_attendance(actor, record):
        raise PermissionDenied("Only the personal supervisor or an administrator can confirm attendance")
    _check_version(record, seen_version)
    if record.finished:
        raise DomainError("This stage is finished")
    if not 0 <= sessions <= 50:
        raise DomainError("Enter a number of sessions between 0 and 50", field="sessions")
    before = {"course_sessions_attended": record.course_sessions_attended}
    record.course_sessions_attended = sessions
    db.session.flush()
    audit.record(
        actor, "stage.attendance_confirmed", record, before=before, after={"course_sessions_attended": sessions}
    )


# --- assessments and statements ------------------------------------------------------------------


def save_assessment(
    actor: User, record: StageRecord, kind: AssessmentKind, ratings: dict[str, tuple[int, str | None]]
) -> Assessment:
    """Save the self- or supervisor assessment: a rating for every principle, optional evidence."""
    if not can_assess_stage(actor, record, kind):
        raise PermissionDenied("You cannot complete this assessment")
    if record.state not in ASSESSMENT_OPEN[kind]:
        raise DomainError(f"The assessment cannot change while the stage is {record.state.label.lower()}")
    definitions = principles()
    clean: dict[str, dict] = {}
    for code in definitions.codes:
        rating, evidence = ratings.get(code, (None, None))
        if rating not in definitions.scale_values:
            raise DomainError(f"Choose a rating for {definitions.name(code)}", field=f"rating_{code}")
        text = (evidence or "").strip()
        if len(text) > 1000:
            raise DomainError("Evidence notes must be 1000 characters or fewer", field=f"evidence_{code}")
        clean[code] = {"rating": rating, "evidence": screen(text, f"evidence_{code}") or ""}
    assessment = db.session.scalar(
        select(Assessment).where(Assessment.stage_record_id == record.id, Assessment.kind == kind)
    )
    before = dict(assessment.ratings) if assessment else None
    if assessment is None:
        assessment = Assessment(stage_record_id=record.id, kind=kind, assessor_id=actor.id, ratings=clean)
        db.session.add(assessment)
    assessment.ratings, assessment.assessor_id = clean, actor.id
    assessment.principles_version, assessment.updated_at = definitions.version, utcnow()
    db.session.flush()
    audit.record(actor, f"assessment.{kind.value}_saved", assessment, before=before, after=clean)
    return assessment


def assessments_for(enrolment: Enrolment) -> dict[tuple[int, AssessmentKind], Assessment]:
    record_ids = [record.id for record in enrolment.stages]
    rows = db.session.scalars(select(Assessment).where(Assessment.stage_record_id.in_(record_ids)))
    return {(row.stage_record_id, row.kind): row for row in rows}


def save_statement_text(actor: User, record: StageRecord, text: str) -> None:
    if not can_submit_stage(actor, record):
        raise PermissionDenied("Only the trainee writes their reflective statement")
    if record.state not in OPEN_FOR_WORK:
        raise DomainError("The statement cannot change once the stage is submitted")
    text = (text or "").strip()
    if not text:
        raise DomainError("Write your reflective statement", field="text")
    if len(text) > MAX_STATEMENT:
        raise DomainError(f"The statement must be {MAX_STATEMENT:,} characters or fewer", field="text")
    record.statement_text = screen(text, "text")
    record.statement_updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "stage.statement_saved", record, after={"characters": len(text)})


def attach_statement_file(
    actor: User, record: StageRecord, original_name: str, content_type: str, size: int, store: Callable[[], str]
) -> None:
    """Record an uploaded statement file; `store` writes it and returns its random key."""
    if not can_submit_stage(actor, record):
        raise PermissionDenied("Only the trainee uploads their reflective statement")
    if record.state not in OPEN_FOR_WORK:
        raise DomainError("The statement cannot change once the stage is submitted")
    previous = record.statement_file_key
    record.statement_file_key = store()
    record.statement_file_name = original_name[:200]
    record.statement_file_type = content_type
    record.statement_file_size = size
    record.statement_updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "stage.statement_uploaded",
        record,
        before={"file": previous},
        after={"file": record.statement_file_key, "size": size},
    )


def find_stage(enrolment_id: int, stage_code: str) -> StageRecord:
    record = db.session.scalar(
        select(StageRecord).where(StageRecord.enrolment_id == enrolment_id, StageRecord.stage_code == stage_code)
    )
    if record is None:
        raise NotFound("No such stage")
    return record
