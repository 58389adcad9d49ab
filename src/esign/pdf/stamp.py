"""Drawing text into a PDF: the values of a template's merge fields.

reportlab draws each page's values on a page of the displayed size; that page becomes a Form
XObject drawn over the original through the matrix that turns displayed coordinates into the
page's user space, so text stands upright whatever the page's /Rotate or box origin."""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import ExitStack
from functools import cache
from pathlib import Path

import pikepdf
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from esign.domain.model import PageSize
from esign.domain.ports import MergeStamp
from esign.pdf.geometry import displayed

# A TrueType font with wide coverage, embedded (subset) so that any name prints; Helvetica
# (Latin-1 only) when none is installed.
_FONTS = (
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
DEFAULT_SIZE = 10.0
MIN_SIZE = 4.0


@cache
def font_name() -> str:
    for path in _FONTS:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont("EsignStamp", path))
            return "EsignStamp"
    return "Helvetica"


def stamp_text(pdf: Path, stamps: Sequence[MergeStamp], out: Path) -> None:
    """Save to `out` the PDF `pdf` with each stamp's text drawn in its box (one line, shrunk
    to fit). File to file: qpdf reads and writes the document as it goes."""
    # qpdf copies foreign stream data when saving: the overlays stay open until then.
    with pikepdf.open(pdf) as doc, ExitStack() as overlays:
        by_page: dict[int, list[MergeStamp]] = {}
        for s in stamps:
            if 0 <= s.page_index < len(doc.pages):
                by_page.setdefault(s.page_index, []).append(s)
        for index, page_stamps in sorted(by_page.items()):
            page = doc.pages[index]
            overlay = overlays.enter_context(
                pikepdf.open(io.BytesIO(_overlay(displayed(page).size, page_stamps)))
            )
            _place(doc, page, overlay)
        doc.save(out)


def _place(doc: pikepdf.Pdf, page: pikepdf.Page, overlay: pikepdf.Pdf) -> None:
    view = displayed(page)
    form = doc.copy_foreign(overlay.pages[0].as_form_xobject())
    name = page.add_resource(form, pikepdf.Name.XObject, prefix="EsignStamp")
    # Wrap the original in q/Q: its content may leave the graphics state changed.
    page.contents_add(b"q\n", prepend=True)
    matrix = " ".join(f"{v:.4f}" for v in view.to_user())
    page.contents_add(f"Q\nq {matrix} cm {name} Do Q\n".encode(), prepend=False)


def _overlay(size: PageSize, stamps: list[MergeStamp]) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(size.width, size.height))
    font = font_name()
    for s in stamps:
        _draw(c, font, size, s)
    c.showPage()
    c.save()
    return buf.getvalue()


def _draw(c: canvas.Canvas, font: str, size: PageSize, s: MergeStamp) -> None:
    text = " ".join(s.text.split())
    box_w, box_h = s.width * size.width, s.height * size.height
    left, bottom = s.x * size.width, size.height - (s.y + s.height) * size.height
    font_size = s.font_size or min(DEFAULT_SIZE, box_h * 0.75)
    natural = pdfmetrics.stringWidth(text, font, font_size)
    if natural > box_w > 0:
        font_size = max(font_size * box_w / natural, MIN_SIZE)
    c.setFont(font, font_size)
    baseline = bottom + max((box_h - font_size) / 2, 0.0) + font_size * 0.2
    c.drawString(left + 1.0, baseline, text)
