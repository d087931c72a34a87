"""Creating and changing cohorts, and which enrolments belong to each.

A cohort's members are enrolments on its pathway version, each in at most one cohort. Services
flush and never commit; a broken rule is a `DomainError` naming the form field it belongs beside.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update

from vigtrain import audit
from vigtrain.accounts.models import Role, User
from vigtrain.cohorts.models import Cohort
from vigtrain.errors import STALE, Conflict, DomainError, PermissionDenied
from vigtrain.extensions import MAX_ID, db
from vigtrain.forms import whole_number
from vigtrain.organisations.models import Region
from vigtrain.pathways.models import Enrolment, PathwayVersion
from vigtrain.security import can_manage_cohorts

COHORT_FIELDS = ("name", "pathway_version_id", "region_id", "starts_on", "ends_on", "lead_id")
MAX_NAME = 120  # the column's size
MAX_MEMBERS_AT_ONCE = 500
LEAD_ROLES = (Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR)  # whom the "cohort_lead" search finds

# Why an enrolment was not added, in the words of the summary shown afterwards, most telling first.
ALREADY_HERE = "already in this cohort"
OTHER_COHORT = "already in another cohort"
OTHER_VERSION = "on another pathway version"
NOT_FOUND = "not found"
SKIP_REASONS = (ALREADY_HERE, OTHER_COHORT, OTHER_VERSION, NOT_FOUND)


@dataclass(frozen=True)
class CohortDetails:
    """What an administrator enters for a cohort."""

    name: str
    pathway_version: PathwayVersion
    region: Region | None
    starts_on: date
    ends_on: date | None
    lead: User | None


def _require_manager(actor: User) -> None:
    if not can_manage_cohorts(actor):
        raise PermissionDenied("Only administrators manage cohorts")


def name_taken(name: str) -> Cohort | None:
    """The cohort already called `name`, ignoring case."""
    return db.session.scalar(select(Cohort).where(func.lower(Cohort.name) == name.lower()))


def member_count(cohort: Cohort) -> int:
    return db.session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.cohort_id == cohort.id))


def _checked_name(details: CohortDetails, cohort: Cohort | None) -> str:
    name = " ".join((details.name or "").split())
    if not name:
        raise DomainError("Enter the cohort's name", field="name")
    if len(name) > MAX_NAME:
        raise DomainError(f"The name must be {MAX_NAME} characters or fewer", field="name")
    clash = name_taken(name)
    if clash is not None and clash is not cohort:
        raise DomainError("A cohort with this name already exists", field="name")
    return name


def _check(details: CohortDetails, cohort: Cohort | None = None) -> str:
    """Every rule about what was entered; the tidied name if all hold."""
    name = _checked_name(details, cohort)
    if details.ends_on is not None and details.ends_on < details.starts_on:
        raise DomainError("The end date must be the same as or after the start date", field="ends_on")
    lead = details.lead
    if lead is not None and not (lead.is_active_flag and lead.has_role(*LEAD_ROLES)):
        raise DomainError(
            "The course lead must be a supervisor or accrediting supervisor with an active account", field="lead"
        )
    moving = cohort is not None and details.pathway_version.id != cohort.pathway_version_id
    if moving and member_count(cohort):
        # Members stay on the version they enrolled on, so the cohort cannot move away from them.
        raise DomainError(
            f"This cohort's members are on {cohort.pathway_version.label}: remove them before changing the version",
            field="pathway",
        )
    return name


def create_cohort(actor: User, details: CohortDetails) -> Cohort:
    _require_manager(actor)
    name = _check(details)
    cohort = Cohort(
        name=name,
        pathway_version=details.pathway_version,
        region=details.region,
        starts_on=details.starts_on,
        ends_on=details.ends_on,
        lead=details.lead,
    )
    db.session.add(cohort)
    db.session.flush()
    audit.record(actor, "cohort.created", cohort, after=audit.snapshot(cohort, *COHORT_FIELDS))
    return cohort


def update_cohort(actor: User, cohort: Cohort, details: CohortDetails, seen_version: int) -> None:
    """Change a cohort's facts, refusing a change made on top of someone else's (409)."""
    _require_manager(actor)
    if cohort.version != seen_version:
        raise Conflict(STALE)
    name = _check(details, cohort)
    before = audit.snapshot(cohort, *COHORT_FIELDS)
    cohort.name = name
    cohort.pathway_version = details.pathway_version
    cohort.region = details.region
    cohort.starts_on, cohort.ends_on = details.starts_on, details.ends_on
    cohort.lead = details.lead
    db.session.flush()
    after = audit.snapshot(cohort, *COHORT_FIELDS)
    if after != before:
        audit.record(actor, "cohort.updated", cohort, before=before, after=after)


# --- members --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembersAdded:
    """What `add_members` did: the enrolment ids added, and each value skipped with its reason."""

    added: tuple[int, ...]
    skipped: dict[str, str]

    def summary(self, cohort_name: str) -> str:
        """For example "3 added to ITC North West 2026; 1 skipped: already in another cohort"."""
        text = f"{len(self.added)} added to {cohort_name}"
        counts = Counter(self.skipped.values())
        if counts:
            if len(counts) == 1:
                reasons = next(iter(counts))
            else:
                reasons = ", ".join(f"{counts[reason]} {reason}" for reason in SKIP_REASONS if reason in counts)
            text += f"; {sum(counts.values())} skipped: {reasons}"
        return text


def as_id(value: str) -> int | None:
    """A posted value as an enrolment id, or None if it cannot be one (not ASCII digits, or too big)."""
    number = whole_number(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def add_members(actor: User, cohort: Cohort, enrolment_ids: Iterable[str | int]) -> MembersAdded:
    """Add each enrolment on the cohort's pathway version that is in no cohort yet; report the rest.

    Values that cannot be ids, or name no enrolment, are skipped as not found rather than refused,
    as the list they were chosen from may have changed since.
    """
    _require_manager(actor)
    values = [str(value).strip() for value in enrolment_ids]
    if not values:
        raise DomainError("Select at least one trainee record to add to the cohort", field="enrolment")
    if len(values) > MAX_MEMBERS_AT_ONCE:
        raise DomainError(
            f"You can add up to {MAX_MEMBERS_AT_ONCE} trainee records at a time. Select fewer and try again",
            field="enrolment",
        )
    skipped: dict[str, str] = {}
    wanted: dict[int, str] = {}
    for value in values:
        number = as_id(value)
        if number is None:
            skipped[value] = NOT_FOUND
        else:
            wanted.setdefault(number, str(number))
    rows = db.session.execute(
        select(Enrolment.id, Enrolment.pathway_version_id, Enrolment.cohort_id).where(Enrolment.id.in_(list(wanted)))
    )
    found = {row.id: row for row in rows}
    eligible = []
    for number, label in wanted.items():
        row = found.get(number)
        if row is None:
            skipped[label] = NOT_FOUND
        elif row.cohort_id == cohort.id:
            skipped[label] = ALREADY_HERE
        elif row.cohort_id is not None:
            skipped[label] = OTHER_COHORT
        elif row.pathway_version_id != cohort.pathway_version_id:
            skipped[label] = OTHER_VERSION
        else:
            eligible.append(number)
    added: list[int] = []
    if eligible:
        # The conditions are checked again in the statement itself, so a record put in another
        # cohort meanwhile is left there; the version moves as any change to an enrolment moves it.
        statement = (
            update(Enrolment)
            .where(
                Enrolment.id.in_(eligible),
                Enrolment.cohort_id.is_(None),
                Enrolment.pathway_version_id == cohort.pathway_version_id,
            )
            .values(cohort_id=cohort.id, version=Enrolment.version + 1)
            .returning(Enrolment.id)
            .execution_options(synchronize_session="fetch")
        )
        changed = set(db.session.scalars(statement))
        added = [number for number in eligible if number in changed]
        skipped.update({str(number): OTHER_COHORT for number in eligible if number not in changed})
        audit.record(
            actor,
            "cohort.members_added",
            cohort,
            after={"enrolment_ids": added, "skipped": dict(Counter(skipped.values()))},
        )
    return MembersAdded(tuple(added), skipped)


def remove_member(actor: User, cohort: Cohort, enrolment: Enrolment) -> None:
    _require_manager(actor)
    if enrolment.cohort_id != cohort.id:
        raise DomainError(f"{enrolment.trainee.display_name} is not in {cohort.name}")
    enrolment.cohort_id = None
    db.session.flush()
    audit.record(actor, "cohort.member_removed", cohort, before={"enrolment_id": enrolment.id})
