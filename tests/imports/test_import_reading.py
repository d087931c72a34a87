"""Crafted files are refused as a whole, with a message beside the field, never a server error."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart
from openpyxl.worksheet.formula import ArrayFormula

from tests.imports.files import csv_bytes, intake_rows, xlsx_bytes
from vigtrain.imports.reading import MAX_LINES, MAX_ROWS, FileRefused, read_sheet


def _rewritten(data: bytes, member: str, change) -> bytes:
    """The workbook with one of its parts replaced by `change(part)`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            target.writestr(item, change(part) if item.filename == member else part)
    return out.getvalue()


def _charts_only() -> bytes:
    book = Workbook()
    chart_sheet = book.create_chartsheet()
    chart_sheet.add_chart(BarChart())
    book.remove(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = xlsx_bytes(intake_rows()[:2])
# A row with a number in it (a workbook writes numbers as <v>...</v>, text inline).
NUMBERED = xlsx_bytes([[*intake_rows()[1][:8], 12345]])


@pytest.mark.parametrize(
    "data",
    [
        _charts_only(),
        _rewritten(GOOD, "xl/worksheets/sheet1.xml", lambda part: part[: len(part) // 2]),
        _rewritten(GOOD, "xl/workbook.xml", lambda part: b"<workbook"),
        _rewritten(GOOD, "xl/styles.xml", lambda part: b"<styleSheet"),
        _rewritten(NUMBERED, "xl/worksheets/sheet1.xml", lambda part: part.replace(b"<v>", b"<v>x", 1)),
    ],
    ids=["only-a-chart-sheet", "cut-short-sheet", "broken-workbook-part", "broken-styles", "number-not-a-number"],
)
def test_a_damaged_or_chart_only_workbook_is_refused(data):
    with pytest.raises(FileRefused) as refused:
        read_sheet(data)
    assert refused.value.field == "file"


def test_a_nul_anywhere_in_a_csv_file_is_refused():
    # A NUL past the first few kilobytes would reach the database, which PostgreSQL refuses outright.
    rows = [row for _ in range(20) for row in intake_rows()]
    rows[-1][0] = "Nul\x00Name"
    data = csv_bytes(rows)
    assert data.index(b"\x00") > 4096
    with pytest.raises(FileRefused, match="CSV file or an Excel workbook"):
        read_sheet(data)


def _people(count: int) -> list[list[str]]:
    return [[f"Person {number}", f"person{number}@example.org", "trainee"] for number in range(1, count + 1)]


def test_blank_lines_do_not_count_towards_the_row_limit():
    rows = _people(MAX_ROWS)
    rows.insert(100, [])
    sheet = read_sheet(csv_bytes(rows, headers=["name", "email", "roles"]))
    assert len(sheet.rows) == MAX_ROWS
    assert sheet.rows[-1] == (MAX_ROWS + 2, [f"Person {MAX_ROWS}", f"person{MAX_ROWS}@example.org", "trainee"])


def test_one_row_over_the_limit_is_refused():
    with pytest.raises(FileRefused, match="import at most 20,000"):
        read_sheet(csv_bytes(_people(MAX_ROWS + 1), headers=["name", "email", "roles"]))


def test_a_file_of_endless_blank_lines_is_refused():
    data = b"name,email,roles\n" + b",,\n" * MAX_LINES + b"Late Person,late@example.org,trainee\n"
    with pytest.raises(FileRefused, match="empty lines"):
        read_sheet(data)


def test_an_array_formula_is_read_as_a_formula_so_its_row_is_refused():
    book = Workbook()
    sheet = book.active
    sheet.append(["name", "email", "roles"])
    sheet.append(["", "arra@example.org", "trainee"])
    sheet["A2"] = ArrayFormula("A2:A2", '=HYPERLINK("http://evil.example")')
    out = io.BytesIO()
    book.save(out)
    ((_, cells),) = read_sheet(out.getvalue()).rows
    assert cells[0] == '=HYPERLINK("http://evil.example")'
