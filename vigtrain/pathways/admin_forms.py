"""The form for enrolling a trainee on a pathway."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField

from vigtrain.forms import DateInputField, RequiredRadioField, RequiredSelectField


class EnrolForm(FlaskForm):
    # People are looked up by the view and checked by the enrolment service, which owns the rules
    # (holds the trainee role, not their own supervisor, not already enrolled).
    trainee = RequiredSelectField(
        "Trainee", choices=[], validate_choice=False, missing="Select the trainee you are enrolling"
    )
    pathway = RequiredRadioField(
        "Pathway",
        choices=[],
        missing="Select the pathway",
        invalid="Select a pathway from the list",
    )
    supervisor = SelectField(
        "Personal supervisor",
        description="The supervisor who confirms supervision and signs off each stage. You can change this later.",
        choices=[],
        validate_choice=False,
        widget=GovSelect(),
    )
    start_date = DateInputField(
        "Start date", subject="the start date", description="The first stage starts on this date. For example, 5 1 2026"
    )
    submit = SubmitField("Enrol trainee", widget=GovSubmitInput())
