"""The supervision record as a PDF a trainee can put in a portfolio.

Drawn with reportlab from plain data (a SupervisionRecord) into a BytesIO: it knows nothing of
Flask or the database, so the web, the CLI and tests all make the same document.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle

from vigtrain.supervision.records import StageTotal, SupervisionRecord, format_hours

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
BLACK = colors.HexColor("#0b0c0c")
GREY = colors.HexColor("#505a5f")
RULE = colors.HexColor("#b1b4b6")
SHADE = colors.HexColor("#f3f2f1")
# Names are not all Latin-1 (Łukasz, Şükrü, Nguyễn): Helvetica would print boxes. DejaVu Sans (Debian's
# fonts-dejavu-core) covers them; Bitstream Vera, which ships inside reportlab, covers most of Europe.
FONT_FILES = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("Vera.ttf", "VeraBd.ttf"),
]


@cache
def fonts() -> tuple[str, str]:
    """The regular and bold font names to draw with, registered once per process."""
    for regular, bold in FONT_FILES:
        try:
            pdfmetrics.registerFont(TTFont("Record", regular))
            pdfmetrics.registerFont(TTFont("Record-Bold", bold))
        except (TTFError, OSError):
            continue
        pdfmetrics.registerFontFamily("Record", normal="Record", bold="Record-Bold")
        return "Record", "Record-Bold"
    return "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True)
class RecordStyles:
    """The paragraph styles vigtrain's A4 records share (the supervision record, the training transcript)."""

    regular: str  # the font name, for drawing on the canvas
    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    note: ParagraphStyle


def record_styles() -> RecordStyles:
    sheet = getSampleStyleSheet()
    regular, bold = fonts()
    body = ParagraphStyle("body", parent=sheet["BodyText"], fontName=regular, fontSize=9.5, leading=12, textColor=BLACK)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5)
    return RecordStyles(
        regular=regular,
        title=ParagraphStyle("title", parent=sheet["Title"], fontName=bold, fontSize=20, alignment=0, textColor=BLACK),
        heading=ParagraphStyle(
            "heading",
            parent=sheet["Heading2"],
            fontName=bold,
            fontSize=13,
            textColor=BLACK,
            spaceBefore=5 * mm,
            spaceAfter=2 * mm,
        ),
        body=body,
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=bold),
        note=ParagraphStyle("note", parent=body, fontSize=8.5, textColor=GREY),
    )


# A table's lines: a rule under the header row, a faint one under each row, a little padding.
TABLE_LINES = (
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LINEBELOW", (0, 0), (-1, 0), 1, BLACK),
    ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE),
    ("TOPPADDING", (0, 0), (-1, -1), 3),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
)


