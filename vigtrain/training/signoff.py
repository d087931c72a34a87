"""The stage sign-off chain: each action checked against its row in `workflow`, every move audited.

Every action first asks its row whether this actor may take it on this stage in its state, and
checks the version the actor saw, so two people acting at once cannot both win; then it does its
own work (the rule it adds is in its docstring) and moves the stage to one of the states the row
says it leads to, telling whoever the row names.
"""

from __future__ import annotations

from datetime import date

from vigtrain import audit
from vigtrain.accounts.models import Role, User
from vigtrain.dates import utcnow
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.links import path_for
from vigtrain.notifications.inbox import notify, settle
from vigtrain.notifications.models import NotificationKind
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.pathways.models import EnrolmentStatus, EnrolmentStatusChange, StageRecord, StageState, StageTransition
from vigtrain.screening import screen
from vigtrain.training import workflow
from vigtrain.training.progress import stage_progress
from vigtrain.training.services import MAX_COMMENTS
from vigtrain.training.workflow import Action

STAGE_FIELDS = ("state", "started_on", "ended_on", "accrediting_supervisor_id", "meeting_date")


def perform(action: Action, actor: User, record: StageRecord, arguments: dict) -> None:
    """Run the service function `action` names with a form's arguments (the one action view's call)."""
    PERFORMERS[action.name](actor, record, **arguments)


def _move(actor: User, record: StageRecord, action: Action | None, to: StageState, comments: str | None = None) -> None:
    """Move the stage to `to`, which its action's row must lead to; audit it and tell whoever is next."""
    step = action.leads_to[to] if action is not None else workflow.STARTED
    before = audit.snapshot(record, *STAGE_FIELDS)
    now = utcnow()
    transition = StageTransition(
        from_state=record.state, to_state=to, actor_id=actor.id, comments=comments, occurred_at=now
    )
    record.state, record.state_since = to, now
    record.transitions.append(transition)
    record.enrolment.mark_current_stage()
    record.enrolment.last_activity_at = now
    db.session.flush()
    audit.record(
        actor, step.audit, record, before=before, after={**audit.snapshot(record, *STAGE_FIELDS), "comments": comments}
    )
    if step.notice is not None:
        _tell(step.notice, actor, record, comments, transition)
    # It has moved on: reminders that it was waiting are done with, for whoever had them.
    settle(f"stage:{record.id}", (NotificationKind.STAGE_WAITING, NotificationKind.ESCALATION))


def _tell(
    notice: workflow.Notice, actor: User, record: StageRecord, comments: str | None, transition: StageTransition
) -> None:
    """Tell the person the stage now waits for (or the trainee when it moves on), never the actor."""
    recipient = notice.to(record)
    if recipient is None or recipient.id == actor.id:
        return
    enrolment = record.enrolment
    notify(
        recipient,
        NotificationKind.STAGE_UPDATE,
        f"stage:{record.id}",
        f"transition:{transition.id}",
        notice.subject(record),
        f"{notice.body(record, actor, comments)}\n\nThe stage: {enrolment.pathway_version.label}, "
        f"{record.definition.name}.",
        path_for("training.show_stage", enrolment_id=enrolment.id, stage_code=record.stage_code),
    )


def _clean_comments(comments: str | None, required: bool, field: str = "comments") -> str | None:
    text = (comments or "").strip()
    if required and not text:
        raise DomainError("Write comments for the trainee explaining what to do next", field=field)
    if len(text) > MAX_COMMENTS:
        raise DomainError(f"Comments must be {MAX_COMMENTS:,} characters or fewer", field=field)
    return screen(text, field) or None


def _start_next_stage(actor: User, record: StageRecord, on: date) -> None:
    record.ended_on = on
    following = [stage for stage in record.enrolment.stages if stage.position > record.position]
    for stage in following:
        if stage.state is StageState.EXEMPT:
            continue
        if stage.state is StageState.NOT_STARTED:
            stage.started_on = on
            _move(actor, stage, None, StageState.IN_PROGRESS)
        return


