"""Forms for logging, confirming, querying and correcting supervision sessions, and filtering the log."""

from __future__ import annotations

import re
from datetime import time

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import StopValidation

from vigtrain.dates import today
from vigtrain.forms import (
    DateInputField,
    Form,
    PersonField,
    RequiredRadioField,
    SubmissionKeyField,
    WholeNumberField,
    strip,
    whole_number,
)
from vigtrain.pathways.definitions import principles
from vigtrain.supervision.models import SessionFormat, SessionMode
from vigtrain.supervision.sessions import (
    DURATION_RANGE,
    FORMAT_LABELS,
    MAX_GROUP,
    MIN_GROUP,
    MODE_LABELS,
    STATUS_LABELS,
    SessionFacts,
)

DURATION_CHOICES = [
    ("30", "30 minutes"),
    ("45", "45 minutes"),
    ("60", "1 hour"),
    ("90", "1 hour 30 minutes"),
    ("120", "2 hours"),
]
TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?$", re.IGNORECASE)
PRIVACY_HINT = (
    "Do not include names or anything that could identify a client: text is checked for emails, phone "
    "numbers, NHS numbers, postcodes and dates of birth."
)


class OptionalNumberField(WholeNumberField):
    """A whole number that may be left blank."""

    def __init__(self, label: str, *, invalid: str, **kwargs) -> None:
        super().__init__(label, missing="", invalid=invalid, **kwargs)

    def pre_validate(self, form) -> None:
        if self.errors:
            raise StopValidation()


class OptionalDateField(DateInputField):
    """Day, month and year boxes that may all be left blank."""

    def pre_validate(self, form) -> None:
        if self.errors:
            raise StopValidation()


class TimeOfDayField(Field):
    """A time typed as people write it: 9:30, 14.00, 2pm, 2:15 pm."""

    widget = GovTextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:%H:%M}" if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        match = TIME.match(text)
        problem = "Enter the start time like 9:30 or 14:00"
        if not match:
            raise ValueError(problem)
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        suffix = (match.group(3) or "").lower().replace(".", "")
        if suffix:
            if not 1 <= hour <= 12:
                raise ValueError(problem)
            hour = hour % 12 + (12 if suffix == "pm" else 0)
        if hour > 23 or minute > 59:
            raise ValueError(problem)
        self.data = time(hour, minute)


