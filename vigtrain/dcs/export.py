"""The anonymised research export: one CSV row per measure administration, streamed, with its data dictionary.

Only cases whose client consented to the DCS are included. What is left out, and why:

- free text (the case's end note): it can name people however carefully it is screened;
- full dates: a date of a session is an identifier, so only the month (YYYY-MM) is given;
- the practitioner: a pseudonymous practitioner key would link every case a person worked on, and with
  the service and pathway stage that can single out a trainee in a small service. Outcome monitoring
  needs the service and the stage, not the person;
- item-level answers: the scores (total, raw, subscales, band) are what the DCS reports on, and the
  answers to some items (PHQ-9 item 9, EPDS item 10) are themselves sensitive.

The reports' rule, that no count of 1 to 7 can be worked out, holds here too. A record-level file
lets anyone count the cases that share a service, stage, age band and so on, so every case is
grouped with at least 7 others that show exactly the same context (k-anonymity with k = 8): a case
whose context is shared by fewer is shown with less of it (``*``), leaving out first the service, then the
stage, the case's status, the child's age band, the relationship, the population and the region,
one at a time, until it is in a group of 8 or more. A case that is not, even with nothing left, is
left out. Any count of cases by the columns that describe them is then 0 or at least 8. The groups
are worked out over every consenting case with a score, whichever measure is downloaded, so two
downloads never show one case with different detail.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import Select, select

from vigtrain.casework.models import AGE_BAND_LABELS, CASE_STATUS_LABELS, POPULATION_LABELS, RELATIONSHIP_LABELS, Case
from vigtrain.dcs.models import TIMEPOINT_LABELS, Administration
from vigtrain.dcs.reports import Published
from vigtrain.extensions import db
from vigtrain.organisations.models import Region, Service

BATCH = 5_000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _values(labels: dict) -> str:
    return "; ".join(f"{key.value} ({label})" for key, label in labels.items())


BLANK_NOTE = "* where left out, so that at least 7 other cases show the same as this one in every such column."


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    values: str


COLUMNS = (
    Column("case_code", "The case's system-generated code (VC-...); the same for every row of one case.", "Text"),
    Column("relationship_type", "Who the VIG work was with. " + BLANK_NOTE, _values(RELATIONSHIP_LABELS)),
    Column("child_age_band", "The child's age band when the case started. " + BLANK_NOTE, _values(AGE_BAND_LABELS)),
    Column("population", "The population or setting the work belongs to. " + BLANK_NOTE, _values(POPULATION_LABELS)),
    Column(
        "region_code",
        "ONS code of the UK region or nation where the client lives. " + BLANK_NOTE,
        "Text, e.g. E12000003",
    ),
    Column("region_name", "Name of that region or nation.", "Text"),
    Column(
        "service_id",
        "vigtrain's number for the service employing the practitioner; blank if none. " + BLANK_NOTE,
        "Whole number",
    ),
    Column("service_name", "Name of that service (an organisation, never a person).", "Text"),
    Column(
        "stage_number",
        "The practitioner's pathway stage when the case started: 0 initial training, 1 to 3 the stages after it; "
        "blank if the practitioner was not in training. " + BLANK_NOTE,
        "Whole number or blank",
    ),
    Column(
        "case_status",
        "Whether the work is still open, completed or ended early. " + BLANK_NOTE,
        _values(CASE_STATUS_LABELS),
    ),
    Column("measure", "The measure's code in vigtrain's measure library.", "PHQ-9, GAD-7, EPDS, WEMWBS, ..."),
    Column(
        "measure_version",
        "Version of the measure's data file the scores were computed with (scores are never recomputed).",
        "Text, e.g. 1",
    ),
    Column("timepoint", "When in the work the measure was completed.", _values(TIMEPOINT_LABELS)),
    Column("month", "The month the measure was completed (the day is left out: full dates identify).", "YYYY-MM"),
    Column(
        "total",
        "The reported total: SWEMWBS its metric score, GBO the mean of the goals rated, otherwise the sum of items.",
        "Number",
    ),
    Column("raw", "SWEMWBS only: the raw sum before conversion to the metric score.", "Number or blank"),
    Column(
        "subscales",
        "Subscale scores as a JSON object (e.g. PBQ's four scales, GBO's goal_1 to goal_3); {} if none.",
        'JSON, e.g. {"goal_1": 4}',
    ),
    Column("band", "The severity band of the total, as the measure's data file names it.", "Text or blank"),
    Column("prorated", "Whether missing items were prorated under the measure's rule.", "true or false"),
)


GROUP_SIZE = 8  # as in the reports: no group of 1 to 7 cases
# The context columns, in the order they are left out of a small group's cases (the most identifying first).
CONTEXT = (
    ("service_id", "service_name"),
    ("stage_number",),
    ("case_status",),
    ("child_age_band",),
    ("relationship_type",),
    ("population",),
    ("region_code", "region_name"),
)
LEFT_OUT = len(CONTEXT) + 1  # the level of a case that is not exported at all
LEFT_OUT_MARK = "*"  # unlike a blank (none recorded), so a left-out value is never mistaken for an empty one


def _context_query() -> Select:
    """Every consenting case with a score, with the columns that describe it."""
    has_score = select(Administration.id).where(Administration.case_id == Case.id).exists()
    return select(
        Case.id,
        Case.service_id,
        Case.stage_number,
        Case.status,
        Case.child_age_band,
        Case.relationship_type,
        Case.population,
        Case.region_id,
    ).where(Case.consent_dcs.is_(True), has_score)


def detail_levels() -> dict[int, int]:
    """Every consenting case's level of detail (see :func:`assign_levels`)."""
    return assign_levels({row[0]: tuple(row[1:]) for row in db.session.execute(_context_query())})


