"""A training transcript as a PDF: A4 portrait, tables that fit the page, a QR code to verify it.

Drawn with reportlab from plain data (TranscriptContents, read from the signed credential) into a
BytesIO; it knows nothing of Flask or the database. The document is `invariant`, so the same
transcript always gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from vigtrain.certificates.transcripts import EnrolmentLine, Rating, StageLine, TranscriptContents
from vigtrain.dates import format_date
from vigtrain.supervision.pdf import GREY, MARGIN, TABLE_LINES, WIDTH, a4_document, record_styles

QR_SIZE = 30 * mm


@dataclass(frozen=True)
class TranscriptDocument:
    """What the PDF prints: the transcript's contents and where to verify it."""

    contents: TranscriptContents
    holder_name: str  # as verifiers see it (erased holders are not named)
    issuer_name: str
    verify_url: str


class TranscriptPDF:
    """Who and when, then per enrolment its stages (dates, hours) and ratings, then the certificates."""

    def __init__(self, document: TranscriptDocument) -> None:
        self.document = document
        styles = record_styles()
        self.regular, self.title, self.heading, self.body = styles.regular, styles.title, styles.heading, styles.body
        self.cell, self.cell_bold, self.note = styles.cell, styles.cell_bold, styles.note
        self.subheading = ParagraphStyle("subheading", parent=self.heading, fontSize=10.5, spaceBefore=3 * mm)

    def render(self) -> bytes:
        data = self.document
        buffer = io.BytesIO()
        document = a4_document(
            buffer,
            title=f"Training transcript {data.contents.number}",
            author=data.issuer_name,
            subject=f"Training transcript {data.contents.number}, verify at {data.verify_url}",
            invariant=1,
        )
        document.build(self._story(), onFirstPage=self._footer, onLaterPages=self._footer)
        return buffer.getvalue()

    def _footer(self, canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(self.regular, 8)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 10 * mm, f"Training transcript {self.document.contents.number}")
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"Page {document.page}")
        canvas.restoreState()

    # --- building blocks ---------------------------------------------------------------------------

    def _p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style or self.cell)

    def _table(self, header: list[str], rows: list[list[str]], widths: list[float]) -> Table:
        cells = [[self._p(text, self.cell_bold) for text in header]]
        cells += [[self._p(text) for text in row] for row in rows]
        table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle(list(TABLE_LINES)))
        return table

    def _qr(self) -> Drawing:
        widget = QrCodeWidget(self.document.verify_url, barLevel="M")
        left, bottom, right, top = widget.getBounds()
        drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0])
        drawing.add(widget)
        return drawing

    def _heading_block(self) -> Table:
        data = self.document
        facts = [
            ("Holder", data.holder_name),
            ("Transcript number", data.contents.number),
            ("Issued on", format_date(data.contents.issued_on)),
            ("Issued by", data.issuer_name),
            ("Check it at", data.verify_url),
        ]
        rows = [[self._p(label, self.cell_bold), self._p(value)] for label, value in facts]
        table = Table(rows, colWidths=[34 * mm, WIDTH - 34 * mm - QR_SIZE - 6 * mm], hAlign="LEFT")
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        outer = Table([[table, self._qr()]], colWidths=[WIDTH - QR_SIZE - 2 * mm, QR_SIZE + 2 * mm])
        outer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        return outer

    @staticmethod
    def _dates(stage: StageLine) -> str:
        return "\n".join(f"{label}: {format_date(day)}" for label, day in stage.dated) or "None yet"

    @staticmethod
    def _rating(rating: Rating | None) -> str:
        return f"{rating.value} ({rating.label})" if rating else "Not rated"

    @staticmethod
    def _hours(stage: StageLine) -> str:
        if stage.hours is None:
            return "Not started"
        if not stage.shows_hours:
            return "None asked for"
        return f"{stage.hours} of {stage.target_hours}" if stage.target_hours else stage.hours

    def _enrolment(self, enrolment: EnrolmentLine) -> list:
        started = f"Enrolled {format_date(enrolment.started_on)}. " if enrolment.started_on else ""
        lead = f"{started}{enrolment.status}. Supervision confirmed in its stages: {enrolment.confirmed_hours} hours."
        if enrolment.continuing_hours is not None:
            lead += f" Since accreditation: {enrolment.continuing_hours} hours."
        rows = [[s.name, s.state, self._dates(s), self._hours(s)] for s in enrolment.stages]
        parts: list = [
            Paragraph(escape(enrolment.pathway), self.heading),
            self._p(lead, self.body),
            Spacer(1, 2 * mm),
            self._table(
                ["Stage", "Status", "Dates", "Supervision hours confirmed"],
                rows,
                [34 * mm, 34 * mm, WIDTH - 98 * mm, 30 * mm],
            ),
        ]
        ratings = [
            [stage.name, principle, self._rating(supervisor), self._rating(own)]
            for stage in enrolment.stages
            for principle, supervisor, own in stage.rating_rows
        ]
        if ratings:
            parts.append(Paragraph("Ratings against the attunement principles", self.subheading))
            parts.append(
                self._table(
                    ["Stage", "Principle", "Supervisor", "Self-assessment"],
                    ratings,
                    [34 * mm, 50 * mm, (WIDTH - 84 * mm) / 2, (WIDTH - 84 * mm) / 2],
                )
            )
        return parts

    def _story(self) -> list:
        contents = self.document.contents
        story: list = [Paragraph("Training transcript", self.title), self._heading_block()]
        for enrolment in contents.enrolments:
            story.extend(self._enrolment(enrolment))
        story.append(Paragraph("Certificates", self.heading))
        if contents.certificates:
            rows = [[c.number, c.kind, c.credential, c.status] for c in contents.certificates]
            story.append(
                KeepTogether(
                    self._table(
                        ["Number", "Kind", "Credential", "Status when issued"],
                        rows,
                        [34 * mm, 32 * mm, WIDTH - 100 * mm, 34 * mm],
                    )
                )
            )
        else:
            story.append(self._p("No certificates had been issued when this transcript was made.", self.body))
        story.append(Spacer(1, 4 * mm))
        story.append(
            self._p(
                "Only confirmed facts are recorded: supervision confirmed by the supervisor who led it, counted in "
                "the stage current on its date, and ratings once the stage was signed off. Nothing about clients "
                "or cases. This transcript is signed by AVIGuk; check it, and each certificate's status today, "
                f"at {self.document.verify_url}.",
                self.note,
            )
        )
        return story
