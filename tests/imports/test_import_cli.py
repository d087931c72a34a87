"""`flask import people FILE [--dry-run]`: problems by row and column, exit 1 and nothing written."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.imports.files import broken_rows, csv_bytes, intake_rows, xlsx_bytes
from vigtrain.accounts.models import User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.pathways.models import Enrolment


def _counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, Enrolment, OutboxMessage))


def _run(app, tmp_path, data: bytes, *options: str, name: str = "intake.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["import", "people", str(path), *options])


def test_broken_rows_exit_1_and_name_each_problem(app, intake, tmp_path):
    before = _counts()
    for options in ((), ("--dry-run",)):
        result = _run(app, tmp_path, csv_bytes(broken_rows()), *options)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[:3] == [
            "row 5, column service: “Narnia Services” is not a service in vigtrain",
            "row 12, column supervisor_email: pat@example.org (row 23) does not have the supervisor role",
            "row 20, column name: starts with “=”, which spreadsheets run as a formula; remove it",
        ]
        assert "Nothing was imported: 3 problems in the file." in result.stderr
    assert _counts() == before


def test_a_dry_run_of_a_clean_file_writes_nothing_then_the_import_writes_once(app, intake, tmp_path):
    before = _counts()
    dry = _run(app, tmp_path, xlsx_bytes(intake_rows()), "--dry-run", name="intake.xlsx")
    assert dry.exit_code == 0, dry.output
    assert "new people 23, new enrolments 20, already present 0" in dry.output and "nothing was written" in dry.output
    assert _counts() == before
    done = _run(app, tmp_path, xlsx_bytes(intake_rows()), name="intake.xlsx")
    assert done.exit_code == 0, done.output
    assert tuple(a - b for a, b in zip(_counts(), before, strict=True)) == (23, 20, 23)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.people"))
    assert event.actor_label == "system" and event.after["file_name"] == "intake.xlsx"
    again = _run(app, tmp_path, xlsx_bytes(intake_rows()), name="intake.xlsx")
    assert again.exit_code == 0 and "already present 23" in again.output
    assert tuple(a - b for a, b in zip(_counts(), before, strict=True)) == (23, 20, 23)


def test_an_unreadable_file_exits_1(app, intake, tmp_path):
    result = _run(app, tmp_path, b"%PDF-1.7\x00\x01", name="people.pdf")
    assert result.exit_code == 1 and "The file must be a CSV file or an Excel workbook (.xlsx)" in result.output
