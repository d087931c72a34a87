"""Bulk import of people and their enrolments: check every row, then write all of it or none of it.

`check_file` reads the file and checks every row against the file itself and what is already held,
writing nothing: the preview and `--dry-run` show its problems. `import_people` checks again inside
the transaction (what is held may have changed since the preview) and, only when no row has a
problem, writes every new person, their invitation email and their enrolment, with one audit event
for the run (naming the file's SHA-256) and one per person and per enrolment. The caller commits
(`vigtrain.transactions`); invitation emails wait in the outbox and leave only after that commit.

Importing the same file again changes nothing: a person whose email is held is "already present",
and so is an enrolment on a pathway they are already active or paused on.
"""

from __future__ import annotations

import enum
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert

from vigtrain import audit
from vigtrain.accounts.models import ROLE_LABELS, Role, User, UserRole, new_security_stamp
from vigtrain.accounts.services import INVITATION, invitation_message, normalise_email, token_for
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import utcnow
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.imports import queries
from vigtrain.imports.reading import Sheet, read_sheet
from vigtrain.links import public_url
from vigtrain.notifications.services import send_emails
from vigtrain.organisations.models import Service
from vigtrain.pathways.models import PathwayVersion
from vigtrain.pathways.services import version_key
from vigtrain.security import can_import_people
from vigtrain.training.services import (
    EnrolmentRow,
    enrolment_snapshot,
    insert_enrolments,
    start_date_problem,
    supervisor_problem,
)

REQUIRED = ("name", "email", "roles")
OPTIONAL = ("service", "pathway", "version", "supervisor_email", "cohort", "start_date")
COLUMNS = REQUIRED + OPTIONAL
ENROLMENT_COLUMNS = ("version", "supervisor_email", "cohort", "start_date")
MAX_NAME = 120
# What `accounts.services.user_snapshot` records of a new account, less what every import sets the same.
INVITED_FIELDS = ("email", "display_name", "service_id", "roles")
MAX_EMAIL = 254
# A spreadsheet runs a cell that starts with one of these as a formula; such a cell is refused, not cleaned.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Administrators hold every power and must set up a second factor: they are appointed one at a time.
IMPORTABLE_ROLES = tuple(role for role in Role if role is not Role.ADMINISTRATOR)

Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


class Outcome(enum.StrEnum):
    NEW_PERSON = "new person"
    NEW_PERSON_ENROLLED = "new person, enrolled"
    ENROLMENT_ADDED = "enrolment added"
    ALREADY_PRESENT = "already present"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell, in words the person fixing the file can act on."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class PlannedRow:
    row: int
    name: str
    email: str
    roles: frozenset[Role]
    service: Service | None = None
    version: PathwayVersion | None = None
    supervisor_email: str | None = None
    supervisor: User | None = None  # when the supervisor is already held (else they are on another row)
    cohort: Cohort | None = None
    start_date: date | None = None
    existing: User | None = None
    outcome: Outcome = Outcome.NEW_PERSON


@dataclass
class Plan:
    """What a file would do: each row's outcome, or the problems that stop all of it."""

    file_name: str
    digest: str
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(row.outcome for row in self.rows)
        return {outcome.value: tally.get(outcome, 0) for outcome in Outcome}

    def as_record(self) -> dict:
        """What the preview page shows, as JSON-safe lists (kept beside the staged file)."""
        return {
            "counts": self.counts,
            "problems": [[problem.row, problem.column, problem.message] for problem in self.problems],
            "rows": [[row.row, row.name, row.email, row.outcome.value] for row in self.rows],
        }


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- reading cells ------------------------------------------------------------------------------


def _header_key(header: str) -> str:
    return "_".join(header.strip().lower().replace("-", " ").split())


