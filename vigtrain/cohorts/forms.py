"""Forms for cohorts; the rules about what is entered are the services'."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation

from vigtrain.cohorts.services import MAX_NAME
from vigtrain.forms import OUT_OF_DATE, DateInputField, Form, PersonField, RequiredRadioField, VersionField, strip


class OptionalSelectField(SelectField):
    """A drop-down whose first choice is "none"; a value it does not offer gets a message, not "Not a valid choice"."""

    def __init__(self, label: str, *, invalid: str, **kwargs) -> None:
        kwargs.setdefault("widget", GovSelect())
        super().__init__(label, **kwargs)
        self.invalid = invalid

    def pre_validate(self, form) -> None:
        if (self.data or "") not in {value for value, _label in self.choices}:
            raise StopValidation(self.invalid)


class CohortForm(Form):
    name = StringField(
        "Name",
        description="What administrators and the course lead call it, for example ITC North West 2026.",
        filters=[strip],
        validators=[
            DataRequired("Enter the cohort's name"),
            Length(max=MAX_NAME, message=f"The name must be {MAX_NAME} characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    pathway = RequiredRadioField(
        "Pathway version",
        choices=[],
        description="Trainees join the cohort only if they are enrolled on this version.",
        missing="Select the pathway version",
        invalid="Select a pathway version from the list",
    )
    region = OptionalSelectField("Region or nation (optional)", choices=[], invalid="Select a region from the list")
    starts_on = DateInputField("Start date", subject="the start date")
    ends_on = DateInputField(
        "End date (optional)", subject="the end date", required=False, description="For example, 27 3 2027"
    )
    lead = PersonField(
        "Course lead",
        purpose="cohort_lead",
        noun="course lead",
        required=False,
        description="A supervisor or accrediting supervisor. They will see this cohort's page and its progress.",
    )
    no_lead = BooleanField("Remove the course lead", widget=GovCheckboxInput())
    submit = SubmitField("Save cohort", widget=GovSubmitInput())


class EditCohortForm(CohortForm):
    version = VersionField(validators=[InputRequired(OUT_OF_DATE)])


class MembersForm(Form):
    """Trainee records chosen on the training records list (each checked again by the service)."""

    enrolment = SelectMultipleField("Trainee records", choices=[], validate_choice=False)
    cohort = StringField("Cohort")
    next = HiddenField()
