"""Reading an import file (CSV or XLSX) into rows of text cells, each with its row number.

The file's type is decided by its bytes, never its name: a zip holding `xl/workbook.xml` is a
workbook, anything else must be text. Cells come back as they were written (formulas included, so the
checks can refuse them), dates from a workbook as ISO dates, whole numbers without ".0".
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from vigtrain import uploads
from vigtrain.errors import DomainError

XLSX = "xlsx"
CSV = "csv"
MAX_ROWS = 20_000
MAX_COLUMNS = 30
# Lines read at most, blank ones included: a file (a workbook's sheet can claim a million empty rows)
# is not read for ever in search of its rows of people.
MAX_LINES = 5 * MAX_ROWS
# What openpyxl raises on a damaged or crafted workbook, while opening it or reading its rows: a part
# that is not well-formed XML (ParseError is a SyntaxError), a value that is not what its type says, a
# part that is missing or points nowhere.
UNREADABLE_WORKBOOK = (
    InvalidFileException,
    zipfile.BadZipFile,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    SyntaxError,
    EOFError,
    OSError,
)
TOO_MANY_LINES = (
    f"The file has more than {MAX_LINES:,} lines; remove its empty lines and import at most {MAX_ROWS:,} rows"
)
WORKBOOK_REFUSED = "The workbook could not be read; save it again as .xlsx and try again"


class FileRefused(DomainError):
    """The file as a whole cannot be read; the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class Sheet:
    """The header row (as written) and each later row that is not blank, with its number in the file."""

    kind: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]


def file_kind(data: bytes) -> str:
    """XLSX or CSV, decided by the bytes (`uploads.detect_type`), never the file's name."""
    detected = uploads.detect_type(data)
    if detected == uploads.XLSX:
        return XLSX
    # Anything else that is a known binary kind, or holds a NUL anywhere (a NUL in a cell would reach
    # the database, and PostgreSQL refuses text holding one), is not a CSV file.
    if detected is not None or data.startswith(b"PK\x03\x04") or b"\x00" in data:
        raise FileRefused("The file must be a CSV file or an Excel workbook (.xlsx)")
    return CSV


def read_sheet(data: bytes) -> Sheet:
    """The file's rows; `FileRefused` when it is not a readable CSV or workbook, or is too big."""
    if not data:
        raise FileRefused("The selected file is empty")
    kind = file_kind(data)
    rows = _read_xlsx(data) if kind == XLSX else _read_csv(data)
    numbered = [(number, cells) for number, cells in rows if any(cell for cell in cells)]
    if not numbered or numbered[0][0] != 1:
        raise FileRefused("The first row must name the columns: name, email, roles and any optional ones")
    headers = numbered[0][1]
    if len(headers) > MAX_COLUMNS:
        raise FileRefused(f"The file has {len(headers)} columns; it can have at most {MAX_COLUMNS}")
    body = numbered[1:]
    if not body:
        raise FileRefused("The file has no rows of people under its column names")
    if len(body) > MAX_ROWS:
        raise FileRefused(f"The file has {len(body):,} rows; import at most {MAX_ROWS:,} at a time")
    return Sheet(kind=kind, headers=headers, rows=body)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # What Excel on Windows writes for "CSV (Comma delimited)".
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise FileRefused("Save the file as “CSV UTF-8” and try again") from None


def _read_csv(data: bytes) -> list[tuple[int, list[str]]]:
    text = _decode(data)
    rows: list[tuple[int, list[str]]] = []
    try:
        filled = 0
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number > MAX_LINES:
                raise FileRefused(TOO_MANY_LINES)
            rows.append((number, [cell.strip() for cell in cells]))
            # Blank lines do not count: a file within the limit is read whole, one over it stops here
            # (and `read_sheet` refuses it).
            filled += any(rows[-1][1])
            if filled > MAX_ROWS + 1:
                break
    except csv.Error as error:
        raise FileRefused(f"The file could not be read as CSV ({error}); check its quotes") from None
    return rows


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    # Array and data-table formulas come back as objects, not "=..." text: still formulas, so the
    # checks must see them start with "=" (their repr would pass for a name).
    if isinstance(value, ArrayFormula):
        return "=" + (value.text or "").lstrip("=")
    if isinstance(value, DataTableFormula):
        return "="
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        # Not data_only: a formula comes back as its text ("=..."), which the checks refuse.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except UNREADABLE_WORKBOOK:
        raise FileRefused(WORKBOOK_REFUSED) from None
    try:
        if not workbook.worksheets:
            raise FileRefused("The workbook has no sheet of rows (only charts); put the people on its first sheet")
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        filled = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), start=1):
            if number > MAX_LINES:
                raise FileRefused(TOO_MANY_LINES)
            cells = [_cell_text(value) for value in values]
            while cells and not cells[-1]:
                cells.pop()
            rows.append((number, cells))
            filled += any(cells)
            if filled > MAX_ROWS + 1:  # as in `_read_csv`
                break
        return rows
    except UNREADABLE_WORKBOOK:
        # The rows are read only now (read-only mode), so damage in a sheet shows here.
        raise FileRefused(WORKBOOK_REFUSED) from None
    finally:
        workbook.close()
