"""Forms for enrolments, the stage sign-off chain, assessments and reflective statements.

Every form that changes a stage or an enrolment carries the version the person saw, so the
service can refuse a change made on top of someone else's (409).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
)
from wtforms import IntegerField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from vigtrain.forms import DateInputField, WholeNumberField, strip
from vigtrain.pathways.definitions import Principles
from vigtrain.pathways.models import EnrolmentStatus
from vigtrain.pathways.services import MAX_COMMENTS, MAX_STATEMENT

# The columns' sizes: a longer text is refused here with a message rather than by the database.
MAX_EXEMPTION_REASON = 1000
MAX_STATUS_REASON = 500
MAX_EVIDENCE = 1000


def _comments_length() -> Length:
    return Length(max=MAX_COMMENTS, message=f"Comments must be {MAX_COMMENTS:,} characters or fewer")


class VersionField(IntegerField):
    """The record version the page showed, sent back hidden."""

    widget = HiddenInput()

    def process_formdata(self, valuelist) -> None:
        self.data = None
        if valuelist and valuelist[0].strip().isdigit():
            self.data = int(valuelist[0])
        elif valuelist and valuelist[0].strip():
            raise ValueError("This page is out of date. Reload it and try again")


class ListChoiceField(SelectField):
    """A select whose refusal message says to choose from the list."""

    def __init__(self, *args, invalid: str = "Choose from the list", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def pre_validate(self, form) -> None:
        if self.data and self.data not in {str(value) for value, _ in self.choices}:
            raise ValidationError(self.invalid)


class VersionedForm(FlaskForm):
    version = VersionField(validators=[InputRequired("This page is out of date. Reload it and try again")])


# --- the stage sign-off chain --------------------------------------------------------------------


class SubmitStageForm(VersionedForm):
    submit = SubmitField("Submit stage for sign-off", widget=GovSubmitInput(), id="submit-stage")


class SignOffForm(VersionedForm):
    comments = TextAreaField(
        "Comments for the trainee (optional)",
        id="sign-off-comments",
        validators=[_comments_length()],
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Sign off stage", widget=GovSubmitInput(), id="sign-off-submit")


class ReturnForm(VersionedForm):
    comments = TextAreaField(
        "What the trainee needs to do before submitting again",
        id="return-comments",
        validators=[_comments_length()],
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Return to trainee", widget=GovSubmitInput(), id="return-submit")


class AttendanceForm(VersionedForm):
    sessions = WholeNumberField(
        "Course sessions attended",
        description="Count each half-day session the trainee attended.",
        missing="Enter the number of sessions attended",
        invalid="Enter the number of sessions as a whole number, like 4",
    )
    submit = SubmitField("Confirm course attendance", widget=GovSubmitInput(), id="attendance-submit")


class RequestAccreditorForm(VersionedForm):
    accreditor = ListChoiceField(
        "Accrediting supervisor",
        description="Someone who holds the accrediting supervisor role and is not the personal supervisor.",
        choices=[],
        invalid="Choose an accrediting supervisor from the list",
        validators=[InputRequired("Choose an accrediting supervisor")],
        widget=GovSelect(),
    )
    submit = SubmitField("Ask this accrediting supervisor", widget=GovSubmitInput(), id="accreditor-submit")


MEETING_OUTCOMES = [
    ("accredit", "Accredit the stage"),
    ("return", "Return the stage to the trainee"),
]


class MeetingForm(VersionedForm):
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


class RatifyForm(VersionedForm):
    submit = SubmitField("Ratify accreditation", widget=GovSubmitInput(), id="ratify-submit")


class ExemptionForm(VersionedForm):
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


# --- enrolment management ------------------------------------------------------------------------


class SupervisorForm(VersionedForm):
    supervisor = ListChoiceField(
        "Personal supervisor",
        choices=[],
        invalid="Choose a supervisor from the list",
        validators=[InputRequired("Choose a supervisor")],
        widget=GovSelect(),
    )
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

    class AssessmentForm(FlaskForm):
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
    return int(raw) if raw and raw.isdigit() else None


class StatementTextForm(FlaskForm):
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


class StatementFileForm(FlaskForm):
    file = FileField(
        "Upload your statement as a file",
        widget=GovFileInput(),
    )
    upload = SubmitField("Upload file", widget=GovSubmitInput(), id="upload-file")