def a4_document(buffer: io.BytesIO, **info: Any) -> SimpleDocTemplate:
    """An A4 portrait document with the records' margins (room for the footer); `info`: title, author..."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        creator="vigtrain",
        **info,
    )


def _day(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else ""


class _NumberedCanvas(Canvas):
    """Holds every page until the end, so each footer can say 'Page 2 of 5'."""

    footer_text = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(fonts()[0], 8)
            self.setFillColor(GREY)
            self.drawString(MARGIN, 10 * mm, self.footer_text)
            self.drawRightString(A4[0] - MARGIN, 10 * mm, f"Page {number} of {total}")
            super().showPage()
        super().save()


class SupervisionRecordPDF:
    """A4 portrait: who, the totals per stage and per format, then every session and who confirmed it."""

    def __init__(self, record: SupervisionRecord) -> None:
        self.record = record
        styles = record_styles()
        self.title = ParagraphStyle("title", parent=styles.title, spaceAfter=4 * mm)
        self.heading, self.body, self.note = styles.heading, styles.body, styles.note
        self.cell, self.cell_bold = styles.cell, styles.cell_bold
        self.cell_right = ParagraphStyle("cell_right", parent=self.cell, alignment=TA_RIGHT)
        self.head_right = ParagraphStyle("head_right", parent=self.cell_bold, alignment=TA_RIGHT)

    @property
    def document_title(self) -> str:
        return f"Supervision record: {self.record.trainee}"

    def render(self) -> bytes:
        buffer = io.BytesIO()
        document = a4_document(
            buffer,
            title=self.document_title,
            author="vigtrain",
            subject=f"Supervision sessions and confirmed hours, {self.record.pathway}",
        )
        footer = f"{self.record.trainee} · supervision record generated on {_day(self.record.generated_on)}"
        canvas_class = type("RecordCanvas", (_NumberedCanvas,), {"footer_text": footer})
        document.build(self._story(), canvasmaker=canvas_class)
        return buffer.getvalue()

    # --- building blocks ---------------------------------------------------------------------------

    def _p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(escape(text), style or self.cell)

    def _header(self, texts: list[str], numeric: set[int]) -> list[Paragraph]:
        return [self._p(text, self.head_right if i in numeric else self.cell_bold) for i, text in enumerate(texts)]

    def _table(self, rows: list[list], widths: list[float]) -> Table:
        table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle(list(TABLE_LINES)))
        return table

    def _story(self) -> list:
        record = self.record
        story: list = [Paragraph("Supervision record", self.title)]
        story.append(self._facts())
        story.append(Paragraph("Confirmed supervision by stage", self.heading))
        story.append(self._stage_table())
        story.append(Paragraph("By format", self.heading))
        story.append(self._format_table())
        story.append(
            Paragraph(
                escape(
                    "Only sessions confirmed by the supervisor who led them count toward a stage. A session "
                    "counts in the stage that was current on its date. Sessions replaced by a correction are "
                    "listed but not counted."
                ),
                self.note,
            )
        )
        story.append(Paragraph(f"Sessions ({len(record.rows)})", self.heading))
        if record.rows:
            story.append(self._sessions_table())
        else:
            story.append(self._p("No sessions have been logged yet.", self.body))
        return story

    def _facts(self) -> Table:
        record = self.record
        supervisors = ", ".join(record.supervisors) or "None yet"
        rows = [
            ("Trainee", record.trainee),
            ("Training", record.pathway),
            ("Personal supervisor", record.personal_supervisor or "Not assigned"),
            ("Supervisors in this record", supervisors),
            ("Training started", _day(record.enrolment_start)),
            (
                "Confirmed in total",
                f"{format_hours(record.totals.confirmed_hours)} hours ({record.totals.confirmed_sessions} sessions)",
            ),
            ("Generated on", _day(record.generated_on)),
        ]
        table = Table(
            [[self._p(key, self.cell_bold), self._p(value)] for key, value in rows],
            colWidths=[50 * mm, WIDTH - 50 * mm],
            hAlign="LEFT",
        )
        table.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table

    def _target(self, total: StageTotal) -> str:
        if total.target_hours:
            return f"{format_hours(total.target_hours)} h"
        if total.target_sessions:
            return f"{int(total.target_sessions)} sessions"
        return "None set"

    def _window(self, total: StageTotal) -> str:
        if total.started_on is None:
            return ""
        if total.ended_on is None:
            return f"Since {_day(total.started_on)}"
        return f"{_day(total.started_on)} to {_day(total.ended_on)}"

    def _stage_table(self) -> KeepTogether:
        rows = [self._header(["Stage", "Dates", "Confirmed", "Target", "Sessions", "Awaiting"], {2, 3, 4, 5})]
        for total in self.record.totals.stages:
            rows.append(
                [
                    self._p(total.name),
                    self._p(self._window(total)),
                    self._p(f"{format_hours(total.confirmed_hours)} h", self.cell_right),
                    self._p(self._target(total), self.cell_right),
                    self._p(str(total.confirmed_sessions), self.cell_right),
                    self._p(f"{format_hours(total.awaiting_hours)} h", self.cell_right),
                ]
            )
        widths = [40 * mm, 46 * mm, 22 * mm, 22 * mm, 20 * mm, WIDTH - 150 * mm]
        return KeepTogether([self._table(rows, widths)])

    def _format_table(self) -> Table:
        rows = [self._header(["Format", "Sessions confirmed", "Hours confirmed", "Sessions awaiting"], {1, 2, 3})]
        for total in self.record.totals.formats:
            rows.append(
                [
                    self._p(total.label),
                    self._p(str(total.confirmed_sessions), self.cell_right),
                    self._p(f"{format_hours(total.confirmed_hours)} h", self.cell_right),
                    self._p(str(total.awaiting_sessions), self.cell_right),
                ]
            )
        return self._table(rows, [40 * mm, 40 * mm, 40 * mm, WIDTH - 120 * mm])

    def _sessions_table(self) -> Table:
        rows = [
            self._header(
                ["Date", "Minutes", "Format", "Mode", "Supervisor", "Film reviewed", "Status", "Confirmed"], {1}
            )
        ]
        for row in self.record.rows:
            session_format = row.format_label + (f" ({row.group_size})" if row.group_size else "")
            status = row.status_label + (" (correction)" if row.amends_id else "")
            if row.confirmed_by:
                confirmed = f"{_day(row.confirmed_on)} by {row.confirmed_by}" if row.confirmed_on else row.confirmed_by
            else:
                confirmed = ""
            when = _day(row.session_date) + (f"\n{row.start_time:%H:%M}" if row.start_time else "")
            rows.append(
                [
                    Paragraph(escape(when).replace("\n", "<br/>"), self.cell),
                    self._p(str(row.duration_minutes), self.cell_right),
                    self._p(session_format),
                    self._p(row.mode_label.replace(" (video call)", "")),
                    self._p(row.supervisor),
                    Paragraph(
                        "<br/>".join(
                            escape(f"{code}, filmed {_day(filmed)}" if filmed else f"{code}, cycle not named")
                            for code, filmed in row.reviewed
                        )
                        or "None recorded",
                        self.cell,
                    ),
                    self._p(status),
                    self._p(confirmed),
                ]
            )
        widths = [20 * mm, 17 * mm, 18 * mm, 17 * mm, 25 * mm, 30 * mm, 23 * mm, WIDTH - 150 * mm]
        table = self._table(rows, widths)
        table.setStyle(TableStyle([("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, SHADE])]))
        return table
