"""Forms for recording outcome measures: choose a measure and timepoint, then answer it on one screen;
for inviting the client to answer on their own phone; and for a service's licensed measure wording."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, StopValidation

from vigtrain.dcs import wording
from vigtrain.dcs.measures import Measure, library
from vigtrain.dcs.models import TIMEPOINT_LABELS
from vigtrain.forms import DateInputField, Form, RequiredRadioField, RequiredSelectField, strip


class ChooseMeasureForm(Form):
    measure = RequiredRadioField(
        "Which measure?",
        choices=[],
        missing="Select the measure",
        invalid="Select a measure from the list",
    )
    timepoint = RequiredRadioField(
        "When in the work is it?",
        choices=[(value.value, label) for value, label in TIMEPOINT_LABELS.items()],
        missing="Select when in the work the measure is",
        invalid="Select a timepoint from the list",
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.measure.choices = [(measure.code, measure.name) for measure in library().values()]


class QuickMeasureForm(ChooseMeasureForm):
    """Record a measure from the home page: the case is chosen with the measure and the timepoint."""

    case = RequiredSelectField(
        "Which case?",
        choices=[],
        missing="Select the case the measure is for",
        invalid="Select one of your open cases from the list",
    )


def item_field_name(number: str) -> str:
    return f"item_{number}"


class _ItemField(RadioField):
    """One item's answer as the position of the option chosen; unanswered is allowed (the measure decides)."""

    widget = GovRadioInput()

    def __init__(self, *args, number: str, **kwargs) -> None:
        super().__init__(*args, validate_choice=False, **kwargs)
        self.number = number

    def pre_validate(self, form) -> None:
        if self.data not in (None, "") and self.data not in {value for value, _label in self.choices}:
            raise StopValidation(f"Choose one of the answers shown for question {self.number}")

    @property
    def position(self) -> int | None:
        return None if self.data in (None, "") else int(self.data)


class _AnswersForm(Form):
    """One radio group per item: what a client answering on their own phone sees (no date: it is today)."""

    submit = SubmitField("Save answers", widget=GovSubmitInput())
    measure: Measure

    def item_fields(self) -> list[_ItemField]:
        return [self[item_field_name(item.number)] for item in self.measure.items]

    def responses(self) -> dict[str, int | None]:
        return {field.number: field.position for field in self.item_fields()}


class _EntryForm(_AnswersForm):
    """Live entry by the practitioner, who says when the measure was completed."""

    administered_on = DateInputField("Date completed", subject="the date the measure was completed")


def _items_form(base: type[_AnswersForm], measure: Measure, **kwargs) -> _AnswersForm:
    fields = {
        item_field_name(item.number): _ItemField(
            item.title,
            number=item.number,
            choices=[(str(position), option.label) for position, option in enumerate(measure.options_for(item.number))],
        )
        for item in measure.items
    }
    form_class = type(f"{measure.code.replace('-', '')}{base.__name__[1:]}", (base,), {"measure": measure, **fields})
    return form_class(**kwargs)


def entry_form(measure: Measure, **kwargs) -> _EntryForm:
    """A form with one radio group per item, built from the measure's data file."""
    return _items_form(_EntryForm, measure, **kwargs)


def answers_form(measure: Measure, **kwargs) -> _AnswersForm:
    """The same items without the date, for a client answering through a link."""
    return _items_form(_AnswersForm, measure, **kwargs)


class MeasuresField(SelectMultipleField):
    """Checkboxes of measure codes; which may be chosen is the service's rule, refused beside the field."""

    widget = GovCheckboxesInput()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, validate_choice=False, **kwargs)


class InvitationForm(Form):
    measures = MeasuresField("Which questionnaires should the client answer?", choices=[])
    timepoint = RequiredRadioField(
        "When in the work is it?",
        choices=[(value.value, label) for value, label in TIMEPOINT_LABELS.items()],
        missing="Select when in the work the client is answering",
        invalid="Select a timepoint from the list",
    )
    submit = SubmitField("Create the link", widget=GovSubmitInput())


class _WordingForm(Form):
    """Licensed wording for one measure: a box per question (and per printed answer), instructions, licence."""

    stem = TextAreaField(
        "Instructions for the client (optional)",
        description="The instructions printed above the questions, as the licence gives them. Left blank, the "
        "client is asked to choose the answer that fits them best over the measure's recall period.",
        filters=[strip],
        widget=GovTextArea(),
    )
    licence_reference = StringField(
        "Licence reference",
        description="Who granted the licence, its number and when it was registered, for example: Warwick Medical "
        "School licence WMS-1234, registered 1 March 2026.",
        validators=[InputRequired(wording.REFERENCE_MISSING)],
        filters=[strip],
        widget=GovTextInput(),
    )
    submit = SubmitField("Add the wording", widget=GovSubmitInput())
    measure: Measure

    def item_rows(self) -> list[tuple[str, TextAreaField, list[StringField]]]:
        """Each item's number, its question box, and its printed answers' boxes (if any), in order."""
        return [
            (
                number,
                self[wording.question_field(number)],
                [self[wording.answer_field(number, p)] for p in wording.printed_positions(self.measure, number)],
            )
            for number in self.measure.item_numbers
        ]

    def texts(self) -> dict[str, str | None]:
        return {number: question.data for number, question, _answers in self.item_rows()}

    def answers(self) -> dict[str, dict[int, str | None]]:
        return {
            number: {position: self[wording.answer_field(number, position)].data for position in positions}
            for number in self.measure.item_numbers
            if (positions := wording.printed_positions(self.measure, number))
        }


def wording_form(measure: Measure, **kwargs) -> _WordingForm:
    """A wording form with a box for each of the measure's questions and printed answers."""
    fields: dict[str, object] = {}
    for number in measure.item_numbers:
        # Every box is checked here, so all that are empty are shown at once; the service checks again.
        fields[wording.question_field(number)] = TextAreaField(
            f"Question {number}",
            validators=[InputRequired(wording.question_missing(number))],
            filters=[strip],
            widget=GovTextArea(),
        )
        for position in wording.printed_positions(measure, number):
            fields[wording.answer_field(number, position)] = StringField(
                f"Answer {position + 1} as printed",
                validators=[InputRequired(wording.answer_missing(number, position))],
                filters=[strip],
                widget=GovTextInput(),
            )
    form_class = type(f"{measure.code.replace('-', '')}WordingForm", (_WordingForm,), {"measure": measure, **fields})
    return form_class(**kwargs)
