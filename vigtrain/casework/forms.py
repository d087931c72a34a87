"""Forms for cases and cycles."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovSubmitInput,
)
from wtforms import SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import ValidationError

from vigtrain.casework.models import AGE_BAND_LABELS, POPULATION_LABELS, RELATIONSHIP_LABELS
from vigtrain.casework.services import MAX_NOTE
from vigtrain.errors import DomainError
from vigtrain.forms import DateInputField, RequiredRadioField, RequiredSelectField, WholeNumberField, strip
from vigtrain.pathways.definitions import principles
from vigtrain.screening import screen


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(value.value, label) for value, label in labels.items()]


class CaseForm(FlaskForm):
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
    submit = SubmitField("Add case", widget=GovSubmitInput())


class CycleForm(FlaskForm):
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
