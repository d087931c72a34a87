"""The filter form on every DCS report page (a GET search form: it changes nothing, so no CSRF token)."""

from __future__ import annotations

from collections.abc import Mapping

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField
from wtforms.validators import StopValidation

from vigtrain.casework.models import POPULATION_LABELS, RELATIONSHIP_LABELS, Population, Relationship
from vigtrain.dcs.measures import Measure, get_measure, library
from vigtrain.dcs.reports import (
    BREAKDOWN_LABELS,
    LEVEL_BREAKDOWNS,
    NOT_IN_TRAINING,
    STAGE_LABELS,
    Breakdown,
    Filters,
    Level,
)
from vigtrain.forms import DateInputField, Form

DEFAULT_MEASURE = "PHQ-9"


def default_measure() -> str:
    """PHQ-9 where the library has it, else the first measure."""
    measures = library()
    return DEFAULT_MEASURE if DEFAULT_MEASURE in measures else next(iter(measures))


class FilterChoice(SelectField):
    """A filter select: a value not offered gets a message beside the field, never an error page."""

    def __init__(self, label: str, *, invalid: str, **kwargs) -> None:
        kwargs.setdefault("widget", GovSelect())
        super().__init__(label, **kwargs)
        self.invalid = invalid

    def pre_validate(self, form) -> None:
        if self.data not in {value for value, _ in self.choices}:
            raise StopValidation(self.invalid)


class ReportFilterForm(Form):
    class Meta:
        csrf = False

    measure = FilterChoice("Measure", invalid="Select a measure from the list", default=default_measure)
    by = FilterChoice("Break the figures down by", invalid="Select a breakdown from the list")
    population = FilterChoice(
        "Population",
        invalid="Select a population from the list",
        choices=[("", "All populations")] + [(key.value, label) for key, label in POPULATION_LABELS.items()],
        default="",
    )
    relationship = FilterChoice(
        "Relationship",
        invalid="Select a relationship from the list",
        choices=[("", "All relationships")] + [(key.value, label) for key, label in RELATIONSHIP_LABELS.items()],
        default="",
    )
    stage = FilterChoice(
        "Pathway stage when the case started",
        invalid="Select a stage from the list",
        choices=[("", "Any stage"), *STAGE_LABELS.items()],
        default="",
    )
    pre_from = DateInputField("From", subject="the first date", description="For example, 1 4 2025", required=False)
    pre_to = DateInputField("To", subject="the last date", description="For example, 31 3 2026", required=False)
    submit = SubmitField("Show the report", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self._data("pre_from") and self._data("pre_to") and self.pre_to.data < self.pre_from.data:
            self.pre_to.errors = ["The last date must be the same as or after the first date"]
            valid = False
        return valid

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the cases (the measure and the breakdown do not)."""
        return any(name in self and self[name].data not in (None, "") for name in FILTER_FIELDS)

    def _data(self, name: str):
        """A filter's value, or None where this level's form has no such filter."""
        return self[name].data or None if name in self else None

    def filters(self) -> Filters:
        """The validated choices as report filters."""
        measure: Measure | None = get_measure(self.measure.data)
        assert measure is not None  # the choice was validated against the library
        stage, population, relationship = self._data("stage"), self._data("population"), self._data("relationship")
        return Filters(
            measure=measure,
            breakdown=Breakdown(self.by.data),
            population=Population(population) if population else None,
            relationship=Relationship(relationship) if relationship else None,
            stage=stage if stage in (None, NOT_IN_TRAINING) else int(stage),
            pre_from=self._data("pre_from"),
            pre_to=self._data("pre_to"),
        )


FILTER_FIELDS = ("population", "relationship", "stage", "pre_from", "pre_to")


def filter_form(level: Level, args: Mapping) -> ReportFilterForm:
    """The form for one level. Only a practitioner's own report narrows the cases by filters.

    Above it, every page of a report covers the same cases and splits them one way at a time, so
    pages share nothing but their "All cases" row, which disclosure control keeps the same on every
    page. A filter would make each page a slice of a larger table (population by relationship, say)
    whose other slices are other pages, and small counts could be worked out across them.
    """
    form = ReportFilterForm(args)
    form.measure.choices = [(measure.code, measure.name) for measure in library().values()]
    breakdowns = LEVEL_BREAKDOWNS[level]
    form.by.choices = [(choice.value, BREAKDOWN_LABELS[choice]) for choice in breakdowns]
    if not form.by.data:
        form.by.data = breakdowns[0].value
    if level is not Level.PRACTITIONER:
        for name in FILTER_FIELDS:
            delattr(form, name)
    return form


class ExportForm(Form):
    """Download the research export: every measure, or one."""

    measure = FilterChoice("Measure", invalid="Select a measure from the list", default="")
    submit = SubmitField("Download the export (CSV)", widget=GovSubmitInput())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.measure.choices = [("", "All measures")] + [(m.code, m.name) for m in library().values()]
