"""Demo training histories: every stage state appears, on every shipped pathway.

Built through the same services the pages use, on dates counted back from today so the demo
always looks current; a seeded random generator keeps the figures the same on every load. Each
step runs `as_of` its moment in the story, so every stamp it makes (stage history, sign-off
chain, audit trail, notifications) says when it happened: each trainee's dates run in order from
enrolment through their work, submission, sign-off, the accrediting supervisor's request and
meeting, to ratification, over a pathway of about eighteen months, and all before today.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from vigtrain.accounts.models import User
from vigtrain.casework import services as casework
from vigtrain.casework.models import AgeBand, Population, Relationship
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import UK, as_of, today
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


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment on `day`, UK time: when a demo step happened in its story."""
    return datetime.combine(day, time(hour, minute), UK)


class _Story:
    """Moves one trainee through a pathway on dates counted back from today, each step at its moment."""

    def __init__(self, admin: User, trainee: User, supervisor: User, rng: random.Random, region: Region) -> None:
        self.admin, self.trainee, self.supervisor, self.rng, self.region = admin, trainee, supervisor, rng, region
        self.today = today()

    def enrol(self, version: PathwayVersion, days_ago: int) -> Enrolment:
        start = self.days_ago(days_ago)
        with as_of(at(start, 9, 30)):
            return training.enrol(self.admin, self.trainee, version, self.supervisor, None, start, start)

    def _dates(self, start: date, end: date, count: int) -> list[date]:
        span = max(1, (end - start).days - 1)
        return sorted(start + timedelta(days=1 + self.rng.randrange(span)) for _ in range(count))

    def do_work(self, record: StageRecord, until: date, fraction: float = 1.0, supervision: bool = True) -> None:
        """Cycles, clients, confirmed supervision, assessments and a statement inside the stage window,
        each on its day; the attendance, assessments and statement come at the end, by `until`."""
        stage = record.definition
        start = record.started_on
        assessed, written = max(start, until - timedelta(days=3)), max(start, until - timedelta(days=1))
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
                with as_of(at(until, 16, 10)):
                    signoff.confirm_attendance(self.supervisor, record, int(target), record.version)
            elif requirement.kind is RequirementKind.SELF_ASSESSMENT and fraction >= 0.5:
                with as_of(at(assessed, 20, 15)):
                    self._assess(record, AssessmentKind.SELF, self.trainee)
            elif requirement.kind is RequirementKind.SUPERVISOR_ASSESSMENT and fraction >= 1:
                with as_of(at(until, 12, 40)):
                    self._assess(record, AssessmentKind.SUPERVISOR, self.supervisor)
            elif requirement.kind is RequirementKind.REFLECTIVE_STATEMENT and fraction >= 1:
                with as_of(at(written, 21, 5)):
                    training.save_statement_text(self.trainee, record, STATEMENT)

    def _case(self, start: date):
        # Consent is taken at the first session; about one client in eight declines the DCS.
        dcs = start if self.rng.random() > 0.125 else None
        with as_of(at(start, 17, 30)):
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
        with as_of(at(shared_review_on, 17, 45)):
            casework.add_cycle(
                self.trainee,
                case,
                # Filmed a few days before the review, but never before the case began.
                max(case.started_on, shared_review_on - timedelta(days=self.rng.choice([3, 5, 7, 10]))),
                shared_review_on,
                self.rng.randint(2, 5),
                self.rng.sample(codes, self.rng.randint(1, 3)),
                self.rng.choice(CYCLE_NOTES),
                shared_review_on,
            )

    def _supervision(self, record: StageRecord, start: date, until: date, amount: float, per_session: int = 0) -> None:
        """Sessions spread evenly over the window, the last on `until`, each logged that evening and
        confirmed within days (by `until`, which is before the stage moves on)."""
        minutes_left = int(amount * 60) if not per_session else int(amount) * per_session
        lengths = []
        while minutes_left > 0:
            lengths.append(min(minutes_left, per_session or self.rng.choice([60, 60, 90])))
            minutes_left -= lengths[-1]
        step = max(1, (until - start).days - 1) / max(1, len(lengths))
        days = [until - timedelta(days=int(step * index)) for index in reversed(range(len(lengths)))]
        for day, minutes in zip(days, lengths, strict=True):
            logged = at(day, 18, 30)
            confirmed = min(logged + timedelta(days=self.rng.randint(1, 4)), at(until, 21, 0))
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
                    confirmed_at=max(confirmed, logged + timedelta(hours=2)),
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
        """The course ends, the trainee submits two days later, the supervisor signs off on `on`."""
        self.do_work(record, on - timedelta(days=2))
        self.submit(record, on - timedelta(days=2))
        self.sign_off(record, None, on)

    def accredit(self, record: StageRecord, accreditor: User, meeting: date) -> None:
        """Work done a month before the transition meeting, then submitted, signed off, the accrediting
        supervisor asked, and the stage accredited at the meeting (the next stage starts that day)."""
        self.do_work(record, meeting - timedelta(days=30))
        self.submit(record, meeting - timedelta(days=28))
        self.sign_off(record, "Ready for the transition meeting.", meeting - timedelta(days=24))
        self.ask_accreditor(self.admin, record, accreditor, meeting - timedelta(days=21))
        with as_of(at(meeting, 16, 0)):
            signoff.accredit_stage(
                accreditor, record, meeting, "A thoughtful, attuned guider. Accredited.", meeting, record.version
            )

    def submit(self, record: StageRecord, on: date) -> None:
        with as_of(at(on, 20, 10)):
            signoff.submit_stage(self.trainee, record, record.version)

    def sign_off(self, record: StageRecord, comments: str | None, on: date) -> None:
        with as_of(at(on, 11, 15)):
            signoff.sign_off_stage(self.supervisor, record, comments, on, record.version)

    def ask_accreditor(self, actor: User, record: StageRecord, accreditor: User, on: date) -> None:
        with as_of(at(on, 9, 45)):
            signoff.request_accreditor(actor, record, accreditor, record.version)

    def days_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)


