"""Forms for cases and cycles."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovSelect,
    GovSubmitInput,
)
from wtforms import SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import ValidationError

from vigtrain.casework.models import (
    AGE_BAND_LABELS,
    END_REASON_LABELS,
    POPULATION_LABELS,
    RELATIONSHIP_LABELS,
    CaseStatus,
)
from vigtrain.casework.services import MAX_END_NOTE, MAX_NOTE
from vigtrain.errors import DomainError
from vigtrain.forms import (
    DateInputField,
    Form,
    RequiredRadioField,
    RequiredSelectField,
    SubmissionKeyField,
    WholeNumberField,
    strip,
)
from vigtrain.pathways.definitions import principles
from vigtrain.screening import screen


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(value.value, label) for value, label in labels.items()]


CONSENT_CHOICES = [
    ("filming", "Filming their interactions"),
    ("supervision", "Showing clips in the practitioner's VIG supervision"),
    ("dcs", "Contributing anonymised outcome data to AVIGuk's Data Collection System"),
]


class CaseForm(Form):
    submission_key = SubmissionKeyField()
    relationship_type = RequiredRadioField(
        "Who is the guidance for?",
        choices=_choices(RELATIONSHIP_LABELS),
        missing="Select who the guidance is for",
        invalid="Select who the guidance is for from the list",
    )
    child_age_band = RequiredRadioField(
        "Age of the child or young person",
        description="An age band only: vigtrain never stores a date of birth.",
        choices=_choices(AGE_BAND_LABELS),
        missing="Select the age of the child or young person",
        invalid="Select an age band from the list",
    )
    population = RequiredRadioField(
        "Area of work",
        choices=_choices(POPULATION_LABELS),
        missing="Select the area of work",
        invalid="Select an area of work from the list",
    )
    region = RequiredSelectField(
        "Region or nation",
        description="Where the work takes place. A region only: vigtrain never stores an address or postcode.",
        choices=[],
        missing="Select the region or nation",
        invalid="Select a region or nation from the list",
    )
    started_on = DateInputField(
        "When did the work with this client start?",
        subject="the start date",
        description="Usually the first session. For example, 27 3 2026",
    )
    consents = SelectMultipleField(
        "What has the client consented to?",
        description="Select all that apply. Untick a consent if the client withdraws it.",
        choices=CONSENT_CHOICES,
        validate_choice=False,  # checked below, with a message people understand
        widget=GovCheckboxesInput(),
    )
    consented_on = DateInputField(
        "Date consent was given",
        subject="the date consent was given",
        description="For any consent newly ticked. For example, 27 3 2026",
        required=False,
    )
    submit = SubmitField("Add case", widget=GovSubmitInput())

    def validate_consents(self, field: SelectMultipleField) -> None:
        if set(field.data or []) - {value for value, _label in CONSENT_CHOICES}:
            raise ValidationError("Select consents from the list")

    def validate_consented_on(self, field: DateInputField) -> None:
        if field.data is None and self.consents.data and self._new_consents():
            raise ValidationError("Enter the date consent was given")

    def _new_consents(self) -> set[str]:
        return set(self.consents.data or []) - set(self.held_consents)

    held_consents: tuple[str, ...] = ()


class CloseCaseForm(Form):
    status = RequiredRadioField(
        "How did the work end?",
        choices=[
            (CaseStatus.COMPLETED.value, "Completed as planned"),
            (CaseStatus.ENDED_EARLY.value, "Ended early"),
        ],
        missing="Select how the work ended",
        invalid="Select how the work ended from the list",
    )
    ended_on = DateInputField("Date the work ended", subject="the end date")
    end_reason = SelectField(
        "If it ended early, why?",
        choices=[("", "Choose a reason"), *((value.value, label) for value, label in END_REASON_LABELS.items())],
        validate_choice=False,  # checked against the enum in the view, with a clear message
        widget=GovSelect(),
    )
    end_note = TextAreaField(
        "Anything to add (optional)",
        description="Do not include names or anything that could identify the client.",
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Close case", widget=GovSubmitInput())

    def validate_end_note(self, field: TextAreaField) -> None:
        if field.data and len(field.data) > MAX_END_NOTE:
            raise ValidationError(f"The note must be {MAX_END_NOTE} characters or fewer")
        try:
            screen(field.data, field.name)
        except DomainError as exc:
            raise ValidationError(exc.message) from None


class CycleForm(Form):
    submission_key = SubmissionKeyField()
    filmed_on = DateInputField("Date of filming", subject="the filming date")
    shared_review_on = DateInputField("Date of the shared review", subject="the shared review date")
    clips_count = WholeNumberField(
        "Number of clips shown in the shared review",
        missing="Enter the number of clips",
        invalid="Number of clips must be a whole number, like 3",
    )
    principles = SelectMultipleField(
        "Principles you focused on",
        description="Select all that apply.",
        choices=[],
        validate_choice=False,  # the service refuses unknown principles with its own message
        widget=GovCheckboxesInput(),
    )
    note = TextAreaField(
        "What you learned (optional)",
        description=(
            "A short note for your own reflection and supervision. Do not include names or anything that "
            "could identify the client: notes are checked for emails, phone numbers, NHS numbers, "
            "postcodes and dates of birth."
        ),
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Save cycle", widget=GovSubmitInput())

    def validate_note(self, field: TextAreaField) -> None:
        """Screened here too, so the message shows at once with any other; the service screens again."""
        if field.data and len(field.data) > MAX_NOTE:
            raise ValidationError(f"The note must be {MAX_NOTE} characters or fewer")
        try:
            screen(field.data, field.name)
        except DomainError as exc:
            raise ValidationError(exc.message) from None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.principles.choices = [(p.code, p.name) for p in principles().principles]
