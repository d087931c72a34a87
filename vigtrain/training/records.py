"""The training records list: every enrolment, filtered, sorted and paged by key, and as CSV.

Built for thousands of records: each filter is a condition on indexed columns (the current stage
is flagged on its row, its time in state and the record's last activity are columns), pages are
found by key rather than by offset, and a page costs the same few statements at any size.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.orm import aliased

from vigtrain.accounts.models import User
from vigtrain.accounts.queries import name_or_email_holds
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import UK, UTC, utcnow
from vigtrain.dcs.export import csv_cell
from vigtrain.extensions import db
from vigtrain.organisations.models import Service
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, PathwayVersion, StageRecord, StageState

MAX_TERM = 100
MAX_DAYS = 3650
CSV_BATCH = 500
# Records with every stage finished have no time in a state: they sort after every waiting one.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


class Sort(StrEnum):
    ACTIVITY = "activity"
    NAME = "name"
    WAITING = "waiting"
    START = "start"

    @property
    def label(self) -> str:
        return SORT_LABELS[self]


SORT_LABELS = {
    Sort.ACTIVITY: "Most recent activity first",
    Sort.NAME: "Trainee name, A to Z",
    Sort.WAITING: "Longest in their current state first",
    Sort.START: "Most recent start first",
}


@dataclass(frozen=True)
class Filters:
    """What the administrator asked for; every field optional (None or empty: no condition)."""

    text: str = ""
    pathway: str | None = None
    version_id: int | None = None
    stage: str | None = None
    state: StageState | None = None
    status: EnrolmentStatus | None = None
    supervisor: str = ""
    accreditor: str = ""
    service: str = ""
    region_id: int | None = None
    cohort_id: int | None = None
    waiting_days: int | None = None
    sort: Sort = Sort.ACTIVITY


current = aliased(StageRecord, name="current_stage")
trainee = aliased(User, name="trainee_person")


def _contains(term: str) -> Select:
    """Ids of people whose name or email holds the words given."""
    return select(User.id).where(name_or_email_holds(term))


def _sort_key(sort: Sort) -> tuple[ColumnElement, bool]:
    """The column a sort orders by, and whether it runs downwards (ties broken by id the same way)."""
    if sort is Sort.NAME:
        return func.lower(trainee.display_name), False
    if sort is Sort.WAITING:
        return func.coalesce(current.state_since, literal(NEVER, current.state_since.type)), False
    if sort is Sort.START:
        return Enrolment.start_date, True
    return Enrolment.last_activity_at, True


def _needs_current(filters: Filters) -> bool:
    return bool(
        filters.stage
        or filters.state is not None
        or filters.accreditor
        or filters.waiting_days is not None
        or filters.sort is Sort.WAITING
    )


def matching(filters: Filters, now: datetime | None = None) -> Select:
    """Enrolments matching the filters, unordered: the list orders and pages it, the count counts it.

    The trainee and the current stage are joined only when a filter or the sort needs them, so an
    unfiltered count is a count of one table.
    """
    query = select(Enrolment)
    if filters.text or filters.sort is Sort.NAME:
        query = query.join(trainee, trainee.id == Enrolment.trainee_id)
    if _needs_current(filters):
        query = query.outerjoin(current, and_(current.enrolment_id == Enrolment.id, current.is_current.is_(True)))
    if filters.text:
        query = query.where(Enrolment.trainee_id.in_(_contains(filters.text)))
    if filters.pathway:
        query = query.where(
            Enrolment.pathway_version_id.in_(select(PathwayVersion.id).where(PathwayVersion.code == filters.pathway))
        )
    if filters.version_id is not None:
        query = query.where(Enrolment.pathway_version_id == filters.version_id)
    if filters.stage:
        query = query.where(current.stage_code == filters.stage)
    if filters.state is not None:
        query = query.where(current.state == filters.state)
    if filters.status is not None:
        query = query.where(Enrolment.status == filters.status)
    if filters.supervisor:
        query = query.where(Enrolment.supervisor_id.in_(_contains(filters.supervisor)))
    if filters.accreditor:
        query = query.where(current.accrediting_supervisor_id.in_(_contains(filters.accreditor)))
    if filters.service:
        words = " ".join(filters.service.split())[:MAX_TERM].lower()
        services = select(Service.id).where(func.lower(Service.name).contains(words, autoescape=True))
        query = query.where(Enrolment.service_id.in_(services))
    if filters.region_id is not None:
        query = query.where(Enrolment.service_id.in_(select(Service.id).where(Service.region_id == filters.region_id)))
    if filters.cohort_id is not None:
        query = query.where(Enrolment.cohort_id == filters.cohort_id)
    if filters.waiting_days is not None:
        query = query.where(current.state_since <= (now or utcnow()) - timedelta(days=filters.waiting_days))
    return query


def ordered(filters: Filters, now: datetime | None = None) -> Select:
    """The matching ids with their sort value, in order. Ids only: the page's records (and what
    they show) load afterwards for that page alone, not for every row the sort has to look at."""
    key, downwards = _sort_key(filters.sort)
    query = matching(filters, now).with_only_columns(Enrolment.id, key.label("sort_key"))
    return query.order_by(key.desc(), Enrolment.id.desc()) if downwards else query.order_by(key, Enrolment.id)


# --- pages by key --------------------------------------------------------------------------------


def encode_cursor(value: object, enrolment_id: int) -> str:
    """Where the next page starts: the last row's sort value and id, opaque in the address."""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return base64.urlsafe_b64encode(f"{enrolment_id}|{text}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, sort: Sort) -> tuple[object, int] | None:
    """The cursor's (value, id), or None for a missing or malformed one (which means the first page)."""
    if not cursor or len(cursor) > 400:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        given_id, _, text = raw.partition("|")
        enrolment_id = int(given_id)
        if sort is Sort.NAME:
            value: object = text
        elif sort is Sort.START:
            value = date.fromisoformat(text)
        else:
            value = datetime.fromisoformat(text)
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    if not 0 < enrolment_id < 2**62:
        return None
    return value, enrolment_id


