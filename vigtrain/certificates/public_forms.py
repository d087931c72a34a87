"""Forms on the public verification pages and the register."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import ValidationError

from vigtrain.certificates.services import NUMBER_EXAMPLE, number_problem
from vigtrain.certificates.transcripts import canonical_transcript_number
from vigtrain.forms import Form, RequiredRadioField, strip


class _Lookup(Form):
    """A GET form: looking something up changes nothing, so it needs no CSRF token and can be bookmarked."""

    class Meta:
        csrf = False


class NumberForm(_Lookup):
    number = StringField(
        "Certificate number",
        description=f"It is printed on the certificate, for example {NUMBER_EXAMPLE}",
        filters=[strip],
        widget=GovTextInput(),
    )

    def validate_number(self, field: StringField) -> None:
        if canonical_transcript_number(field.data) is not None:
            return  # a training transcript's number: it is checked on the same page
        problem = number_problem(field.data)
        if problem:
            raise ValidationError(problem)


class RegisterSearchForm(_Lookup):
    name = StringField("Name", filters=[strip], widget=GovTextInput())
    region = SelectField("Region or nation", choices=[], validate_choice=False, widget=GovSelect())


class CredentialForm(Form):
    credential = TextAreaField(
        "Credential",
        description=(
            "Paste the whole credential the practitioner shared with you: one long line of letters and "
            "numbers in three parts separated by full stops (in a file ending in .jwt), or all of a JSON "
            "credential, from the first { to the last } (in a file ending in .json)."
        ),
        filters=[strip],
        widget=GovTextArea(),
    )
    submit = SubmitField("Check credential", widget=GovSubmitInput())

    def validate_credential(self, field: TextAreaField) -> None:
        if not field.data:
            raise ValidationError("Paste the credential")


class ListingForm(Form):
    listed = RequiredRadioField(
        "Do you want to appear in the public register?",
        choices=[
            ("yes", "Yes, list my name, credential, region and status"),
            ("no", "No, do not list me"),
        ],
        missing="Select whether you want to appear in the public register",
        invalid="Select yes or no",
    )
    submit = SubmitField("Save", widget=GovSubmitInput())
