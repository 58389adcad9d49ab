"""The document processor: an upload in, the PDF signers see out.

    Word/Excel/RTF/ODT/text ─ check_office_file ─ [fill_docx] ─ OfficeConverter ─┐
    PNG/JPEG/TIFF ─ images_to_pdf ───────────────────────────────────────────────┤
    PDF ─────────────────────────────────────────────────────────────────────────┴─ sanitize_pdf
        ─ [scan_and_strip: anchor tags → fields, tag text removed] ─ [stamp merge values]

Anchor tags are looked for only in the final PDF (fonts change the layout of converted files),
and merge values are stamped after the tags are gone, so a value can never form a tag."""

from __future__ import annotations

import io

import pikepdf

from esign.domain.anchors import AnchorTag
from esign.domain.enums import FieldType
from esign.domain.model import PageSize
from esign.domain.ports import FileRefused, FoundField, PreparedDocument, PrepareRequest
from esign.pdf.anchors import AnchorScan, FoundTag, scan_and_strip
from esign.pdf.convert import IMAGE_EXTENSIONS, OfficeConverter, images_to_pdf
from esign.pdf.docx_merge import fill_docx
from esign.pdf.geometry import page_sizes
from esign.pdf.sanitize import sanitize_pdf
from esign.pdf.stamp import stamp_text


class PdfPipeline:
    def __init__(self, converter: OfficeConverter, max_pages: int = 500) -> None:
        self._converter = converter
        self._max_pages = max_pages

    def prepare(self, request: PrepareRequest) -> PreparedDocument:
        pdf = sanitize_pdf(self._to_pdf(request))
        fields: tuple[FoundField, ...] = ()
        errors: tuple[str, ...] = ()
        if request.has_anchor_tags:
            pdf, fields, errors = _anchors(pdf, request)
        if request.stamps:
            pdf = stamp_text(pdf, request.stamps)
        sizes = _sizes(pdf, self._max_pages)
        return PreparedDocument(pdf, len(sizes), sizes, fields, errors)

    def _to_pdf(self, request: PrepareRequest) -> bytes:
        ext = request.extension.lower()
        if ext == ".pdf":
            return request.data
        if ext in IMAGE_EXTENSIONS:
            return images_to_pdf(request.data, ext, max_pages=self._max_pages)
        data = request.data
        if ext == ".docx" and request.merge_values:
            data = fill_docx(data, request.merge_values)  # checks the file before parsing it
        return self._converter.to_pdf(data, ext)


def _anchors(
    pdf: bytes, request: PrepareRequest
) -> tuple[bytes, tuple[FoundField, ...], tuple[str, ...]]:
    scan = scan_and_strip(pdf, request.anchor_open, request.anchor_close, request.space_char)
    if scan.errors:
        raise FileRefused("; ".join(scan.errors))
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


def _sizes(pdf: bytes, max_pages: int) -> tuple[PageSize, ...]:
    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            sizes = page_sizes(doc)
    except (pikepdf.PdfError, TypeError, ValueError, KeyError, AttributeError):
        raise FileRefused("the prepared PDF is damaged") from None
    if not sizes:
        raise FileRefused("the document has no pages")
    if len(sizes) > max_pages:
        raise FileRefused(f"the document has {len(sizes)} pages; the limit is {max_pages}")
    return sizes