ROLE_WORDS = {
    **{role.value: role for role in Role},
    **{_header_key(label): role for role, label in ROLE_LABELS.items()},
    "accrediting": Role.ACCREDITING_SUPERVISOR,
    "practitioner": Role.PRACTITIONER,
    "administrator": Role.ADMINISTRATOR,
}


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD (what a workbook's date cells become) or DD/MM/YYYY (how people in the UK type dates)."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _columns(sheet: Sheet, problems: list[Problem]) -> dict[str, int]:
    """Where each known column is; a missing required, unknown or repeated column is a problem of row 1."""
    where: dict[str, int] = {}
    for index, header in enumerate(sheet.headers):
        key = _header_key(header)
        if not key:
            continue
        if key not in COLUMNS:
            problems.append(Problem(1, header, f"“{header}” is not a column this import knows; see the template"))
        elif key in where:
            problems.append(Problem(1, header, f"the column “{key}” appears twice"))
        else:
            where[key] = index
    for column in REQUIRED:
        if column not in where:
            problems.append(Problem(1, column, f"the file needs a column named “{column}”"))
    return where


# --- checking -----------------------------------------------------------------------------------


@dataclass
class _Known:
    """What is already held, looked up once for the whole file."""

    people: dict[str, User]
    open_pathways: set[tuple[int, str]]
    services: dict[str, Service]
    cohorts: dict[str, Cohort]
    versions: dict[str, list[PathwayVersion]]  # by pathway code and by lower-cased name

    @classmethod
    def load(cls, emails: set[str]) -> _Known:
        people = queries.people_by_email(emails)
        versions: dict[str, list[PathwayVersion]] = {}
        for version in queries.pathway_versions():
            versions.setdefault(version.code.lower(), []).append(version)
            versions.setdefault(version.name.lower(), []).append(version)
        return cls(
            people=people,
            open_pathways=queries.open_pathways(people.values()),
            services=queries.services_by_name(),
            cohorts=queries.cohorts_by_name(),
            versions=versions,
        )


class _RowChecker:
    def __init__(self, where: dict[str, int], known: _Known, today: date, problems: list[Problem]) -> None:
        self.where, self.known, self.today, self.problems = where, known, today, problems

    def cell(self, cells: list[str], column: str) -> str:
        index = self.where.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(row, column, message))

    def roles(self, row: int, text: str) -> frozenset[Role]:
        if not text:
            self.problem(row, "roles", "enter at least one role, for example “trainee”")
            return frozenset()
        roles: set[Role] = set()
        for word in (part.strip() for part in text.split(";")):
            if not word:
                continue
            role = ROLE_WORDS.get(_header_key(word))
            if role is None:
                choices = ", ".join(role.value for role in IMPORTABLE_ROLES)
                self.problem(row, "roles", f"“{word}” is not a role; use {choices}, separated by “;”")
            elif role is Role.ADMINISTRATOR:
                self.problem(
                    row, "roles", "administrators are appointed one at a time from the people page, not imported"
                )
            else:
                roles.add(role)
        return frozenset(roles)

    def email(self, row: int, text: str) -> str | None:
        if not text:
            self.problem(row, "email", "enter an email address")
            return None
        if len(text) > MAX_EMAIL:
            self.problem(row, "email", f"an email address can be at most {MAX_EMAIL} characters")
            return None
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError:
            self.problem(row, "email", f"“{text}” is not an email address, like name@example.org")
            return None
        return normalise_email(text)

    def version(self, row: int, pathway_text: str, version_text: str) -> PathwayVersion | None:
        versions = self.known.versions.get(pathway_text.lower())
        if not versions:
            self.problem(row, "pathway", f"“{pathway_text}” is not a pathway loaded in vigtrain")
            return None
        if not version_text:
            return max(versions, key=lambda version: version_key(version.version))
        chosen = next((version for version in versions if version.version == version_text), None)
        if chosen is None:
            loaded = ", ".join(sorted((version.version for version in versions), key=version_key))
            self.problem(
                row,
                "version",
                f"version “{version_text}” of {versions[0].name} is not loaded (loaded: {loaded})",
            )
        return chosen


