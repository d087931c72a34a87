"""People for the reminder tests: a trainee with a personal supervisor, and administrators (one
deactivated); and a world with something due for every reminder on DAY."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from tests.certificate_factories import insert_certificate, make_holder
from tests.factories import load_pathways, make_case, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.casework.services import Consents
from vigtrain.dates import UK
from vigtrain.dcs.models import Administration, Timepoint
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageState

START = date(2026, 1, 5)
DAY = date(2026, 6, 15)


@dataclass
class People:
    admin: User
    other_admin: User
    supervisor: User
    trainee: User
    enrolment: Enrolment


@pytest.fixture
def people(app) -> People:
    load_pathways()
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    other_admin = make_user("abe@example.org", roles=(Role.ADMINISTRATOR,), name="Abe Admin")
    make_user("gone@example.org", roles=(Role.ADMINISTRATOR,), name="Gone Admin", is_active_flag=False)
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    trainee = make_user("ana@example.org", roles=(Role.TRAINEE,), name="Ana Silva")
    enrolment = make_enrolment(trainee, supervisor, start=START, actor=admin)
    return People(admin, other_admin, supervisor, trainee, enrolment)


@pytest.fixture
def due(people) -> People:
    """On DAY: no confirmed supervision since the start; a session logged two weeks ago; a stage
    submitted two weeks ago; a pre measure 15 weeks old; an accreditation expiring in 60 days."""
    since = datetime(2026, 6, 1, 9, tzinfo=UK)
    session = make_supervision(people.enrolment, people.supervisor, 1, date(2026, 5, 29), confirmed=False)
    session.logged_at = since
    record = people.enrolment.stage_record("itc")
    record.state, record.state_since = StageState.SUBMITTED, since
    case = make_case(people.trainee, started_on=START, consents=Consents(filming=START, supervision=START, dcs=START))
    db.session.add(
        Administration(
            case_id=case.id,
            measure_code="PHQ-9",
            measure_version="1",
            timepoint=Timepoint.PRE,
            administered_on=date(2026, 3, 2),
            responses={},
            total=9.0,
            entered_by_id=people.trainee.id,
        )
    )
    db.session.commit()
    holder = make_holder("Hana Holder", email="hana@example.org")
    accredited = make_enrolment(holder, start=START, actor=people.admin)
    accredited.status = EnrolmentStatus.COMPLETED  # no training left to supervise
    insert_certificate(holder, valid_until=DAY + timedelta(days=60), enrolment=accredited)
    return people