def load_training_demo(people: dict[str, User]) -> None:
    """Enrol the demo trainees and move each to a different point in the chain. Flushes.

    Days are counted back from today: a stage takes about six months after a month's course, and
    the latest steps are days or weeks ago, so the queues read as they would in use.
    """
    pathway_versions.sync_pathways()
    versions = {(v.code, v.version): v for v in pathway_versions.pathway_versions()}
    current = versions[("vig-practitioner", "2024.1")]
    admin = people["admin@example.org"]
    helen, daniel, ruth = (people[f"{n}@example.org"] for n in ("helen.price", "daniel.okafor", "ruth.evans"))
    rng = random.Random(20260301)  # noqa: S311 (demo figures, not security)

    def story(email: str, supervisor: User) -> _Story:
        trainee = people[email]
        return _Story(admin, trainee, supervisor, rng, trainee.service.region)

    # Sam and Aisha started together on the Initial Training Course nine months ago (the demo's cohort).
    intake = 274

    # Sam: Stage 1 in progress, most of the way there, supervision up to date.
    sam = story("sam.patel@example.org", helen)
    enrolment = sam.enrol(current, intake)
    sam.complete_itc(enrolment.stages[0], sam.days_ago(246))
    sam.do_work(enrolment.stages[1], sam.days_ago(3), fraction=0.75, supervision=False)
    demo_supervision(enrolment, helen, enrolment.stages[1].started_on, sam.today, rng)

    # Aisha: Stage 1 returned with comments six weeks ago; she has not been to supervision since, so
    # hers is the one enrolment whose supervision has lapsed.
    aisha = story("aisha.rahman@example.org", helen)
    enrolment = aisha.enrol(current, intake)
    aisha.complete_itc(enrolment.stages[0], aisha.days_ago(244))
    stage1 = enrolment.stages[1]
    aisha.do_work(stage1, aisha.days_ago(50))
    aisha.submit(stage1, aisha.days_ago(47))
    with as_of(at(aisha.days_ago(41), 14, 20)):
        signoff.return_stage(
            helen,
            stage1,
            "Your cycles and supervision are all there. Please say more in your reflective statement about "
            "how you chose clips for the second shared review, then submit again.",
            stage1.version,
        )

    # Jo: Stage 2 submitted to the supervisor last week.
    jo = story("jo.williams@example.org", daniel)
    enrolment = jo.enrol(current, 395)
    jo.complete_itc(enrolment.stages[0], jo.days_ago(365))
    jo.accredit(enrolment.stages[1], helen, jo.days_ago(190))
    stage2 = enrolment.stages[2]
    jo.do_work(stage2, jo.days_ago(9))
    jo.submit(stage2, jo.days_ago(6))

    # Ben: ITC recognised as prior learning; Stage 2 signed off, waiting for an accrediting supervisor.
    ben = story("ben.carter@example.org", daniel)
    enrolment = ben.enrol(current, 426)
    itc = enrolment.stages[0]
    with as_of(at(ben.days_ago(426), 10, 5)):
        signoff.record_exemption(
            admin,
            itc,
            "Completed an equivalent VIG initial course (SPIN Nederland) in 2023.",
            ben.days_ago(426),
            itc.version,
        )
    ben.accredit(enrolment.stages[1], helen, ben.days_ago(240))
    stage2 = enrolment.stages[2]
    ben.do_work(stage2, ben.days_ago(22))
    ben.submit(stage2, ben.days_ago(19))
    ben.sign_off(stage2, "Ready for transition.", ben.days_ago(16))

    # Priya: Stage 3 with the accrediting supervisor.
    priya = story("priya.shah@example.org", ruth)
    enrolment = priya.enrol(current, 578)
    priya.complete_itc(enrolment.stages[0], priya.days_ago(548))
    priya.accredit(enrolment.stages[1], helen, priya.days_ago(365))
    priya.accredit(enrolment.stages[2], daniel, priya.days_ago(185))
    stage3 = enrolment.stages[3]
    priya.do_work(stage3, priya.days_ago(28))
    priya.submit(stage3, priya.days_ago(25))
    priya.sign_off(stage3, "Ready for accreditation.", priya.days_ago(20))
    priya.ask_accreditor(ruth, stage3, helen, priya.days_ago(17))

    # Chloe: final stage accredited a month ago, waiting for AVIGuk to ratify.
    chloe = story("chloe.evans@example.org", ruth)
    enrolment = chloe.enrol(current, 608)
    chloe.complete_itc(enrolment.stages[0], chloe.days_ago(578))
    chloe.accredit(enrolment.stages[1], helen, chloe.days_ago(395))
    chloe.accredit(enrolment.stages[2], daniel, chloe.days_ago(212))
    chloe.accredit(enrolment.stages[3], daniel, chloe.days_ago(32))
    demo_supervision(enrolment, ruth, chloe.days_ago(31), chloe.today, rng)  # she carries on meanwhile

    # Dev: accredited and ratified on the older pathway version.
    dev = story("dev.malhotra@example.org", helen)
    enrolment = dev.enrol(versions[("vig-practitioner", "2015.1")], 912)
    dev.complete_itc(enrolment.stages[0], dev.days_ago(880))
    dev.accredit(enrolment.stages[1], daniel, dev.days_ago(600))
    dev.accredit(enrolment.stages[2], daniel, dev.days_ago(330))
    with as_of(at(dev.days_ago(320), 11, 0)):
        signoff.ratify_stage(admin, enrolment.stages[2], dev.days_ago(320), enrolment.stages[2].version)

    # Erin: VERP, paused after the initial training.
    erin = story("erin.walsh@example.org", ruth)
    enrolment = erin.enrol(versions[("verp-practitioner", "2024.1")], 152)
    erin.complete_itc(enrolment.stages[0], erin.days_ago(130))
    erin.do_work(enrolment.stages[1], erin.days_ago(60), fraction=0.3)
    with as_of(at(erin.days_ago(55), 10, 30)):
        training.set_enrolment_status(admin, enrolment, EnrolmentStatus.PAUSED, "Maternity leave", enrolment.version)

    # Tom: an accredited practitioner training as a supervisor (provisional pathway).
    tom = story("tom.hughes@example.org", helen)
    enrolment = tom.enrol(versions[("vig-supervisor", "2024.1")], 122)
    tom.do_work(enrolment.stages[0], tom.days_ago(5), fraction=0.5, supervision=False)
    demo_supervision(enrolment, helen, enrolment.start_date, tom.today, rng)
    db.session.flush()
    _demo_cohort(
        daniel, current, sam.days_ago(intake), [people[f"{name}@example.org"] for name in ("sam.patel", "aisha.rahman")]
    )
    helen.trainee_capacity = 5
    db.session.flush()


def _demo_cohort(lead: User, version: PathwayVersion, starts_on: date, trainees: list[User]) -> None:
    """One intake of demo trainees, who enrolled on its first day, with its course lead; set up
    a few weeks before it began, and its course ran for three weeks."""
    region = trainees[0].service.region if trainees[0].service else None
    with as_of(at(starts_on - timedelta(days=45), 10, 0)):
        cohort = Cohort(
            name=f"ITC {region.name if region else 'England'} {starts_on.year}",
            pathway_version=version,
            region=region,
            starts_on=starts_on,
            ends_on=starts_on + timedelta(days=20),
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