@dataclass
class Page:
    rows: list[Row]
    total: int
    next_cursor: str | None
    first: bool


@dataclass
class Row:
    enrolment: Enrolment
    stage: StageRecord | None
    days_in_state: int | None
    accreditor: User | None = None
    cohort: str | None = None


def page(filters: Filters, cursor: str | None, size: int, now: datetime | None = None, counted: bool = True) -> Page:
    """One page of matching records after `cursor`, with the total matching (if `counted`) and the next cursor."""
    now = now or utcnow()
    key, downwards = _sort_key(filters.sort)
    query = ordered(filters, now)
    after = _decode_cursor(cursor, filters.sort)
    if after is not None:
        value, last_id = after
        if downwards:
            query = query.where(or_(key < value, and_(key == value, Enrolment.id < last_id)))
        else:
            query = query.where(or_(key > value, and_(key == value, Enrolment.id > last_id)))
    found = db.session.execute(query.limit(size + 1)).all()
    more = len(found) > size
    found = found[:size]
    # Counting needs no sort: count without the joins a sort alone would add.
    counting = replace(filters, sort=Sort.ACTIVITY)
    total = (
        db.session.scalar(matching(counting, now).with_only_columns(func.count(Enrolment.id)).order_by(None))
        if counted
        else len(found)
    )
    next_cursor = encode_cursor(found[-1].sort_key, found[-1].id) if more and found else None
    ids = [row.id for row in found]
    loaded = {
        enrolment.id: enrolment for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.id.in_(ids)))
    }
    enrolments = [loaded[enrolment_id] for enrolment_id in ids]
    on = now.astimezone(UK).date()
    return Page(rows=describe(enrolments, on), total=total, next_cursor=next_cursor, first=after is None)


def describe(enrolments: Sequence[Enrolment], on: date) -> list[Row]:
    """Each record with its current stage, days in its state, that stage's accrediting supervisor and
    its cohort's name: two batch queries for the page, whatever its size."""
    accreditor_ids = set()
    rows = []
    for enrolment in enrolments:
        stage = next((record for record in enrolment.stages if record.is_current), None)
        days = stage.days_in_state(on) if stage is not None else None
        rows.append(Row(enrolment, stage, days))
        if stage is not None and stage.accrediting_supervisor_id is not None:
            accreditor_ids.add(stage.accrediting_supervisor_id)
    people = (
        {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(accreditor_ids)))}
        if accreditor_ids
        else {}
    )
    cohort_ids = {enrolment.cohort_id for enrolment in enrolments if enrolment.cohort_id is not None}
    cohorts = (
        dict(db.session.execute(select(Cohort.id, Cohort.name).where(Cohort.id.in_(cohort_ids))).tuples().all())
        if cohort_ids
        else {}
    )
    for row in rows:
        if row.stage is not None and row.stage.accrediting_supervisor_id is not None:
            row.accreditor = people.get(row.stage.accrediting_supervisor_id)
        row.cohort = cohorts.get(row.enrolment.cohort_id)
    return rows


# --- the CSV download ------------------------------------------------------------------------------

CSV_COLUMNS = [
    "Enrolment",
    "Trainee",
    "Trainee email",
    "Pathway",
    "Version",
    "Enrolment status",
    "Current stage",
    "Stage state",
    "Days in state",
    "Personal supervisor",
    "Accrediting supervisor",
    "Service",
    "Region",
    "Cohort",
    "Start date",
    "Last activity",
]


def _csv_line(values: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([csv_cell(value) for value in values])
    return out.getvalue()


def stream_csv(filters: Filters, now: datetime | None = None) -> Iterator[str]:
    """Every matching record in the list's order, a batch at a time, so a large download stays small in memory."""
    now = now or utcnow()
    yield _csv_line(CSV_COLUMNS)
    cursor: str | None = None
    while True:
        found = page(filters, cursor, CSV_BATCH, now, counted=False)
        for row in found.rows:
            enrolment, stage = row.enrolment, row.stage
            yield _csv_line(
                [
                    enrolment.id,
                    enrolment.trainee.display_name,
                    enrolment.trainee.email,
                    enrolment.pathway_version.name,
                    enrolment.pathway_version.version,
                    enrolment.status.value,
                    stage.definition.name if stage else "All stages finished",
                    stage.state.label if stage else "",
                    row.days_in_state if row.days_in_state is not None else "",
                    enrolment.supervisor.display_name if enrolment.supervisor else "",
                    row.accreditor.display_name if row.accreditor else "",
                    enrolment.service.name if enrolment.service else "",
                    enrolment.service.region.name if enrolment.service else "",
                    row.cohort or "",
                    enrolment.start_date.isoformat(),
                    enrolment.last_activity_at.date().isoformat(),
                ]
            )
        db.session.expunge_all()  # keep memory flat across batches
        if found.next_cursor is None:
            return
        cursor = found.next_cursor