def _formula_problems(sheet: Sheet, where: dict[str, int], problems: list[Problem]) -> set[int]:
    """Every cell a spreadsheet would run as a formula; returns the rows that have one."""
    names = {index: column for column, index in where.items()}
    rows: set[int] = set()
    for number, cells in sheet.rows:
        for index, cell in enumerate(cells):
            if cell.startswith(FORMULA_STARTS):
                column = names.get(index) or (sheet.headers[index] if index < len(sheet.headers) else f"{index + 1}")
                problems.append(
                    Problem(
                        number,
                        column,
                        f"starts with “{cell[0]}”, which spreadsheets run as a formula; remove it",
                    )
                )
                rows.add(number)
    return rows


def check_sheet(sheet: Sheet, file_name: str, digest: str, today: date, progress: Progress = _no_progress) -> Plan:
    """Check every row against the file and what is held; nothing is written."""
    plan = Plan(file_name=file_name, digest=digest)
    where = _columns(sheet, plan.problems)
    if plan.problems:
        return plan
    formula_rows = _formula_problems(sheet, where, plan.problems)
    email_index = where["email"]
    emails = {
        normalise_email(cells[index])
        for index in (email_index, where.get("supervisor_email"))
        if index is not None
        for _, cells in sheet.rows
        if index < len(cells) and cells[index]
    }
    known = _Known.load(emails)
    checker = _RowChecker(where, known, today, plan.problems)
    first_row: dict[str, int] = {}
    planned: list[PlannedRow] = []
    total = len(sheet.rows)
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        if done % 500 == 0:
            progress("checking", done, total)
        if number in formula_rows:
            continue
        row = _check_row(checker, number, cells, first_row)
        if row is not None:
            planned.append(row)
    by_email = {row.email: row for row in planned}
    for row in planned:
        _check_enrolment(checker, row, by_email)
    plan.rows = planned
    plan.problems.sort(key=_problem_order)
    progress("checking", total, total)
    return plan


def _problem_order(problem: Problem) -> tuple[int, int]:
    return problem.row, COLUMNS.index(problem.column) if problem.column in COLUMNS else len(COLUMNS)


def _check_row(checker: _RowChecker, number: int, cells: list[str], first_row: dict[str, int]) -> PlannedRow | None:
    before = len(checker.problems)
    name = checker.cell(cells, "name")
    if not name:
        checker.problem(number, "name", "enter the person's name")
    elif len(name) > MAX_NAME:
        checker.problem(number, "name", f"a name can be at most {MAX_NAME} characters")
    email = checker.email(number, checker.cell(cells, "email"))
    if email is not None:
        if email in first_row:
            checker.problem(number, "email", f"{email} is also on row {first_row[email]}; each person once")
        else:
            first_row[email] = number
    roles = checker.roles(number, checker.cell(cells, "roles"))
    service = None
    if service_name := checker.cell(cells, "service"):
        service = checker.known.services.get(service_name.lower())
        if service is None:
            checker.problem(number, "service", f"“{service_name}” is not a service in vigtrain")
    row = PlannedRow(row=number, name=name, email=email or "", roles=roles, service=service)
    pathway_text = checker.cell(cells, "pathway")
    if pathway_text:
        row.version = checker.version(number, pathway_text, checker.cell(cells, "version"))
        row.supervisor_email = normalise_email(checker.cell(cells, "supervisor_email")) or None
        if cohort_name := checker.cell(cells, "cohort"):
            row.cohort = checker.known.cohorts.get(cohort_name.lower())
            if row.cohort is None:
                checker.problem(number, "cohort", f"“{cohort_name}” is not a cohort in vigtrain")
        if date_text := checker.cell(cells, "start_date"):
            row.start_date = parse_date(date_text)
            if row.start_date is None:
                checker.problem(
                    number, "start_date", f"“{date_text}” is not a date; write it like 2027-01-15 or 15/01/2027"
                )
            elif problem := start_date_problem(row.start_date, checker.today):
                checker.problem(number, "start_date", problem.lower().replace("the start date", "the date"))
        if Role.TRAINEE not in roles and roles:
            checker.problem(number, "roles", "an enrolment needs the trainee role; add “trainee”")
    else:
        for column in ENROLMENT_COLUMNS:
            if checker.cell(cells, column):
                checker.problem(number, column, "give the pathway too, or leave this empty")
    if email is not None:
        _compare_with_held(checker, row)
    return row if len(checker.problems) == before else None


