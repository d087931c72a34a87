"""Training-flow forms: the cost rates, the stuck-trainee filter and the refresh button."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import StopValidation

from vigtrain.errors import DomainError
from vigtrain.flow.services import parse_pounds
from vigtrain.forms import ActionForm, Form, VersionField, WholeNumberField, strip


class PoundsField(StringField):
    """An amount in pounds; the same rule as the service's, so the message is beside the field."""

    widget = GovTextInput()

    def __init__(self, label: str, **kwargs) -> None:
        super().__init__(label, filters=[strip], **kwargs)

    def pre_validate(self, form) -> None:
        try:
            parse_pounds(self.data, self.name)
        except DomainError as problem:
            raise StopValidation(problem.message) from None


class RatesForm(Form):
    supervision_hour = PoundsField("Supervision, per hour")
    course_fee = PoundsField("Initial Training Course fee")
    accreditation_fee = PoundsField("Accreditation fee")
    seen_version = VersionField()
    submit = SubmitField("Save rates", widget=GovSubmitInput())


class StuckFilterForm(Form):
    """Read from the address (a GET form), so it carries no CSRF token."""

    DEFAULT_WEEKS = 8
    weeks = WholeNumberField(
        "Weeks with no cycle or confirmed supervision",
        missing="Enter a number of weeks",
        invalid="Enter the number of weeks as a whole number, like 8",
    )
    submit = SubmitField("Show trainees", widget=GovSubmitInput())

    def validate_weeks(self, field) -> None:
        if field.data is not None and not 1 <= field.data <= 104:
            raise StopValidation("Enter a number of weeks from 1 to 104")


class RefreshForm(ActionForm):
    submit = SubmitField("Work the figures out again now", widget=GovSubmitInput())
