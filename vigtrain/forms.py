"""The base form, and fields and helpers shared by every domain's forms: choices, whole numbers,
GOV.UK dates, people."""

from __future__ import annotations

import re
import secrets
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import (
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.widgets import HiddenInput

from vigtrain.dates import today

OUT_OF_DATE = "This page is out of date. Reload it and try again"
# Characters no database column can hold: NUL (PostgreSQL refuses it in text) and halves of UTF-16
# surrogate pairs (they are not characters at all, and cannot be encoded to store).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Remove the hidden control character from this answer (it may have come from copying and pasting)"
# A one-line answer (a name, a title) holds no line break, tab or other control character: it may end
# up in an email's subject or a log line, where a line break would start a header or line of its own.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = "Remove the line break, tab or other control character from this answer"


def unstorable(value: object) -> bool:
    """True if `value` is text holding a character that cannot be stored."""
    return isinstance(value, str) and UNSTORABLE.search(value) is not None


def whole_number(text: object, max_digits: int = 12) -> int | None:
    """The whole number `text` spells in ASCII digits (at most `max_digits` of them), else None.

    `str.isdigit()` alone is not enough before `int()`: it accepts superscripts and other scripts'
    digits, which `int()` refuses, and `int()` refuses more than 4,300 digits.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def search_words(text: str | None, limit: int) -> str:
    """Words typed into a search box, spaced once, cut to `limit` and without characters that cannot be
    stored (nobody means to search for them, and PostgreSQL refuses to compare text holding NUL)."""
    return " ".join(UNSTORABLE.sub("", text or "").split())[:limit]


class Form(FlaskForm):
    """Every vigtrain form: any field sent a character that cannot be stored is refused beside the field.

    Checked here, once, so that no form can forget it and no such value reaches a query or a column
    (on PostgreSQL it would fail there, after the rules had passed).
    """

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if any(unstorable(value) for value in (field.raw_data or ())) or unstorable(getattr(field, "query", None)):
                field.errors = [*field.errors, UNSTORABLE_MESSAGE]
                valid = False
            elif _one_line(field) and any(
                CONTROL.search(value) for value in field.raw_data or () if isinstance(value, str)
            ):
                field.errors = [*field.errors, CONTROL_MESSAGE]
                valid = False
        return valid


def _one_line(field: Field) -> bool:
    return isinstance(field, StringField) and not isinstance(field, (TextAreaField, PasswordField, HiddenField))


class VersionField(IntegerField):
    """The record version the page showed, sent back hidden, so a change on top of someone else's is refused."""

    widget = HiddenInput()

    def process_formdata(self, valuelist) -> None:
        self.data = whole_number(valuelist[0]) if valuelist else None
        if self.data is None and valuelist and valuelist[0].strip():
            raise ValueError(OUT_OF_DATE)


SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class SubmissionKeyField(HiddenField):
    """A one-time key rendered with a creating form, sent back hidden: `transactions.submit(once=...)`
    saves each key once, so a double click or a resend cannot save the same thing twice."""

    def __init__(self, **kwargs) -> None:
        super().__init__(default=_new_submission_key, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        # A posted form without its key came from an old page: keep nothing, never a fresh key.
        self.data = valuelist[0] if valuelist else ""

    def pre_validate(self, form) -> None:
        if self.data and not SUBMISSION_KEY.match(self.data):
            raise StopValidation(OUT_OF_DATE)

    @property
    def key(self) -> str:
        """The key to claim: "" when none came back (an old page), which `submit` refuses."""
        return self.data if isinstance(self.data, str) and SUBMISSION_KEY.match(self.data) else ""


def _new_submission_key() -> str:
    return secrets.token_urlsafe(24)


class ActionForm(Form):
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


class _RequiredChoice:
    """A single choice with its own messages: one for nothing chosen, one for a value not offered.

    With `validate_choice=False` any value passes, for views that look the value up themselves
    and leave the rule about it to a service.
    """

    def __init__(self, label: str, *, missing: str, invalid: str = "", **kwargs) -> None:
        super().__init__(label, **kwargs)
        self.missing, self.invalid = missing, invalid

    def pre_validate(self, form) -> None:
        if self.data in (None, ""):
            raise StopValidation(self.missing)
        if self.validate_choice and self.data not in {str(value) for value, *_ in self.choices}:
            raise StopValidation(self.invalid)


class RequiredRadioField(_RequiredChoice, RadioField):
    def __init__(self, label: str, **kwargs) -> None:
        kwargs.setdefault("widget", GovRadioInput())
        super().__init__(label, **kwargs)


class RequiredSelectField(_RequiredChoice, SelectField):
    def __init__(self, label: str, **kwargs) -> None:
        kwargs.setdefault("widget", GovSelect())
        super().__init__(label, **kwargs)


class WholeNumberField(Field):
    """A whole number typed into a text box; its range is the service's rule."""

    widget = GovTextInput()

    def __init__(self, label: str, *, missing: str, invalid: str, **kwargs) -> None:
        super().__init__(label, **kwargs)
        self.missing, self.invalid = missing, invalid

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = int(text)
            except ValueError:
                raise ValueError(self.invalid) from None

    def pre_validate(self, form) -> None:
        if self.errors:
            raise StopValidation()
        if self.data is None:
            raise StopValidation(self.missing)


class _DateInput(GovDateInput):
    """The day box carries the field's id, so the error summary's link lands in it (GOV.UK pattern)."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["id"] = f"{field.id}-date"
        params["items"][0]["id"] = field.id
        return params


class DateInputField(Field):
    """Day, month and year boxes (GOV.UK date input) with the GOV.UK messages for each mistake.

    `subject` names the date inside messages, e.g. "the filming date".
    """

    widget = _DateInput()
    PARTS = ("day", "month", "year")

    def __init__(
        self,
        label: str,
        *,
        subject: str,
        description: str = "For example, 27 3 2026",
        required: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(label, description=description, **kwargs)
        self.subject = subject
        self.required = required

    def _value(self) -> str:
        return ""  # the widget fills each box from raw_data

    def process_data(self, value: date | None) -> None:
        self.data = value
        if isinstance(value, date):
            self.raw_data = [str(value.day), str(value.month), str(value.year)]

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [(value or "").strip() for value in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts  # the widget shows back exactly what was typed, three boxes always
        self.data = None
        if not any(parts):
            return
        subject = self.subject[0].upper() + self.subject[1:]
        missing = [name for name, value in zip(self.PARTS, parts, strict=True) if not value]
        if missing:
            raise ValueError(f"{subject} must include a {' and '.join(missing)}")
        day, month, year = parts
        if not all(part.isdigit() for part in parts):
            raise ValueError(f"{subject} must be a real date, in numbers")
        if len(year) != 4:
            raise ValueError(f"The year must include 4 numbers, like {today().year}")
        try:
            self.data = date(int(year), int(month), int(day))
        except (ValueError, OverflowError):
            raise ValueError(f"{subject} must be a real date") from None

    def pre_validate(self, form) -> None:
        if self.errors:
            raise StopValidation()
        if self.data is None and self.required:
            raise StopValidation(f"Enter {self.subject}")


class PersonField(Field):
    """One person, chosen by searching rather than from a list of everyone (see `accounts.people`).

    The chosen id travels in `<name>`; the words searched for in `<name>-q`. `accounts.people.bind`
    gives the field its scope, the chosen person and any results before the form is validated.
    """

    def __init__(self, label: str, *, purpose: str, noun: str, required: bool = True, **kwargs) -> None:
        super().__init__(label, **kwargs)
        self.purpose, self.noun, self.required = purpose, noun, required
        self.query = ""
        self.chosen = None  # an accounts.people.Match once bound
        self.results: list = []
        self.more = self.searched = self.shows_email = False
        self.search_url = ""

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata is not None:
            self.query = " ".join((formdata.get(f"{self.name}-q") or "").split())[:100]

    def process_data(self, value) -> None:
        self.data = str(value) if value not in (None, "") else None

    def process_formdata(self, valuelist: list[str]) -> None:
        # Without JavaScript the chosen person and the search results share one set of radios.
        given = [value.strip() for value in valuelist if value and value.strip()]
        self.data = given[-1] if given else None

    def pre_validate(self, form) -> None:
        if self.chosen is not None:
            return
        if self.data:
            raise StopValidation(f"Search for the {self.noun} again and choose them from the results")
        if self.query:
            raise StopValidation(f"Choose the {self.noun} from the search results")
        if self.required:
            raise StopValidation(f"Search for the {self.noun} and choose them")
