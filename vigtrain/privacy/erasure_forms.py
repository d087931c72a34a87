"""The erasure form: the recorded reason, and the person's email typed again to confirm."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import StopValidation

from vigtrain.forms import Form, strip


class ErasureForm(Form):
    """The reason's length is the service's rule (`erase_person` says so beside the field); the
    typed email only guards against erasing the wrong person."""

    reason = TextAreaField(
        "Why are you erasing this person's data?",
        description=(
            "For example: the request you received and when, and why the law allows it. It is kept in the "
            "register of erasures. Do not repeat the person's name."
        ),
        filters=[strip],
        widget=GovCharacterCount(),
    )
    confirm_email = StringField(
        "Type the person's email address to confirm",
        filters=[strip],
        widget=GovTextInput(),
    )
    submit = SubmitField("Erase this person's data", widget=GovSubmitInput())

    def __init__(self, *args, expected_email: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.expected_email = expected_email

    def validate_confirm_email(self, field: StringField) -> None:
        if not field.data:
            raise StopValidation("Type the person's email address to confirm")
        if field.data.lower() != self.expected_email.lower():
            raise StopValidation("The email address does not match this person's: check it and type it again")