def _compare_with_held(checker: _RowChecker, row: PlannedRow) -> None:
    existing = checker.known.people.get(row.email)
    if existing is None:
        row.outcome = Outcome.NEW_PERSON_ENROLLED if row.version else Outcome.NEW_PERSON
        return
    row.existing = existing
    if not existing.is_active_flag:
        checker.problem(
            row.row, "email", f"the account of {row.email} is turned off; turn it on first, or remove the row"
        )
        return
    if row.version is None or (existing.id, row.version.code) in checker.known.open_pathways:
        row.outcome = Outcome.ALREADY_PRESENT
    elif not existing.has_role(Role.TRAINEE):
        checker.problem(
            row.row, "roles", f"{row.email} already has an account without the trainee role; give them that role first"
        )
    else:
        row.outcome = Outcome.ENROLMENT_ADDED


def _check_enrolment(checker: _RowChecker, row: PlannedRow, by_email: dict[str, PlannedRow]) -> None:
    """The supervisor and cohort of an enrolment to be made (the file's other rows count as people)."""
    if row.version is None or row.outcome not in (Outcome.NEW_PERSON_ENROLLED, Outcome.ENROLMENT_ADDED):
        return
    if row.supervisor_email:
        if row.supervisor_email == row.email:
            checker.problem(row.row, "supervisor_email", "a trainee cannot be their own supervisor")
        elif (held := checker.known.people.get(row.supervisor_email)) is not None:
            row.supervisor = held
            if problem := supervisor_problem(held, row.existing.id if row.existing else None):
                checker.problem(row.row, "supervisor_email", f"{row.supervisor_email}: {problem.lower()}")
        elif (in_file := by_email.get(row.supervisor_email)) is not None:
            if Role.SUPERVISOR not in in_file.roles:
                checker.problem(
                    row.row,
                    "supervisor_email",
                    f"{row.supervisor_email} (row {in_file.row}) does not have the supervisor role",
                )
        else:
            checker.problem(
                row.row, "supervisor_email", f"nobody with the email {row.supervisor_email} is in vigtrain or this file"
            )
    if row.cohort is not None and row.cohort.pathway_version_id != row.version.id:
        checker.problem(row.row, "cohort", f"the cohort “{row.cohort.name}” is for {row.cohort.pathway_version.label}")


def _emails(sheet: Sheet) -> set[str]:
    """Every address in the email column (found as `check_sheet` finds it), lower-cased."""
    index = next((i for i, header in enumerate(sheet.headers) if _header_key(header) == "email"), None)
    if index is None:
        return set()
    return {normalise_email(cells[index]) for _, cells in sheet.rows if index < len(cells) and cells[index]}


def check_file(data: bytes, file_name: str, today: date, progress: Progress = _no_progress) -> Plan:
    """Read and check a file (`FileRefused` if it cannot be read at all); nothing is written."""
    sheet = read_sheet(data)
    return check_sheet(sheet, file_name, file_digest(data), today, progress)


# --- writing ------------------------------------------------------------------------------------


class ImportRefused(DomainError):
    """At least one row has a problem, so nothing was written; `plan` lists them all."""

    def __init__(self, plan: Plan) -> None:
        count = len(plan.problems)
        super().__init__(
            f"Nothing was imported: {count} problem{'s' if count != 1 else ''} in the file. Fix them and try again.",
            field="file",
        )
        self.plan = plan