class _SessionFields(Form):
    """What every way of logging a session asks; the rules themselves are the service's."""

    session_date = DateInputField("Date of the session", subject="the date of the session", default=today)
    duration = RadioField(
        "How long was the session?",
        choices=DURATION_CHOICES,
        default="60",
        validate_choice=False,  # checked in validate(), with the minutes box
        widget=GovRadioInput(),
    )
    # Named as the service names it, so a refusal of the length lands beside this box.
    duration_minutes = OptionalNumberField(
        "Or enter the length in minutes",
        description=f"If it was none of these: {DURATION_RANGE}.",
        invalid="Enter the length as a whole number of minutes, like 75",
    )
    mode = RequiredRadioField(
        "How did you meet?",
        choices=[(mode.value, label) for mode, label in MODE_LABELS.items()],
        default=SessionMode.IN_PERSON.value,
        missing="Select how you met",
        invalid="Select how you met from the list",
    )
    start_time = TimeOfDayField(
        "Start time (optional)",
        description="For example, 9:30 or 14:00. Needed only if there was more than one session that day.",
    )
    principles = SelectMultipleField(
        "Principles of attuned interaction you focused on (optional)",
        description="Select all that apply.",
        choices=[],
        validate_choice=False,  # the service refuses unknown principles with its own message
        widget=GovCheckboxesInput(),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.principles.choices = [(p.code, p.name) for p in principles().principles]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        presets = {value for value, _ in DURATION_CHOICES}
        if (
            self.duration_minutes.data is None
            and not self.duration_minutes.errors
            and self.duration.data not in presets
        ):
            self.duration.errors = ["Select how long the session was, or enter the minutes"]
            valid = False
        return valid

    @property
    def minutes(self) -> int | None:
        """Minutes typed in the box win over the choice above it."""
        if self.duration_minutes.data is not None:
            return self.duration_minutes.data
        return whole_number(self.duration.data, max_digits=6)


class SessionForm(_SessionFields):
    """Log a session, or change one that is not yet confirmed."""

    submission_key = SubmissionKeyField()
    format = RequiredRadioField(
        "Was it individual or group supervision?",
        choices=[(fmt.value, label) for fmt, label in FORMAT_LABELS.items()],
        default=SessionFormat.INDIVIDUAL.value,
        missing="Select individual or group supervision",
        invalid="Select individual or group supervision from the list",
    )
    group_size = OptionalNumberField(
        "Group sessions only: how many trainees were in the group?",
        description=f"Including you. Between {MIN_GROUP} and {MAX_GROUP}.",
        invalid="Enter the group size as a whole number, like 4",
    )
    supervisor = PersonField("Supervisor", purpose="session_supervisor", noun="supervisor who led the session")
    cycles = SelectMultipleField(
        "Whose film did you review? (optional)",
        description=(
            "Your latest cycles whose client consented to supervision, open cases first. "
            "For an older one, use the link on its case's page."
        ),
        choices=[],
        validate_choice=False,  # the service refuses a cycle that is not the trainee's, beside this field
        widget=GovCheckboxesInput(),
    )
    # Cases an earlier entry named without a cycle: kept as they are when the session is changed.
    case_codes = HiddenField(filters=[strip])
    clips_reviewed = OptionalNumberField(
        "Number of clips reviewed (optional)", invalid="Enter the number of clips as a whole number, like 3"
    )
    reflection = TextAreaField(
        "Your reflection (optional)",
        description="What you learned about your guiding. " + PRIVACY_HINT,
        filters=[strip],
        widget=GovCharacterCount(),
    )
    next_steps = TextAreaField(
        "Next steps (optional)", description="What you will try next.", filters=[strip], widget=GovCharacterCount()
    )
    version = HiddenField()
    submit = SubmitField("Save session", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if (
            self.format.data == SessionFormat.GROUP.value
            and not self.group_size.errors
            and self.group_size.data is None
        ):
            self.group_size.errors = ["Enter how many trainees were in the group"]
            valid = False
        if any(whole_number(value) is None for value in self.cycles.data or ()):
            self.cycles.errors = ["Select cycles from the list"]
            valid = False
        return valid

    @property
    def cycle_ids(self) -> tuple[int, ...]:
        return tuple(number for value in self.cycles.data or () if (number := whole_number(value)) is not None)

    def facts(self) -> SessionFacts:
        session_format = SessionFormat(self.format.data)
        return SessionFacts(
            session_date=self.session_date.data,
            duration_minutes=self.minutes,
            format=session_format,
            mode=SessionMode(self.mode.data),
            start_time=self.start_time.data,
            group_size=self.group_size.data if session_format is SessionFormat.GROUP else None,
            clips_reviewed=self.clips_reviewed.data or 0,
            cycle_ids=self.cycle_ids,
            case_codes=tuple(code for code in re.split(r"[,;\s]+", self.case_codes.data or "") if code),
            principles=tuple(self.principles.data or ()),
            reflection=self.reflection.data,
            next_steps=self.next_steps.data,
        )

    def fill_from(self, session) -> None:
        """Show a saved session in the form (on first view only)."""
        minutes = str(session.duration_minutes)
        self.session_date.process_data(session.session_date)
        if minutes in {value for value, _ in DURATION_CHOICES}:
            self.duration.data = minutes
        else:
            self.duration.data, self.duration_minutes.data = None, session.duration_minutes
        self.mode.data = session.mode.value
        self.format.data = session.format.value
        self.group_size.data = session.group_size
        self.start_time.data = session.start_time
        if "supervisor" in self:
            self.supervisor.data = str(session.supervisor_id)
        self.cycles.data = [str(cycle_id) for cycle_id in session.cycle_ids]
        self.case_codes.data = " ".join(review.case.code for review in session.reviews if review.cycle_id is None)
        self.clips_reviewed.data = session.clips_reviewed or None
        self.principles.data = list(session.principles or ())
        self.reflection.data = session.reflection or ""
        self.next_steps.data = session.next_steps or ""
        self.version.data = str(session.version)

    @property
    def optional_details_used(self) -> bool:
        """Open the optional details when they hold anything, or a message."""
        fields = (self.start_time, self.clips_reviewed, self.principles, self.reflection)
        return any(f.errors or f.data for f in (*fields, self.next_steps))


class CorrectionForm(SessionForm):
    amendment_reason = TextAreaField(
        "What was wrong, and what does the correction change?",
        description="Your supervisor reads this before confirming the correction. " + PRIVACY_HINT,
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Send correction for confirmation", widget=GovSubmitInput())


class GroupSessionForm(_SessionFields):
    submission_key = SubmissionKeyField()
    trainees = SelectMultipleField(
        "Which of your trainees took part?",
        description="Select all that apply. Each gets the session in their log.",
        choices=[],
        validate_choice=False,
        widget=GovCheckboxesInput(),
    )
    group_size = OptionalNumberField(
        "How many trainees were in the group? (optional)",
        description="Including trainees supervised by others. Leave blank if only those you selected took part.",
        invalid="Enter the group size as a whole number, like 6",
    )
    submit = SubmitField("Save group session", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        offered = {value for value, _ in self.trainees.choices}
        if not self.trainees.data:
            self.trainees.errors = ["Select the trainees who took part"]
            valid = False
        elif set(self.trainees.data) - offered:
            self.trainees.errors = ["Select trainees from the list"]
            valid = False
        return valid

    def facts(self) -> SessionFacts:
        return SessionFacts(
            session_date=self.session_date.data,
            duration_minutes=self.minutes,
            format=SessionFormat.GROUP,
            mode=SessionMode(self.mode.data),
            start_time=self.start_time.data,
            group_size=self.group_size.data,
            principles=tuple(self.principles.data or ()),
        )


class ReviewForm(Form):
    """The supervisor confirms a session, or queries it with a comment."""

    comments = TextAreaField(
        "Comments for the trainee",
        description="Needed if you query the session: say what to check or change. Optional if you confirm.",
        filters=[strip],
        widget=GovCharacterCount(),
    )
    version = HiddenField()
    confirm = SubmitField("Confirm session", widget=GovSubmitInput())
    query = SubmitField("Query session", widget=GovSubmitInput())


class BulkConfirmForm(Form):
    # Values are "session id:version seen", checked per item by the service.
    sessions = SelectMultipleField("Sessions", choices=[], validate_choice=False)
    submit = SubmitField("Confirm selected", widget=GovSubmitInput())

    def selections(self) -> list[tuple[int, int]]:
        chosen = []
        for value in self.sessions.data or []:
            session_id, _, version = value.partition(":")
            if (number := whole_number(session_id)) is not None and (seen := whole_number(version)) is not None:
                chosen.append((number, seen))
        return chosen


class _ChoiceFilter(SelectField):
    def pre_validate(self, form) -> None:
        if self.data not in {value for value, _ in self.choices}:
            raise StopValidation("Select an option from the list")


class LogFilterForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    status = _ChoiceFilter(
        "Status",
        choices=[("", "Any status")] + [(status.value, label) for status, label in STATUS_LABELS.items()],
        default="",
        widget=GovSelect(),
    )
    format = _ChoiceFilter(
        "Format",
        choices=[("", "Any format")] + [(fmt.value, label) for fmt, label in FORMAT_LABELS.items()],
        default="",
        widget=GovSelect(),
    )
    date_from = OptionalDateField("From", subject="the first date", description="For example, 1 9 2025")
    date_to = OptionalDateField("To", subject="the last date", description="For example, 31 3 2026")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.date_from.data and self.date_to.data and self.date_to.data < self.date_from.data:
            self.date_to.errors = ["The last date must be the same as or after the first date"]
            valid = False
        return valid
