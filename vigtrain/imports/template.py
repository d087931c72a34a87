"""The downloadable template: the columns, an example row, and (in the workbook) a sheet explaining each."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from vigtrain.imports.services import COLUMNS, REQUIRED

EXAMPLE = {
    "name": "Alex Example",
    "email": "alex.example@example.org",
    "roles": "trainee",
    "service": "",
    "pathway": "vig-practitioner",
    "version": "",
    "supervisor_email": "",
    "cohort": "",
    "start_date": "2027-01-11",
}

# What each column holds, in the words the explanation sheet and the import page use.
EXPLANATIONS = {
    "name": "The person's full name, as it should appear on their certificates.",
    "email": "Their work email address. Each person once; an address vigtrain already holds is left as it is.",
    "roles": (
        "One or more of: trainee, supervisor, accrediting_supervisor, practitioner (accredited), service_lead, "
        "separated by a semicolon. Administrators are appointed one at a time, not imported."
    ),
    "service": "The service they work for, exactly as it is named in vigtrain. Leave empty if none.",
    "pathway": (
        "To enrol them, the pathway's code (such as vig-practitioner) or its name. Leave empty for no enrolment."
    ),
    "version": "The pathway version, such as 2024.1. Leave empty for the newest version loaded.",
    "supervisor_email": (
        "Their personal supervisor's email: someone in vigtrain, or on another row of the file, with the "
        "supervisor role."
    ),
    "cohort": "The cohort (course intake) to join, exactly as it is named in vigtrain. It must be on the same version.",
    "start_date": (
        "When their training starts: 2027-01-15 or 15/01/2027. Leave empty for the cohort's start, or else today."
    ),
}


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE[column] for column in COLUMNS])
    # A byte order mark, so spreadsheet programs open it as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def explanation_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["column", "required", "what to put in it"])
    for column in COLUMNS:
        writer.writerow([column, "yes" if column in REQUIRED else "no", EXPLANATIONS[column]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    book = Workbook()
    people = book.active
    people.title = "People"
    people.append(list(COLUMNS))
    people.append([EXAMPLE[column] for column in COLUMNS])
    for cell in people[1]:
        cell.font = Font(bold=True)
    for column in people.columns:
        people.column_dimensions[column[0].column_letter].width = 24
    # Typed dates stay text, so "15/01/2027" is not turned into an American date by the spreadsheet.
    for row in people.iter_rows(min_row=2, max_row=1000, min_col=COLUMNS.index("start_date") + 1):
        for cell in row:
            cell.number_format = "@"
    notes = book.create_sheet("Columns")
    notes.append(["column", "required", "what to put in it"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        notes.append([column, "yes" if column in REQUIRED else "no", EXPLANATIONS[column]])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["C"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
