"""The administrator's subject access form: which request the download answers, for the audit trail."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from vigtrain.forms import Form, strip

MAX_REQUEST = 300


class AdminSubjectAccessForm(Form):
    request_note = StringField(
        "Which request is this for?",
        description=(
            "How and when the person asked, or your case reference, for example 'Email of 3 December 2026'. "
            "It is kept in the audit trail with the download."
        ),
        filters=[strip],
        validators=[
            DataRequired("Enter which request this download answers"),
            Length(max=MAX_REQUEST, message=f"The request must be {MAX_REQUEST} characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Download their data", widget=GovSubmitInput())
