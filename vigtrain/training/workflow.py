"""The stage sign-off chain as one table: what each action starts from, leads to, who may take it.

Each row is read by the sign-off service (which refuses an action its row does not allow), by the
stage page (which offers exactly the actions whose rows allow them), by the one action view (its
form and the message shown afterwards) and by the notifications (who is told when a state is
reached). Adding an action or a state means adding or editing its row here, writing the service
function the row names in `vigtrain.training.signoff`, and giving its form a place on the stage
page (templates/training/show_stage.html, which posts it to the row's address).

`WAITS_FOR`, beside the table, names the action each waiting state waits on: whoever may take it
is whom the stage waits for, so the reminders (`vigtrain.reminders`) tell exactly them when it has
waited long, and a new waiting state needs its row there too.

The chain: the trainee submits → the personal supervisor signs off (or returns) → an
administrator or the personal supervisor asks an accrediting supervisor → the accrediting
supervisor records the meeting and accredits (or returns) → for the final stage an AVIGuk
administrator ratifies. A stage that ends with no meeting is complete once signed off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vigtrain.accounts.models import User
from vigtrain.errors import STALE, Conflict, DomainError, PermissionDenied
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.pathways.models import FINISHED_STATES, OPEN_FOR_WORK, EnrolmentStatus, StageRecord, StageState
from vigtrain.security import (
    can_accredit_stage,
    can_confirm_attendance,
    can_ratify_stage,
    can_record_exemption,
    can_request_accreditor,
    can_sign_off_stage,
    can_submit_stage,
)
from vigtrain.training import forms

EXEMPTABLE = frozenset({StageState.NOT_STARTED, StageState.IN_PROGRESS, StageState.RETURNED})
UNFINISHED = frozenset(StageState) - FINISHED_STATES


@dataclass(frozen=True)
class Notice:
    """The email sent when an action brings a stage to a state: to whom, and what it says."""

    to: Callable[[StageRecord], User | None]
    subject: Callable[[StageRecord], str]
    body: Callable[[StageRecord, User, str | None], str]


@dataclass(frozen=True)
class Step:
    """A state an action can lead to: its audit action and who is told (if anyone)."""

    audit: str
    notice: Notice | None = None


@dataclass(frozen=True)
class Action:
    name: str  # the form's key on the stage page
    path: str  # the last part of the action's address
    starts_from: frozenset[StageState]
    leads_to: dict[StageState, Step]  # empty: the action records something without moving the stage
    may: Callable[[User, StageRecord], bool]  # who: a predicate from vigtrain.security
    form: type[forms.StageActionForm]
    perform: str  # the service function in vigtrain.training.signoff
    done: Callable[[StageRecord], str]  # the message shown once it is done
    refused: str  # why the state does not allow it ({state} is the stage's state, in words)
    denied: str  # why this person may not
    needs_active: bool = True  # only while the enrolment is active (not paused or withdrawn)
    applies: Callable[[StageRecord], bool] = field(default=lambda record: True)  # which stages have it at all
    not_here: str = ""  # why a stage that does not have it cannot take it

    def allows(self, user: User, record: StageRecord) -> bool:
        """Whether `user` may take this action on `record` now: the stage page offers it exactly then.

        The conditions `check` refuses on, cheapest first (the page asks this of every row).
        """
        return (
            record.state in self.starts_from
            and (not self.needs_active or record.enrolment.status is EnrolmentStatus.ACTIVE)
            and self.applies(record)
            and self.may(user, record)
        )

    def state_problem(self, record: StageRecord) -> DomainError | None:
        """Why the stage cannot take this action now, whoever asks (None if it can)."""
        if self.needs_active and record.enrolment.status is not EnrolmentStatus.ACTIVE:
            status = record.enrolment.status.value
            return DomainError(f"This enrolment is {status}; stages cannot move until it is active again")
        if not self.applies(record):
            return DomainError(self.not_here)
        if record.state not in self.starts_from:
            return DomainError(self.refused.format(state=record.state.label.lower()))
        return None


def _has_course(record: StageRecord) -> bool:
    return any(r.kind is RequirementKind.COURSE_ATTENDANCE for r in record.definition.active_requirements)


def _trainee(record: StageRecord) -> User:
    return record.enrolment.trainee


def _stage_subject(text: str) -> Callable[[StageRecord], str]:
    return lambda record: text.format(stage=record.definition.name, trainee=_trainee(record).display_name)


SUBMITTED_NOTICE = Notice(
    to=lambda record: record.enrolment.supervisor,
    subject=_stage_subject("{trainee} has submitted {stage} for sign-off"),
    body=lambda record, actor, comments: (
        "Please review the stage, complete your assessment if you have not, and sign it off or return it."
    ),
)
RETURNED_NOTICE = Notice(
    to=_trainee,
    subject=_stage_subject("{stage} has been returned to you"),
    body=lambda record, actor, comments: (
        f"{actor.display_name} returned the stage with these comments:\n\n{comments or ''}"
    ),
)
WITH_ACCREDITOR_NOTICE = Notice(
    to=lambda record: record.accrediting_supervisor,
    subject=_stage_subject("Please accredit {trainee}'s {stage}"),
    body=lambda record, actor, comments: (
        "You have been asked to hold the transition or accreditation meeting for this stage."
    ),
)
ACCREDITED_NOTICE = Notice(
    to=_trainee,
    subject=_stage_subject("{stage} has been accredited"),
    body=lambda record, actor, comments: (
        "Congratulations."
        + (" AVIGuk will now ratify your accreditation." if record.is_final else " Your next stage has started.")
    ),
)
RATIFIED_NOTICE = Notice(
    to=_trainee,
    subject=lambda record: f"You are an {record.enrolment.pathway_version.credential}",
    body=lambda record, actor, comments: "AVIGuk has ratified your accreditation. Congratulations.",
)

SUBMIT = Action(
    name="submit",
    path="submit",
    starts_from=OPEN_FOR_WORK,
    leads_to={StageState.SUBMITTED: Step("stage.submitted", SUBMITTED_NOTICE)},
    may=can_submit_stage,
    form=forms.SubmitStageForm,
    perform="submit_stage",
    done=lambda record: "Stage submitted for sign-off. Your supervisor can now review it.",
    refused="This stage cannot be submitted while it is {state}",
    denied="Only the trainee can submit their stage",
)
SIGN_OFF = Action(
    name="sign_off",
    path="sign-off",
    starts_from=frozenset({StageState.SUBMITTED}),
    leads_to={StageState.SIGNED_OFF: Step("stage.signed_off"), StageState.COMPLETE: Step("stage.signed_off")},
    may=can_sign_off_stage,
    form=forms.SignOffForm,
    perform="sign_off_stage",
    done=lambda record: f"Stage signed off. It is now {record.state.label.lower()}.",
    refused="Only a submitted stage can be signed off; this one is {state}",
    denied="Only the trainee's personal supervisor can sign off this stage",
)
RETURN = Action(
    name="return",
    path="return",
    starts_from=frozenset({StageState.SUBMITTED}),
    leads_to={StageState.RETURNED: Step("stage.returned_by_supervisor", RETURNED_NOTICE)},
    may=can_sign_off_stage,
    form=forms.ReturnForm,
    perform="return_stage",
    done=lambda record: "Stage returned to the trainee with your comments.",
    refused="Only a submitted stage can be returned; this one is {state}",
    denied="Only the trainee's personal supervisor can return a submitted stage",
    needs_active=False,
)
ATTENDANCE = Action(
    name="attendance",
    path="attendance",
    starts_from=UNFINISHED,
    leads_to={},
    may=can_confirm_attendance,
    form=forms.AttendanceForm,
    perform="confirm_attendance",
    done=lambda record: f"Course attendance confirmed: {record.course_sessions_attended} sessions.",
    refused="This stage is finished",
    denied="Only the personal supervisor or an administrator can confirm attendance",
    needs_active=False,
    applies=_has_course,
    not_here="This stage has no course attendance to confirm",
)
REQUEST_ACCREDITOR = Action(
    name="request_accreditor",
    path="accreditor",
    starts_from=frozenset({StageState.SIGNED_OFF}),
    leads_to={StageState.WITH_ACCREDITOR: Step("stage.accreditor_requested", WITH_ACCREDITOR_NOTICE)},
    may=can_request_accreditor,
    form=forms.RequestAccreditorForm,
    perform="request_accreditor",
    done=lambda record: (
        f"{record.accrediting_supervisor.display_name} has been asked to hold the "
        f"{record.definition.meeting_name or 'meeting'}."
    ),
    refused="An accrediting supervisor is asked for once the personal supervisor has signed off",
    denied="Only an administrator or the personal supervisor can ask for an accrediting supervisor",
)
MEETING = Action(
    name="meeting",
    path="meeting",
    starts_from=frozenset({StageState.WITH_ACCREDITOR}),
    leads_to={
        StageState.ACCREDITED: Step("stage.accredited", ACCREDITED_NOTICE),
        StageState.RETURNED: Step("stage.returned_by_accreditor", RETURNED_NOTICE),
    },
    may=can_accredit_stage,
    form=forms.MeetingForm,
    perform="record_meeting",
    done=lambda record: (
        "Meeting recorded: the stage is accredited."
        if record.state is StageState.ACCREDITED
        else "Meeting recorded: the stage has been returned to the trainee with your comments."
    ),
    refused="The meeting is recorded while the stage is with its accrediting supervisor; this one is {state}",
    denied="Only the accrediting supervisor asked for this stage can record its meeting",
)
RATIFY = Action(
    name="ratify",
    path="ratify",
    starts_from=frozenset({StageState.ACCREDITED}),
    leads_to={StageState.RATIFIED: Step("stage.ratified", RATIFIED_NOTICE)},
    may=can_ratify_stage,
    form=forms.RatifyForm,
    perform="ratify_stage",
    done=lambda record: f"Accreditation ratified. {record.enrolment.trainee.display_name} has completed the pathway.",
    refused="Only an accredited final stage can be ratified",
    denied="Only an AVIGuk administrator who is not the trainee can ratify",
    needs_active=False,
    applies=lambda record: record.is_final,
    not_here="Only an accredited final stage can be ratified",
)
EXEMPTION = Action(
    name="exemption",
    path="exemption",
    starts_from=EXEMPTABLE,
    leads_to={StageState.EXEMPT: Step("stage.exempted")},
    may=can_record_exemption,
    form=forms.ExemptionForm,
    perform="record_exemption",
    done=lambda record: "Exemption recorded: the stage is recognised as prior learning.",
    refused="Only a stage that is not started or in progress can be exempted",
    denied="Only an AVIGuk administrator can record an exemption",
    needs_active=False,
    applies=lambda record: not record.is_final,
    not_here="The final stage cannot be exempted: accreditation needs its meeting",
)

ACTIONS: tuple[Action, ...] = (SUBMIT, SIGN_OFF, RETURN, ATTENDANCE, REQUEST_ACCREDITOR, MEETING, RATIFY, EXEMPTION)
BY_PATH = {action.path: action for action in ACTIONS}


# --- whom a waiting stage waits for ---------------------------------------------------------------


@dataclass(frozen=True)
class Wait:
    """What a stage in one state waits for: the action that moves it on, and how to say so."""

    action: Action
    for_you: str  # to whoever may take the action: "… is waiting for your sign-off"
    to_do: str  # what they do on the stage page
    described: Callable[[StageRecord], str]  # to administrators: "… has waited 28 days for sign-off by Sue"
    final_only: bool = False  # only a final stage waits in this state (an earlier one is finished in it)


def _named(person: User | None, nobody: str) -> str:
    return person.display_name if person is not None else nobody


WAITS_FOR = {
    StageState.SUBMITTED: Wait(
        SIGN_OFF,
        for_you="your sign-off",
        to_do="review it, then sign it off or return it with your comments",
        described=lambda record: (
            f"sign-off by {_named(record.enrolment.supervisor, 'a personal supervisor (none is assigned)')}"
        ),
    ),
    StageState.SIGNED_OFF: Wait(
        REQUEST_ACCREDITOR,
        for_you="an accrediting supervisor to be asked",
        to_do="ask an accrediting supervisor to hold its meeting",
        described=lambda record: "an accrediting supervisor to be asked",
    ),
    StageState.WITH_ACCREDITOR: Wait(
        MEETING,
        for_you="its meeting with you",
        to_do="record the meeting once you have held it",
        described=lambda record: (
            f"its meeting with {_named(record.accrediting_supervisor, 'an accrediting supervisor')}"
        ),
    ),
    StageState.ACCREDITED: Wait(
        RATIFY,
        for_you="ratification",
        to_do="ratify the accreditation",
        described=lambda record: "ratification by AVIGuk",
        final_only=True,
    ),
}


def waiting_for(record: StageRecord, administrators: Sequence[User]) -> list[User]:
    """Whom the stage waits for now: of its personal supervisor, its accrediting supervisor and the
    given (active) administrators, everyone its waiting state's action allows, each once."""
    wait = WAITS_FOR.get(record.state)
    if wait is None:
        return []
    people: dict[int, User] = {}
    for person in (record.enrolment.supervisor, record.accrediting_supervisor, *administrators):
        if person is not None and person.id not in people and wait.action.allows(person, record):
            people[person.id] = person
    return list(people.values())


# What the next stage does when the one before it is finished: it starts (unless exempt already).
STARTED = Step("stage.started")


def offered(user: User, record: StageRecord) -> list[Action]:
    """The actions the stage page offers this person now, in the table's order."""
    return [action for action in ACTIONS if action.allows(user, record)]


def check(action: Action, actor: User, record: StageRecord, seen_version: int) -> None:
    """Refuse an action its row does not allow: 403 for the person, 409 for a stale page, else a message."""
    if not action.may(actor, record):
        raise PermissionDenied(action.denied)
    if record.version != seen_version:
        raise Conflict(STALE)
    problem = action.state_problem(record)
    if problem is not None:
        raise problem
