"""The notification settings form: one choice per kind a person may be told of."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from vigtrain.forms import Form, RequiredRadioField
from vigtrain.notifications.models import Delivery, NotificationKind

CHOICES = [(delivery.value, delivery.label) for delivery in Delivery]


def preferences_form(kinds: list[NotificationKind], current: dict[NotificationKind, Delivery]) -> Form:
    """A form with a radio group for each of `kinds`, set to the person's current choice."""

    class PreferencesForm(Form):
        submit = SubmitField("Save settings", widget=GovSubmitInput())

    for kind in kinds:
        setattr(
            PreferencesForm,
            kind.value,
            RequiredRadioField(
                kind.label,
                description=kind.hint,
                choices=CHOICES,
                default=current[kind].value,
                missing=f"Select how to hear about: {kind.label.lower()}",
                invalid="Select one of the choices offered",
            ),
        )
    return PreferencesForm()
