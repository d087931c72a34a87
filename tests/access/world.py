"""The one world the access matrix asks about: a trainee's record and the people around it.

Everything is built around one trainee (Tara, `tr`), so that each column of the matrix is a
relationship to her records, not only a role: her personal supervisor, a supervisor of another
trainee in her service, a supervisor in another service, the accrediting supervisor asked to
accredit her stage and one who was not, her service's lead and another service's, the lead of
her cohort, another trainee, an accredited practitioner and an administrator. Owen is in another
cohort, which nobody leads, so the training-flow pages have a cohort Cora may not read.

`build_world` writes it once (the matrix test builds it once per module) and answers with the
values the table's addresses are filled with (`{case}`, `{enrolment}`, ...), the people's email
addresses, and their API tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from tests.api.conftest import issue_token
from tests.certificate_factories import ISSUE_DAY, insert_certificate
from tests.factories import (
    load_pathways,
    make_case,
    make_cycles,
    make_enrolment,
    make_service,
    make_supervision,
    make_user,
    pathway_version,
    place_on_stage,
)
from vigtrain import uploads
from vigtrain.accounts import services as accounts
from vigtrain.accounts.models import Role
from vigtrain.api_tokens.models import SCOPES, PersonalAccessToken
from vigtrain.casework.services import Consents
from vigtrain.certificates.models import BulkIssue, CertificateKind, CertificateStatus
from vigtrain.certificates.transcripts import create_transcript
from vigtrain.cohorts import services as cohorts
from vigtrain.dates import today, utcnow
from vigtrain.dcs import wording
from vigtrain.dcs.invitations import create_invitation
from vigtrain.dcs.models import Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db
from vigtrain.imports import staging
from vigtrain.imports.services import check_file
from vigtrain.jobs.models import JobRun, RunOutcome
from vigtrain.jobs.registry import BY_NAME, Job
from vigtrain.jobs.services import period_of
from vigtrain.notifications import inbox
from vigtrain.notifications.models import NotificationKind, OutboxMessage
from vigtrain.pathways.models import EnrolmentStatus, StageState

# Who each column is: email, name, roles, and service ("home" is the trainee's, "away" another).
PEOPLE: dict[str, tuple[str, str, tuple[Role, ...], str | None]] = {
    "tr": ("tara@example.org", "Tara Trainee", (Role.TRAINEE,), "home"),
    "otr": ("owen@example.org", "Owen Other", (Role.TRAINEE,), "home"),
    "sup": ("sian@example.org", "Sian Supervisor", (Role.SUPERVISOR,), "home"),
    "csup": ("carl@example.org", "Carl Colleague", (Role.SUPERVISOR,), "home"),
    "xsup": ("xena@example.org", "Xena Elsewhere", (Role.SUPERVISOR,), "away"),
    "acc": ("alma@example.org", "Alma Accreditor", (Role.ACCREDITING_SUPERVISOR,), None),
    "oacc": ("otto@example.org", "Otto Unasked", (Role.ACCREDITING_SUPERVISOR,), None),
    "prac": ("nina@example.org", "Nina Practitioner", (Role.PRACTITIONER,), "away"),
    "lead": ("lena@example.org", "Lena Lead", (Role.SERVICE_LEAD,), "home"),
    "xlead": ("xavi@example.org", "Xavi Otherlead", (Role.SERVICE_LEAD,), "away"),
    "clead": ("cora@example.org", "Cora Courselead", (Role.SUPERVISOR,), None),
    "admin": ("ada@example.org", "Ada Admin", (Role.ADMINISTRATOR,), None),
}

# Licensed wording the trainee's service holds, so the wording pages have a row to show and remove.
SWEMWBS_WORDING = {str(number): f"Licensed SWEMWBS statement number {number}" for number in range(1, 8)}
A_PDF = b"%PDF-1.4\n% a reflective statement\n%%EOF\n"


@dataclass
class World:
    """What the matrix needs to know about the world once it is written."""

    values: dict[str, str] = field(default_factory=dict)  # fills {placeholders} in the table's addresses
    emails: dict[str, str] = field(default_factory=dict)  # actor -> email
    tokens: dict[str, str] = field(default_factory=dict)  # actor -> token with every scope
    tokens_without: dict[str, str] = field(default_factory=dict)  # scope -> the trainee's token lacking it


def ran_today(job: Job) -> JobRun:
    """A run of `job` that succeeded today, for its current period (not added to the session)."""
    return JobRun(
        job=job.name,
        period=period_of(job, today()),
        outcome=RunOutcome.SUCCEEDED,
        started_at=utcnow(),
        finished_at=utcnow(),
        result=0,
        started_by="scheduler",
    )


def build_world() -> World:
    """Write the world (committed) and describe it."""
    load_pathways()
    home = make_service("Riverside Family Service", region_code="E12000003")
    away = make_service("Hillside Parenting Team", region_code="E12000007")
    services = {"home": home, "away": away, None: None}
    people = {}
    for key, (email, name, roles, where) in PEOPLE.items():
        service = services[where]
        people[key] = make_user(email, roles=roles, name=name, service_id=service.id if service else None)
    admin = people["admin"]
    tara = people["tr"]

    # Tara's record: the introductory course done, Stage 1 with Alma for accreditation.
    enrolment = make_enrolment(tara, people["sup"], start=date(2025, 9, 1), actor=admin)
    owen_enrolment = make_enrolment(people["otr"], people["csup"], start=date(2025, 9, 1), actor=admin)
    stage = enrolment.stage_record("stage-1")
    stage.statement_text = "What I learned about receiving initiatives."
    stage.statement_file_key = uploads.store_bytes(A_PDF)
    stage.statement_file_name, stage.statement_file_type = "statement.pdf", uploads.PDF
    stage.statement_file_size = len(A_PDF)
    place_on_stage(enrolment, "stage-1", StageState.WITH_ACCREDITOR, 5, accreditor=people["acc"])
    itc = enrolment.stage_record("itc")

    # Her casework: a case with DCS consent, cycles, a GAD-7 before, and a link for the client's after.
    started = date(2025, 9, 15)
    case = make_case(tara, started_on=started, consents=Consents(filming=started, supervision=started, dcs=started))
    make_cycles(tara, 2, 1, date(2025, 10, 1), case_list=[case])
    cycle = case.cycles[0]
    administration = record_administration(
        tara, case, "GAD-7", Timepoint.PRE, date(2025, 9, 20), dict.fromkeys("1234567", 2), date(2026, 3, 2)
    )
    invitation, respond_token = create_invitation(tara, case, ["GAD-7"], Timepoint.POST)

    # Her supervision: one session awaiting Sian's confirmation, one confirmed.
    logged = make_supervision(enrolment, people["sup"], 1, date(2025, 10, 6), confirmed=False)
    confirmed = make_supervision(enrolment, people["sup"], 1, date(2025, 10, 13), confirmed=True)

    # Nina's certificates: her accreditation, and a Stage 1 certificate that was revoked.
    nina = people["prac"]
    nina.set_roles({Role.TRAINEE})  # enrolled as a trainee, accredited since
    nina_enrolment = make_enrolment(nina, start=date(2024, 1, 8), actor=admin)
    nina.set_roles({Role.PRACTITIONER})
    # Ratified on the day her accreditation was issued: her record carries on as her continuing record.
    nina_enrolment.status, nina_enrolment.completed_on = EnrolmentStatus.COMPLETED, ISSUE_DAY
    for record in nina_enrolment.stages:
        record.state = StageState.RATIFIED if record.is_final else StageState.COMPLETE
    make_case(nina)
    db.session.commit()
    certificate = insert_certificate(nina, enrolment=nina_enrolment)
    revoked = insert_certificate(
        nina,
        enrolment=nina_enrolment,
        kind=CertificateKind.STAGE,
        stage_number=2,
        status=CertificateStatus.REVOKED,
        reason="Issued in error",
    )

    # Nina's training transcript.
    transcript = create_transcript(nina, nina, ISSUE_DAY)
    db.session.commit()

    # Tara's cohort, led by Cora; the wording Tara's service holds; a finished bulk issue.
    cohort = cohorts.create_cohort(
        admin,
        cohorts.CohortDetails(
            name="Autumn 2025 intake",
            pathway_version=pathway_version(),
            region=None,
            starts_on=date(2025, 9, 1),
            ends_on=None,
            lead=people["clead"],
        ),
    )
    cohorts.add_members(admin, cohort, [enrolment.id])
    # Another cohort, with Owen in it and no lead: Cora reads her own cohort's training flow, not this one.
    other_cohort = cohorts.create_cohort(
        admin,
        cohorts.CohortDetails(
            name="Spring 2026 intake",
            pathway_version=pathway_version(),
            region=None,
            starts_on=date(2026, 1, 5),
            ends_on=None,
            lead=None,
        ),
    )
    cohorts.add_members(admin, other_cohort, [owen_enrolment.id])
    licensed = wording.add_wording(admin, home, "SWEMWBS", SWEMWBS_WORDING, None, "Licence WMS-1234")
    job = BulkIssue(created_by_id=admin.id, total=0)
    db.session.add(job)
    db.session.commit()
    # A staged import whose only person is already present: confirming it adds nobody.
    staged = f"name,email,roles\nTara,{tara.email},trainee\n".encode()
    plan = check_file(staged, "intake.csv", today())
    import_key = staging.stage(staged, {"actor_id": admin.id, "file_name": "intake.csv", "plan": plan.as_record()})

    # One-time links: an invitation to someone new, and a password reset for Tara.
    links: list[str] = []

    def accept_url(token: str) -> str:
        links.append(token)
        return f"http://localhost/invitation/{token}"

    accounts.invite_user(admin, "newcomer@example.org", "New Comer", {Role.TRAINEE}, home, accept_url)
    reset_token = accounts.make_token(tara, accounts.PASSWORD_RESET)
    db.session.commit()

    # A notification of Tara's, unread: hers to open and mark read, nobody else's.
    notification = inbox.notify(
        tara,
        NotificationKind.STAGE_UPDATE,
        f"stage:{stage.id}",
        "accreditor-asked",
        "Alma Accreditor has been asked to accredit your Stage 1",
        "Your accreditation meeting will be arranged with Alma Accreditor.",
        link=f"/enrolments/{enrolment.id}/stages/stage-1",
    )
    # A job that has run today, so that "run now" finds its period taken and changes nothing: a run
    # that acts is three transactions (claim, work, record), which a dry run cannot hold back.
    scheduled = BY_NAME["expire-certificates"]
    db.session.add(ran_today(scheduled))
    db.session.commit()

    world = World(emails={key: person.email for key, person in people.items()})
    world.tokens = {key: issue_token(person) for key, person in people.items()}
    tara_token = db.session.scalar(
        select(PersonalAccessToken).where(PersonalAccessToken.user_id == tara.id).order_by(PersonalAccessToken.id)
    )
    world.tokens_without = {scope: issue_token(tara, *(s for s in SCOPES if s != scope)) for scope in SCOPES}
    message = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))

    world.values = {
        "enrolment": enrolment.id,
        "stage": "stage-1",
        "record": stage.id,
        "earned": itc.id,
        "case": case.code,
        "cycle": cycle.id,
        "administration": administration.id,
        "invitation": invitation.id,
        "respond_token": respond_token,
        "session": logged.id,
        "confirmed_session": confirmed.id,
        "certificate": certificate.number,
        "revoked_certificate": revoked.number,
        "transcript": transcript.number,
        "trainee": tara.id,
        "supervisor": people["sup"].id,
        "service": home.id,
        "lead": people["lead"].id,
        "region": home.region_id,
        "cohort": cohort.id,
        "other_cohort": other_cohort.id,
        "other_service": away.id,
        "token": tara_token.id,
        "job": job.id,
        "import": import_key,
        "message": message,
        "notification": notification.id,
        "scheduled_job": scheduled.name,
        "wording": licensed.id,
        "invite_token": links[0],
        "reset_token": reset_token,
        "pathway": "vig-practitioner",
        "version": "2024.1",
        "pathway_version": pathway_version().id,
    }
    world.values = {key: str(value) for key, value in world.values.items()}
    return world
