"""Forms for enrolments, the stage sign-off chain, assessments and reflective statements.

Every form that changes a stage or an enrolment carries the version the person saw, so the
service can refuse a change made on top of someone else's (409).
"""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from vigtrain.accounts import people
from vigtrain.accounts.models import User
from vigtrain.forms import (
    OUT_OF_DATE,
    DateInputField,
    Form,
    PersonField,
    RequiredRadioField,
    VersionField,
    WholeNumberField,
    strip,
    whole_number,
)
from vigtrain.pathways.definitions import Principles
from vigtrain.pathways.models import EnrolmentStatus, StageRecord
from vigtrain.training.capacity import load_hints
from vigtrain.training.services import MAX_COMMENTS, MAX_STATEMENT

# The columns' sizes: a longer text is refused here with a message rather than by the database.
MAX_EXEMPTION_REASON = 1000
MAX_STATUS_REASON = 500
MAX_EVIDENCE = 1000


def _comments_length() -> Length:
    return Length(max=MAX_COMMENTS, message=f"Comments must be {MAX_COMMENTS:,} characters or fewer")


class VersionedForm(Form):
    version = VersionField(validators=[InputRequired(OUT_OF_DATE)])


class StageActionForm(VersionedForm):
    """A form on the stage page for one action of the sign-off chain (see `workflow`)."""

    @classmethod
    def blank(cls, record: StageRecord) -> StageActionForm:
        """The form as the stage page first shows it, carrying the version the page shows."""
        return cls(formdata=None, data={"version": record.version})

    def offer(self, record: StageRecord, actor: User) -> bool:
        """Give the form the people it may choose (only the accreditor form chooses anyone); True
        when the request was a search for someone rather than the action itself."""
        return False

    def arguments(self, today: date) -> dict:
        """The keyword arguments of the action's service function, from what was posted."""
        return {"seen_version": self.version.data}


# --- the stage sign-off chain --------------------------------------------------------------------


class SubmitStageForm(StageActionForm):
    submit = SubmitField("Submit stage for sign-off", widget=GovSubmitInput(), id="submit-stage")


