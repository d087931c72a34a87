"""The import's rules, straight through the service: every problem named, all or nothing, idempotent."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.imports.conftest import TODAY
from tests.imports.files import broken_rows, csv_bytes, intake_rows, xlsx_bytes
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.imports.reading import FileRefused
from vigtrain.imports.services import ImportRefused, Outcome, check_file, import_people
from vigtrain.notifications.models import OutboxMessage
from vigtrain.pathways.models import Enrolment
from vigtrain.transactions import run


def _counts() -> tuple[int, int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Enrolment, OutboxMessage, AuditEvent)
    )


def _import(admin, data: bytes, name: str = "intake.csv"):
    return run(lambda: import_people(admin, data, name, TODAY))


@pytest.mark.parametrize("make_file", [csv_bytes, xlsx_bytes], ids=["csv", "xlsx"])
def test_three_broken_rows_write_nothing_then_the_corrected_file_imports_23_and_again_none(intake, make_file):
    before = _counts()
    with pytest.raises(ImportRefused) as refused:
        _import(intake, make_file(broken_rows()))
    assert [str(problem) for problem in refused.value.plan.problems] == [
        "row 5, column service: “Narnia Services” is not a service in vigtrain",
        "row 12, column supervisor_email: pat@example.org (row 23) does not have the supervisor role",
        "row 20, column name: starts with “=”, which spreadsheets run as a formula; remove it",
    ]
    assert _counts() == before

    plan = _import(intake, make_file(intake_rows()))
    assert plan.counts == {"new person": 3, "new person, enrolled": 20, "enrolment added": 0, "already present": 0}
    people, enrolments, emails, _ = _counts()
    assert (people - before[0], enrolments - before[1], emails - before[2]) == (23, 20, 23)
    quinn = db.session.scalar(select(User).where(User.email == "quinn@example.org"))
    assert quinn.roles == {Role.PRACTITIONER} and quinn.invited_at is not None and not quinn.has_password
    trainee = db.session.scalar(select(User).where(User.email == "trainee12@example.org"))
    (enrolment,) = db.session.scalars(select(Enrolment).where(Enrolment.trainee_id == trainee.id))
    assert (enrolment.supervisor.email, enrolment.service.name, str(enrolment.start_date)) == (
        "held.supervisor@example.org",
        "Leeds Children's Services",
        "2027-01-11",
    )
    assert enrolment.stages[0].started_on == enrolment.start_date and enrolment.stages[0].is_current
    first = db.session.scalar(
        select(Enrolment).join(User, Enrolment.trainee).where(User.email == "trainee01@example.org")
    )
    assert first.supervisor.email == "sian.supervisor@example.org" and first.cohort_id is not None
    run_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.people"))
    assert run_event.after["sha256"] == plan.digest and run_event.after["new person, enrolled"] == 20

    after_first = _counts()
    again = _import(intake, make_file(intake_rows()))
    assert again.counts == {"new person": 0, "new person, enrolled": 0, "enrolment added": 0, "already present": 23}
    assert {row.outcome for row in again.rows} == {Outcome.ALREADY_PRESENT}
    assert _counts()[:3] == after_first[:3]


def test_an_existing_trainee_without_an_enrolment_gets_one_and_nothing_else(intake):
    from tests.factories import make_user

    make_user("trainee03@example.org", roles=(Role.TRAINEE,), name="Already Here")
    plan = _import(intake, csv_bytes(intake_rows()))
    row = next(row for row in plan.rows if row.email == "trainee03@example.org")
    assert row.outcome is Outcome.ENROLMENT_ADDED
    person = db.session.scalar(select(User).where(User.email == "trainee03@example.org"))
    assert person.display_name == "Already Here"
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == person.email)
        )
        == 0
    )


def _problems(rows, headers=None) -> list[str]:
    from tests.imports.files import HEADERS

    plan = check_file(csv_bytes(rows, headers or HEADERS), "f.csv", TODAY)
    return [str(problem) for problem in plan.problems]


ROW = ["Ann Trainee", "ann@example.org", "trainee", "", "vig-practitioner", "", "", "", "2027-01-11"]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("name", "", "row 2, column name: enter the person's name"),
        (
            "email",
            "ann-at-example",
            "row 2, column email: “ann-at-example” is not an email address, like name@example.org",
        ),
        (
            "roles",
            "trainee; wizard",
            "row 2, column roles: “wizard” is not a role; use practitioner, trainee, supervisor, "
            "accrediting_supervisor, service_lead, separated by “;”",
        ),
        (
            "roles",
            "administrator; trainee",
            "row 2, column roles: administrators are appointed one at a time from the people page, not imported",
        ),
        ("roles", "supervisor", "row 2, column roles: an enrolment needs the trainee role; add “trainee”"),
        ("service", "Nowhere", "row 2, column service: “Nowhere” is not a service in vigtrain"),
        ("pathway", "basket-weaving", "row 2, column pathway: “basket-weaving” is not a pathway loaded in vigtrain"),
        (
            "version",
            "1999.1",
            "row 2, column version: version “1999.1” of VIG Practitioner is not loaded (loaded: 2015.1, 2024.1)",
        ),
        (
            "supervisor_email",
            "ann@example.org",
            "row 2, column supervisor_email: a trainee cannot be their own supervisor",
        ),
        (
            "supervisor_email",
            "nobody@example.org",
            "row 2, column supervisor_email: nobody with the email nobody@example.org is in vigtrain or this file",
        ),
        ("cohort", "No Such Intake", "row 2, column cohort: “No Such Intake” is not a cohort in vigtrain"),
        (
            "start_date",
            "31/02/2027",
            "row 2, column start_date: “31/02/2027” is not a date; write it like 2027-01-15 or 15/01/2027",
        ),
        ("start_date", "2029-01-01", "row 2, column start_date: the date must be within the next year"),
        (
            "email",
            "+44 7700 900123",
            "row 2, column email: starts with “+”, which spreadsheets run as a formula; remove it",
        ),
        (
            "service",
            "@SUM(A1)",
            "row 2, column service: starts with “@”, which spreadsheets run as a formula; remove it",
        ),
        ("name", "-Ann", "row 2, column name: starts with “-”, which spreadsheets run as a formula; remove it"),
    ],
)
def test_each_problem_is_named_by_row_and_column(intake, column, value, message):
    from tests.imports.files import HEADERS

    row = list(ROW)
    row[HEADERS.index(column)] = value
    assert _problems([row]) == [message]


def test_the_same_email_twice_and_enrolment_columns_without_a_pathway(intake):
    rows = [ROW, ["Ann Again", "ANN@example.org", "trainee", "", "", "", "", "Intake 2027", ""]]
    assert _problems(rows) == [
        "row 3, column email: ann@example.org is also on row 2; each person once",
        "row 3, column cohort: give the pathway too, or leave this empty",
    ]


def test_a_held_supervisor_without_the_role_a_cohort_on_another_version_and_a_turned_off_account(intake):
    from tests.factories import make_user

    make_user("plain@example.org", roles=(Role.TRAINEE,))
    make_user("off@example.org", roles=(Role.TRAINEE,), is_active_flag=False)
    rows = [
        ["Ann", "ann@example.org", "trainee", "", "vig-practitioner", "2015.1", "plain@example.org", "Intake 2027", ""],
        ["Off", "off@example.org", "trainee", "", "", "", "", "", ""],
    ]
    assert _problems(rows) == [
        "row 2, column supervisor_email: plain@example.org: the personal supervisor must hold the supervisor role",
        "row 2, column cohort: the cohort “Intake 2027” is for VIG Practitioner (version 2024.1)",
        "row 3, column email: the account of off@example.org is turned off; turn it on first, or remove the row",
    ]


def test_columns_are_checked_before_rows(intake):
    assert _problems([["Ann", "ann@example.org"]], headers=["name", "e-mail address"]) == [
        "row 1, column e-mail address: “e-mail address” is not a column this import knows; see the template",
        "row 1, column email: the file needs a column named “email”",
        "row 1, column roles: the file needs a column named “roles”",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The selected file is empty"),
        (b"%PDF-1.7 not a sheet\x00\x01", "The file must be a CSV file or an Excel workbook (.xlsx)"),
        (b"PK\x03\x04 broken zip", "The file must be a CSV file or an Excel workbook (.xlsx)"),
        (b"name,email,roles\n", "The file has no rows of people under its column names"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(intake, data, message):
    with pytest.raises(FileRefused, match=re.escape(message)):
        check_file(data, "f.csv", TODAY)


def test_a_failure_part_way_through_writing_leaves_the_database_as_before(intake, monkeypatch):
    import vigtrain.imports.services as services

    before = _counts()

    def fail(*args, **kwargs):
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(services, "_audit", fail)
    with pytest.raises(RuntimeError):
        _import(intake, csv_bytes(intake_rows()))
    assert _counts() == before
