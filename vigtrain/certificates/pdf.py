"""The certificate as a PDF: A4 landscape, drawn with reportlab from plain data into a BytesIO.

It knows nothing of Flask or the database (views, the CLI, the benchmark and tests all pass a
CertificateData). The canvas is `invariant`, so the same data always gives the same bytes: a
certificate downloaded today and regenerated in five years are identical files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from vigtrain.dates import format_date

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
INK = colors.HexColor("#0b0c0c")
ACCENT = colors.HexColor("#1d3f5e")
MUTED = colors.HexColor("#505a5f")
QR_MASK = 4

# Holders' names are not all Latin-1 (Łukasz, Şükrü, Nguyễn), so embed a font that covers them:
# DejaVu (widest coverage, Debian's fonts-dejavu-core), else Liberation (fonts-liberation), else
# reportlab's own Vera for the sans and the PDF standard Times for the serif (Latin-1 only).
LIBERATION = "/usr/share/fonts/truetype/liberation/Liberation"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVu"
SERIF_FILES = [
    (f"{DEJAVU}Serif.ttf", f"{DEJAVU}Serif-Bold.ttf", f"{DEJAVU}Serif-Italic.ttf"),
    (f"{LIBERATION}Serif-Regular.ttf", f"{LIBERATION}Serif-Bold.ttf", f"{LIBERATION}Serif-Italic.ttf"),
]
SANS_FILES = [
    (f"{DEJAVU}Sans.ttf", f"{DEJAVU}Sans-Bold.ttf", f"{DEJAVU}Sans-Oblique.ttf"),
    (f"{LIBERATION}Sans-Regular.ttf", f"{LIBERATION}Sans-Bold.ttf", f"{LIBERATION}Sans-Italic.ttf"),
    ("Vera.ttf", "VeraBd.ttf", "VeraIt.ttf"),
]


@dataclass(frozen=True)
class Fonts:
    serif: str
    serif_bold: str
    serif_italic: str
    sans: str
    sans_bold: str


def _register(candidates: list[tuple[str, str, str]], prefix: str) -> tuple[str, str, str] | None:
    """Register the first family whose three files load, as prefix, prefix-Bold and prefix-Italic."""
    names = (prefix, f"{prefix}-Bold", f"{prefix}-Italic")
    for files in candidates:
        try:
            fonts = [TTFont(name, path) for name, path in zip(names, files, strict=True)]
        except (TTFError, OSError):
            continue
        for font in fonts:
            pdfmetrics.registerFont(font)
        return names
    return None


@cache
def fonts() -> Fonts:
    """The fonts to draw with, registered once per process."""
    serif = _register(SERIF_FILES, "CertSerif") or ("Times-Roman", "Times-Bold", "Times-Italic")
    sans = _register(SANS_FILES, "CertSans") or ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique")
    return Fonts(serif[0], serif[1], serif[2], sans[0], sans[1])


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on a certificate, copied from the stored certificate and the settings."""

    number: str
    accreditation: bool  # False: a stage-completion certificate
    holder_name: str
    credential: str
    pathway_title: str
    pathway_version: str
    issued_on: date
    valid_until: date | None
    issuer_name: str
    signatory_name: str
    signatory_title: str
    verify_url: str


