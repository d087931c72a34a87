"""Forms for issuing and managing certificates (the rules themselves are the services')."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from vigtrain.certificates import services
from vigtrain.certificates.models import CertificateStatus
from vigtrain.certificates.services import MAX_REASON, MAX_SUSPENSION_MONTHS
from vigtrain.dates import today
from vigtrain.extensions import MAX_ID
from vigtrain.forms import DateInputField, Form, strip, whole_number


class BulkIssueForm(Form):
    """Stage records chosen from the issue queue (checked again by the service)."""

    records = SelectMultipleField("People to issue certificates to", choices=[], validate_choice=False)
    submit = SubmitField("Issue selected certificates", widget=GovSubmitInput())
    issue_all = SubmitField("Issue all", widget=GovSubmitInput())

    def record_ids(self) -> list[int]:
        """The ids ticked; anything that cannot be an id (not ASCII digits, or too large) is ignored."""
        values = self.records.data or []
        return [number for value in values if (number := whole_number(value)) is not None and number <= MAX_ID]


class RevokeForm(Form):
    reason = TextAreaField(
        "Reason for revoking",
        description="Anyone who checks this certificate will see the reason. Do not include anything confidential.",
        validators=[Length(max=MAX_REASON, message=f"The reason must be {MAX_REASON:,} characters or fewer")],
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Revoke certificate", widget=GovSubmitInput())


class SuspendForm(Form):
    """Every mistake at once, beside its field (the service checks the same rules again)."""

    reason = TextAreaField(
        "Reason for suspending",
        description="Anyone who checks this certificate will see the reason. Do not include anything confidential.",
        filters=[strip],
        widget=GovCharacterCount(),
    )
    suspended_until = DateInputField(
        "Date the suspension ends (optional)",
        subject="the date the suspension ends",
        description=(
            "The certificate is valid again from this day. At most "
            f"{MAX_SUSPENSION_MONTHS // 12} years ahead. Leave it blank to suspend it until you reinstate it."
        ),
        required=False,
    )
    submit = SubmitField("Suspend certificate", widget=GovSubmitInput())

    def validate_reason(self, field: TextAreaField) -> None:
        if problem := services.reason_problem(field.data, services.SUSPENSION_REASON):
            raise ValidationError(problem)

    def validate_suspended_until(self, field: DateInputField) -> None:
        if problem := services.suspension_until_problem(field.data, today()):
            raise ValidationError(problem)


class ReinstateForm(Form):
    note = TextAreaField(
        "Why it is reinstated",
        description="The holder is told, with this note. For example: the investigation closed with no further action.",
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Reinstate certificate", widget=GovSubmitInput())

    def validate_note(self, field: TextAreaField) -> None:
        if problem := services.reason_problem(field.data, services.REINSTATEMENT_NOTE):
            raise ValidationError(problem)


class RenewForm(Form):
    evidence_note = TextAreaField(
        "Evidence you checked",
        description="For example: the supervision confirmed in the period and anything else the pathway asks for.",
        validators=[Length(max=MAX_REASON, message=f"The note must be {MAX_REASON:,} characters or fewer")],
        filters=[strip],
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Renew certificate", widget=GovSubmitInput())


class _StatusFilter(SelectField):
    def pre_validate(self, form) -> None:
        if self.data not in {value for value, _ in self.choices}:
            raise StopValidation("Select a status from the list")


class CertificateSearchForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(
        "Certificate number or holder's name",
        filters=[strip],
        validators=[Length(max=200, message="Search for at most 200 characters")],
        widget=GovTextInput(),
    )
    status = _StatusFilter(
        "Status",
        choices=[("", "Any status")] + [(status.value, status.label) for status in CertificateStatus],
        default="",
        widget=GovSelect(),
    )
    requested = BooleanField("Only those whose holder asked AVIGuk to renew", widget=GovCheckboxInput())
    submit = SubmitField("Search", widget=GovSubmitInput())

    @property
    def status_value(self) -> CertificateStatus | None:
        return CertificateStatus(self.status.data) if self.status.data and not self.status.errors else None
