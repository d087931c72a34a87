"""QR codes as inline SVG (segno), so no image files or inline script are needed."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup


def qr_svg(data: str, title: str = "QR code") -> Markup:
    """An accessible SVG QR code for `data`."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, title=title, svgclass="app-qr__svg"
    )
    # segno writes the SVG itself and escapes the title; nothing user-supplied is raw markup.
    return Markup(buffer.getvalue().decode("utf-8"))  # noqa: S704
