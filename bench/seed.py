"""Build a SQLite database at a multiple of AVIGuk's size, fast, for `make bench`.

Scale 1 is roughly AVIGuk today (2,000 practitioners and trainees, 20,000 cases, ~60,000 cycles,
50,000 supervision sessions, ~80,000 outcome measure administrations); scale 10 is the DESIGN.md §5
target. Measures are scored by the real scoring engine and each case's outcome classified by the real
`classify`, so the DCS reports read data shaped like the live system's. The schema comes from the
migrations; the bulk rows go in with SQLAlchemy Core executemany (not the ORM or the services,
which would take hours at this size), with explicit ids so rows can refer to each other.

A small "known" cast is inserted first and is IDENTICAL at every scale, so its pages can be
compared between 1x and 10x: a trainee with realistic casework, their supervisor (ten trainees),
an accrediting supervisor with three stages waiting, and an administrator.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import flask_migrate
from sqlalchemy import select

from vigtrain import codes, create_app
from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.accounts.passwords import hash_password
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import AgeBand, Case, CaseStatus, Cycle, EndReason, Population, Relationship
from vigtrain.dcs.measures import get_measure
from vigtrain.dcs.models import Administration, CaseOutcome, Timepoint
from vigtrain.dcs.outcomes import classify
from vigtrain.dcs.scoring import score
from vigtrain.extensions import db
from vigtrain.notifications.models import EmailState, Notification, NotificationKind
from vigtrain.organisations.models import Region, Service, ServiceKind
from vigtrain.organisations.services import ensure_regions
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, PathwayVersion, StageRecord, StageState
from vigtrain.pathways.services import sync_pathways
from vigtrain.supervision.models import (
    SessionFormat,
    SessionMode,
    SessionStatus,
    SupervisionReview,
    SupervisionSession,
)

SEED_VERSION = 4
PASSWORD = "bench-attuned-guidance-2026"  # noqa: S105 (a throwaway bench password)
BATCH = 20_000

ADMIN = "admin@bench.example"
ACCREDITOR = "accreditor@bench.example"
SUPERVISOR = "supervisor@bench.example"
TRAINEE = "trainee@bench.example"
KNOWN_TRAINEES = 10  # the supervisor's caseload; the first is TRAINEE
KNOWN_CYCLES = [4, 4, 4, 3, 3, 3, 3, 3]  # 8 cases, 27 cycles
KNOWN_CONFIRMED = 25
KNOWN_LOGGED = 1  # one session each waiting in the supervisor's queue
KNOWN_NOTIFICATIONS, KNOWN_UNREAD = 60, 8  # the supervisor's notifications: a page and a half

PER_SCALE = {"people": 2_000, "cases": 20_000, "sessions": 50_000, "services": 50}
PRINCIPLES = ["attentive", "encouraging", "receiving", "attuned", "guiding", "deepening"]
# Outcome measures per case: PHQ-9 and GAD-7 before and (once the work has ended) after; some WEMWBS too.
MEASURES = [("PHQ-9", 1.0), ("GAD-7", 1.0), ("WEMWBS", 0.3)]
DCS_CONSENT = 0.85
POST_RECORDED = 0.9  # of cases that ended, the share with a post measure
ENDED_EARLY = 0.06
MEASURED_UP_TO = date(2025, 10, 31)  # work ending after this is still open


def seed_key() -> str:
    """Changes when the seed or the schema (the migration files) changes: then reseed."""
    migrations = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    digest = hashlib.sha256(f"seed-{SEED_VERSION}".encode())
    for path in sorted(migrations.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def database_path(directory: Path, scale: int) -> Path:
    return directory / f"bench-x{scale}-{seed_key()}.db"


def build(path: Path, scale: int) -> dict:
    """Create the database file at `path` for `scale`; returns timings and row counts."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink()
    started = time.perf_counter()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        flask_migrate.upgrade()
        sync_pathways()
        ensure_regions()
        db.session.commit()
        schema_seconds = time.perf_counter() - started
        seeder = _Seeder(scale)
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            connection.exec_driver_sql("PRAGMA journal_mode=MEMORY")
            seeder.run(connection)
            connection.commit()
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
        db.engine.dispose()
    return {
        "scale": scale,
        "seconds": round(time.perf_counter() - started, 1),
        "schema_seconds": round(schema_seconds, 1),
        "rows": seeder.counts,
    }


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class _Seeder:
    def __init__(self, scale: int) -> None:
        self.scale = scale
        self.random = random.Random(20260302)  # noqa: S311 (reproducible test data, not secrets)
        self.password_hash = hash_password(PASSWORD)
        self.counts: dict[str, int] = {}
        self.codes: set[str] = set()
        self.next_id = {
            "service": 1,
            "user": 1,
            "enrolment": 1,
            "stage": 1,
            "case": 1,
            "cycle": 1,
            "session": 1,
            "review": 1,
        }
        # Each case's first cycle, by code: what a seeded session reviews (case id, cycle id, filmed on).
        self.first_film: dict[str, tuple[int, int, date]] = {}
        self.rows: dict[str, list[dict]] = {}
        self.connection = None

    # --- plumbing -----------------------------------------------------------------------------

    def take_id(self, kind: str) -> int:
        value = self.next_id[kind]
        self.next_id[kind] = value + 1
        return value

    def add(self, table, row: dict) -> None:
        rows = self.rows.setdefault(table.name, [])
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush_all()  # parents before children, for the foreign keys

    def flush(self, table) -> None:
        rows = self.rows.get(table.name)
        if rows:
            self.connection.execute(table.insert(), rows)
            self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
            rows.clear()

    def flush_all(self) -> None:
        for table in TABLES:
            self.flush(table)

    def case_code(self) -> str:
        while True:
            code = codes.generate("VC")
            if code not in self.codes:
                self.codes.add(code)
                return code

    # --- rows ---------------------------------------------------------------------------------

    def service(self, name: str, region_id: int) -> int:
        service_id = self.take_id("service")
        kind = list(ServiceKind)[service_id % len(ServiceKind)]
        self.add(
            SERVICE,
            {
                "id": service_id,
                "name": name,
                "kind": kind,
                "region_id": region_id,
                "is_active": True,
                "created_at": _at(date(2024, 1, 1)),
            },
        )
        return service_id

    def user(self, email: str, name: str, roles: list[Role], service_id: int | None) -> int:
        user_id = self.take_id("user")
        created = _at(date(2024, 1, 1))
        self.add(
            USER,
            {
                "id": user_id,
                "email": email,
                "display_name": name,
                "password_hash": self.password_hash,
                "is_active": True,
                "service_id": service_id,
                "session_version": 1,
                "security_stamp": f"{user_id:032x}",
                "failed_login_count": 0,
                "locked_until": None,
                "last_login_at": None,
                "password_changed_at": created,
                "totp_secret": None,
                "totp_enabled_at": None,
                "totp_last_counter": None,
                "invited_at": created,
                "created_at": created,
            },
        )
        for role in roles:
            self.add(USER_ROLE, {"user_id": user_id, "role": role})
        self.add(
            AUDIT,
            {
                "occurred_at": created,
                "actor_id": None,
                "actor_label": "system",
                "action": "user.create",
                "entity_type": "user",
                "entity_id": str(user_id),
                "before": None,
                "after": {"email": email},
                "request_id": None,
                "ip_address": None,
            },
        )
        return user_id

    def enrolment(self, trainee_id, supervisor_id, service_id, pathway, status, states, accreditor_id=None) -> int:
        """`states` gives each stage's state in order; stage dates follow from the start date."""
        enrolment_id = self.take_id("enrolment")
        start = date(2025, 1, 6) + timedelta(days=enrolment_id % 300)
        self.add(
            ENROLMENT,
            {
                "id": enrolment_id,
                "trainee_id": trainee_id,
                "pathway_version_id": pathway["id"],
                "supervisor_id": supervisor_id,
                "service_id": service_id,
                "start_date": start,
                "status": status,
                "status_reason": None,
                "created_at": _at(start),
                "version": 1,
                "completed_on": start + timedelta(days=540) if status == EnrolmentStatus.COMPLETED else None,
                "cohort_id": None,
                "last_activity_at": _at(start + timedelta(days=enrolment_id % 200)),
            },
        )
        day = start
        finished_states = {StageState.ACCREDITED, StageState.RATIFIED, StageState.COMPLETE, StageState.EXEMPT}
        unfinished = [
            code for code, state in zip(pathway["stages"], states, strict=True) if state not in finished_states
        ]
        current = unfinished[0] if unfinished else None
        for position, (code, state) in enumerate(zip(pathway["stages"], states, strict=True), start=1):
            started = day if state != StageState.NOT_STARTED else None
            finished = state in {StageState.ACCREDITED, StageState.RATIFIED, StageState.COMPLETE}
            waiting = state in {StageState.SUBMITTED, StageState.SIGNED_OFF, StageState.WITH_ACCREDITOR}
            signed = finished or state in {StageState.SIGNED_OFF, StageState.WITH_ACCREDITOR}
            with_meeting = position > 1
            self.add(
                STAGE,
                {
                    "id": self.take_id("stage"),
                    "enrolment_id": enrolment_id,
                    "stage_code": code,
                    "position": position,
                    "is_final": position == len(pathway["stages"]),
                    "state": state,
                    "started_on": started,
                    "ended_on": day + timedelta(days=150) if finished else None,
                    "course_sessions_attended": 4 if position == 1 and state != StageState.NOT_STARTED else 0,
                    "statement_text": "A reflective statement." if (finished or waiting) and with_meeting else None,
                    "statement_file_name": None,
                    "statement_file_key": None,
                    "statement_file_type": None,
                    "statement_file_size": None,
                    "statement_updated_at": _at(day + timedelta(days=140)) if (finished or waiting) else None,
                    "accrediting_supervisor_id": accreditor_id
                    if with_meeting and (finished or state == StageState.WITH_ACCREDITOR)
                    else None,
                    "meeting_date": day + timedelta(days=150) if finished and with_meeting else None,
                    "meeting_comments": None,
                    "submitted_at": _at(day + timedelta(days=140)) if (finished or waiting) else None,
                    "signed_off_by_id": supervisor_id if signed else None,
                    "signed_off_at": _at(day + timedelta(days=145)) if signed else None,
                    "accredited_by_id": accreditor_id
                    if state in {StageState.ACCREDITED, StageState.RATIFIED}
                    else None,
                    "accredited_at": _at(day + timedelta(days=150))
                    if state in {StageState.ACCREDITED, StageState.RATIFIED}
                    else None,
                    "ratified_by_id": 1 if state == StageState.RATIFIED else None,
                    "ratified_at": _at(day + timedelta(days=160)) if state == StageState.RATIFIED else None,
                    "exemption_reason": None,
                    "version": 1,
                    "is_current": code == current,
                    "state_since": _at(day + timedelta(days=enrolment_id % 120)),
                },
            )
            if finished:
                day += timedelta(days=180 if with_meeting else 30)
        return enrolment_id

    def case(
        self, practitioner_id: int, service_id: int, region_id: int, cycles: int, opened: date, stage: int | None
    ) -> str:
        case_id = self.take_id("case")
        code = self.case_code()
        pick, roll = self.random.choice, self.random.random
        ends = opened + timedelta(days=21 * cycles + 14)
        ended = ends <= MEASURED_UP_TO
        early = ended and roll() < ENDED_EARLY
        consent_dcs = roll() < DCS_CONSENT
        context = {
            "practitioner_id": practitioner_id,
            "service_id": service_id,
            "region_id": region_id,
            "relationship_type": pick(RELATIONSHIPS),
            "child_age_band": pick(AGE_BANDS),
            "population": pick(POPULATIONS),
            "stage_number": stage,
            "consent_dcs": consent_dcs,
        }
        self.add(
            CASE,
            {
                "id": case_id,
                "code": code,
                **context,
                "consent_filming": True,
                "consent_filming_on": opened,
                "consent_supervision": True,
                "consent_supervision_on": opened,
                "consent_dcs_on": opened if consent_dcs else None,
                "started_on": opened,
                "ended_on": ends if ended else None,
                "status": (CaseStatus.ENDED_EARLY if early else CaseStatus.COMPLETED) if ended else CaseStatus.OPEN,
                "end_reason": EndReason.CLIENT_WITHDREW if early else None,
                "end_note": None,
                "created_at": _at(opened),
            },
        )
        for measure_code, share in MEASURES:
            if roll() < share:
                post_on = ends if ended and not early and roll() < POST_RECORDED else None
                self.outcome(case_id, context, get_measure(measure_code), opened, post_on)
        for number in range(cycles):
            filmed = opened + timedelta(days=21 * number)
            cycle_id = self.take_id("cycle")
            if number == 0:
                self.first_film[code] = (case_id, cycle_id, filmed)
            self.add(
                CYCLE,
                {
                    "id": cycle_id,
                    "case_id": case_id,
                    "filmed_on": filmed,
                    "shared_review_on": filmed + timedelta(days=7),
                    "clips_count": 3,
                    "principles": PRINCIPLES[: 1 + number % 6],
                    "note": None,
                    "created_at": _at(filmed + timedelta(days=7)),
                },
            )
        return code

    def answers(self, measure, level: float) -> dict[str, int]:
        """Option positions around `level` (0 = the first option, usually the least troubled)."""
        top = len(measure.options) - 1
        gauss = self.random.gauss
        return {item.number: min(top, max(0, round(gauss(level, 0.8)))) for item in measure.items}

    def outcome(self, case_id: int, context: dict, measure, pre_on: date, post_on: date | None) -> None:
        """Pre (and post) administrations scored by the engine, and the case's outcome row from them."""
        top = len(measure.options) - 1
        # How troubled the client is, as an option position; most are less troubled afterwards, a few more.
        trouble = self.random.uniform(0.25, 0.8) * top
        levels = [trouble, trouble - self.random.uniform(-0.15, 0.45) * top]
        if measure.higher_is_better:  # the first options are the least wellbeing
            levels = [top - level for level in levels]
        answers = [self.answers(measure, level) for level in levels]
        rows = [(Timepoint.PRE, pre_on, answers[0], score(measure, answers[0]))]
        if post_on is not None:
            rows.append((Timepoint.POST, post_on, answers[1], score(measure, answers[1])))
        for timepoint, day, responses, result in rows:
            self.add(
                ADMINISTRATION,
                {
                    "case_id": case_id,
                    "measure_code": measure.code,
                    "measure_version": measure.version,
                    "timepoint": timepoint,
                    "administered_on": day,
                    "responses": responses,
                    "total": result.total,
                    "raw": result.raw,
                    "subscales": result.subscales,
                    "band": result.band,
                    "flags": [{"code": flag.code, "message": flag.message, "item": flag.item} for flag in result.flags],
                    "prorated": result.prorated,
                    "entered_by_id": context["practitioner_id"],
                    "created_at": _at(day, 16),
                },
            )
        pre = rows[0][3].total
        post = rows[1][3].total if len(rows) > 1 else None
        change = classify(measure, pre, post) if post is not None else None
        self.add(
            CASE_OUTCOME,
            {
                "case_id": case_id,
                "measure_code": measure.code,
                **context,
                "pre": pre,
                "pre_on": pre_on,
                "post": post,
                "post_on": post_on,
                "follow_up": None,
                "change": change.change if change else None,
                "classification": change.classification.value if change else None,
                "pre_case": measure.is_case(pre),
                "recovery": change.recovery if change else None,
                "reliable_recovery": change.reliable_recovery if change else None,
            },
        )

    def session(self, enrolment_id, supervisor_id, trainee_id, day: date, status, case_codes) -> None:
        """One session reviewing the first film of each case named (the case alone if filmed after the day)."""
        confirmed = status == SessionStatus.CONFIRMED
        session_id = self.take_id("session")
        self.add(
            SESSION,
            {
                "id": session_id,
                "enrolment_id": enrolment_id,
                "supervisor_id": supervisor_id,
                "session_date": day,
                "start_time": None,
                "duration_minutes": 60,
                "format": SessionFormat.INDIVIDUAL,
                "group_size": None,
                "mode": SessionMode.REMOTE if day.day % 3 == 0 else SessionMode.IN_PERSON,
                "clips_reviewed": 2,
                "principles": PRINCIPLES[:2],
                "reflection": "What went well and what I noticed.",
                "next_steps": "Film again next week.",
                "supervisor_comments": None,
                "status": status,
                "logged_by_id": trainee_id,
                "logged_at": _at(day, 17),
                "confirmed_at": _at(day + timedelta(days=2)) if confirmed else None,
                "amends_id": None,
                "amendment_reason": None,
                "version": 1,
            },
        )
        for code in case_codes:  # after the session: a batch may be written between rows
            case_id, cycle_id, filmed = self.first_film[code]
            self.add(
                REVIEW,
                {
                    "id": self.take_id("review"),
                    "session_id": session_id,
                    "case_id": case_id,
                    "cycle_id": cycle_id if filmed <= day else None,
                },
            )

    def notifications(self, user_id: int, count: int, unread: int) -> None:
        """A year of reminders, one a week or so, the newest `unread` of them not yet read."""
        for index in range(count):
            created = _at(date(2025, 1, 6) + timedelta(days=6 * index))
            self.add(
                NOTIFICATION,
                {
                    "recipient_id": user_id,
                    "kind": NotificationKind.SESSION_UNCONFIRMED.value,
                    "subject": f"session:bench-{user_id}-{index}",
                    "period": "7-days",
                    "title": f"A session with Bench Trainee {index % KNOWN_TRAINEES + 1} waits for your confirmation",
                    "body": "It was logged 7 days ago. Confirm it, or query it if something is not right.",
                    "link": "/supervision/queue",
                    "created_at": created,
                    "read_at": None if index >= count - unread else created + timedelta(days=1),
                    "email_state": EmailState.SENT.value,
                    "emailed_at": created,
                },
            )

    # --- the data -----------------------------------------------------------------------------

    def run(self, connection) -> None:
        self.connection = connection
        regions = list(connection.scalars(select(Region.id).order_by(Region.id)))
        self.pathways = {}
        for version in connection.execute(select(PathwayVersion)).all():
            definition = PathwayVersion(definition_json=version.definition_json).definition
            self.pathways[(version.code, version.version)] = {
                "id": version.id,
                "stages": [stage.code for stage in definition.stages],
            }
        self.known(regions[0])
        self.bulk(regions)
        self.flush_all()

    def known(self, region_id: int) -> None:
        pathway = self.pathways[("vig-practitioner", "2024.1")]
        stages = len(pathway["stages"])
        service_id = self.service("Bench known service", region_id)
        self.user(ADMIN, "Bench Administrator", [Role.ADMINISTRATOR], None)
        accreditor = self.user(
            ACCREDITOR,
            "Bench Accreditor",
            [Role.PRACTITIONER, Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR],
            service_id,
        )
        supervisor = self.user(SUPERVISOR, "Bench Supervisor", [Role.PRACTITIONER, Role.SUPERVISOR], service_id)
        for number in range(KNOWN_TRAINEES):
            email = TRAINEE if number == 0 else f"trainee{number + 1}@bench.example"
            trainee = self.user(email, f"Bench Trainee {number + 1}", [Role.TRAINEE], service_id)
            stage_1 = StageState.IN_PROGRESS
            if number in (1, 2, 3):
                stage_1 = StageState.WITH_ACCREDITOR
            elif number == 4:
                stage_1 = StageState.SUBMITTED
            states = [StageState.COMPLETE, stage_1] + [StageState.NOT_STARTED] * (stages - 2)
            enrolment = self.enrolment(
                trainee, supervisor, service_id, pathway, EnrolmentStatus.ACTIVE, states, accreditor
            )
            case_codes = [
                self.case(trainee, service_id, region_id, cycles, date(2025, 3, 1) + timedelta(days=14 * index), 1)
                for index, cycles in enumerate(KNOWN_CYCLES)
            ]
            for index in range(KNOWN_CONFIRMED + KNOWN_LOGGED):
                status = SessionStatus.CONFIRMED if index < KNOWN_CONFIRMED else SessionStatus.LOGGED
                day = date(2025, 3, 3) + timedelta(days=14 * index)
                self.session(enrolment, supervisor, trainee, day, status, case_codes[index % 8 : index % 8 + 1])
        self.notifications(supervisor, KNOWN_NOTIFICATIONS, KNOWN_UNREAD)

    def bulk(self, regions: list[int]) -> None:
        scale, pick = self.scale, self.random
        services = [
            (self.service(f"Bench service {number}", regions[number % len(regions)]), regions[number % len(regions)])
            for number in range(PER_SCALE["services"] * scale)
        ]
        people = PER_SCALE["people"] * scale

        supervisors, accreditors = [], []
        for number in range(people // 10):
            service_id, _ = services[number % len(services)]
            roles = [Role.PRACTITIONER, Role.SUPERVISOR]
            if number % 4 == 0:
                roles.append(Role.ACCREDITING_SUPERVISOR)
            user_id = self.user(f"supervisor-{number}@bulk.example", f"Supervisor {number}", roles, service_id)
            supervisors.append(user_id)
            if number % 4 == 0:
                accreditors.append(user_id)
        for number in range(3):
            self.user(f"admin-{number}@bulk.example", f"Administrator {number}", [Role.ADMINISTRATOR], None)

        vig = self.pathways[("vig-practitioner", "2024.1")]
        verp = self.pathways[("verp-practitioner", "2024.1")]
        enrolments = []  # (enrolment id, supervisor id, trainee id)
        practitioners = []  # (user id, service id, region id)
        for number in range(people):
            service_id, region_id = services[number % len(services)]
            trainee = number % 5 < 3  # 60% in training, 40% accredited practitioners
            roles = [Role.TRAINEE] if trainee else [Role.PRACTITIONER]
            user_id = self.user(f"person-{number}@bulk.example", f"Person {number}", roles, service_id)
            practitioners.append((user_id, service_id, region_id, 1 + number % 3 if trainee else None))
            pathway = verp if number % 7 == 0 else vig
            supervisor = supervisors[number % len(supervisors)]
            accreditor = accreditors[number % len(accreditors)]
            if trainee:
                states = self.progress(len(pathway["stages"]), pick.random())
                status = EnrolmentStatus.ACTIVE
            else:
                states = [StageState.COMPLETE] + [StageState.ACCREDITED] * (len(pathway["stages"]) - 2)
                states.append(StageState.RATIFIED)
                status = EnrolmentStatus.COMPLETED
            enrolment = self.enrolment(user_id, supervisor, service_id, pathway, status, states, accreditor)
            enrolments.append((enrolment, supervisor, user_id))

        recent_codes: dict[int, list[str]] = {}
        for number in range(PER_SCALE["cases"] * scale):
            user_id, service_id, region_id, stage = practitioners[number % people]
            cycles = pick.choice((1, 2, 3, 3, 4, 5))
            opened = date(2024, 1, 1) + timedelta(days=pick.randrange(700))
            code = self.case(user_id, service_id, region_id, cycles, opened, stage)
            recent_codes.setdefault(user_id, []).append(code)

        for number in range(PER_SCALE["sessions"] * scale):
            enrolment, supervisor, trainee = enrolments[number % people]
            roll = pick.random()
            status = (
                SessionStatus.CONFIRMED
                if roll < 0.9
                else SessionStatus.LOGGED
                if roll < 0.97
                else SessionStatus.QUERIED
            )
            day = date(2024, 1, 1) + timedelta(days=pick.randrange(780))
            own = recent_codes.get(trainee) or []
            self.session(enrolment, supervisor, trainee, day, status, own[:1])

    def progress(self, stages: int, roll: float) -> list[StageState]:
        """A plausible spread: most trainees part-way through, a few waiting on someone."""
        done = StageState.COMPLETE
        if roll < 0.05:
            current, state = 0, StageState.IN_PROGRESS
        elif roll < 0.55:
            current, state = 1, StageState.IN_PROGRESS
        else:
            current = min(stages - 1, 2 if roll < 0.80 else 3)
            state = StageState.IN_PROGRESS
        if 0.80 <= roll < 0.85 and current > 0:
            state = StageState.SUBMITTED
        elif 0.85 <= roll < 0.88 and current > 0:
            state = StageState.WITH_ACCREDITOR
        elif 0.88 <= roll < 0.90:
            current, state = stages - 1, StageState.ACCREDITED  # waiting for AVIGuk to ratify
        states = []
        for position in range(stages):
            if position < current:
                states.append(done if position == 0 else StageState.ACCREDITED)
            elif position == current:
                states.append(state)
            else:
                states.append(StageState.NOT_STARTED)
        return states


SERVICE = Service.__table__
USER = User.__table__
USER_ROLE = UserRole.__table__
AUDIT = AuditEvent.__table__
ENROLMENT = Enrolment.__table__
STAGE = StageRecord.__table__
CASE = Case.__table__
CYCLE = Cycle.__table__
SESSION = SupervisionSession.__table__
REVIEW = SupervisionReview.__table__
ADMINISTRATION = Administration.__table__
CASE_OUTCOME = CaseOutcome.__table__
NOTIFICATION = Notification.__table__
TABLES = [
    SERVICE,
    USER,
    USER_ROLE,
    AUDIT,
    ENROLMENT,
    STAGE,
    CASE,
    CYCLE,
    SESSION,
    REVIEW,
    ADMINISTRATION,
    CASE_OUTCOME,
    NOTIFICATION,
]
RELATIONSHIPS = list(Relationship)
AGE_BANDS = list(AgeBand)
POPULATIONS = list(Population)


if __name__ == "__main__":
    import sys

    chosen = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    target = database_path(Path("bench-results"), chosen)
    print(target, build(target, chosen))
