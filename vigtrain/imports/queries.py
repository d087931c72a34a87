"""What an import needs to know about the people, services, pathways and cohorts already held.

Each lookup is one query (or one per 500 addresses), whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from vigtrain.accounts.models import User
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db
from vigtrain.organisations.models import Service
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, PathwayVersion

CHUNK = 500


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def people_by_email(emails: Iterable[str]) -> dict[str, User]:
    """Accounts whose (lower-cased) email is one of `emails`, roles loaded."""
    found: dict[str, User] = {}
    for chunk in _chunks(sorted(set(emails))):
        for user in db.session.scalars(select(User).where(User.email.in_(chunk))):
            found[user.email] = user
    return found


def hold_people(emails: Iterable[str]) -> None:
    """Lock the accounts with these addresses until the transaction ends (a write that changes nothing;
    on SQLite it takes the database's write lock, as any write does)."""
    for chunk in _chunks(sorted(set(emails))):
        db.session.execute(
            update(User)
            .where(User.email.in_(chunk))
            # Not the key: "SET id = id" makes SQLite check every table that refers to the account.
            .values(session_version=User.session_version)
            .execution_options(synchronize_session=False)
        )


def open_pathways(people: Iterable[User]) -> set[tuple[int, str]]:
    """(person id, pathway code) for each active or paused enrolment the people hold."""
    ids = sorted({person.id for person in people})
    held: set[tuple[int, str]] = set()
    for chunk in _chunks(ids):
        rows = db.session.execute(
            select(Enrolment.trainee_id, PathwayVersion.code)
            .join(PathwayVersion, PathwayVersion.id == Enrolment.pathway_version_id)
            .where(
                Enrolment.trainee_id.in_(chunk),
                Enrolment.status.in_([EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED]),
            )
        )
        held.update((trainee_id, code) for trainee_id, code in rows)
    return held


def services_by_name() -> dict[str, Service]:
    """Active services by lower-cased name."""
    return {service.name.lower(): service for service in db.session.scalars(select(Service).where(Service.is_active))}


def cohorts_by_name() -> dict[str, Cohort]:
    return {cohort.name.lower(): cohort for cohort in db.session.scalars(select(Cohort))}


def pathway_versions() -> list[PathwayVersion]:
    return list(db.session.scalars(select(PathwayVersion)))
