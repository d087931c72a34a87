"""Demo training histories: every stage state appears, on every shipped pathway.

Built through the same services the pages use, on dates counted back from today so the demo
always looks current; a seeded random generator keeps the figures the same on every load.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from vigtrain.accounts.models import User
from vigtrain.casework import services as casework
from vigtrain.casework.models import AgeBand, Population, Relationship
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.organisations.models import Region
from vigtrain.pathways import services as pathway_versions
from vigtrain.pathways.definitions import RequirementKind, principles
from vigtrain.pathways.models import (
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    PathwayVersion,
    StageRecord,
    StageState,
)
from vigtrain.supervision.demo import demo_supervision
from vigtrain.supervision.models import SessionFormat, SessionMode, SessionStatus, SupervisionSession
from vigtrain.training import services as training
from vigtrain.training import signoff

CYCLE_NOTES = [
    "Parent noticed how often the child looked back to check in with them.",
    "Clips showed lovely turn-taking during shared book reading.",
    "Focus on waiting and receiving initiatives; parent surprised by their own warmth.",
    "Helping question: how can we enjoy tidy-up time together?",
    "Parent named the child's feelings in the clip for the first time.",
    "Teacher saw the pupil's initiatives she had missed in class.",
    None,
]
STATEMENT = (
    "Looking back over this stage, I have learned to slow down and let the film do the work. "
    "In my early shared reviews I talked too much; my supervisor helped me to notice how much more "
    "the parents said when I waited and received their initiatives. I now choose clips that show "
    "the moments just before attunement, and I am more confident in deepening the discussion "
    "without rushing to give advice. Next I want to build on guiding, so that clients find their "
    "own words for what they see."
)


class _Story:
    """Moves one trainee through a pathway on dates counted back from today."""

    def __init__(self, admin: User, trainee: User, supervisor: User, rng: random.Random, region: Region) -> None:
        self.admin, self.trainee, self.supervisor, self.rng, self.region = admin, trainee, supervisor, rng, region
        self.today = today()

    def enrol(self, version: PathwayVersion, months_ago: float) -> Enrolment:
        start = self.today - timedelta(days=int(months_ago * 30.4))
        return training.enrol(self.admin, self.trainee, version, self.supervisor, None, start, self.today)

    def _dates(self, start: date, end: date, count: int) -> list[date]:
        span = max(1, (end - start).days - 1)
        return sorted(start + timedelta(days=1 + self.rng.randrange(span)) for _ in range(count))

    def do_work(self, record: StageRecord, until: date, fraction: float = 1.0, supervision: bool = True) -> None:
        """Cycles, clients, confirmed supervision, assessments and a statement inside the stage window."""
        stage = record.definition
        start = record.started_on
        for requirement in stage.active_requirements:
            target = requirement.target or 0
            needed = round(target * fraction) if requirement.counted else 0
            if requirement.kind is RequirementKind.CYCLES:
                clients = next(
                    (int(r.target) for r in stage.active_requirements if r.kind is RequirementKind.NEW_CLIENTS), 1
                )
                stage_clients = max(1, min(clients, needed))
                cases = [self._case(start) for _ in range(stage_clients)]
                for index, day in enumerate(self._dates(start, until, needed)):
                    self._cycle(cases[index % len(cases)], day)
            elif requirement.kind is RequirementKind.SUPERVISION_HOURS and supervision:
                self._supervision(record, start, until, target * fraction)
            elif requirement.kind is RequirementKind.SUPERVISION_SESSIONS and supervision:
                self._supervision(record, start, until, needed, per_session=60)
            elif requirement.kind is RequirementKind.COURSE_ATTENDANCE and fraction >= 1:
                signoff.confirm_attendance(self.supervisor, record, int(target), record.version)
            elif requirement.kind is RequirementKind.SELF_ASSESSMENT and fraction >= 0.5:
                self._assess(record, AssessmentKind.SELF, self.trainee)
            elif requirement.kind is RequirementKind.SUPERVISOR_ASSESSMENT and fraction >= 1:
                self._assess(record, AssessmentKind.SUPERVISOR, self.supervisor)
            elif requirement.kind is RequirementKind.REFLECTIVE_STATEMENT and fraction >= 1:
                training.save_statement_text(self.trainee, record, STATEMENT)

    def _case(self, start: date):
        # Consent is taken at the first session; about one client in eight declines the DCS.
        dcs = start if self.rng.random() > 0.125 else None
        return casework.create_case(
            self.trainee,
            self.rng.choice(list(Relationship)[:5]),
            self.rng.choice(list(AgeBand)[:5]),
            self.rng.choice(list(Population)[:8]),
            self.region,
            start,
            casework.Consents(filming=start, supervision=start, dcs=dcs),
        )

    def _cycle(self, case, shared_review_on: date) -> None:
        codes = principles().codes
        casework.add_cycle(
            self.trainee,
            case,
            # Filmed a few days before the review, but never before the case began.
            max(case.started_on, shared_review_on - timedelta(days=self.rng.choice([3, 5, 7, 10]))),
            shared_review_on,
            self.rng.randint(2, 5),
            self.rng.sample(codes, self.rng.randint(1, 3)),
            self.rng.choice(CYCLE_NOTES),
            self.today,
        )

    def _supervision(self, record: StageRecord, start: date, until: date, amount: float, per_session: int = 0) -> None:
        minutes_left = int(amount * 60) if not per_session else int(amount) * per_session
        days = self._dates(start, until, max(1, -(-minutes_left // 60)))
        for day in days:
            if minutes_left <= 0:
                break
            minutes = min(minutes_left, per_session or self.rng.choice([60, 60, 90]))
            minutes_left -= minutes
            logged = datetime.combine(day, time(17, 0), tzinfo=UTC)
            db.session.add(
                SupervisionSession(
                    enrolment=record.enrolment,
                    supervisor=self.supervisor,
                    session_date=day,
                    start_time=time(self.rng.choice([9, 10, 13, 15]), 0),
                    duration_minutes=max(minutes, 15),
                    format=SessionFormat.INDIVIDUAL,
                    mode=self.rng.choice([SessionMode.IN_PERSON, SessionMode.REMOTE]),
                    clips_reviewed=self.rng.randint(2, 6),
                    principles=self.rng.sample(principles().codes, 2),
                    status=SessionStatus.CONFIRMED,
                    logged_by_id=self.trainee.id,
                    logged_at=logged,
                    confirmed_at=logged + timedelta(days=self.rng.randint(1, 6)),
                )
            )
        db.session.flush()

    def _assess(self, record: StageRecord, kind: AssessmentKind, assessor: User) -> None:
        base = 2 + record.position * 0.7
        ratings = {
            code: (max(1, min(5, round(base + self.rng.choice([-0.5, 0, 0.4])))), None) for code in principles().codes
        }
        training.save_assessment(assessor, record, kind, ratings)

    def complete_itc(self, record: StageRecord, on: date) -> None:
        self.do_work(record, on)
        signoff.submit_stage(self.trainee, record, record.version)
        signoff.sign_off_stage(self.supervisor, record, None, on, record.version)

    def accredit(self, record: StageRecord, accreditor: User, meeting: date) -> None:
        self.do_work(record, meeting - timedelta(days=14))
        signoff.submit_stage(self.trainee, record, record.version)
        signoff.sign_off_stage(self.supervisor, record, "Ready for the transition meeting.", meeting, record.version)
        signoff.request_accreditor(self.admin, record, accreditor, record.version)
        signoff.accredit_stage(
            accreditor, record, meeting, "A thoughtful, attuned guider. Accredited.", self.today, record.version
        )

    def days_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)


def load_training_demo(people: dict[str, User]) -> None:
    """Enrol the demo trainees and move each to a different point in the chain. Flushes."""
    pathway_versions.sync_pathways()
    versions = {(v.code, v.version): v for v in pathway_versions.pathway_versions()}
    current = versions[("vig-practitioner", "2024.1")]
    admin = people["admin@example.org"]
    helen, daniel, ruth = (people[f"{n}@example.org"] for n in ("helen.price", "daniel.okafor", "ruth.evans"))
    rng = random.Random(20260301)  # noqa: S311 (demo figures, not security)

    def story(email: str, supervisor: User) -> _Story:
        trainee = people[email]
        return _Story(admin, trainee, supervisor, rng, trainee.service.region)

    # Sam: Stage 1 in progress, part-way there.
    sam = story("sam.patel@example.org", helen)
    enrolment = sam.enrol(current, 8)
    sam.complete_itc(enrolment.stages[0], sam.days_ago(200))
    sam.do_work(enrolment.stages[1], sam.days_ago(3), fraction=0.6, supervision=False)
    demo_supervision(enrolment, helen, enrolment.stages[1].started_on, sam.today, rng)

    # Aisha: Stage 1 returned with comments.
    aisha = story("aisha.rahman@example.org", helen)
    enrolment = aisha.enrol(current, 9)
    aisha.complete_itc(enrolment.stages[0], aisha.days_ago(240))
    stage1 = enrolment.stages[1]
    aisha.do_work(stage1, aisha.days_ago(20))
    signoff.submit_stage(aisha.trainee, stage1, stage1.version)
    signoff.return_stage(
        helen,
        stage1,
        "Your cycles and supervision are all there. Please say more in your reflective statement about "
        "how you chose clips for the second shared review, then submit again.",
        stage1.version,
    )

    # Jo: Stage 2 submitted to the supervisor.
    jo = story("jo.williams@example.org", daniel)
    enrolment = jo.enrol(current, 13)
    jo.complete_itc(enrolment.stages[0], jo.days_ago(370))
    jo.accredit(enrolment.stages[1], helen, jo.days_ago(190))
    stage2 = enrolment.stages[2]
    jo.do_work(stage2, jo.days_ago(8))
    signoff.submit_stage(jo.trainee, stage2, stage2.version)

    # Ben: ITC recognised as prior learning; Stage 2 signed off, waiting for an accrediting supervisor.
    ben = story("ben.carter@example.org", daniel)
    enrolment = ben.enrol(current, 14)
    itc = enrolment.stages[0]
    signoff.record_exemption(
        admin,
        itc,
        "Completed an equivalent VIG initial course (SPIN Nederland) in 2023.",
        ben.days_ago(420),
        itc.version,
    )
    ben.accredit(enrolment.stages[1], helen, ben.days_ago(220))
    stage2 = enrolment.stages[2]
    ben.do_work(stage2, ben.days_ago(15))
    signoff.submit_stage(ben.trainee, stage2, stage2.version)
    signoff.sign_off_stage(daniel, stage2, "Ready for transition.", ben.today, stage2.version)

    # Priya: Stage 3 with the accrediting supervisor.
    priya = story("priya.shah@example.org", ruth)
    enrolment = priya.enrol(current, 19)
    priya.complete_itc(enrolment.stages[0], priya.days_ago(550))
    priya.accredit(enrolment.stages[1], helen, priya.days_ago(370))
    priya.accredit(enrolment.stages[2], daniel, priya.days_ago(190))
    stage3 = enrolment.stages[3]
    priya.do_work(stage3, priya.days_ago(12))
    signoff.submit_stage(priya.trainee, stage3, stage3.version)
    signoff.sign_off_stage(ruth, stage3, "Ready for accreditation.", priya.today, stage3.version)
    signoff.request_accreditor(ruth, stage3, helen, stage3.version)

    # Chloe: final stage accredited, waiting for AVIGuk to ratify.
    chloe = story("chloe.evans@example.org", ruth)
    enrolment = chloe.enrol(current, 20)
    chloe.complete_itc(enrolment.stages[0], chloe.days_ago(580))
    chloe.accredit(enrolment.stages[1], helen, chloe.days_ago(400))
    chloe.accredit(enrolment.stages[2], daniel, chloe.days_ago(220))
    chloe.accredit(enrolment.stages[3], daniel, chloe.days_ago(10))

    # Dev: accredited and ratified on the older pathway version.
    dev = story("dev.malhotra@example.org", helen)
    enrolment = dev.enrol(versions[("vig-practitioner", "2015.1")], 30)
    dev.complete_itc(enrolment.stages[0], dev.days_ago(880))
    dev.accredit(enrolment.stages[1], daniel, dev.days_ago(600))
    dev.accredit(enrolment.stages[2], daniel, dev.days_ago(330))
    signoff.ratify_stage(admin, enrolment.stages[2], dev.days_ago(320), enrolment.stages[2].version)

    # Erin: VERP, paused after the initial training.
    erin = story("erin.walsh@example.org", ruth)
    enrolment = erin.enrol(versions[("verp-practitioner", "2024.1")], 5)
    erin.complete_itc(enrolment.stages[0], erin.days_ago(130))
    erin.do_work(enrolment.stages[1], erin.days_ago(60), fraction=0.3)
    training.set_enrolment_status(admin, enrolment, EnrolmentStatus.PAUSED, "Maternity leave", enrolment.version)

    # Tom: an accredited practitioner training as a supervisor (provisional pathway).
    tom = story("tom.hughes@example.org", helen)
    enrolment = tom.enrol(versions[("vig-supervisor", "2024.1")], 4)
    tom.do_work(enrolment.stages[0], tom.days_ago(5), fraction=0.5, supervision=False)
    demo_supervision(enrolment, helen, enrolment.start_date, tom.today, rng)
    db.session.flush()
    _date_the_records()
    _demo_cohort(
        daniel, current, [people[f"{name}@example.org"] for name in ("sam.patel", "aisha.rahman", "jo.williams")]
    )
    helen.trainee_capacity = 5
    db.session.flush()


def _date_the_records() -> None:
    """The stories above move stages today; give each record the dates its story tells, so the
    records list's "waiting longer than" and "most recent activity" read as they would in use."""
    now = datetime.now(UTC)
    for enrolment in db.session.scalars(select(Enrolment).order_by(Enrolment.id)):
        for record in enrolment.stages:
            on = record.ended_on or record.started_on or enrolment.start_date
            record.state_since = datetime.combine(on, time(12, 0), tzinfo=UTC)
            if record.is_current and record.state in WAITING:
                # Deterministic and varied: from a few days to a few weeks in the state.
                record.state_since = now - timedelta(days=3 + (enrolment.id * 11) % 25)
        enrolment.last_activity_at = max(record.state_since for record in enrolment.stages)


WAITING = {StageState.SUBMITTED, StageState.SIGNED_OFF, StageState.WITH_ACCREDITOR, StageState.ACCREDITED}


def _demo_cohort(lead: User, version: PathwayVersion, trainees: list[User]) -> None:
    """One intake of three demo trainees, with its course lead."""
    cohort = Cohort(
        name="ITC North West 2025",
        pathway_version=version,
        region=trainees[0].service.region if trainees[0].service else None,
        starts_on=today() - timedelta(days=400),
        ends_on=today() - timedelta(days=380),
        lead=lead,
    )
    db.session.add(cohort)
    db.session.flush()
    for enrolment in db.session.scalars(
        select(Enrolment).where(
            Enrolment.trainee_id.in_([trainee.id for trainee in trainees]), Enrolment.pathway_version_id == version.id
        )
    ):
        enrolment.cohort_id = cohort.id
