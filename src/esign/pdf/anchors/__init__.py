"""Anchor tags in a PDF: find them with PDFium, then remove their text with pikepdf.

`scan_and_strip(pdf)` returns the PDF without the tags' text and, per tag, the field it
stands for. Two phases:

1. **Find** (`find`: pypdfium2, under `esign.pdf.pdfium_lock.PDFIUM_LOCK`: PDFium is not
   thread-safe even across documents, so every module of the process shares that one lock).
   Each page's text is searched for open delimiter, no delimiter, close delimiter; a tag may
   wrap onto the next line, and is at most `MAX_TAG_CHARS` long. PDFium's text page already
   joins runs split across `Tj`/`TJ` operators, fonts and BT blocks, so split tags are found
   like any other. Each line of a tag gives a run: its first and last real (not generated)
   chars' glyph origins in raw user space, and how many chars it has.
2. **Remove** (`remove`, with fonts read by `fonts`, new bytes written by `rewrite`). Page
   content streams, and the Form XObjects they draw, are lexed as bytes (`esign.pdf.content`)
   and walked with a small text-state interpreter; text objects that cannot hold a tag
   glyph are skipped unread. A glyph whose origin lies on a tag's run is replaced by a `TJ`
   number of the same advance, so every other glyph keeps its position; only the edited
   instructions' bytes change. The text is gone from the content: neither drawn nor
   extracted. Widths are truncated to whole 1/1000 em as PDFium reads them (see
   `fonts._units`). Only pages with tags are read; the output is saved with a deterministic
   /ID.

Geometry of a `FoundTag`:
  * `text_box`: the tag's first and last chars' loose boxes joined, in raw PDF user space
    (the file's coordinates: before /Rotate, wherever the MediaBox puts its origin).
  * `x, y, width, height`: the field, normalised as the domain stores fields: fractions of
    the page box *as displayed* (CropBox ∩ MediaBox, then /Rotate), origin top-left. The
    field's top-left corner is the displayed top-left of the segment from the tag's first
    char's baseline origin to one font size above it (its em top): for text upright on
    screen, where the tag starts, at the top of its line. Width and height are the parsed
    tag's points over the displayed page size; fields are always upright on the displayed
    page, and one near the right or bottom edge may overhang it (callers decide).
  * `page_width`, `page_height`: the displayed page size in points.

Limits. None raises; each leaves the tag in `AnchorScan.unremoved` with the reason:
  * fonts whose codes cannot be split or measured: vertical writing (Identity-V, WMode 1),
    predefined CMaps other than Identity-H (e.g. UniJIS-UCS2-H), non-standard simple fonts
    without /Widths. PDFium still finds the tags; their text stays.
  * base-14 fonts without /Widths are measured with the standard AFM metrics; PDFium lays a
    few glyphs out with its substitute font instead (the Euro sign), and a tag after one on
    the same line may then not be matched.
  * text in Form XObjects is removed inside the form, so everywhere the form is drawn (a
    shared header repeats the same tag on every page, where all are found anyway). Type3
    glyph procedures, patterns and annotation appearances are not walked.
  * a tag in a scanned image is found only through an invisible OCR text layer, and only
    that layer is removed.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from esign.domain.anchors import AnchorTag, MalformedTag, parse_tag
from esign.pdf.anchors.find import Hit, find_tags, tag_pattern
from esign.pdf.anchors.remove import strip
from esign.pdf.anchors.results import AnchorScan, FoundMalformed, FoundTag, Unremoved, UserBox
from esign.pdf.pdfium_lock import PDFIUM_LOCK

__all__ = [
    "PDFIUM_LOCK",
    "AnchorScan",
    "FoundMalformed",
    "FoundTag",
    "Unremoved",
    "UserBox",
    "scan_and_strip",
]


def scan_and_strip(
    pdf: bytes | Path,
    open_char: str = "<",
    close_char: str = ">",
    space_char: str = "|",
    *,
    out: Path | None = None,
) -> AnchorScan:
    """Find the anchor tags in `pdf`, remove their text and return both.

    Delimiters are single characters (they may be equal, e.g. `#…#`). `space_char` is the
    client's space substitute in dropdown items. Never raises on a bad PDF: problems are in
    `errors` (the document) or `unremoved` (a tag), and `pdf` is then returned unchanged or
    with what could be removed.

    `pdf` may be a file (PDFium and qpdf then read it as they go, never holding it whole);
    the rewritten PDF is then saved to `out`, and `result.pdf` is `out` or, when nothing
    changed, `pdf` itself.
    """
    if isinstance(pdf, Path) and out is None:
        raise ValueError("scanning a file needs a file to write to")
    pattern = tag_pattern(open_char, close_char)
    result = AnchorScan(pdf)
    try:
        pages = find_tags(pdf, pattern, open_char, result.errors)
    except pdfium.PdfiumError as exc:
        result.errors.append(f"PDFium could not read the PDF: {exc}")
        return result
    hits = [hit for page in pages for hit in page]
    if not hits:
        return result
    # a packet often repeats a tag's text (initials on every page): each text parsed once
    parsed: dict[str, AnchorTag | MalformedTag] = {}
    for hit in hits:
        _report(result, hit, space_char, parsed)
    result.pdf = strip(pdf, pages, result, open_char + close_char, out)
    return result


def _report(
    result: AnchorScan, hit: Hit, space_char: str, cache: dict[str, AnchorTag | MalformedTag]
) -> None:
    parsed = cache.get(hit.inner)
    if parsed is None:
        parsed = cache[hit.inner] = parse_tag(hit.inner, space_char)
    if isinstance(parsed, MalformedTag):
        result.malformed.append(FoundMalformed(hit.page_index, hit.text, parsed.reason, hit.box))
        return
    width, height = hit.geometry.width, hit.geometry.height
    result.tags.append(
        FoundTag(
            page_index=hit.page_index,
            parsed=parsed,
            x=hit.anchor[0] / width,
            y=hit.anchor[1] / height,
            width=parsed.width / width,
            height=parsed.height / height,
            page_width=width,
            page_height=height,
            text=hit.text,
            text_box=hit.box,
        )
    )