def import_people(
    actor: User | None,
    data: bytes,
    file_name: str,
    today: date,
    progress: Progress = _no_progress,
) -> Plan:
    """Check the file again and write all of it, or raise `ImportRefused` having written nothing.

    `actor` None is the command line, which runs as the system like every other command.
    """
    if actor is not None and not can_import_people(actor):
        raise PermissionDenied("Only administrators import people")
    sheet = read_sheet(data)
    # Hold the people already held before reading what they have: an import running at the same
    # moment waits here until this one commits, then sees its enrolments (and adds none of them twice).
    queries.hold_people(_emails(sheet))
    plan = check_sheet(sheet, file_name, file_digest(data), today, progress)
    if not plan.ok:
        raise ImportRefused(plan)
    progress("writing", 0, len(plan.rows))
    # Written with one INSERT per table rather than an object per row: a whole intake holds the
    # database's write lock for a few seconds, not tens of them.
    ids = {row.email: row.existing.id for row in plan.rows if row.existing is not None}
    people = _insert_people([row for row in plan.rows if row.existing is None])
    ids.update({person["email"]: person["id"] for person in people})
    progress("writing", len(plan.rows) // 2, len(plan.rows))
    enrolling = [row for row in plan.rows if row.outcome in (Outcome.NEW_PERSON_ENROLLED, Outcome.ENROLMENT_ADDED)]
    enrolments = [
        EnrolmentRow(
            trainee_id=ids[row.email],
            version=row.version,
            supervisor_id=row.supervisor.id if row.supervisor else ids.get(row.supervisor_email or ""),
            service_id=row.service.id if row.service else (row.existing.service_id if row.existing else None),
            start_date=row.start_date or (row.cohort.starts_on if row.cohort is not None else today),
            cohort_id=row.cohort.id if row.cohort is not None else None,
        )
        for row in enrolling
    ]
    enrolment_ids = insert_enrolments(enrolments)
    send_emails(
        [
            invitation_message(
                person["email"],
                person["display_name"],
                public_url(
                    "accounts.accept_invitation", token=token_for(person["id"], person["security_stamp"], INVITATION)
                ),
            )
            for person in people
        ]
    )
    _audit(actor, plan, people, list(zip(enrolment_ids, enrolments, strict=True)))
    progress("writing", len(plan.rows), len(plan.rows))
    return plan


def _insert_people(rows: list[PlannedRow]) -> list[dict]:
    """New accounts, invited now, and their roles; returns each as written (with its id)."""
    if not rows:
        return []
    now = utcnow()
    people = [
        {
            "email": row.email,
            "display_name": row.name,
            "service_id": row.service.id if row.service else None,
            "invited_at": now,
            "created_at": now,
            "security_stamp": new_security_stamp(),
        }
        for row in rows
    ]
    table = User.__table__
    # RETURNING's order is not promised: each row comes back with the email it was written for.
    written = db.session.execute(insert(table).returning(table.c.email, table.c.id), people)
    ids = dict(written.all())  # .all(): dict() would read a Result as a mapping
    for person, row in zip(people, rows, strict=True):
        person["id"] = ids[person["email"]]
        person["roles"] = sorted(role.value for role in row.roles)
    db.session.execute(
        insert(UserRole.__table__),
        [{"user_id": person["id"], "role": role} for person in people for role in person["roles"]],
    )
    return people


def _audit(actor: User | None, plan: Plan, people: list[dict], enrolments: list[tuple[int, EnrolmentRow]]) -> None:
    audit.record_many(
        actor,
        "user.invited",
        [
            (("User", person["id"]), {"is_active_flag": True, **{key: person[key] for key in INVITED_FIELDS}})
            for person in people
        ],
    )
    audit.record_many(
        actor,
        "enrolment.created",
        [(("Enrolment", enrolment_id), enrolment_snapshot(row)) for enrolment_id, row in enrolments],
    )
    audit.record(
        actor,
        "import.people",
        ("PeopleImport", plan.digest[:16]),
        after={"file_name": plan.file_name, "sha256": plan.digest, "rows": len(plan.rows), **plan.counts},
    )
