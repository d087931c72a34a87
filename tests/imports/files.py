"""Import files for the tests: an intake of 23 people, and the same with three rows broken."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

HEADERS = ["name", "email", "roles", "service", "pathway", "version", "supervisor_email", "cohort", "start_date"]
SERVICE = "Leeds Children's Services"
SUPERVISOR = "sian.supervisor@example.org"


def intake_rows() -> list[list[str]]:
    """23 people: a new supervisor, 20 trainees on the current VIG pathway (some with the supervisor in
    the file, some with one already held), and two accredited practitioners with no enrolment."""
    rows = [["Sian Supervisor", SUPERVISOR, "supervisor; accrediting supervisor", SERVICE, "", "", "", "", ""]]
    for number in range(1, 21):
        supervisor = SUPERVISOR if number % 2 else "held.supervisor@example.org"
        rows.append(
            [
                f"Trainee {number:02d}",
                f"trainee{number:02d}@example.org",
                "trainee",
                SERVICE,
                "vig-practitioner",
                "2024.1" if number % 3 else "",
                supervisor,
                "Intake 2027" if number <= 10 else "",
                "2027-01-11" if number % 4 else "11/01/2027",
            ]
        )
    rows.append(["Pat Practitioner", "pat@example.org", "Accredited practitioner", SERVICE, "", "", "", "", ""])
    rows.append(["Quinn Practitioner", "QUINN@Example.org", "practitioner", "", "", "", "", "", ""])
    return rows


def broken_rows() -> list[list[str]]:
    """The intake with three rows broken, one problem each (rows 5, 12 and 20 of the file)."""
    rows = intake_rows()
    rows[3][3] = "Narnia Services"  # row 5: unknown service
    rows[10][6] = "pat@example.org"  # row 12: a supervisor without the supervisor role
    rows[18][0] = '=HYPERLINK("http://evil.example")'  # row 20: a formula
    return rows


def csv_bytes(rows: list[list[str]], headers: list[str] = HEADERS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[str]], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
