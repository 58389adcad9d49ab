"""Page images for the sender and signer pages: PDFium renders, Pillow writes the PNG."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from esign.domain.ports import FileRefused
from esign.pdf.pdfium_lock import PDFIUM_LOCK

MAX_HEIGHT = 6000  # pixels: a page far taller than wide is drawn narrower, not enormous


class PdfiumPageRenderer:
    def render(self, pdf: Path, page_index: int, width: int) -> bytes:
        try:
            with PDFIUM_LOCK:
                image = _draw(pdf, page_index, width)
        except (pdfium.PdfiumError, IndexError, ValueError) as exc:
            raise FileRefused(f"page {page_index + 1} could not be drawn ({exc})") from None
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        return out.getvalue()


def _draw(pdf: Path, page_index: int, width: int) -> Image.Image:
    document = pdfium.PdfDocument(pdf)  # from the file: PDFium reads only what the page needs
    try:
        document.init_forms()  # draw form fields' appearances as viewers do
        page = document[page_index]
        try:
            page_width, page_height = page.get_size()  # as displayed: /Rotate applied
            if not (page_width > 0 and page_height > 0):  # a crop box outside the media box
                raise ValueError("the page has no visible area")
            scale = min(width / page_width, MAX_HEIGHT / page_height)
            bitmap = page.render(scale=scale, may_draw_forms=True)
            image: Image.Image = bitmap.to_pil()
            return image
        finally:
            page.close()
    finally:
        document.close()
