"""The form for creating a personal access token (revoking is a one-button ActionForm)."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, StopValidation

from vigtrain.api_tokens.services import DEFAULT_DAYS, EXPIRY_DAYS, MAX_NAME, SCOPES
from vigtrain.forms import Form, RequiredRadioField, strip


class ScopesField(SelectMultipleField):
    """Checkboxes: at least one, each from the list."""

    widget = GovCheckboxesInput()

    def pre_validate(self, form) -> None:
        if not self.data:
            raise StopValidation("Select what the token may do")
        if set(self.data) - SCOPES.keys():
            raise StopValidation("Select what the token may do from the list")


class CreateTokenForm(Form):
    name = StringField(
        "Name",
        description=(
            f"So you can tell your tokens apart, for example the system that will use it. Up to {MAX_NAME} characters."
        ),
        filters=[strip],
        validators=[
            InputRequired("Enter a name for the token"),
            Length(max=MAX_NAME, message=f"The name must be {MAX_NAME} characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    scopes = ScopesField(
        "What may it do?",
        description="Select all that apply. It can never do more than you can do when you sign in.",
        choices=[(name, name) for name in SCOPES],
    )
    expiry = RequiredRadioField(
        "How long should it work?",
        choices=[(str(days), f"{days} days") for days in EXPIRY_DAYS],
        default=str(DEFAULT_DAYS),
        missing="Select how long the token should work",
        invalid="Select one of the periods offered",
    )
    password = PasswordField(
        "Your password",
        description="A token keeps working after you sign out, so we check it is you.",
        validators=[InputRequired("Enter your password")],
        widget=GovPasswordInput(),
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())