class SignOffForm(StageActionForm):
    comments = TextAreaField(
        "Comments for the trainee (optional)",
        id="sign-off-comments",
        validators=[_comments_length()],
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Sign off stage", widget=GovSubmitInput(), id="sign-off-submit")

    def arguments(self, today: date) -> dict:
        return {**super().arguments(today), "comments": self.comments.data, "today": today}


class ReturnForm(StageActionForm):
    comments = TextAreaField(
        "What the trainee needs to do before submitting again",
        id="return-comments",
        validators=[_comments_length()],
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Return to trainee", widget=GovSubmitInput(), id="return-submit")

    def arguments(self, today: date) -> dict:
        return {**super().arguments(today), "comments": self.comments.data}


class AttendanceForm(StageActionForm):
    sessions = WholeNumberField(
        "Course sessions attended",
        description="Count each half-day session the trainee attended.",
        missing="Enter the number of sessions attended",
        invalid="Enter the number of sessions as a whole number, like 4",
    )
    submit = SubmitField("Confirm course attendance", widget=GovSubmitInput(), id="attendance-submit")

    @classmethod
    def blank(cls, record: StageRecord) -> StageActionForm:
        return cls(formdata=None, data={"version": record.version, "sessions": record.course_sessions_attended})

    def arguments(self, today: date) -> dict:
        return {**super().arguments(today), "sessions": self.sessions.data}


class RequestAccreditorForm(StageActionForm):
    accreditor = PersonField(
        "Accrediting supervisor",
        purpose="accreditor",
        noun="accrediting supervisor",
        description="Someone who holds the accrediting supervisor role and is not the personal supervisor.",
    )
    submit = SubmitField("Ask this accrediting supervisor", widget=GovSubmitInput(), id="accreditor-submit")

    def offer(self, record: StageRecord, actor: User) -> bool:
        return people.bind(self, actor, record, hints=load_hints).searching

    def arguments(self, today: date) -> dict:
        return {**super().arguments(today), "accreditor": people.chosen(self.accreditor)}


MEETING_OUTCOMES = [
    ("accredit", "Accredit the stage"),
    ("return", "Return the stage to the trainee"),
]


class MeetingForm(StageActionForm):
    meeting_date = DateInputField("Date of the meeting", subject="the date of the meeting")
    comments = TextAreaField(
        "Comments for the trainee",
        id="meeting-comments",
        validators=[_comments_length()],
        description="Required if you return the stage: say what the trainee needs to do.",
        filters=[strip],
        widget=GovCharacterCount(),
    )
    outcome = RadioField(
        "Outcome of the meeting",
        choices=MEETING_OUTCOMES,
        validators=[InputRequired("Choose the outcome of the meeting")],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Record the meeting", widget=GovSubmitInput(), id="meeting-submit")

    def arguments(self, today: date) -> dict:
        return {
            **super().arguments(today),
            "outcome": self.outcome.data,
            "meeting_date": self.meeting_date.data,
            "comments": self.comments.data,
            "today": today,
        }


class RatifyForm(StageActionForm):
    submit = SubmitField("Ratify accreditation", widget=GovSubmitInput(), id="ratify-submit")

    def arguments(self, today: date) -> dict:
        return {**super().arguments(today), "today": today}


class ExemptionForm(StageActionForm):
    reason = TextAreaField(
        "Reason for the exemption",
        id="exemption-reason",
        validators=[
            Length(max=MAX_EXEMPTION_REASON, message=f"The reason must be {MAX_EXEMPTION_REASON:,} characters or fewer")
        ],
        description="Name the prior training it recognises, where and when it was completed.",
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Record exemption", widget=GovSubmitInput(), id="exemption-submit")

    def arguments(self, today: date) -> dict:
        return {**super().arguments(today), "reason": self.reason.data, "today": today}


# --- enrolment ------------------------------------------------------------------------------------


class EnrolForm(Form):
    # The enrolment service owns the rules about the people chosen (holds the trainee role, not
    # their own supervisor, not already enrolled); the search decides whom each field can find.
    trainee = PersonField("Trainee", purpose="enrol_trainee", noun="trainee")
    pathway = RequiredRadioField(
        "Pathway",
        choices=[],
        missing="Select the pathway",
        invalid="Select a pathway from the list",
    )
    supervisor = PersonField(
        "Personal supervisor",
        purpose="enrol_supervisor",
        noun="supervisor",
        required=False,
        description="The supervisor who confirms supervision and signs off each stage. You can change this later.",
    )
    start_date = DateInputField(
        "Start date", subject="the start date", description="The first stage starts on this date. For example, 5 1 2026"
    )
    submit = SubmitField("Enrol trainee", widget=GovSubmitInput())


class SupervisorForm(VersionedForm):
    supervisor = PersonField("Personal supervisor", purpose="change_supervisor", noun="supervisor")
    submit = SubmitField("Change supervisor", widget=GovSubmitInput())


STATUS_CHOICES = [
    (EnrolmentStatus.ACTIVE.value, "Active"),
    (EnrolmentStatus.PAUSED.value, "Paused"),
    (EnrolmentStatus.WITHDRAWN.value, "Withdrawn"),
]


class StatusForm(VersionedForm):
    status = RadioField(
        "Status of the enrolment",
        choices=STATUS_CHOICES,
        validators=[InputRequired("Choose a status")],
        widget=GovRadioInput(),
    )
    reason = TextAreaField(
        "Reason",
        description="Needed for pausing or withdrawing, for example a period of leave. The trainee can read it.",
        validators=[
            Length(max=MAX_STATUS_REASON, message=f"The reason must be {MAX_STATUS_REASON} characters or fewer")
        ],
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Save status", widget=GovSubmitInput())


# --- assessments and statements -----------------------------------------------------------------


def assessment_form(definitions: Principles, formdata=None, data: dict | None = None) -> FlaskForm:
    """A form with a rating (rating_<code>) and evidence (evidence_<code>) for each principle."""

    class AssessmentForm(Form):
        pass

    choices = [(str(point.value), f"{point.value}: {point.label}") for point in definitions.scale]
    for principle in definitions.principles:
        setattr(
            AssessmentForm,
            f"rating_{principle.code}",
            RadioField(
                principle.name,
                choices=choices,
                # The service decides which ratings are valid and says so beside the field.
                validate_choice=False,
                validators=[InputRequired(f"Choose a rating for {principle.name}")],
                widget=GovRadioInput(),
            ),
        )
        setattr(
            AssessmentForm,
            f"evidence_{principle.code}",
            TextAreaField(
                f"Evidence for {principle.name.lower()} (optional)",
                filters=[strip],
                validators=[
                    Length(max=MAX_EVIDENCE, message=f"Evidence notes must be {MAX_EVIDENCE:,} characters or fewer")
                ],
                widget=GovCharacterCount(),
            ),
        )
    AssessmentForm.submit = SubmitField("Save assessment", widget=GovSubmitInput())
    if formdata is None:
        return AssessmentForm(data=data or {})
    return AssessmentForm(formdata=formdata)


def rating_value(raw: str | None) -> int | None:
    return whole_number(raw, max_digits=3)


class StatementTextForm(Form):
    text = TextAreaField(
        "Write your statement",
        description=(
            "Plain text only: formatting and HTML are not kept. Leave a blank line between paragraphs. "
            "Do not include anything that could identify a client."
        ),
        filters=[strip],
        validators=[Length(max=MAX_STATEMENT, message=f"The statement must be {MAX_STATEMENT:,} characters or fewer")],
        widget=GovCharacterCount(),
    )
    save_text = SubmitField("Save statement", widget=GovSubmitInput(), id="save-text")


class StatementFileForm(Form):
    file = FileField(
        "Upload your statement as a file",
        widget=GovFileInput(),
    )
    upload = SubmitField("Upload file", widget=GovSubmitInput(), id="upload-file")


# --- supervisor capacity --------------------------------------------------------------------------


class OptionalWholeNumberField(WholeNumberField):
    """A whole number typed in digits, or nothing at all (None); its range is the service's rule."""

    def __init__(self, label: str, *, invalid: str, **kwargs) -> None:
        super().__init__(label, missing="", invalid=invalid, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        # int() alone would also take "1_0" as 10, and digits from other scripts.
        text = (valuelist[0] if valuelist else "").strip()
        if text and not (text.isascii() and text.removeprefix("-").isdigit()):
            self.data = None
            raise ValueError(self.invalid)
        super().process_formdata(valuelist)

    def pre_validate(self, form) -> None:
        """Blank is an answer here (no limit), not a missing one."""


class CapacityForm(Form):
    capacity = OptionalWholeNumberField(
        "New capacity",
        description=(
            "The most trainees this person takes on at once, counting the stages they are accrediting. "
            "Leave blank for no limit."
        ),
        invalid="Enter the capacity as a whole number, like 8, or leave it blank for no limit",
    )
    submit = SubmitField("Save capacity", widget=GovSubmitInput())


# --- the training records list -------------------------------------------------------------------


class ListedChoiceField(SelectField):
    """A filter's drop-down: blank is no condition, anything not offered is refused beside it."""

    def __init__(self, label: str, **kwargs) -> None:
        kwargs.setdefault("widget", GovSelect())
        super().__init__(label, choices=[], validate_choice=False, **kwargs)

    def pre_validate(self, form) -> None:
        if self.data and self.data not in {str(value) for value, *_ in self.choices}:
            raise ValidationError(f"Choose a {self.label.text.lower()} from the list")


class RecordFilterForm(Form):
    """The records list's filters, read from the address (a GET form: nothing changes, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField("Trainee name or email", filters=[strip], validators=[Length(max=100)], widget=GovTextInput())
    pathway = ListedChoiceField("Pathway")
    version = ListedChoiceField("Pathway version")
    stage = ListedChoiceField("Current stage")
    state = ListedChoiceField("Stage state")
    status = ListedChoiceField("Enrolment status")
    supervisor = StringField(
        "Personal supervisor", filters=[strip], validators=[Length(max=100)], widget=GovTextInput()
    )
    accreditor = StringField(
        "Accrediting supervisor", filters=[strip], validators=[Length(max=100)], widget=GovTextInput()
    )
    service = StringField("Service", filters=[strip], validators=[Length(max=100)], widget=GovTextInput())
    region = ListedChoiceField("Region")
    cohort = ListedChoiceField("Cohort")
    waiting = OptionalWholeNumberField(
        "Waiting longer than (days)",
        description="In the current stage's state, for example 14.",
        invalid="Enter the number of days as a whole number, like 14",
    )
    sort = ListedChoiceField("Sort by")
