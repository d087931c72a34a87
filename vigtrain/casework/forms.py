"""Forms for cases and cycles, and the choice, number and date fields they share with enrolment."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import Field, RadioField, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from vigtrain.casework.models import AGE_BAND_LABELS, POPULATION_LABELS, RELATIONSHIP_LABELS
from vigtrain.casework.services import MAX_NOTE
from vigtrain.dates import today
from vigtrain.errors import DomainError
from vigtrain.forms import strip
from vigtrain.pathways.definitions import principles
from vigtrain.screening import screen


class _RequiredChoice:
    """A single choice with its own messages: one for nothing chosen, one for a value not offered.

    With `validate_choice=False` any value passes, for views that look the value up themselves
    and leave the rule about it to a service.
    """

    def __init__(self, label: str, *, missing: str, invalid: str = "", **kwargs) -> None:
        super().__init__(label, **kwargs)
        self.missing, self.invalid = missing, invalid

    def pre_validate(self, form) -> None:
        if self.data in (None, ""):
            raise StopValidation(self.missing)
        if self.validate_choice and self.data not in {str(value) for value, *_ in self.choices}:
            raise StopValidation(self.invalid)


class RequiredRadioField(_RequiredChoice, RadioField):
    def __init__(self, label: str, **kwargs) -> None:
        kwargs.setdefault("widget", GovRadioInput())
        super().__init__(label, **kwargs)


class RequiredSelectField(_RequiredChoice, SelectField):
    def __init__(self, label: str, **kwargs) -> None:
        kwargs.setdefault("widget", GovSelect())
        super().__init__(label, **kwargs)


class WholeNumberField(Field):
    """A whole number typed into a text box; its range is the service's rule."""

    widget = GovTextInput()

    def __init__(self, label: str, *, missing: str, invalid: str, **kwargs) -> None:
        super().__init__(label, **kwargs)
        self.missing, self.invalid = missing, invalid

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = int(text)
            except ValueError:
                raise ValueError(self.invalid) from None

    def pre_validate(self, form) -> None:
        if self.errors:
            raise StopValidation()
        if self.data is None:
            raise StopValidation(self.missing)


class _DateInput(GovDateInput):
    """The day box carries the field's id, so the error summary's link lands in it (GOV.UK pattern)."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["id"] = f"{field.id}-date"
        params["items"][0]["id"] = field.id
        return params


class DateInputField(Field):
    """Day, month and year boxes (GOV.UK date input) with the GOV.UK messages for each mistake.

    `subject` names the date inside messages, e.g. "the filming date".
    """

    widget = _DateInput()
    PARTS = ("day", "month", "year")

    def __init__(self, label: str, *, subject: str, description: str = "For example, 27 3 2026", **kwargs) -> None:
        super().__init__(label, description=description, **kwargs)
        self.subject = subject

    def _value(self) -> str:
        return ""  # the widget fills each box from raw_data

    def process_data(self, value: date | None) -> None:
        self.data = value
        if isinstance(value, date):
            self.raw_data = [str(value.day), str(value.month), str(value.year)]

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [(value or "").strip() for value in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts  # the widget shows back exactly what was typed, three boxes always
        self.data = None
        if not any(parts):
            return
        subject = self.subject[0].upper() + self.subject[1:]
        missing = [name for name, value in zip(self.PARTS, parts, strict=True) if not value]
        if missing:
            raise ValueError(f"{subject} must include a {' and '.join(missing)}")
        day, month, year = parts
        if not all(part.isdigit() for part in parts):
            raise ValueError(f"{subject} must be a real date, in numbers")
        if len(year) != 4:
            raise ValueError(f"The year must include 4 numbers, like {today().year}")
        try:
            self.data = date(int(year), int(month), int(day))
        except (ValueError, OverflowError):
            raise ValueError(f"{subject} must be a real date") from None

    def pre_validate(self, form) -> None:
        if self.errors:
            raise StopValidation()
        if self.data is None:
            raise StopValidation(f"Enter {self.subject}")


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
