from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from vigtrain.forms import Form, strip
from vigtrain.organisations.models import SERVICE_KIND_LABELS


class ServiceForm(Form):
    name = StringField(
        "Name",
        description="The organisation's name as staff know it, for example Leeds Community Healthcare NHS Trust.",
        filters=[strip],
        validators=[
            DataRequired("Enter the service's name"),
            Length(max=200, message="Name must be 200 characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    kind = RadioField(
        "Type of organisation",
        choices=[(kind.value, label) for kind, label in SERVICE_KIND_LABELS.items()],
        validators=[DataRequired("Select the type of organisation")],
        widget=GovRadioInput(),
    )
    region = SelectField(
        "Region or nation", choices=[], validators=[DataRequired("Select a region or nation")], widget=GovSelect()
    )
    active = BooleanField(
        "Service is active",
        description="Inactive services are not offered for new accounts.",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Save service", widget=GovSubmitInput())