def assign_levels(contexts: Mapping[int, tuple]) -> dict[int, int]:
    """How many context columns (in CONTEXT's order) each case's rows leave out, so it is in a group of 8.

    Level 0 shows everything. At each level the cases are grouped by what they still show; where a
    group is smaller than 8, its cases move up a level, where the next column is left out too. They
    then join only the cases of the same wider group that moved with them (cases still showing the
    column are told apart by it), so if the small groups of a wider group add up to fewer than 8,
    the smallest other groups in it move with them: fewer cases lose detail than if the whole wider
    group did, and no case is left out that could be kept. A case still in a group smaller than 8
    with every column left out is not exported.
    """
    levels = dict.fromkeys(contexts, 0)
    current = list(contexts)
    for level in range(len(CONTEXT) + 1):
        wider: dict[tuple, dict[tuple, list[int]]] = {}
        for case_id in current:
            shown = contexts[case_id][level:]
            wider.setdefault(shown[1:], {}).setdefault(shown, []).append(case_id)
        moving: list[int] = []
        for groups in wider.values():
            small = [case_id for members in groups.values() if len(members) < GROUP_SIZE for case_id in members]
            if not small:
                continue
            others = sorted((members for members in groups.values() if len(members) >= GROUP_SIZE), key=len)
            while len(small) < GROUP_SIZE and others:
                small += others.pop(0)
            moving += small
        for case_id in moving:
            levels[case_id] = level + 1
        current = moving
    return levels


COLUMN_INDEX = {column.name: index for index, column in enumerate(COLUMNS)}


def export_query(measure_code: str | None = None) -> Select:
    """Administrations of consenting cases, in case order, with only the anonymised context."""
    statement = (
        select(
            Case.id,
            Case.code,
            Case.relationship_type,
            Case.child_age_band,
            Case.population,
            Region.code,
            Region.name,
            Case.service_id,
            Service.name,
            Case.stage_number,
            Case.status,
            Administration.measure_code,
            Administration.measure_version,
            Administration.timepoint,
            Administration.administered_on,
            Administration.total,
            Administration.raw,
            Administration.subscales,
            Administration.band,
            Administration.prorated,
        )
        .join(Case, Case.id == Administration.case_id)
        .join(Region, Region.id == Case.region_id)
        .outerjoin(Service, Service.id == Case.service_id)
        .where(Case.consent_dcs.is_(True))
        .order_by(Administration.case_id, Administration.id)
    )
    if measure_code:
        statement = statement.where(Administration.measure_code == measure_code)
    return statement


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _row(record, level: int) -> list[object]:
    (_, code, relationship, age_band, population, region_code, region_name, service_id, service_name, stage, status,
     measure, version, timepoint, on, total, raw, subscales, band, prorated) = record  # fmt: skip
    row = [
        code,
        relationship.value,
        age_band.value,
        population.value,
        region_code,
        region_name,
        "" if service_id is None else service_id,
        service_name or "",
        "" if stage is None else stage,
        status.value,
        measure,
        version,
        timepoint.value,
        f"{on:%Y-%m}",
        _number(total),
        _number(raw),
        json.dumps({key: subscales[key] for key in sorted(subscales or {})}, separators=(",", ":")),
        band or "",
        "true" if prorated else "false",
    ]
    for names in CONTEXT[:level]:
        for name in names:
            row[COLUMN_INDEX[name]] = LEFT_OUT_MARK
    return row


def _lines(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[csv_cell(value) for value in row] for row in rows])
    return buffer.getvalue()


def stream_csv(measure_code: str | None = None) -> Iterator[str]:
    """The export as chunks of CSV text, read from the database in batches (800,000 rows never sit in memory)."""
    yield "\ufeff" + _lines([[column.name for column in COLUMNS]])  # a BOM, so spreadsheets read UTF-8
    levels = detail_levels()  # one small number per case, not per row
    result = db.session.execute(export_query(measure_code).execution_options(yield_per=BATCH))
    for partition in result.partitions():
        kept = [(record, levels.get(record[0], LEFT_OUT)) for record in partition]
        yield _lines([_row(record, level) for record, level in kept if level < LEFT_OUT])


def dictionary_csv() -> str:
    """The data dictionary: one row per export column."""
    return "\ufeff" + _lines(
        [["column", "description", "values"]] + [[c.name, c.description, c.values] for c in COLUMNS]
    )


def report_csv(published: Published) -> str:
    """A report page's figures as CSV: the same rows, columns and withheld cells (``*``) as the page."""
    header = [published.breakdown_label] + [
        f"{column.heading} (%)" if column.percent else column.heading for column in published.columns
    ]
    rows = [header] + [
        [row.label] + [row.values[column.key].csv for column in published.columns]
        for row in [*published.rows, published.total]
    ]
    return "\ufeff" + _lines(rows)
