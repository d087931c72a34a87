"""More of everything around the access matrix's world, so a page that does a query per row shows it.

`grow_world` adds, around each person of tests/access/world.py, more of each kind of record their
pages list: the supervisor's trainees (in the same service and cohort, each with a stage waiting for
the same accrediting supervisor and a session waiting for confirmation), the trainee's cases with
cycles and measures, more cycles and links on her case, more sessions and notifications, the
practitioner's certificates and transcripts, services with leads, invitations (emails in the
outbox), job runs and API tokens. Every service call it makes audits, so the audit trail grows too.
The world's own ids (the addresses the table asks for) do not change.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.access.world import World, ran_today
from tests.api.conftest import issue_token
from tests.certificate_factories import ISSUE_DAY, insert_certificate
from tests.factories import (
    make_case,
    make_cycles,
    make_enrolment,
    make_service,
    make_supervision,
    make_user,
    place_on_stage,
)
from vigtrain.accounts import services as accounts
from vigtrain.accounts.models import Role, User
from vigtrain.casework.models import Case
from vigtrain.casework.services import Consents
from vigtrain.certificates.models import Certificate, CertificateKind
from vigtrain.certificates.transcripts import create_transcript
from vigtrain.cohorts import services as cohorts
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import today
from vigtrain.dcs.invitations import create_invitation
from vigtrain.dcs.models import Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db
from vigtrain.jobs.registry import JOBS
from vigtrain.notifications import inbox
from vigtrain.notifications.models import NotificationKind
from vigtrain.organisations.models import Service
from vigtrain.pathways.models import Enrolment, StageState


def grow_world(world: World, times: int, first: int = 0) -> None:
    """Add `times` more of each listed thing around each person (committed); `first` numbers them on
    from an earlier growth, so names and addresses stay unique."""
    people = {key: db.session.scalar(select(User).where(User.email == email)) for key, email in world.emails.items()}
    tara, sian, alma, nina, admin = (people[key] for key in ("tr", "sup", "acc", "prac", "admin"))
    home = db.session.get(Service, int(world.values["service"]))
    cohort = db.session.get(Cohort, int(world.values["cohort"]))
    enrolment = db.session.get(Enrolment, int(world.values["enrolment"]))
    case = db.session.scalar(select(Case).where(Case.code == world.values["case"]))
    nina_enrolment = db.session.scalar(select(Enrolment).where(Enrolment.trainee_id == nina.id))
    started = date(2025, 9, 15)
    consents = Consents(filming=started, supervision=started, dcs=started)
    # Nina's newest Stage 1 certificate (from an earlier growth), which the next one reissues.
    latest = db.session.scalar(
        select(Certificate)
        .where(Certificate.holder_id == nina.id, Certificate.stage_number == 1)
        .order_by(Certificate.id.desc())
        .limit(1)
    )
    for n in range(first, first + times):
        # Sian's caseload and queue, Alma's stages to accredit, Cora's cohort, Lena's service staff.
        trainee = make_user(
            f"grown.trainee{n}@example.org", roles=(Role.TRAINEE,), name=f"Grown Trainee {n}", service_id=home.id
        )
        theirs = make_enrolment(trainee, sian, start=date(2025, 9, 1), actor=admin)
        place_on_stage(theirs, "stage-1", StageState.WITH_ACCREDITOR, 5 + n, accreditor=alma)
        cohorts.add_members(admin, cohort, [theirs.id])
        make_supervision(theirs, sian, 1, date(2025, 10, 6) + timedelta(days=n), confirmed=False)
        make_supervision(theirs, sian, 1, date(2025, 10, 13) + timedelta(days=n), confirmed=True)
        make_cycles(
            trainee, 2, 1, date(2025, 10, 1), case_list=[make_case(trainee, started_on=started, consents=consents)]
        )

        # Tara's casework: another case with cycles and a measure, more on the world's case, more supervision.
        another = make_case(tara, started_on=started, consents=consents)
        make_cycles(tara, 2, 1, date(2025, 10, 1) + timedelta(days=n), case_list=[another])
        record_administration(
            tara, another, "GAD-7", Timepoint.PRE, date(2025, 9, 20), dict.fromkeys("1234567", 1 + n % 2), today()
        )
        make_cycles(tara, 1, 1, date(2025, 10, 2) + timedelta(days=n), case_list=[case])
        create_invitation(tara, another, ["GAD-7"], Timepoint.POST)
        make_supervision(enrolment, sian, 1, date(2025, 10, 20) + timedelta(days=n), confirmed=False)
        make_supervision(enrolment, sian, 1, date(2025, 11, 3) + timedelta(days=n), confirmed=True)
        for person in (tara, sian, alma, nina, admin):
            inbox.notify(
                person,
                NotificationKind.STAGE_UPDATE,
                f"grown:{person.id}:{n}",
                "grown",
                f"Grown notice {n}",
                "More of what a person is told.",
                link="/home",
            )

        # Nina's certificates and transcripts.
        # A Stage 1 certificate, then reissues of it (each supersedes the one before).
        for _ in range(1 if latest else 2):  # the first time, a certificate and its reissue
            latest = insert_certificate(
                nina, enrolment=nina_enrolment, kind=CertificateKind.STAGE, stage_number=1, replaces=latest
            )
        create_transcript(nina, nina, ISSUE_DAY)

        # The administrator's lists: services with leads, people invited (emails in the outbox), job runs.
        service = make_service(f"Grown Service {n}", region_code="E12000003")
        make_user(
            f"grown.lead{n}@example.org", roles=(Role.SERVICE_LEAD,), name=f"Grown Lead {n}", service_id=service.id
        )
        accounts.invite_user(
            admin,
            f"grown.invitee{n}@example.org",
            f"Grown Invitee {n}",
            {Role.TRAINEE},
            home,
            lambda token: f"http://localhost/invitation/{token}",
        )
        issue_token(tara)
        db.session.commit()
    if first == 0:  # every job has run today (the world's own scheduled job already has)
        db.session.add_all(ran_today(job) for job in JOBS if job.name != world.values["scheduled_job"])
    db.session.commit()
