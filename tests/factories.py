"""Small builders for test data; each flushes and leaves committing to the test."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import date

from sqlalchemy import event, select

from vigtrain.accounts.models import Role, User
from vigtrain.accounts.passwords import hash_password
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.organisations.models import Region, Service, ServiceKind

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def make_service(name: str | None = None, region_code: str = "E12000003", kind=ServiceKind.NHS_TRUST) -> Service:
    region = db.session.scalar(select(Region).where(Region.code == region_code))
    service = Service(name=name or f"Service {next(_sequence)}", kind=kind, region=region)
    db.session.add(service)
    db.session.flush()
    return service


def make_user(
    email: str | None = None,
    roles: tuple[Role, ...] = (Role.TRAINEE,),
    password: str | None = PASSWORD,
    name: str | None = None,
    commit: bool = True,
    **fields,
) -> User:
    number = next(_sequence)
    user = User(
        email=(email or f"person{number}@example.org").lower(),
        display_name=name or f"Person {number}",
        password_hash=hash_password(password) if password else None,
        password_changed_at=utcnow() if password else None,
        **fields,
    )
    user.set_roles(set(roles))
    db.session.add(user)
    db.session.flush()
    if commit:
        db.session.commit()
    return user


def make_admin(email: str = "admin@example.org", **fields) -> User:
    return make_user(email, roles=(Role.ADMINISTRATOR,), name="Ada Admin", **fields)


# --- training records ------------------------------------------------------------------------


def load_pathways():
    from vigtrain.pathways.services import sync_pathways

    added, unchanged = sync_pathways()
    db.session.commit()
    return added + unchanged


def pathway_version(code: str = "vig-practitioner", version: str = "2024.1"):
    from vigtrain.pathways.models import PathwayVersion

    found = db.session.scalar(select(PathwayVersion).filter_by(code=code, version=version))
    if found is None:
        load_pathways()
        found = db.session.scalar(select(PathwayVersion).filter_by(code=code, version=version))
    return found


def make_enrolment(trainee, supervisor=None, code="vig-practitioner", version="2024.1", start=None, actor=None):
    from datetime import date

    from vigtrain.training.services import enrol

    start = start or date(2026, 1, 5)
    admin = actor or make_user(roles=(Role.ADMINISTRATOR,), name="Enrolling Admin")
    enrolment = enrol(admin, trainee, pathway_version(code, version), supervisor, None, start, date(2026, 11, 1))
    db.session.commit()
    return enrolment


def make_case(practitioner, region_code: str = "E12000003", started_on=None, consents=None):
    """A case with consent to filming and to supervision (not to the DCS unless `consents` says).

    It starts on 6 January 2025 unless told otherwise, before any date the tests freeze the clock at,
    so cycles and measures dated in a test fall inside it.
    """
    from vigtrain.casework.models import AgeBand, Population, Relationship
    from vigtrain.casework.services import Consents, create_case

    region = db.session.scalar(select(Region).where(Region.code == region_code))
    started_on = started_on or date(2025, 1, 6)
    consents = consents or Consents(filming=started_on, supervision=started_on)
    return create_case(
        practitioner,
        Relationship.PARENT_CHILD,
        AgeBand.THREE_TO_4,
        Population.EARLY_YEARS,
        region,
        started_on,
        consents,
    )


def make_cycles(practitioner, count: int, clients: int, on, case_list=None):
    """`count` cycles shared on day `on`, spread over `clients` new cases (returns the cases)."""
    from vigtrain.casework.models import Cycle

    cases = case_list or [make_case(practitioner) for _ in range(clients)]
    for index in range(count):
        db.session.add(
            Cycle(case=cases[index % len(cases)], filmed_on=on, shared_review_on=on, clips_count=3, principles=[])
        )
    db.session.commit()
    return cases


def make_supervision(enrolment, supervisor, hours: float, on, confirmed: bool = True):
    from vigtrain.supervision.models import SessionStatus, SupervisionSession

    session = SupervisionSession(
        enrolment=enrolment,
        supervisor=supervisor,
        session_date=on,
        duration_minutes=int(hours * 60),
        status=SessionStatus.CONFIRMED if confirmed else SessionStatus.LOGGED,
        logged_by_id=enrolment.trainee_id,
    )
    db.session.add(session)
    db.session.commit()
    return session


def complete_assessments(record, trainee, supervisor, rating: int = 3):
    from vigtrain.pathways.definitions import principles
    from vigtrain.pathways.models import AssessmentKind
    from vigtrain.training.services import save_assessment

    ratings = dict.fromkeys(principles().codes, (rating, None))
    save_assessment(trainee, record, AssessmentKind.SELF, ratings)
    if supervisor is not None:
        save_assessment(
            supervisor, record, AssessmentKind.SUPERVISOR, dict.fromkeys(principles().codes, (rating + 1, None))
        )
    db.session.commit()


def place_on_stage(enrolment, stage_code: str, state, days: int, accreditor=None) -> None:
    """Put an enrolment on `stage_code` in `state` since `days` ago, the stages before it finished."""
    from datetime import timedelta

    from vigtrain.pathways.models import StageState

    now = utcnow()
    target = enrolment.stage_record(stage_code).position
    for record in enrolment.stages:
        if record.position < target:
            record.state = StageState.ACCREDITED if record.position else StageState.COMPLETE
        elif record.position == target:
            record.state, record.state_since = state, now - timedelta(days=days)
            record.accrediting_supervisor_id = accreditor.id if accreditor else None
        else:
            record.state = StageState.NOT_STARTED
    enrolment.mark_current_stage()
    enrolment.last_activity_at = now - timedelta(days=days)
    db.session.commit()


# --- what a request costs ---------------------------------------------------------------------------


@contextmanager
def counting_statements():
    """The SQL statements issued inside the block, as a list that fills while it runs."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def count_statements(client, url: str) -> int:
    """How many statements one successful GET of `url` issues."""
    with counting_statements() as statements:
        assert client.get(url).status_code == 200
    return len(statements)
