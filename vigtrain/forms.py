"""Field helpers shared by every domain's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField


class ActionForm(FlaskForm):
    """A form with no fields: a CSRF-protected button for a single action."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def form_status(form: FlaskForm) -> int:
    """422 when the submitted form has errors, so a refused submission is never a 200."""
    return 422 if form.errors else 200


def add_error(form: FlaskForm, message: str, field: str | None = None) -> None:
    """Attach a service's message beside its field, or above the form if it has none."""
    if field and field in form:
        form[field].errors = [*form[field].errors, message]
    else:
        form.form_errors.append(message)


def error_list(form: FlaskForm) -> list[dict[str, str]]:
    """Items for the GOV.UK error summary: form-level messages first, then each field's first."""
    items = [{"text": message} for message in form.form_errors]
    for field in form:
        if field.errors:
            items.append({"text": field.errors[0], "href": f"#{field.id}"})
    return items
