"""Forms for cases and cycles."""

from __future__ import annotations

from datetime import date

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


def _choices(labels: dict, prompt: str) -> list[tuple[str, str]]:
    """A select's options, led by an empty one, so nothing is chosen for the practitioner by accident."""
    return [("", prompt), *((value.value, label) for value, label in labels.items())]


YES_NO = [("yes", "Yes"), ("no", "No")]
# Each consent a client may give, answered yes or no: its legend, and how messages name it.
CONSENT_QUESTIONS = {
    "filming": ("Consent to filming", "to filming"),
    "supervision": ("Consent to clips being shown in your VIG supervision", "to clips being shown in supervision"),
    "dcs": ("Consent to sharing anonymised outcome data with AVIGuk", "to sharing outcome data"),
}


def _consent_field(name: str, description: str = "") -> RequiredRadioField:
    question, what = CONSENT_QUESTIONS[name]
    return RequiredRadioField(
        question,
        description=description,
        choices=YES_NO,
        missing=f"Select yes or no for consent {what}",
        invalid=f"Select yes or no for consent {what}",
    )


class CaseForm(Form):
    """A case's context and consents, short enough for a phone.

    The long single-choice lists are selects (the phone's own picker) rather than some 25 radios, and
    each consent is its own yes-or-no question, so a consent not given is an answer, never an omission.
    """

    submission_key = SubmissionKeyField()
    relationship_type = RequiredSelectField(
        "Who is the guidance for?",
        choices=_choices(RELATIONSHIP_LABELS, "Choose one"),
        missing="Select who the guidance is for",
        invalid="Select who the guidance is for from the list",
    )
    child_age_band = RequiredSelectField(
        "Age of the child or young person",
        choices=_choices(AGE_BAND_LABELS, "Choose an age band"),
        missing="Select the age of the child or young person",
        invalid="Select an age band from the list",
    )
    population = RequiredSelectField(
        "Area of work",
        choices=_choices(POPULATION_LABELS, "Choose an area of work"),
        missing="Select the area of work",
        invalid="Select an area of work from the list",
    )
    region = RequiredSelectField(
        "Region or nation",
        description="Where the work takes place.",
        choices=[],
        missing="Select the region or nation",
        invalid="Select a region or nation from the list",
    )
    started_on = DateInputField(
        "When did the work with this client start?",
        subject="the start date",
        description="Usually the first session. For example, 27 3 2026",
    )
    consent_filming = _consent_field("filming")
    consent_supervision = _consent_field("supervision")
    consent_dcs = _consent_field(
        "dcs",
        "Without it the case is left out of reports and exports. You can still record its outcome measures.",
    )
    consented_on = DateInputField(
        "Date consent was given",
        subject="the date consent was given",
        description="For each consent newly answered yes. For example, 27 3 2026",
        required=False,
    )
    submit = SubmitField("Add case", widget=GovSubmitInput())

    def __init__(self, *args, held_consents: dict[str, date] | None = None, **kwargs) -> None:
        """`held_consents`: the consents a case being changed already holds, each with the date it was given."""
        super().__init__(*args, **kwargs)
        self.held_consents = held_consents or {}

    def consents_given(self) -> set[str]:
        """The consents answered yes."""
        return {name for name in CONSENT_QUESTIONS if self[f"consent_{name}"].data == "yes"}

    def validate_consented_on(self, field: DateInputField) -> None:
        if field.data is None and self.consents_given() - set(self.held_consents):
            raise ValidationError("Enter the date consent was given")


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


class QuickCycleForm(CycleForm):
    """Add a cycle from the home page: the case is chosen on the form (open cases, the latest worked on first)."""

    case = RequiredSelectField(
        "Which case?",
        choices=[],
        missing="Select the case the cycle belongs to",
        invalid="Select one of your open cases from the list",
    )
