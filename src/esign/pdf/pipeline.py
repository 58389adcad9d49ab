"""The document processor: an upload in, the PDF signers see out.

    Word/Excel/RTF/ODT/text ─ check_office_file ─ [fill_docx] ─ OfficeConverter ─┐
    PNG/JPEG/TIFF ─ images_to_pdf ───────────────────────────────────────────────┤
    PDF ────────────────────────────────────────────────────────────────────┴─ sanitize_pdf_file
        ─ [scan_and_strip: anchor tags → fields, tag text removed] ─ [stamp merge values]

Anchor tags are looked for only in the final PDF (fonts change the layout of converted files),
and merge values are stamped after the tags are gone, so a value can never form a tag. Each
step reads a file and writes the next one; only office files and images are read whole."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pikepdf

from esign.domain.anchors import AnchorTag
from esign.domain.enums import FieldType
from esign.domain.model import PageSize
from esign.domain.ports import FileRefused, FoundField, PreparedDocument, PrepareRequest
from esign.pdf.anchors import AnchorScan, FoundTag, scan_and_strip
from esign.pdf.convert import OfficeConverter
from esign.pdf.docx_merge import fill_docx
from esign.pdf.geometry import check_page_areas, page_sizes
from esign.pdf.images import IMAGE_EXTENSIONS, images_to_pdf
from esign.pdf.sanitize import sanitize_pdf_file
from esign.pdf.stamp import stamp_text

ABANDONED_AFTER = 6 * 3600.0  # seconds: far longer than any preparation runs


def remove_abandoned_work(work_dir: Path, now: float | None = None) -> int:
    """Delete the temporary folders of preparations whose worker was killed mid-way (a
    finished one deletes its own). Returns how many went."""
    cutoff = (time.time() if now is None else now) - ABANDONED_AFTER
    removed = 0
    for folder in work_dir.glob("prepare-*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue  # another worker removed it first
    return removed


class PdfPipeline:
    """Works from file to file in a temporary directory under `work_dir` (the system's when
    None): qpdf and PDFium read a PDF as they need it and write as they go, so a 100 MB
    packet is never held whole in memory, let alone once per step."""

    def __init__(
        self, converter: OfficeConverter, max_pages: int = 500, work_dir: Path | None = None
    ) -> None:
        self._converter = converter
        self._max_pages = max_pages
        self._work_dir = work_dir
        if work_dir is not None:
            work_dir.mkdir(parents=True, exist_ok=True)
            remove_abandoned_work(work_dir)

    @contextmanager
    def prepare(self, request: PrepareRequest) -> Iterator[PreparedDocument]:
        with tempfile.TemporaryDirectory(prefix="prepare-", dir=self._work_dir) as tmp:
            yield self._prepare(request, Path(tmp))

    def _prepare(self, request: PrepareRequest, work: Path) -> PreparedDocument:
        pdf = self._to_pdf(request, work)
        clean = work / "sanitized.pdf"
        sanitize_pdf_file(pdf, clean)
        _drop(pdf, work)
        pdf = clean
        fields: tuple[FoundField, ...] = ()
        errors: tuple[str, ...] = ()
        if request.has_anchor_tags:
            pdf, fields, errors = _anchors(pdf, request, work / "tags-removed.pdf")
        if request.stamps:
            stamped = work / "stamped.pdf"
            stamp_text(pdf, request.stamps, stamped)
            _drop(pdf, work)
            pdf = stamped
        sizes = _sizes(pdf, self._max_pages)
        return PreparedDocument(pdf, len(sizes), sizes, fields, errors)

    def _to_pdf(self, request: PrepareRequest, work: Path) -> Path:
        """The upload as a PDF file: the source itself when it is one."""
        ext = request.extension.lower()
        if ext == ".pdf":
            return request.source
        data = request.source.read_bytes()  # office files and images: small, and parsed whole
        if ext in IMAGE_EXTENSIONS:
            pdf = images_to_pdf(data, ext, max_pages=self._max_pages)
        else:
            if ext == ".docx" and request.merge_values:
                data = fill_docx(data, request.merge_values)  # checks the file before parsing
            pdf = self._converter.to_pdf(data, ext)
        del data
        converted = work / "converted.pdf"
        converted.write_bytes(pdf)
        return converted


def _drop(pdf: Path, work: Path) -> None:
    """An intermediate file no longer needed (never the source, which is not in `work`)."""
    if pdf.parent == work:
        pdf.unlink(missing_ok=True)


def _anchors(
    pdf: Path, request: PrepareRequest, out: Path
) -> tuple[Path, tuple[FoundField, ...], tuple[str, ...]]:
    scan = scan_and_strip(
        pdf, request.anchor_open, request.anchor_close, request.space_char, out=out
    )
    if scan.errors:
        raise FileRefused("; ".join(scan.errors))
    assert isinstance(scan.pdf, Path)
    if scan.pdf != pdf:
        _drop(pdf, out.parent)
    return scan.pdf, tuple(_field(t) for t in scan.tags), _problems(scan)


def _field(tag: FoundTag) -> FoundField:
    parsed: AnchorTag = tag.parsed
    return FoundField(
        type=parsed.type,
        option=parsed.option,
        role=parsed.role,
        page_index=tag.page_index,
        x=tag.x,
        y=tag.y,
        width=tag.width,
        height=tag.height,
        font_size=parsed.font_size,
        items=_items(parsed),
    )


def _items(parsed: AnchorTag) -> tuple[str, ...]:
    """Dropdown items as written; a radio group's buttons as their numbers, 1..Count."""
    if parsed.type is FieldType.RADIO and parsed.radio_count:
        return tuple(str(n) for n in range(1, parsed.radio_count + 1))
    return tuple(parsed.items)


def _problems(scan: AnchorScan) -> tuple[str, ...]:
    malformed = [
        f'Page {m.page_index + 1}: malformed tag "{m.text}" ({m.reason})' for m in scan.malformed
    ]
    unremoved = [
        f'Page {u.page_index + 1}: tag "{u.text}" could not be removed ({u.reason})'
        for u in scan.unremoved
    ]
    return (*malformed, *unremoved)


def _sizes(pdf: Path, max_pages: int) -> tuple[PageSize, ...]:
    try:
        with pikepdf.open(pdf) as doc:
            sizes = page_sizes(doc)
    except (pikepdf.PdfError, RuntimeError, TypeError, ValueError, KeyError, AttributeError):
        raise FileRefused("the prepared PDF is damaged") from None
    if not sizes:
        raise FileRefused("the document has no pages")
    check_page_areas(sizes)
    if len(sizes) > max_pages:
        raise FileRefused(f"the document has {len(sizes)} pages; the limit is {max_pages}")
    return sizes