def submit_stage(actor: User, record: StageRecord, seen_version: int) -> None:
    """The trainee submits a stage whose requirements (bar the supervisor's own assessment) are met."""
    workflow.check(workflow.SUBMIT, actor, record, seen_version)
    progress = stage_progress(record)
    missing = [status.left for status in progress.unmet if status.kind is not RequirementKind.SUPERVISOR_ASSESSMENT]
    if missing:
        raise DomainError("This stage is not ready to submit: " + "; ".join(missing) + ".")
    record.submitted_at = utcnow()
    _move(actor, record, workflow.SUBMIT, StageState.SUBMITTED)


def return_stage(actor: User, record: StageRecord, comments: str | None, seen_version: int) -> None:
    """The personal supervisor sends a submitted stage back, saying what to do next."""
    workflow.check(workflow.RETURN, actor, record, seen_version)
    _move(actor, record, workflow.RETURN, StageState.RETURNED, _clean_comments(comments, required=True))


def sign_off_stage(actor: User, record: StageRecord, comments: str | None, today: date, seen_version: int) -> None:
    """The personal supervisor signs off once every requirement is met; with no meeting it is complete."""
    workflow.check(workflow.SIGN_OFF, actor, record, seen_version)
    progress = stage_progress(record)
    if not progress.all_met:
        raise DomainError("Requirements are not all met yet: " + "; ".join(s.left for s in progress.unmet) + ".")
    text = _clean_comments(comments, required=False)
    record.signed_off_by_id, record.signed_off_at = actor.id, utcnow()
    if record.definition.has_meeting:
        _move(actor, record, workflow.SIGN_OFF, StageState.SIGNED_OFF, text)
    else:
        _move(actor, record, workflow.SIGN_OFF, StageState.COMPLETE, text)
        _start_next_stage(actor, record, today)


def request_accreditor(actor: User, record: StageRecord, accreditor: User | None, seen_version: int) -> None:
    """Ask an accrediting supervisor who is neither the trainee nor their personal supervisor."""
    workflow.check(workflow.REQUEST_ACCREDITOR, actor, record, seen_version)
    enrolment = record.enrolment
    if accreditor is None or not accreditor.is_active_flag or not accreditor.has_role(Role.ACCREDITING_SUPERVISOR):
        raise DomainError("Choose someone who holds the accrediting supervisor role", field="accreditor")
    if accreditor.id == enrolment.supervisor_id:
        raise DomainError(
            "The accrediting supervisor must not be the trainee's personal supervisor", field="accreditor"
        )
    if accreditor.id == enrolment.trainee_id:
        raise DomainError("Trainees cannot accredit their own stage", field="accreditor")
    record.accrediting_supervisor = accreditor
    _move(
        actor,
        record,
        workflow.REQUEST_ACCREDITOR,
        StageState.WITH_ACCREDITOR,
        f"Asked {accreditor.display_name}",
    )


def record_meeting(
    actor: User,
    record: StageRecord,
    outcome: str,
    meeting_date: date,
    comments: str | None,
    today: date,
    seen_version: int,
) -> None:
    """The accrediting supervisor records the meeting's outcome: accredit, or return."""
    if outcome == "accredit":
        accredit_stage(actor, record, meeting_date, comments, today, seen_version)
    else:
        return_after_meeting(actor, record, meeting_date, comments, today, seen_version)


def accredit_stage(
    actor: User, record: StageRecord, meeting_date: date, comments: str | None, today: date, seen_version: int
) -> None:
    """Accredit after the meeting; the final stage needs its reflective statement in place first."""
    workflow.check(workflow.MEETING, actor, record, seen_version)
    _check_meeting_date(record, meeting_date, today)
    if record.is_final and not record.has_statement:
        raise DomainError("The reflective statement must be in place before the accreditation meeting")
    record.meeting_date = meeting_date
    record.meeting_comments = _clean_comments(comments, required=False)
    record.accredited_by_id, record.accredited_at = actor.id, utcnow()
    _move(actor, record, workflow.MEETING, StageState.ACCREDITED, record.meeting_comments)
    if not record.is_final:
        _start_next_stage(actor, record, meeting_date)


