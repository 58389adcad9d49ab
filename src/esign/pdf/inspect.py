"""Reads the facts a session needs from a PDF (page count, page sizes as displayed) and refuses
bad files."""

from __future__ import annotations

import io
import os
import re
from typing import BinaryIO

import pikepdf

from esign.domain.ports import FileRefused, PdfFacts
from esign.pdf.geometry import check_page_areas, page_sizes
from esign.pdf.sanitize import has_active_content


class PikePdfInspector:
    def __init__(self, max_pages: int = 500) -> None:
        self._max_pages = max_pages

    def inspect(self, data: bytes) -> PdfFacts:
        if not data:
            raise FileRefused("the file is empty")
        if not data.lstrip()[:5].startswith(b"%PDF-"):
            raise FileRefused("the file is not a PDF")
        source, mode = _source(data)
        try:
            # Inherited page attributes are read through the page tree where needed
            # (geometry.displayed); copying them onto every page first is work for nothing.
            with (
                source,
                pikepdf.open(source, access_mode=mode, inherit_page_attributes=False) as pdf,
            ):
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
        # (qpdf raises RuntimeErrors too: "/Count is wrong after flattening pages tree")
        except (pikepdf.PdfError, RuntimeError) as exc:
            raise FileRefused(f"the PDF is damaged ({_short(exc)})") from None
        except (TypeError, ValueError, KeyError, AttributeError):  # a page box that is no box
            raise FileRefused("the PDF is damaged (a page has no usable size)") from None
        check_page_areas(sizes)
        return PdfFacts(count, sizes[0].width, sizes[0].height, sizes, active)


# qpdf reads an io.BytesIO through a Python callback per read: hundreds a page, each taking
# and dropping the GIL, which under load hands it to another thread every time. From an
# in-memory file qpdf reads a memory map and needs Python for none of it (Linux: memfd).
# The file is a copy: above _MEMFD_MAX the memory counts more than the callbacks.
_MEMFD = hasattr(os, "memfd_create")
_MEMFD_MAX = 16 * 1024 * 1024


def _source(data: bytes) -> tuple[BinaryIO, pikepdf.AccessMode]:
    """What qpdf reads `data` from, and how."""
    if _MEMFD and len(data) <= _MEMFD_MAX:
        try:
            return _memory_file(data), pikepdf.AccessMode.mmap_only
        except OSError:  # no memfd here (a sandbox) or no memory for it: read the bytes
            pass
    return io.BytesIO(data), pikepdf.AccessMode.default


def _memory_file(data: bytes) -> BinaryIO:
    fd = os.memfd_create("esign-pdf", os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        raise
    return open(fd, "rb", buffering=0)


def _short(exc: Exception) -> str:
    """The first line of qpdf's message, without the in-memory file's repr."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"^(stream )?<_io\.\w+\b[^>]*>:?\s*", "", text).strip()
    return text[:200] or "unreadable structure"
