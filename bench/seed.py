"""Build a SQLite database at a multiple of AVIGuk's size, fast, for `make bench`.

Scale 1 is roughly AVIGuk today (2,000 practitioners and trainees, 20,000 cases, ~60,000 cycles,
50,000 supervision sessions, ~80,000 outcome measure administrations, 300,000 audit events); scale 10
is the DESIGN.md §5 target. Measures are scored by the real scoring engine and each case's outcome
classified by the real `classify`, so the DCS reports read data shaped like the live system's. The
schema comes from the migrations; the bulk rows go in with SQLAlchemy Core executemany (not the ORM or
the services, which would take hours at this size), with explicit ids so rows can refer to each other.
Everything is drawn from seeded streams (case codes and certificate numbers too), so a build is the
same every time.

The known cast is inserted first and is IDENTICAL at every scale, so its pages can be compared between
1x and 10x. It is the heaviest realistic load, so the pages are measured where they are slowest:

- the supervisor (SUPERVISOR) has 70 trainees: 20 in each of the two cohorts they lead (COHORTS) and 30
  in none, each with 8-30 supervision sessions and some cases; 8 of them have stage 1 with the
  accrediting supervisor, 4 wait for the supervisor's sign-off, and ~35 sessions wait in the
  supervisor's confirmation queue. The supervisor has 100 notifications, 12 unread.
- the trainee (TRAINEE, the first of the 70) has 150 cases (~450 cycles, PHQ-9 and GAD-7 before and,
  where the work ended, after) and 220 supervision sessions, the newest 12 unconfirmed; the course
  is complete and stage 1 in progress, with a draft self-assessment.
- the accrediting supervisor (ACCREDITOR) has 8 stages waiting; the service lead (SERVICE_LEAD) leads
  the known service (the supervisor, the accrediting supervisor and the 70 trainees); the
  administrator (ADMIN) makes every enrolment and ratification.

The bulk data is skewed as a real membership is (see the *_TIERS constants; each drawn per person and
then scaled so the totals stay at PER_SCALE): most supervisors have 3-15 trainees and 3% have 60-80;
most people keep 2-10 cases, 15% keep 11-40 and 2% keep 100-200; most enrolments have 3-25
supervision sessions, 20% have 30-80 and 2% have 200-300; and in every run of 50 services the n-th
has a share of people in proportion to 1 / n**0.9 ("Bench service 0" is the largest, ~400 people at
every scale, the smallest ~10).

Every stage carries the sign-off chain's moves its state implies (`stage_transition`), with waits
drawn long-tailed, and enrolments their status changes (paused, withdrawn, completed), all before
`TODAY`; stages that were submitted carry a reflective statement and the trainee's self-assessment
(some in progress a draft one), those signed off the supervisor's assessment, and every ratified
enrolment an accreditation certificate with a number in the service's format. The audit trail holds
the events all of that implies (cases, cycles, sessions logged and confirmed, stage moves,
assessments, certificates), then sign-ins and everyday edits by long-tailed actors over the two years
before `TODAY`, up to AUDIT_PER_SCALE per scale. The training-flow figures are then worked out as of
`TODAY` and kept, as the hourly job would leave them.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import flask_migrate
from sqlalchemy import Connection, column, create_engine, make_url, select, text
from sqlalchemy import table as untyped_table

from vigtrain import codes, create_app
from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.accounts.passwords import hash_password
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import AgeBand, Case, CaseStatus, Cycle, EndReason, Population, Relationship
from vigtrain.certificates.models import NUMBER_PREFIX, Certificate, CertificateKind, CertificateStatus
from vigtrain.certificates.services import STATUS_LIST_BLOCK_BITS, validity_end
from vigtrain.cohorts.models import Cohort
from vigtrain.dcs.measures import get_measure
from vigtrain.dcs.models import Administration, CaseOutcome, Timepoint
from vigtrain.dcs.outcomes import classify
from vigtrain.dcs.scoring import score
from vigtrain.dcs.services import refresh_report_cells
from vigtrain.extensions import db
from vigtrain.flow.services import refresh
from vigtrain.notifications.models import EmailState, Notification, NotificationKind
from vigtrain.organisations.models import Region, Service, ServiceKind
from vigtrain.organisations.services import ensure_regions
from vigtrain.pathways.definitions import RequirementKind, principles
from vigtrain.pathways.models import (
    Assessment,
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PathwayVersion,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.pathways.services import sync_pathways
from vigtrain.supervision.models import (
    SessionFormat,
    SessionMode,
    SessionStatus,
    SupervisionReview,
    SupervisionSession,
)

SEED_VERSION = 7
PASSWORD = "bench-attuned-guidance-2026"  # noqa: S105 (a throwaway bench password)
BATCH = 20_000

ADMIN = "admin@bench.example"
ACCREDITOR = "accreditor@bench.example"
SUPERVISOR = "supervisor@bench.example"
TRAINEE = "trainee@bench.example"
SERVICE_LEAD = "service-lead@bench.example"  # leads the known service
COHORTS = ["Bench cohort: spring 2025 intake", "Bench cohort: summer 2025 intake"]  # trainees 1-20, 21-40
KNOWN_TRAINEES = 70  # the supervisor's caseload; the first is TRAINEE
KNOWN_IN_COHORTS = 40  # the first 40 in the supervisor's two cohorts, half each; the other 30 in none
KNOWN_WITH_ACCREDITOR = range(1, 9)  # trainees 2-9: stage 1 waits on the accrediting supervisor
KNOWN_SUBMITTED = range(9, 13)  # trainees 10-13: stage 1 waits on the supervisor's sign-off
KNOWN_CASES, KNOWN_SESSIONS, KNOWN_LOGGED = 150, 220, 12  # the known trainee's; the newest 12 sessions unconfirmed
KNOWN_OTHERS = {"cases": (2, 8), "sessions": (8, 30), "logged": 0.3}  # each other known trainee's, drawn
KNOWN_NOTIFICATIONS, KNOWN_UNREAD = 100, 12  # the supervisor's notifications: two and a half pages
AUDIT_PER_SCALE = 300_000  # audit events: those the seeded rows imply, then sign-ins and edits up to this
KNOWN_ACTIVITY = 5_000  # of those sign-ins and edits, the known cast's

PER_SCALE = {"people": 2_000, "cases": 20_000, "sessions": 50_000, "services": 50}
# Long tails, as (share, fewest, most) tiers: the first tiers are the heavy few (exactly their share, drawn
# evenly), the last takes the rest, most near its fewest. Totals are then scaled to PER_SCALE exactly.
CASELOAD_TIERS = [(0.03, 60, 80), (1.0, 3, 15)]  # enrolments per bulk supervisor
CASE_TIERS = [(0.02, 100, 200), (0.15, 11, 40), (1.0, 2, 10)]  # cases per practitioner or trainee
SESSION_TIERS = [(0.02, 200, 300), (0.2, 30, 80), (1.0, 3, 25)]  # supervision sessions per enrolment
SERVICE_SKEW = 0.9  # in each run of 50 services the n-th has a share of people in proportion to 1 / n**0.9
PRINCIPLES = ["attentive", "encouraging", "receiving", "attuned", "guiding", "deepening"]
# Outcome measures per case: PHQ-9 and GAD-7 before and (once the work has ended) after; some WEMWBS too.
MEASURES = [("PHQ-9", 1.0), ("GAD-7", 1.0), ("WEMWBS", 0.3)]
DCS_CONSENT = 0.85
POST_RECORDED = 0.9  # of cases that ended, the share with a post measure
ENDED_EARLY = 0.06
MEASURED_UP_TO = date(2025, 10, 31)  # work ending after this is still open
# The bench's today (bench.jobs runs the daily jobs on it): every stage move and status change is
# dated before it, and the training-flow figures are worked out as of it.
TODAY = date(2025, 11, 3)

# Days each step of a stage takes, (shortest, longest): drawn long-tailed, most near the short end.
WORK_DAYS = {"course": (21, 70), "stage": (120, 213)}  # the Initial Training Course; a stage of casework
WAIT_DAYS = {"sign_off": (3, 40), "accreditor": (2, 30), "meeting": (10, 90), "ratification": (5, 60)}
REWORK_DAYS = (7, 45)  # from a supervisor's return to the next submission
RETURNED = 0.15  # of submitted stages, the share the supervisor sent back once
PAST_PAUSE, PAUSE_DAYS = 0.03, (30, 150)  # of stages worked through, the share with a pause (resumed)
# Of all enrolments, the share paused now and withdrawn: drawn from those in training (three in five).
PAUSED, WITHDRAWN, IN_TRAINING = 0.04, 0.06, 0.6
COMPLETED_WITHIN = 700  # ratifications fall over this many days before TODAY
RETURN_COMMENTS = "Please add a reflection on your third cycle and resubmit."
DAYS = {**WORK_DAYS, **WAIT_DAYS, "rework": REWORK_DAYS, "pause": PAUSE_DAYS}
# The known cast's steps take these days, so its pages are the same at every scale: the course ends and
# stage 1 starts 30 days after enrolling, and stage 1 is submitted in the autumn of 2025.
KNOWN_DAYS = {
    "course": 22,
    "stage": 230,
    "sign_off": 8,
    "accreditor": 5,
    "meeting": 30,
    "ratification": 14,
    "rework": 14,
    "pause": 60,
}


def seed_key() -> str:
    """Changes when the seed changes (SEED_VERSION): then reseed. A schema change alone does not
    reseed: `upgrade` brings a kept database to the current schema, as a deployment would."""
    return hashlib.sha256(f"seed-{SEED_VERSION}".encode()).hexdigest()[:12]


def upgrade(url: str) -> None:
    """Run any migrations the kept database at `url` has not had (none: a moment's check); after
    any, work the kept figures out again, as the hourly jobs would."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        revision = text("SELECT version_num FROM alembic_version")
        before = db.session.scalar(revision)
        db.session.rollback()
        flask_migrate.upgrade()
        if db.session.scalar(revision) != before:
            refresh(TODAY)
            refresh_report_cells()
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def database_path(directory: Path, scale: int) -> Path:
    return directory / f"bench-x{scale}-{seed_key()}.db"


def database_url(directory: Path, scale: int, server: str | None = None) -> str:
    """Where the database for `scale` lives: a SQLite file in `directory`, or, given a PostgreSQL `server`
    URL, a database of its own on that server, named for the scale and the seed key (so it is reused
    until the seed or the schema changes, like the SQLite file)."""
    if server is None:
        return f"sqlite:///{database_path(directory, scale).resolve()}"
    name = f"vigtrain_bench_x{scale}_{seed_key()}"
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def exists(url: str) -> bool:
    """Whether a finished seed is at `url` (a PostgreSQL build gets its name only once it has finished)."""
    if not is_postgresql(url):
        return Path(make_url(url).database).exists()
    with _server(url) as server:
        found = server.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": make_url(url).database})
    return found is not None


@contextmanager
def _server(url: str) -> Iterator[Connection]:
    """A connection to the server's maintenance database, outside any transaction (CREATE DATABASE
    cannot run in one)."""
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _start_postgresql(url: str) -> str:
    """Create an empty database to build into, under a name of its own until it is finished."""
    name = make_url(url).database
    with _server(url) as server:
        server.execute(text(f'DROP DATABASE IF EXISTS "{name}_building" WITH (FORCE)'))
        server.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.execute(text(f'CREATE DATABASE "{name}_building"'))
    return make_url(url).set(database=f"{name}_building").render_as_string(hide_password=False)


def _finish_postgresql(url: str) -> None:
    """Give the finished build its name: a build that stopped half way is never taken for a seed."""
    name = make_url(url).database
    with _server(url) as server:
        server.execute(text(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"'))


def _restart_sequences(connection: Connection) -> None:
    """The seed writes explicit ids; PostgreSQL's sequences must then start after them, or the app's
    own inserts (a sign-in's audit event) would take an id already used."""
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": f'"{table.name}"'})
        if sequence:
            highest = f'SELECT MAX(id) FROM "{table.name}"'  # noqa: S608 (a name from the models' metadata)
            connection.execute(
                text(f"SELECT setval(:sequence, COALESCE(({highest}), 0) + 1, false)"),
                {"sequence": sequence},
            )


def build(url: str, scale: int) -> dict:
    """Create the database at `url` (SQLite or PostgreSQL) for `scale`; returns timings and row counts."""
    postgresql = is_postgresql(url)
    if postgresql:
        target = _start_postgresql(url)
    else:
        path = Path(make_url(url).database).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(f"{path.name}*"):
            leftover.unlink()
        target = f"sqlite:///{path}"
    started = time.perf_counter()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=target)
    with app.app_context():
        flask_migrate.upgrade()
        sync_pathways()
        ensure_regions()
        db.session.commit()
        schema_seconds = time.perf_counter() - started
        seeder = _Seeder(scale)
        with db.engine.connect() as connection:
            if postgresql:
                connection.exec_driver_sql("SET TIME ZONE 'UTC'")  # the audit rows' datetimes are written as UTC text
            else:
                connection.exec_driver_sql("PRAGMA synchronous=OFF")
                connection.exec_driver_sql("PRAGMA journal_mode=MEMORY")
                # The audit trail's indexes take rows in no order: a larger page cache keeps them from thrashing.
                connection.exec_driver_sql("PRAGMA cache_size=-500000")
            seeder.run(connection)
            if postgresql:
                _restart_sequences(connection)
            connection.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if postgresql else "ANALYZE")
        seeded = time.perf_counter()
        refresh(TODAY)  # the pages then read kept figures, as the hourly jobs leave them
        db.session.commit()
        refresh_seconds = time.perf_counter() - seeded
        refresh_report_cells()
        db.session.commit()
        report_seconds = time.perf_counter() - seeded - refresh_seconds
        db.session.remove()
        db.engine.dispose()
    if postgresql:
        _finish_postgresql(url)
    return {
        "scale": scale,
        "seconds": round(time.perf_counter() - started, 1),
        "schema_seconds": round(schema_seconds, 1),
        "flow_refresh_seconds": round(refresh_seconds, 1),
        "report_refresh_seconds": round(report_seconds, 1),
        "rows": seeder.counts,
    }


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# The hour of day each move is made (UTC, the same UK day): a stage that starts when the one before
# it finishes starts in the same moment, as the sign-off chain does it.
MOVE_HOURS = {
    StageState.IN_PROGRESS: 9,
    StageState.SUBMITTED: 17,
    StageState.RETURNED: 11,
    StageState.SIGNED_OFF: 12,
    StageState.COMPLETE: 12,
    StageState.WITH_ACCREDITOR: 14,
    StageState.ACCREDITED: 15,
    StageState.RATIFIED: 10,
}
# The step a stage not finished is in, by its state (in progress: see `_Seeder.history`).
CURRENT_STEP = {
    StageState.SUBMITTED: "sign_off",
    StageState.SIGNED_OFF: "accreditor",
    StageState.WITH_ACCREDITOR: "meeting",
    StageState.ACCREDITED: "ratification",
}
# The reason recorded with each status an enrolment can be stopped in.
# The audit action the service records for each move of a stage.
MOVE_ACTIONS = {
    StageState.IN_PROGRESS: "stage.started",
    StageState.SUBMITTED: "stage.submitted",
    StageState.RETURNED: "stage.returned_by_supervisor",
    StageState.SIGNED_OFF: "stage.signed_off",
    StageState.COMPLETE: "stage.signed_off",
    StageState.WITH_ACCREDITOR: "stage.accreditor_requested",
    StageState.ACCREDITED: "stage.accredited",
    StageState.RATIFIED: "stage.ratified",
}
# The everyday events of `_Seeder.activity`, with their shares.
ACTIVITY = [
    ("login.succeeded", 0.72),
    ("login.failed", 0.05),
    ("case.updated", 0.08),
    ("user.details_changed", 0.03),
    ("user.password_changed", 0.01),
    ("supervision.changed", 0.04),
    ("stage.statement_saved", 0.04),
    ("dcs.exported", 0.01),
    ("token.created", 0.01),
    ("certificate.renewal_requested", 0.01),
]
# What the everyday events of `_Seeder.activity` are about, by the action's first word: (entity type, id kind).
ENTITIES = {
    "case": ("case", "case"),
    "supervision": ("supervision_session", "session"),
    "stage": ("stage_record", "stage"),
    "certificate": ("certificate", "certificate"),
}
DRAFTED = 0.4  # of stages in progress, the share whose trainee has saved a self-assessment already
STATEMENT = (
    "Looking back over stage {stage}, the clearest change is in how I receive a parent's initiative: I used to "
    "fill the pause with a question, and the films show me waiting now, and the parent going on.\n\n"
    "My supervisor and I chose moments from three of my cases where the attuned responses were strongest, and "
    "one where I led too much. Reviewing that one taught me more than the others: I could see the parent's "
    "face change when I named what she was already doing well.\n\n"
    "Next I want to deepen the shared reviews: fewer clips, longer on each, and more of the parent's words."
)
STOPPED = {EnrolmentStatus.PAUSED: "Parental leave.", EnrolmentStatus.WITHDRAWN: "Left the service for another post."}


class _Stage:
    """One stage's history as whole days from the enrolment's start: its moves and the dates they set."""

    def __init__(self) -> None:
        # (day, from, to, who made it, comments, hour of day)
        self.moves: list[tuple[int, StageState, StageState, str, str | None, int]] = []
        self.started: int | None = None
        self.first_submitted: int | None = None
        self.submitted: int | None = None
        self.signed_off: int | None = None
        self.asked: int | None = None
        self.accredited: int | None = None
        self.ratified: int | None = None
        self.ended: int | None = None

    def move(self, day: int, to: StageState, who: str, comments: str | None = None, hour: int | None = None) -> None:
        before = self.moves[-1][2] if self.moves else StageState.NOT_STARTED
        self.moves.append((day, before, to, who, comments, MOVE_HOURS[to] if hour is None else hour))


class _Seeder:
    def __init__(self, scale: int) -> None:
        self.scale = scale
        self.random = random.Random(20260302)  # noqa: S311 (reproducible test data, not secrets)
        # The stage histories draw from their own stream, so the cases and sessions stay as they were.
        self.flow_random = random.Random(20261207)  # noqa: S311 (reproducible test data, not secrets)
        # Case codes and certificate numbers draw from theirs, so the database is the same on every build.
        self.code_random = random.Random(20261208)  # noqa: S311 (reproducible test data, not secrets)
        self.names: dict[int, str] = {}
        self.emails: dict[int, str] = {}
        self.audited = 0
        self.status_indexes: set[int] = set()
        self.password_hash = hash_password(PASSWORD)
        self.counts: dict[str, int] = {}
        self.codes: set[str] = set()
        self.next_id = {
            "service": 1,
            "user": 1,
            "cohort": 1,
            "enrolment": 1,
            "stage": 1,
            "case": 1,
            "cycle": 1,
            "session": 1,
            "review": 1,
            "assessment": 1,
            "certificate": 1,
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
            if self.connection.dialect.name == "postgresql":
                self.copy(table, rows)
            else:
                self.connection.execute(table.insert(), rows)
            self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
            rows.clear()

    def copy(self, table, rows: list[dict]) -> None:
        """PostgreSQL's COPY, several times faster than INSERTs at 100x: each value goes through its
        column type's bind processing, and a column the rows leave out takes its Python default, as
        an INSERT through SQLAlchemy would give it."""
        dialect = self.connection.dialect
        names = list(rows[0])
        processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
        defaults = [
            (col.name, col.default)
            for col in table.c
            if col.name not in rows[0] and col.default is not None and not col.primary_key
        ]
        columns = ", ".join(f'"{name}"' for name in names + [name for name, _default in defaults])
        cursor = self.connection.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                values = [
                    value if process is None else process(value)
                    for value, process in zip((row[name] for name in names), processors, strict=True)
                ]
                values += [default.arg(None) if default.is_callable else default.arg for _name, default in defaults]
                copy.write_row(values)
        cursor.close()

    def flush_all(self) -> None:
        for table in TABLES:
            self.flush(table)

    def code(self, prefix: str) -> str:
        """A code in the app's format (`codes.generate`), drawn from the seeded stream and never repeated."""
        while True:
            body = "".join(self.code_random.choice(codes.ALPHABET) for _ in range(7))
            code = codes.format_code(prefix, body + codes.check_symbol(body))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def case_code(self) -> str:
        return self.code("VC")

    def audit(
        self, occurred_at: datetime, actor_id: int | None, action: str, entity: tuple[str, int], after=None, ip=None
    ) -> None:
        """One audit event, as `vigtrain.audit.record` writes it (the actor's email kept as its label).

        Written already in SQLite's stored form (see AUDIT_ROWS): at millions of rows the column types'
        conversions would take most of the seeding time."""
        self.audited += 1
        self.add(
            AUDIT_ROWS,
            {
                "occurred_at": occurred_at.astimezone(UTC).strftime(SQLITE_DATETIME),
                "actor_id": actor_id,
                "actor_label": self.emails[actor_id] if actor_id is not None else "system",
                "action": action,
                "entity_type": entity[0],
                "entity_id": str(entity[1]),
                "before": "null",
                "after": "null" if after is None else json.dumps(after),
                "request_id": None,
                "ip_address": ip,
            },
        )

    def spread(self, total: int, owners: int, tiers: list[tuple[float, int, int]]) -> list[int]:
        """`total` items over `owners`, in a shuffled order: each entry is an owner's index.

        Each tier but the last holds its share of the owners exactly, their counts drawn evenly; the rest
        draw from the last tier, most near its fewest. All are then scaled to add up to `total`."""
        weights: list[int] = []
        for share, fewest, most in tiers[:-1]:
            weights += [self.random.randint(fewest, most) for _ in range(round(share * owners))]
        _share, fewest, most = tiers[-1]
        span = most - fewest + 1
        weights += [fewest + int(span * self.random.random() ** 1.6) for _ in range(owners - len(weights))]
        self.random.shuffle(weights)
        factor = total / sum(weights)
        counts = [int(weight * factor) for weight in weights]
        by_remainder = sorted(range(owners), key=lambda index: weights[index] * factor - counts[index], reverse=True)
        for index in by_remainder[: total - sum(counts)]:
            counts[index] += 1
        order = [index for index, count in enumerate(counts) for _ in range(count)]
        self.random.shuffle(order)
        return order

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

    def cohort(self, name: str, version_id: int, region_id: int, starts_on: date, lead_id: int) -> int:
        cohort_id = self.take_id("cohort")
        self.add(
            COHORT,
            {
                "id": cohort_id,
                "name": name,
                "pathway_version_id": version_id,
                "region_id": region_id,
                "starts_on": starts_on,
                "ends_on": None,
                "lead_id": lead_id,
                "created_at": _at(starts_on),
                "version": 1,
            },
        )
        return cohort_id

    def user(self, email: str, name: str, roles: list[Role], service_id: int | None) -> int:
        user_id = self.take_id("user")
        self.names[user_id] = name
        self.emails[user_id] = email
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
        self.audit(created, None, "user.create", ("user", user_id), {"email": email})
        return user_id

    def enrolment(
        self,
        trainee_id,
        supervisor_id,
        service_id,
        pathway,
        status,
        states,
        accreditor_id=None,
        *,
        known_days: dict[str, int] | None = None,
        cohort_id: int | None = None,
    ) -> int:
        """`states` gives each stage's state in order; its history is drawn (or, for the known cast, fixed
        by `known_days` from a fixed start) and placed so that it ends by TODAY as `status` requires."""
        enrolment_id = self.take_id("enrolment")
        if known_days is not None:
            stages, end, changes = self.history(
                pathway["meetings"], states, known_days.__getitem__, lambda share: False
            )
            origin = date(2025, 1, 6) + timedelta(days=enrolment_id)
        else:
            stages, end, changes = self.history(pathway["meetings"], states, self.days, self.happens)
            # The history ends (its last move, or its current step's days so far) today, on the day it was
            # paused or withdrawn, or on the day it was ratified.
            ends = TODAY
            if status in STOPPED:
                ends = TODAY - timedelta(
                    days=self.flow_random.randint(7, 200 if status is EnrolmentStatus.PAUSED else 400)
                )
            elif status is EnrolmentStatus.COMPLETED:
                ends = TODAY - timedelta(days=self.flow_random.randint(1, COMPLETED_WITHIN))
            origin = ends - timedelta(days=end)
            if status in STOPPED:
                changes.append((end, status))
        if status is EnrolmentStatus.COMPLETED:
            changes.append((stages[-1].ratified, status))

        def on(day: int) -> date:
            return origin + timedelta(days=day)

        actors = {"trainee": trainee_id, "supervisor": supervisor_id, "accreditor": accreditor_id, "administrator": 1}
        moved = [_at(on(day), hour) for stage in stages for day, *_rest, hour in stage.moves]
        changed = [_at(on(day), 10 if kind is EnrolmentStatus.COMPLETED else 13) for day, kind in changes]
        self.add(
            ENROLMENT,
            {
                "id": enrolment_id,
                "trainee_id": trainee_id,
                "pathway_version_id": pathway["id"],
                "supervisor_id": supervisor_id,
                "service_id": service_id,
                "start_date": origin,
                "status": status,
                "status_reason": STOPPED.get(status),
                "created_at": _at(origin),
                "version": 1,
                "completed_on": on(stages[-1].ratified) if status is EnrolmentStatus.COMPLETED else None,
                "cohort_id": cohort_id,
                "last_activity_at": max(moved + changed),
            },
        )
        self.audit(_at(origin, 9), 1, "enrolment.created", ("enrolment", enrolment_id), {"trainee_id": trainee_id})
        for (_day, kind), occurred_at in zip(changes, changed, strict=True):
            self.add(STATUS_CHANGE, {"enrolment_id": enrolment_id, "status": kind, "occurred_at": occurred_at})
            completed = kind is EnrolmentStatus.COMPLETED
            self.audit(
                occurred_at,
                1 if completed else supervisor_id,
                "enrolment.completed" if completed else "enrolment.status_changed",
                ("enrolment", enrolment_id),
                {"status": kind.value},
            )
        finished_states = {StageState.ACCREDITED, StageState.RATIFIED, StageState.COMPLETE, StageState.EXEMPT}
        unfinished = [
            code for code, state in zip(pathway["stages"], states, strict=True) if state not in finished_states
        ]
        current = unfinished[0] if unfinished else None
        for position, (code, state, stage) in enumerate(zip(pathway["stages"], states, stages, strict=True), start=1):
            record_id = self.take_id("stage")

            def at(day: int | None, hour: int) -> datetime | None:
                return None if day is None else _at(on(day), hour)

            with_meeting = pathway["meetings"][position - 1]
            self.add(
                STAGE,
                {
                    "id": record_id,
                    "enrolment_id": enrolment_id,
                    "stage_code": code,
                    "position": position,
                    "is_final": position == len(pathway["stages"]),
                    "state": state,
                    "started_on": None if stage.started is None else on(stage.started),
                    "ended_on": None if stage.ended is None else on(stage.ended),
                    "course_sessions_attended": 4 if position == 1 and stage.started is not None else 0,
                    "statement_text": STATEMENT.format(stage=position - 1)
                    if with_meeting and stage.first_submitted is not None
                    else None,
                    "statement_file_name": None,
                    "statement_file_key": None,
                    "statement_file_type": None,
                    "statement_file_size": None,
                    "statement_updated_at": at(stage.first_submitted, 16),
                    "accrediting_supervisor_id": accreditor_id if stage.asked is not None else None,
                    "meeting_date": None if stage.accredited is None else on(stage.accredited),
                    "meeting_comments": None,
                    "submitted_at": at(stage.submitted, MOVE_HOURS[StageState.SUBMITTED]),
                    "signed_off_by_id": supervisor_id if stage.signed_off is not None else None,
                    "signed_off_at": at(stage.signed_off, MOVE_HOURS[StageState.SIGNED_OFF]),
                    "accredited_by_id": accreditor_id if stage.accredited is not None else None,
                    "accredited_at": at(stage.accredited, MOVE_HOURS[StageState.ACCREDITED]),
                    "ratified_by_id": 1 if stage.ratified is not None else None,
                    "ratified_at": at(stage.ratified, MOVE_HOURS[StageState.RATIFIED]),
                    "exemption_reason": None,
                    "version": 1,
                    "is_current": code == current,
                    "state_since": at(stage.moves[-1][0], stage.moves[-1][-1]) if stage.moves else _at(origin),
                },
            )
            for day, before, after, who, comments, hour in stage.moves:
                if after is StageState.WITH_ACCREDITOR:
                    comments = f"Asked {self.names[accreditor_id]}"
                self.add(
                    TRANSITION,
                    {
                        "stage_record_id": record_id,
                        "from_state": before,
                        "to_state": after,
                        "actor_id": actors[who],
                        "occurred_at": _at(on(day), hour),
                        "comments": comments,
                    },
                )
                self.audit(
                    _at(on(day), hour), actors[who], MOVE_ACTIONS[after], ("stage_record", record_id), {"state": after}
                )
            if with_meeting and stage.first_submitted is not None:
                self.audit(
                    at(stage.first_submitted, 16), trainee_id, "stage.statement_saved", ("stage_record", record_id)
                )
            if pathway["assessed"][position - 1] and stage.started is not None:
                # The trainee assesses themselves before submitting (some in progress have a draft already),
                # the supervisor when signing off.
                drafted = stage.first_submitted
                if drafted is None and (known_days is not None or self.happens(DRAFTED)):
                    drafted = max(stage.started, end - 3) + 1
                if drafted is not None:
                    self.assessment(record_id, position, AssessmentKind.SELF, trainee_id, at(drafted - 1, 20))
                if stage.signed_off is not None:
                    self.assessment(
                        record_id, position, AssessmentKind.SUPERVISOR, supervisor_id, at(stage.signed_off, 11)
                    )
            if position == len(pathway["stages"]) and stage.ratified is not None:
                self.certificate(pathway, enrolment_id, record_id, trainee_id, on(stage.ratified))
        return enrolment_id

    def assessment(self, record_id: int, position: int, kind: AssessmentKind, assessor_id: int, when: datetime) -> None:
        """Ratings of every principle, a little higher at each later stage, as the service saves them."""
        assessment_id = self.take_id("assessment")
        base = 2 + position * 0.6
        ratings = {
            code: {"rating": max(1, min(5, round(base + self.flow_random.choice((-0.5, 0, 0.4))))), "evidence": ""}
            for code in PRINCIPLES
        }
        self.add(
            ASSESSMENT,
            {
                "id": assessment_id,
                "stage_record_id": record_id,
                "kind": kind,
                "assessor_id": assessor_id,
                "ratings": ratings,
                "principles_version": self.principles_version,
                "updated_at": when,
            },
        )
        self.audit(when, assessor_id, f"assessment.{kind.value}_saved", ("assessment", assessment_id), ratings)

    def certificate(self, pathway: dict, enrolment_id: int, record_id: int, holder_id: int, ratified: date) -> None:
        """The accreditation certificate an administrator issues within days of ratifying, numbered as the
        service numbers them (`codes.generate(NUMBER_PREFIX)`), with a free place in the status list."""
        certificate_id = self.take_id("certificate")
        issued = min(TODAY, ratified + timedelta(days=self.flow_random.randint(0, 10)))
        valid_until = validity_end(issued, pathway["renewal_months"])
        while True:
            index = self.code_random.randrange(STATUS_LIST_BLOCK_BITS)
            if index not in self.status_indexes:
                self.status_indexes.add(index)
                break
        number = self.code(NUMBER_PREFIX)
        self.add(
            CERTIFICATE,
            {
                "id": certificate_id,
                "number": number,
                "kind": CertificateKind.ACCREDITATION,
                "issue_key": f"stage:{record_id}",
                "holder_id": holder_id,
                "holder_name": self.names[holder_id],
                "credential": pathway["credential"],
                "pathway_code": pathway["code"],
                "pathway_version": pathway["version"],
                "pathway_title": pathway["name"],
                "stage_number": None,
                "stage_name": None,
                "enrolment_id": enrolment_id,
                "stage_record_id": record_id,
                "issued_on": issued,
                "valid_until": valid_until,
                "status": CertificateStatus.VALID if valid_until >= TODAY else CertificateStatus.EXPIRED,
                "status_reason": None,
                "status_changed_at": None,
                "replaces_id": None,
                "replacement_reason": None,
                "status_index": index,
                "issued_by_id": 1,
                "renewal_requested_at": None,
                "created_at": _at(issued, 11),
                "suspension_reason": None,
                "suspended_until": None,
                "suspended_at": None,
                "suspended_by_id": None,
            },
        )
        self.audit(_at(issued, 11), 1, "certificate.issued", ("certificate", certificate_id), {"number": number})

    def days(self, name: str) -> int:
        """Days for one step, long-tailed: most near the shortest, a few near the longest."""
        low, high = DAYS[name]
        return low + round((high - low) * self.flow_random.random() ** (1.5 if name in WORK_DAYS else 2.0))

    def happens(self, share: float) -> bool:
        return self.flow_random.random() < share

    def history(self, meetings, states, days, happens) -> tuple[list[_Stage], int, list[tuple[int, EnrolmentStatus]]]:
        """Each stage's moves in days from the start, the day the history ends (for a stage not finished,
        part-way through the step it is in), and any pauses (each resumed) on the way."""
        stages = [_Stage() for _ in states]
        changes: list[tuple[int, EnrolmentStatus]] = []
        day, end, starter = 0, 0, ("supervisor", MOVE_HOURS[StageState.IN_PROGRESS])
        for position, (stage, has_meeting, state) in enumerate(zip(stages, meetings, states, strict=True)):
            if state is StageState.NOT_STARTED:
                break
            final = position == len(states) - 1
            stage.started = day
            stage.move(day, StageState.IN_PROGRESS, starter[0], hour=starter[1])
            reached = self.chain(stage, state, has_meeting, final, day, days, happens, changes)
            if stage.moves[-1][2] is not state:
                raise ValueError(f"a stage's history reached {stage.moves[-1][2]}, not {state}")
            if stage.ended is None:
                step = CURRENT_STEP.get(state) or ("stage" if has_meeting else "course")
                end = reached + max(1, round(self.flow_random.random() * days(step)))
                break
            day = end = reached
            starter = (stage.moves[-1][3], stage.moves[-1][-1])
        return stages, end, changes

    def chain(self, stage: _Stage, state, has_meeting: bool, final: bool, day: int, days, happens, changes) -> int:
        """The moves from the start up to `state`; the day of the last one."""
        if state is StageState.IN_PROGRESS:
            return day
        work = days("stage" if has_meeting else "course")
        if happens(PAST_PAUSE):
            paused = day + 1 + round(self.flow_random.random() * work / 2)
            away = days("pause")
            changes += [(paused, EnrolmentStatus.PAUSED), (paused + away, EnrolmentStatus.ACTIVE)]
            work += away
        day += work
        stage.first_submitted = stage.submitted = day
        stage.move(day, StageState.SUBMITTED, "trainee")
        if happens(RETURNED):
            day += days("sign_off")
            stage.move(day, StageState.RETURNED, "supervisor", RETURN_COMMENTS)
            day += days("rework")
            stage.submitted = day
            stage.move(day, StageState.SUBMITTED, "trainee")
        if state is StageState.SUBMITTED:
            return day
        day += days("sign_off")
        stage.signed_off = day
        if not has_meeting:
            stage.ended = day
            stage.move(day, StageState.COMPLETE, "supervisor")
            return day
        stage.move(day, StageState.SIGNED_OFF, "supervisor")
        if state is StageState.SIGNED_OFF:
            return day
        day += days("accreditor")
        stage.asked = day
        stage.move(day, StageState.WITH_ACCREDITOR, "supervisor")
        if state is StageState.WITH_ACCREDITOR:
            return day
        day += days("meeting")
        stage.accredited = day
        stage.move(day, StageState.ACCREDITED, "accreditor")
        if not final:
            stage.ended = day
            return day
        if state is StageState.ACCREDITED:
            return day
        day += days("ratification")
        stage.ratified = stage.ended = day
        stage.move(day, StageState.RATIFIED, "administrator")
        return day

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
        self.audit(_at(opened, 15), practitioner_id, "case.created", ("case", case_id), {"code": code})
        if ended:
            self.audit(_at(ends, 16), practitioner_id, "case.closed", ("case", case_id), {"status": "ended"})
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
            self.audit(_at(filmed + timedelta(days=7)), practitioner_id, "cycle.added", ("cycle", cycle_id))
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
        self.audit(_at(day, 17), trainee_id, "supervision.logged", ("supervision_session", session_id))
        if status is not SessionStatus.LOGGED:
            action = "supervision.confirmed" if confirmed else "supervision.queried"
            self.audit(_at(day + timedelta(days=2)), supervisor_id, action, ("supervision_session", session_id))
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
        """Ten months of reminders, two a week or so, the newest `unread` of them not yet read."""
        for index in range(count):
            created = _at(date(2025, 1, 6) + timedelta(days=3 * index))
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
            assessed = {RequirementKind.SELF_ASSESSMENT, RequirementKind.SUPERVISOR_ASSESSMENT}
            self.pathways[(version.code, version.version)] = {
                "id": version.id,
                "code": version.code,
                "version": version.version,
                "name": version.name,
                "credential": version.credential,
                "renewal_months": definition.renewal_months,
                "stages": [stage.code for stage in definition.stages],
                "meetings": [stage.has_meeting for stage in definition.stages],
                "assessed": [
                    any(requirement.kind in assessed for requirement in stage.active_requirements)
                    for stage in definition.stages
                ],
            }
        self.principles_version = principles().version
        self.known(regions[0])
        self.bulk(regions)
        self.activity()
        self.flush_all()

    def known(self, region_id: int) -> None:
        """The known cast, drawn first so it is the same at every scale (see the module docstring)."""
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
        cohorts = [
            self.cohort(name, pathway["id"], region_id, date(2025, 1, 6) + timedelta(days=91 * index), supervisor)
            for index, name in enumerate(COHORTS)
        ]
        for number in range(KNOWN_TRAINEES):
            email = TRAINEE if number == 0 else f"trainee{number + 1}@bench.example"
            trainee = self.user(email, f"Bench Trainee {number + 1}", [Role.TRAINEE], service_id)
            stage_1 = StageState.IN_PROGRESS
            if number in KNOWN_WITH_ACCREDITOR:
                stage_1 = StageState.WITH_ACCREDITOR
            elif number in KNOWN_SUBMITTED:
                stage_1 = StageState.SUBMITTED
            states = [StageState.COMPLETE, stage_1] + [StageState.NOT_STARTED] * (stages - 2)
            enrolment = self.enrolment(
                trainee,
                supervisor,
                service_id,
                pathway,
                EnrolmentStatus.ACTIVE,
                states,
                accreditor,
                known_days=KNOWN_DAYS,
                cohort_id=cohorts[number * len(cohorts) // KNOWN_IN_COHORTS] if number < KNOWN_IN_COHORTS else None,
            )
            if number == 0:  # the heaviest trainee: cases from early 2024, sessions all through the enrolment
                cases, sessions, logged = KNOWN_CASES, KNOWN_SESSIONS, KNOWN_LOGGED
                cases_from, case_gap = date(2024, 3, 1), 4
            else:
                cases = self.random.randint(*KNOWN_OTHERS["cases"])
                sessions = self.random.randint(*KNOWN_OTHERS["sessions"])
                logged = 1 if self.random.random() < KNOWN_OTHERS["logged"] else 0
                cases_from, case_gap = date(2025, 2, 1), 21
            case_codes = [
                self.case(trainee, service_id, region_id, self.random.choice((1, 2, 3, 3, 4, 5)), opened, 1)
                for opened in (cases_from + timedelta(days=case_gap * index) for index in range(cases))
            ]
            started = date(2025, 1, 6) + timedelta(days=enrolment + 1)
            span = (date(2025, 10, 31) - started).days
            for index in range(sessions):
                status = SessionStatus.CONFIRMED if index < sessions - logged else SessionStatus.LOGGED
                day = started + timedelta(days=span * index // sessions)
                reviewed = case_codes[index % len(case_codes) : index % len(case_codes) + 1]
                self.session(enrolment, supervisor, trainee, day, status, reviewed)
        self.user(SERVICE_LEAD, "Bench Service Lead", [Role.SERVICE_LEAD], service_id)
        self.notifications(supervisor, KNOWN_NOTIFICATIONS, KNOWN_UNREAD)
        self.known_ids = dict(self.next_id)  # the rows from here on are the bulk's

    def bulk(self, regions: list[int]) -> None:
        scale, pick = self.scale, self.random
        count = PER_SCALE["services"] * scale
        services = [
            (self.service(f"Bench service {number}", regions[number % len(regions)]), regions[number % len(regions)])
            for number in range(count)
        ]
        # Long-tailed service sizes, the same shape in every run of 50: service 0 is one of the largest.
        sizes = [1 / (1 + number % PER_SCALE["services"]) ** SERVICE_SKEW for number in range(count)]
        people = PER_SCALE["people"] * scale

        def service_for() -> tuple[int, int]:
            return pick.choices(services, weights=sizes)[0]

        supervisors, accreditors = [], []
        for number in range(people // 10):
            service_id, _ = service_for()
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
        caseloads = self.spread(people, len(supervisors), CASELOAD_TIERS)
        enrolments = []  # (enrolment id, supervisor id, trainee id)
        practitioners = []  # (user id, service id, region id)
        for number in range(people):
            service_id, region_id = service_for()
            trainee = number % 5 < 3  # 60% in training, 40% accredited practitioners
            roles = [Role.TRAINEE] if trainee else [Role.PRACTITIONER]
            user_id = self.user(f"person-{number}@bulk.example", f"Person {number}", roles, service_id)
            practitioners.append((user_id, service_id, region_id, 1 + number % 3 if trainee else None))
            pathway = verp if number % 7 == 0 else vig
            supervisor = supervisors[caseloads[number]]
            accreditor = accreditors[number % len(accreditors)]
            if accreditor == supervisor:  # the accrediting supervisor is never the personal supervisor
                accreditor = accreditors[(number + 1) % len(accreditors)]
            if trainee:
                states = self.progress(len(pathway["stages"]), pick.random())
                status = EnrolmentStatus.ACTIVE
                roll = self.flow_random.random()
                if states[-1] is not StageState.ACCREDITED:  # nobody stops while waiting to be ratified
                    if roll < PAUSED / IN_TRAINING:
                        status = EnrolmentStatus.PAUSED
                    elif roll < (PAUSED + WITHDRAWN) / IN_TRAINING:
                        status = EnrolmentStatus.WITHDRAWN
            else:
                states = [StageState.COMPLETE] + [StageState.ACCREDITED] * (len(pathway["stages"]) - 2)
                states.append(StageState.RATIFIED)
                status = EnrolmentStatus.COMPLETED
            enrolment = self.enrolment(user_id, supervisor, service_id, pathway, status, states, accreditor)
            enrolments.append((enrolment, supervisor, user_id))

        recent_codes: dict[int, list[str]] = {}
        for owner in self.spread(PER_SCALE["cases"] * scale, people, CASE_TIERS):
            user_id, service_id, region_id, stage = practitioners[owner]
            cycles = pick.choice((1, 2, 3, 3, 4, 5))
            opened = date(2024, 1, 1) + timedelta(days=pick.randrange(700))
            code = self.case(user_id, service_id, region_id, cycles, opened, stage)
            recent_codes.setdefault(user_id, []).append(code)

        for owner in self.spread(PER_SCALE["sessions"] * scale, people, SESSION_TIERS):
            enrolment, supervisor, trainee = enrolments[owner]
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

    def activity(self) -> None:
        """Sign-ins and everyday edits over the two years before TODAY, up to AUDIT_PER_SCALE events in all.

        Actors are drawn long-tailed too (a few people sign in daily, most now and then), so the trail reads
        like a live one's. The known cast's own share comes first, from its own stream and about its own
        rows, so it too is the same at every scale."""
        known = [user_id for user_id in self.emails if user_id < self.known_ids["user"]]
        bulk = [user_id for user_id in self.emails if user_id >= self.known_ids["user"]]
        known_random = random.Random(20261209)  # noqa: S311 (reproducible test data, not secrets)
        self.events(known_random, known, KNOWN_ACTIVITY, self.known_ids)
        self.events(self.random, bulk, AUDIT_PER_SCALE * self.scale - self.audited, self.next_id)

    def events(self, pick: random.Random, actors: list[int], count: int, id_limits: dict[str, int]) -> None:
        """`count` everyday events by `actors` (the first of every 97 the busiest), about rows below `id_limits`."""
        weights = [(1 + index % 97) ** -0.7 for index in range(len(actors))]
        # Only what these actors have rows for (the known cast holds no certificates).
        possible = [
            (name, share)
            for name, share in ACTIVITY
            if (kind := ENTITIES.get(name.partition(".")[0])) is None or id_limits[kind[1]] > 1
        ]
        names = [name for name, _share in possible]
        shares = [share for _name, share in possible]
        first = datetime.combine(TODAY - timedelta(days=730), datetime.min.time(), tzinfo=UTC)
        seconds = 730 * 24 * 3600
        while count > 0:
            batch = min(count, BATCH)
            who = pick.choices(actors, weights=weights, k=batch)
            for actor_id, action in zip(who, pick.choices(names, weights=shares, k=batch), strict=True):
                when = first + timedelta(seconds=pick.randrange(seconds))
                kind = ENTITIES.get(action.partition(".")[0])
                entity = (kind[0], pick.randrange(1, id_limits[kind[1]])) if kind else ("user", actor_id)
                signing_in = action.startswith("login.")
                ip = f"10.{actor_id % 250}.{actor_id // 250 % 250}.{pick.randrange(1, 250)}" if signing_in else None
                self.audit(when, actor_id, action, entity, None, ip)
            count -= batch

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
# The audit table without its column types, for rows already in the form SQLite stores: datetimes as
# SQLAlchemy's SQLite dialect writes them, JSON as text (None as JSON null, as the JSON type stores it).
AUDIT_ROWS = untyped_table(AUDIT.name, *(column(col.name) for col in AUDIT.columns if col.name != "id"))
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
COHORT = Cohort.__table__
ENROLMENT = Enrolment.__table__
STATUS_CHANGE = EnrolmentStatusChange.__table__
STAGE = StageRecord.__table__
TRANSITION = StageTransition.__table__
ASSESSMENT = Assessment.__table__
CERTIFICATE = Certificate.__table__
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
    AUDIT_ROWS,
    COHORT,
    ENROLMENT,
    STATUS_CHANGE,
    STAGE,
    TRANSITION,
    ASSESSMENT,
    CERTIFICATE,
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
