"""Reads the facts a session needs from a PDF (page count, page sizes as displayed) and refuses
bad files."""

from __future__ import annotations

import io
import re

import pikepdf

from esign.domain.ports import FileRefused, PdfFacts
from esign.pdf.geometry import page_sizes
from esign.pdf.sanitize import has_active_content


class PikePdfInspector:
    def __init__(self, max_pages: int = 500) -> None:
        self._max_pages = max_pages

    def inspect(self, data: bytes) -> PdfFacts:
        if not data:
            raise FileRefused("the file is empty")
        if not data.lstrip()[:5].startswith(b"%PDF-"):
            raise FileRefused("the file is not a PDF")
        try:
            with pikepdf.open(io.BytesIO(data)) as pdf:
                if pdf.is_encrypted:  # an owner password alone still encrypts (and restricts)
                    raise FileRefused("the PDF is encrypted")
                count = len(pdf.pages)
                if count == 0:
                    raise FileRefused("the PDF has no pages")
                if count > self._max_pages:
                    raise FileRefused(f"the PDF has {count} pages; the limit is {self._max_pages}")
                sizes = page_sizes(pdf)
                active = has_active_content(pdf)
        except pikepdf.PasswordError:
            raise FileRefused("the PDF is encrypted") from None
        except pikepdf.PdfError as exc:
            raise FileRefused(f"the PDF is damaged ({_short(exc)})") from None
        except (TypeError, ValueError, KeyError, AttributeError):  # a page box that is no box
            raise FileRefused("the PDF is damaged (a page has no usable size)") from None
        return PdfFacts(count, sizes[0].width, sizes[0].height, sizes, active)


def _short(exc: Exception) -> str:
    """The first line of qpdf's message, without the in-memory stream's repr."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"^(stream )?<_io\.BytesIO object at 0x[0-9a-f]+>:?\s*", "", text).strip()
    return text[:200] or "unreadable structure"