class CertificatePDF:
    """One certificate on one A4 landscape page: who, what, when, the number and a QR code to verify it."""

    def __init__(self, data: CertificateData) -> None:
        self.data = data
        self.fonts = fonts()

    @property
    def title(self) -> str:
        return f"{self.data.credential}: {self.data.holder_name}"

    def render(self) -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, pageCompression=1)
        canvas.setTitle(self.title)
        canvas.setAuthor(self.data.issuer_name)
        canvas.setSubject(f"{self._heading()} {self.data.number}, verify at {self.data.verify_url}")
        canvas.setCreator("vigtrain")
        canvas.setKeywords([self.data.number, self.data.credential, self.data.pathway_title])
        self._border(canvas)
        self._body(canvas)
        self._signature(canvas)
        self._facts(canvas)
        self._qr(canvas)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    # --- parts -------------------------------------------------------------------------------------

    def _heading(self) -> str:
        return "Certificate of Accreditation" if self.data.accreditation else "Certificate of Stage Completion"

    def _border(self, canvas: Canvas) -> None:
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(2.5)
        canvas.rect(22, 22, PAGE_WIDTH - 44, PAGE_HEIGHT - 44)
        canvas.setLineWidth(0.75)
        canvas.rect(30, 30, PAGE_WIDTH - 60, PAGE_HEIGHT - 60)

    @staticmethod
    def _size_to_fit(text: str, font: str, size: float, max_width: float) -> float:
        """Shrink the font size until the text fits on one line (long names stay on one line)."""
        while size > 6 and pdfmetrics.stringWidth(text, font, size) > max_width:
            size -= 0.5
        return size

    def _fitted(self, canvas: Canvas, text: str, font: str, size: float, y: float, max_width: float) -> None:
        """Centred on the page, shrunk to fit."""
        canvas.setFont(font, self._size_to_fit(text, font, size, max_width))
        canvas.drawCentredString(PAGE_WIDTH / 2, y, text)

    def _left(self, canvas: Canvas, text: str, font: str, size: float, x: float, y: float, max_width: float) -> None:
        canvas.setFont(font, self._size_to_fit(text, font, size, max_width))
        canvas.drawString(x, y, text)

    def _spaced(self, canvas: Canvas, text: str, font: str, size: float, y: float, spacing: float) -> None:
        """Letter-spaced capitals, centred: the issuer's name above the title."""
        width = pdfmetrics.stringWidth(text, font, size) + spacing * (len(text) - 1)
        canvas.saveState()
        words = canvas.beginText((PAGE_WIDTH - width) / 2, y)
        words.setFont(font, size)
        words.setCharSpace(spacing)
        words.textOut(text)
        canvas.drawText(words)
        canvas.restoreState()

    def _body(self, canvas: Canvas) -> None:
        data, f = self.data, self.fonts
        usable = PAGE_WIDTH - 160
        canvas.setFillColor(MUTED)
        self._spaced(canvas, data.issuer_name.upper(), f.sans, 9.5, PAGE_HEIGHT - 78, 1.6)
        canvas.setFillColor(ACCENT)
        self._fitted(canvas, self._heading(), f.serif_bold, 34, PAGE_HEIGHT - 132, usable)
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(0.75)
        canvas.line(PAGE_WIDTH / 2 - 70, PAGE_HEIGHT - 154, PAGE_WIDTH / 2 + 70, PAGE_HEIGHT - 154)
        canvas.setFillColor(INK)
        self._fitted(canvas, "This is to certify that", f.serif_italic, 15, PAGE_HEIGHT - 200, usable)
        self._fitted(canvas, data.holder_name, f.serif_bold, 32, PAGE_HEIGHT - 252, usable)
        pathway = f"the {data.pathway_title} pathway (version {data.pathway_version})"
        if data.accreditation:
            article = "an" if data.credential[:1].upper() in "AEIOU" else "a"
            lead = f"has met the requirements of {pathway} and is {article}"
        else:
            lead = "has completed"
        self._fitted(canvas, lead, f.serif_italic, 14, PAGE_HEIGHT - 296, usable)
        canvas.setFillColor(ACCENT)
        self._fitted(canvas, data.credential, f.serif_bold, 22, PAGE_HEIGHT - 332, usable)
        if not data.accreditation:
            canvas.setFillColor(MUTED)
            self._fitted(
                canvas,
                "This certificate marks the completion of one stage of training. It is not an accreditation.",
                f.sans,
                10,
                PAGE_HEIGHT - 358,
                usable,
            )

    def _signature(self, canvas: Canvas) -> None:
        data, f = self.data, self.fonts
        left, y = 70, 128
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(0.6)
        canvas.line(left, y, left + 230, y)
        width = PAGE_WIDTH / 2 - 40 - left
        canvas.setFillColor(INK)
        self._left(canvas, data.signatory_name, f.sans_bold, 10.5, left, y - 15, width)
        canvas.setFillColor(MUTED)
        self._left(canvas, data.signatory_title, f.sans, 8.5, left, y - 28, width)
        self._left(canvas, f"Issued by {data.issuer_name}", f.sans, 8.5, left, y - 41, width)

    def _facts(self, canvas: Canvas) -> None:
        data, f = self.data, self.fonts
        until = format_date(data.valid_until) if data.valid_until else "Does not expire"
        rows = [("Certificate number", data.number), ("Issued on", format_date(data.issued_on))]
        rows.append(("Valid until", until))
        x, y = PAGE_WIDTH / 2 + 20, 140
        for label, value in rows:
            canvas.setFillColor(MUTED)
            canvas.setFont(f.sans, 8.5)
            canvas.drawRightString(x - 8, y, label)
            canvas.setFillColor(INK)
            canvas.setFont(f.sans_bold, 10.5)
            canvas.drawString(x, y, value)
            y -= 19

    def _qr(self, canvas: Canvas) -> None:
        """The QR code as one filled path of its dark runs, drawn in module units (small, sharp, fast).

        The mask is fixed rather than searched for: any mask is a valid code, and the search would
        be half the cost of the whole certificate.
        """
        size, right, bottom = 84.0, PAGE_WIDTH - 62, 74
        matrix = segno.make(self.data.verify_url, error="m", mask=QR_MASK, micro=False).matrix
        modules = len(matrix)
        left = right - size
        canvas.saveState()
        canvas.translate(left, bottom)
        canvas.scale(size / modules, size / modules)
        path = canvas.beginPath()
        for row_index, row in enumerate(matrix):
            y = modules - row_index - 1
            column = 0
            while column < modules:
                if row[column]:
                    start = column
                    while column < modules and row[column]:
                        column += 1
                    path.rect(start, y, column - start, 1)
                else:
                    column += 1
        canvas.setFillColor(INK)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.restoreState()
        canvas.setFillColor(MUTED)
        canvas.setFont(self.fonts.sans, 7.5)
        canvas.drawCentredString(left + size / 2, bottom - 12, "Scan to check this certificate")
        canvas.drawRightString(right, bottom - 23, self.data.verify_url)
