"""A demo training population for the training-flow figures: sixty-four generated trainees on every
shipped pathway version, enrolled over the last thirty-two months, each at their own point.

The named demo trainees show each state of the sign-off chain once; the flow pages need many more
histories before their curves and medians say anything. These trainees (and eight supervisors to
supervise and accredit them, so the named supervisors' queues stay as the README describes them)
are moved through the same services the pages use, `as_of` each step's moment: enrolment,
exemption, submission, return, sign-off, the accrediting supervisor's request, the meeting and its
return, ratification, pauses and withdrawals, so every stage transition, status change, audit
event and notification is the real one, dated in the story. The work inside each stage (cases,
cycles, confirmed supervision, assessments, statement) is the training demo's, so each finished
stage's requirements are visibly met inside its window. Doing it through the services costs
about ten seconds of processor time on `flask demo` (9 s before, 18 to 22 s after, on a busy
two-core machine): well inside what a demo load may take, so no history is written behind the
services' backs and the figures read exactly what the pages would have made.

Waits are skewed the way queues are (log-normal, clipped): sign-off days to a few weeks, the
accrediting supervisor asked within days to a month, the meeting two to twelve weeks later,
ratification one to eight weeks; the work four to eight months a stage. About one trainee in
twelve withdraws and one in nine pauses (two are paused now), on every version; about one
submission in eight comes back from the supervisor and two come back from the accrediting
meeting; and two trainees had the initial course recognised. A seeded generator keeps it the
same on every load, and every step is before today.

It runs after the outcomes demo, so these trainees' cases carry no outcome data and the DCS
reports stay those of the named practitioners.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from vigtrain import audit
from vigtrain.accounts import services as accounts
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.passwords import hash_password
from vigtrain.certificates import services as certificates
from vigtrain.certificates.demo import demo_number
from vigtrain.dates import UK, as_of, today, utcnow
from vigtrain.extensions import db
from vigtrain.organisations.models import Service
from vigtrain.pathways import services as pathway_versions
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageRecord, StageState
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training import services as training
from vigtrain.training import signoff
from vigtrain.training.demo import STATEMENT, _demo_cohort, _Story, at

FIRST_NAMES = [
    "Alex", "Bethan", "Callum", "Dina", "Ewan", "Farah", "Gareth", "Hannah", "Imran", "Jess",
    "Kieran", "Leah", "Mo", "Niamh", "Owen", "Poppy", "Rhys", "Sadia", "Toby", "Una",
    "Vikram", "Wendy", "Yusuf", "Zara", "Ailsa", "Bilal", "Cerys", "Duncan", "Ellie", "Fergus",
]  # fmt: skip
SURNAMES = [
    "Morgan", "Ahmed", "Campbell", "Davies", "Fraser", "Gill", "Harris", "Iqbal", "Jones", "Kelly",
    "Lloyd", "McLeod", "Nowak", "O'Brien", "Parry", "Quinn", "Reid", "Singh", "Thomas", "Webb",
    "Young", "Baker", "Chowdhury", "Doyle", "Ellis", "Foster", "Grant", "Hall", "Irvine", "Jenkins",
]  # fmt: skip
SUPERVISOR_NAMES = [
    "Fiona Blake", "Gideon Asante", "Harriet Nolan", "Ifor Pugh",
    "Janet Moyo", "Kwame Boateng", "Morag Sinclair", "Pete Lawson",
]  # fmt: skip

# (pathway code, version, days ago each intake began, trainees in it). The early intakes are the
# larger ones, so that enough trainees have had the eighteen months to two years it takes.
INTAKES = [
    ("vig-practitioner", "2024.1", 975, 6),
    ("vig-practitioner", "2024.1", 930, 6),
    ("vig-practitioner", "2024.1", 880, 5),
    ("vig-practitioner", "2024.1", 800, 4),
    ("vig-practitioner", "2024.1", 690, 4),
    ("vig-practitioner", "2024.1", 520, 4),
    ("vig-practitioner", "2024.1", 400, 3),
    ("vig-practitioner", "2024.1", 250, 3),
    ("vig-practitioner", "2024.1", 120, 3),
    ("vig-practitioner", "2024.1", 25, 3),
    ("vig-practitioner", "2015.1", 980, 7),
    ("verp-practitioner", "2024.1", 860, 3),
    ("verp-practitioner", "2024.1", 560, 3),
    ("verp-practitioner", "2024.1", 300, 2),
    ("verp-practitioner", "2024.1", 90, 2),
    ("vig-supervisor", "2024.1", 900, 4),
    ("vig-supervisor", "2024.1", 500, 2),
]
# Intakes that ran as cohorts: (index in INTAKES, the course lead's email).
COHORT_INTAKES = [(1, "helen.price@example.org"), (5, "ruth.evans@example.org")]

# How many withdraw on each pathway, and the latest day (from enrolment) they do so: VERP's
# quickest finish in about seven months, the supervisor pathway's in about nine, the others later.
WITHDRAWN = {
    ("vig-practitioner", "2024.1"): 2,
    ("vig-practitioner", "2015.1"): 1,
    ("verp-practitioner", "2024.1"): 1,
    ("vig-supervisor", "2024.1"): 1,
}
WITHDRAWN_BY = {"vig-practitioner": 400, "verp-practitioner": 160, "vig-supervisor": 250}
# How many paused for a while and came back, on each version.
PAUSED_AND_RESUMED = {
    ("vig-practitioner", "2024.1"): 2,
    ("vig-practitioner", "2015.1"): 1,
    ("verp-practitioner", "2024.1"): 1,
    ("vig-supervisor", "2024.1"): 1,
}
PAUSED_NOW = 2
RETURNED_AFTER_MEETING = 2
EXEMPT_FROM_COURSE = 2
RETURN_CHANCE = 0.12

WITHDRAWAL_REASONS = [
    "Moved to a post with no VIG work",
    "Left the service",
    "Caseload no longer allows the time for training",
    "Long-term sickness; will re-enrol later",
    "Chose to stop training",
]
PAUSE_REASONS = ["Maternity leave", "Long-term sickness", "Secondment to another team", "Caring responsibilities"]
RETURN_COMMENTS = [
    "Nearly there: please add how you chose the clips for your last two shared reviews to your statement.",
    "Your self-assessment and my notes differ on guiding; say more about it in your statement, then resubmit.",
    "One case's cycles are missing their reflections; please add them and submit again.",
]
MEETING_RETURN = (
    "A warm, attuned guider. Before accreditation I would like one more shared review where you "
    "deepen the discussion rather than summarise it; bring its clips to our next meeting."
)
REVISED_STATEMENT = STATEMENT + (
    " Since my supervisor's comments I have looked again at how I choose clips: I now pick the "
    "moment just before the parent's initiative is received, so they see it for themselves."
)


def _wait(rng: random.Random, median: float, low: int, high: int) -> int:
    """A skewed wait in days: log-normal around `median`, clipped to [low, high]."""
    return max(low, min(high, round(rng.lognormvariate(0, 0.7) * median)))


@dataclass
class _Fate:
    """What happens to one trainee beyond the ordinary: when they stop (and how), pauses, returns."""

    stop_on: date | None = None
    stop_status: EnrolmentStatus | None = None
    stop_reason: str = ""
    pause: tuple[int, int] | None = None  # (stage position, days paused), resumed in that stage's work
    pause_reason: str = ""
    meeting_return: bool = False
    exempt: bool = False


class _Walk(_Story):
    """One generated trainee's way through their pathway, each step only if its day has come."""

    def __init__(self, admin: User, trainee: User, supervisor: User, rng: random.Random, accreditors: list[User]):
        super().__init__(admin, trainee, supervisor, rng, trainee.service.region)
        self.accreditors = [person for person in accreditors if person.id != supervisor.id]
        self.last = self.today - timedelta(days=1)

    def walk(self, enrolment: Enrolment, fate: _Fate) -> None:
        """Every step up to yesterday (or the day before the trainee stops), stage by stage."""
        limit = min(self.last, fate.stop_on - timedelta(days=1)) if fate.stop_on else self.last
        if fate.exempt:
            itc = enrolment.stages[0]
            with as_of(at(enrolment.start_date, 10, 5)):
                signoff.record_exemption(
                    self.admin,
                    itc,
                    "Completed an equivalent VIG initial course with a recognised trainer before joining.",
                    enrolment.start_date,
                    itc.version,
                )
        for record in enrolment.stages:
            if record.state is StageState.EXEMPT:
                continue
            if not self._stage(record, fate, limit):
                break
        if fate.stop_on is not None and fate.stop_on <= self.last and enrolment.status is EnrolmentStatus.ACTIVE:
            self._status(enrolment, fate.stop_status, fate.stop_reason, fate.stop_on)
        if enrolment.status is EnrolmentStatus.ACTIVE:
            self._keep_supervision_current(enrolment)

    def _stage(self, record: StageRecord, fate: _Fate, limit: date) -> bool:
        """Take one stage as far as `limit` allows; True if it finished and the next one began."""
        start = record.started_on
        course = record.definition.has_meeting is False and record.position == 0
        work = self.rng.randint(21, 35) if course else self.rng.randint(120, 240)
        paused = fate.pause if fate.pause and fate.pause[0] == record.position else None
        if paused:
            work += paused[1]
        submit_on = start + timedelta(days=work)
        if submit_on > limit:
            self._partial(record, limit, work)
            return False
        if paused:
            pause_on = start + timedelta(days=self.rng.randint(30, max(31, work - paused[1] - 20)))
            self._status(record.enrolment, EnrolmentStatus.PAUSED, fate.pause_reason, pause_on)
            self._status(record.enrolment, EnrolmentStatus.ACTIVE, None, pause_on + timedelta(days=paused[1]))
        self.do_work(record, submit_on - timedelta(days=1))
        self.submit(record, submit_on)
        day = submit_on
        if not course and self.rng.random() < RETURN_CHANCE:
            returned_on = day + timedelta(days=_wait(self.rng, 7, 2, 21))
            resubmit_on = returned_on + timedelta(days=self.rng.randint(10, 40))
            if resubmit_on > limit:
                return False
            with as_of(at(returned_on, 14, 20)):
                signoff.return_stage(self.supervisor, record, self.rng.choice(RETURN_COMMENTS), record.version)
            with as_of(at(resubmit_on - timedelta(days=1), 21, 5)):
                training.save_statement_text(self.trainee, record, REVISED_STATEMENT)
            self.submit(record, resubmit_on)
            day = resubmit_on
        signed_off = day + timedelta(days=_wait(self.rng, 3 if course else 8, 1, 42))
        if signed_off > limit:
            return False
        self.sign_off(record, None if course else "Ready for the meeting.", signed_off)
        if not record.definition.has_meeting:
            return True
        return self._meeting(record, fate, signed_off, limit)

    def _meeting(self, record: StageRecord, fate: _Fate, signed_off: date, limit: date) -> bool:
        accreditor = self.rng.choice(self.accreditors)
        asked = signed_off + timedelta(days=_wait(self.rng, 6, 1, 30))
        meeting = asked + timedelta(days=_wait(self.rng, 35, 14, 84))
        if asked > limit:
            return False
        self.ask_accreditor(self.supervisor, record, accreditor, asked)
        if meeting > limit:
            return False
        if fate.meeting_return:
            fate.meeting_return = False
            with as_of(at(meeting, 16, 0)):
                signoff.return_after_meeting(accreditor, record, meeting, MEETING_RETURN, meeting, record.version)
            held, resubmit_on = meeting, meeting + timedelta(days=self.rng.randint(20, 50))
            signed_off = resubmit_on + timedelta(days=_wait(self.rng, 5, 1, 21))
            asked = signed_off + timedelta(days=_wait(self.rng, 3, 1, 14))
            meeting = asked + timedelta(days=_wait(self.rng, 28, 14, 56))
            if resubmit_on > limit:
                return False
            self._cycle(self._case(held + timedelta(days=1)), resubmit_on - timedelta(days=3))
            self.submit(record, resubmit_on)
            if signed_off > limit:
                return False
            self.sign_off(record, "Ready for the meeting again.", signed_off)
            if asked > limit:
                return False
            self.ask_accreditor(self.supervisor, record, accreditor, asked)
            if meeting > limit:
                return False
        with as_of(at(meeting, 16, 0)):
            signoff.accredit_stage(accreditor, record, meeting, "Accredited at the meeting.", meeting, record.version)
        if not record.is_final:
            return True
        ratified = meeting + timedelta(days=_wait(self.rng, 18, 7, 56))
        if ratified > limit:
            return False
        with as_of(at(ratified, 11, 0)):
            signoff.ratify_stage(self.admin, record, ratified, record.version)
        return True

    def _partial(self, record: StageRecord, limit: date, work: int) -> None:
        """Stopped part-way through the work (today, a pause or a withdrawal): done in proportion."""
        until = min(limit, self.last - timedelta(days=self.rng.randint(1, 6)))
        if until <= record.started_on:
            return
        fraction = min(0.95, (until - record.started_on).days / work)
        self.do_work(record, until, fraction=fraction)

    def _status(self, enrolment: Enrolment, status: EnrolmentStatus, reason: str | None, on: date) -> None:
        with as_of(at(on, 10, 30)):
            training.set_enrolment_status(self.admin, enrolment, status, reason, enrolment.version)

    def _keep_supervision_current(self, enrolment: Enrolment) -> None:
        """Supervision carries on while a stage waits for someone: every three weeks or so, confirmed."""
        held = db.session.scalar(
            select(func.max(SupervisionSession.session_date)).where(
                SupervisionSession.enrolment_id == enrolment.id, SupervisionSession.status == SessionStatus.CONFIRMED
            )
        )
        until = self.last - timedelta(days=self.rng.randint(2, 12))
        if held is not None and (until - held).days < 28:
            return
        current = enrolment.current_stage or enrolment.stages[-1]  # accredited, awaiting ratification
        since = max(held or current.started_on, current.started_on)
        self._supervision(current, since, until, max(1, (until - since).days // 21))


TRAINEES = sum(count for *_, count in INTAKES)


def load_flow_demo(people: dict[str, User]) -> None:
    """Add the generated supervisors and trainees and walk each trainee to today. Flushes."""
    from vigtrain.demo import DEMO_PASSWORD, LIVE_DAYS_AGO

    rng = random.Random(20261207)  # noqa: S311 (demo figures, not security)
    admin = people["admin@example.org"]
    versions = {(v.code, v.version): v for v in pathway_versions.pathway_versions()}
    services = db.session.scalars(select(Service).order_by(Service.id)).all()
    password_hash = hash_password(DEMO_PASSWORD)
    joined = today() - timedelta(days=LIVE_DAYS_AGO)
    supervisors = [
        _user(name, services[index % len(services)], _SUPERVISOR_ROLES, password_hash, joined)
        for index, name in enumerate(SUPERVISOR_NAMES)
    ]
    accreditors = [*supervisors, people["helen.price@example.org"], people["daniel.okafor@example.org"]]
    plans = _plans(rng)
    fates = _fates(plans, rng)
    mine: list[int] = []
    cohorts: dict[int, list[User]] = {}
    for number, (intake, start) in enumerate(plans):
        code, version, _, _ = INTAKES[intake]
        service = services[number % len(services)]
        supervisor = supervisors[services.index(service) + len(services) * (number // len(services) % 2)]
        name = f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {SURNAMES[(number * 7 + number // 30) % len(SURNAMES)]}"
        roles = {Role.TRAINEE, Role.PRACTITIONER} if code == "vig-supervisor" else {Role.TRAINEE}
        trainee = _user(name, service, roles, password_hash, start)
        walk = _Walk(admin, trainee, supervisor, rng, accreditors)
        enrolment = walk.enrol(versions[(code, version)], (walk.today - start).days)
        walk.walk(enrolment, fates.get(number, _Fate()))
        mine.append(enrolment.id)
        cohorts.setdefault(intake, []).append(trainee)
    for intake, lead in COHORT_INTAKES:
        code, version, days_ago, _ = INTAKES[intake]
        _demo_cohort(people[lead], versions[(code, version)], today() - timedelta(days=days_ago), cohorts[intake])
    _issue_certificates(admin, mine)
    db.session.flush()


_SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR, Role.PRACTITIONER})


def _plans(rng: random.Random) -> list[tuple[int, date]]:
    """(intake, start date) for each trainee: a cohort's members start on its first day, the rest
    of an intake over the three weeks after it."""
    cohort_intakes = {intake for intake, _ in COHORT_INTAKES}
    plans = []
    for intake, (_, _, days_ago, count) in enumerate(INTAKES):
        first = today() - timedelta(days=days_ago)
        for _ in range(count):
            late = 0 if intake in cohort_intakes else rng.randint(0, 20)
            plans.append((intake, first + timedelta(days=late)))
    return plans


def _fates(plans: list[tuple[int, date]], rng: random.Random) -> dict[int, _Fate]:
    """Who withdraws, pauses, is sent back from the meeting or had the course recognised."""
    last = today() - timedelta(days=1)
    current = {n for n, (intake, _) in enumerate(plans) if INTAKES[intake][:2] == ("vig-practitioner", "2024.1")}
    cohort_members = {n for n, (intake, _) in enumerate(plans) if intake in {i for i, _ in COHORT_INTAKES}}
    free = set(range(len(plans)))

    def choose(count: int, among: set[int]) -> list[int]:
        chosen = rng.sample(sorted(among & free), count)
        free.difference_update(chosen)
        return chosen

    fates: dict[int, _Fate] = {}
    # Withdrawals on every pathway, within the first year or so (before anyone could have finished).
    for version, count in WITHDRAWN.items():
        among = {n for n, (intake, _) in enumerate(plans) if INTAKES[intake][:2] == version}
        for number in choose(count, {n for n in among if (last - plans[n][1]).days > 200}):
            start = plans[number][1]
            fates[number] = _Fate(
                stop_on=start + timedelta(days=rng.randint(60, WITHDRAWN_BY[version[0]])),
                stop_status=EnrolmentStatus.WITHDRAWN,
                stop_reason=rng.choice(WITHDRAWAL_REASONS),
            )
    for number in choose(PAUSED_NOW, {n for n in current if 200 < (last - plans[n][1]).days < 600}):
        fates[number] = _Fate(
            stop_on=last - timedelta(days=rng.randint(15, 70)),
            stop_status=EnrolmentStatus.PAUSED,
            stop_reason=rng.choice(PAUSE_REASONS),
        )
    for version, count in PAUSED_AND_RESUMED.items():
        among = {n for n, (intake, start) in enumerate(plans) if INTAKES[intake][:2] == version}
        for number in choose(count, {n for n in among if (last - plans[n][1]).days > 450}):
            # In the first stage with casework: the supervisor pathway has no course before it.
            position = 0 if version[0] == "vig-supervisor" else 1
            fates[number] = _Fate(pause=(position, rng.randint(30, 120)), pause_reason=rng.choice(PAUSE_REASONS))
    for number in choose(RETURNED_AFTER_MEETING, {n for n in current if (last - plans[n][1]).days > 800}):
        fates[number] = _Fate(meeting_return=True)
    for number in choose(EXEMPT_FROM_COURSE, current - cohort_members):
        fates[number] = _Fate(exempt=True)
    return fates


def _issue_certificates(admin: User, enrolment_ids: list[int]) -> None:
    """The certificates these trainees earned, each issued a week or two after it was earned; those
    earned in the last three weeks wait in the administrator's queue."""
    numbers = (demo_number(f"DEMF{index:03d}") for index in range(1, 1000))
    last = today() - timedelta(days=1)
    earned_records = db.session.scalars(
        certificates.awaiting_issue_query().where(StageRecord.enrolment_id.in_(enrolment_ids))
    ).all()
    rng = random.Random(len(earned_records))  # noqa: S311 (demo figures, not security)
    for record in earned_records:
        earned = record.ratified_at if record.is_final else record.accredited_at or record.signed_off_at
        issued_on = earned.astimezone(UK).date() + timedelta(days=rng.randint(7, 14))
        if issued_on > last - timedelta(days=7):
            continue
        with as_of(at(issued_on, 10, 30)):
            certificates.issue_certificate(admin, record, issued_on, number=next(numbers))


def _user(name: str, service: Service, roles: set[Role] | frozenset[Role], password_hash: str, joined: date) -> User:
    """A generated person, added on the day they joined (before anything else they did that day)."""
    with as_of(at(joined, 9, 0)):
        user = User(
            email=name.lower().replace(" ", ".").replace("'", "") + "@example.org",
            display_name=name,
            password_hash=password_hash,
            password_changed_at=utcnow(),
            service=service,
        )
        user.set_roles(set(roles))
        db.session.add(user)
        db.session.flush()
        audit.record(None, "user.created_for_demo", user, after=accounts.user_snapshot(user))
    return user