def return_after_meeting(
    actor: User, record: StageRecord, meeting_date: date, comments: str | None, today: date, seen_version: int
) -> None:
    """The meeting was held and the stage is not yet ready: back to the trainee, with comments."""
    workflow.check(workflow.MEETING, actor, record, seen_version)
    _check_meeting_date(record, meeting_date, today)
    record.meeting_date = meeting_date
    text = _clean_comments(comments, required=True)
    record.meeting_comments = text
    _move(actor, record, workflow.MEETING, StageState.RETURNED, text)


def _check_meeting_date(record: StageRecord, meeting_date: date, today: date) -> None:
    if meeting_date > today:
        raise DomainError("The meeting date must be today or in the past", field="meeting_date")
    if record.started_on and meeting_date < record.started_on:
        raise DomainError("The meeting cannot be before the stage started", field="meeting_date")


def ratify_stage(actor: User, record: StageRecord, today: date, seen_version: int) -> None:
    """AVIGuk ratifies the accredited final stage: the trainee is accredited and the enrolment complete."""
    workflow.check(workflow.RATIFY, actor, record, seen_version)
    record.ratified_by_id, record.ratified_at = actor.id, utcnow()
    record.ended_on = today
    _move(actor, record, workflow.RATIFY, StageState.RATIFIED)
    enrolment = record.enrolment
    before = audit.snapshot(enrolment, "status")
    enrolment.status, enrolment.completed_on = EnrolmentStatus.COMPLETED, today
    enrolment.status_changes.append(EnrolmentStatusChange(status=EnrolmentStatus.COMPLETED, occurred_at=utcnow()))
    db.session.flush()
    audit.record(
        actor,
        "enrolment.completed",
        enrolment,
        before=before,
        after=audit.snapshot(enrolment, "status", "completed_on"),
    )


def record_exemption(actor: User, record: StageRecord, reason: str, today: date, seen_version: int) -> None:
    """Recognised prior learning exempts a whole stage, with a reason naming the training."""
    workflow.check(workflow.EXEMPTION, actor, record, seen_version)
    text = (reason or "").strip()
    if len(text) < 10:
        raise DomainError("Give the reason for the exemption (the prior training it recognises)", field="reason")
    if len(text) > 1000:
        raise DomainError("The reason must be 1,000 characters or fewer", field="reason")
    record.exemption_reason = screen(text, "reason")
    was_current = record.state is not StageState.NOT_STARTED
    if was_current:
        _move(actor, record, workflow.EXEMPTION, StageState.EXEMPT, record.exemption_reason)
        _start_next_stage(actor, record, today)
    else:
        # Exempted ahead of time: an empty window, so no cycle or session ever falls in it.
        record.started_on = record.ended_on = today
        _move(actor, record, workflow.EXEMPTION, StageState.EXEMPT, record.exemption_reason)


def confirm_attendance(actor: User, record: StageRecord, sessions: int, seen_version: int) -> None:
    """Record how many course sessions the trainee attended (the stage does not move)."""
    workflow.check(workflow.ATTENDANCE, actor, record, seen_version)
    if not 0 <= sessions <= 50:
        raise DomainError("Enter a number of sessions between 0 and 50", field="sessions")
    before = {"course_sessions_attended": record.course_sessions_attended}
    record.course_sessions_attended = sessions
    db.session.flush()
    audit.record(
        actor, "stage.attendance_confirmed", record, before=before, after={"course_sessions_attended": sessions}
    )


# Each row's service function, looked up once: a row naming a function that does not exist fails at import.
PERFORMERS = {action.name: globals()[action.perform] for action in workflow.ACTIONS}
