"""Anchor tags in a PDF: find them with PDFium, then remove their text with pikepdf.

`scan_and_strip(pdf)` returns the PDF without the tags' text and, per tag, the field it
stands for. Two phases:

1. **Find** (pypdfium2, under `esign.pdf.pdfium_lock.PDFIUM_LOCK`: PDFium is not thread-safe
   even across documents, so every module of the process shares that one lock). Each page's
   text is searched for open delimiter, no delimiter, close delimiter; a tag may wrap onto
   the next line, and is at most `MAX_TAG_CHARS` long. PDFium's text page already joins runs
   split across `Tj`/`TJ` operators, fonts and BT blocks, so split tags are found like any
   other. Text indices (UTF-16 units) map to char indices through
   `FPDFText_GetCharIndexFromTextIndex`; each real (not generated) char gives its glyph
   origin in raw user space.
2. **Remove** (pikepdf). The page's content stream, and the Form XObjects it draws, are
   walked with a small text-state interpreter (q/Q, cm, BT, Tf, Tc, Tw, Tz, TL, Ts, Td, TD,
   Tm, T*, Tj, TJ, ', "). Strings are decoded through their font (simple fonts: /Widths,
   /Encoding with /Differences, base-14 metrics; Type0: Identity-H or an embedded CMap, /W,
   /DW; /ToUnicode for both) into glyphs with origins. A glyph starting within
   `MATCH_TOLERANCE` of a tag char's origin (and reading as it, when its Unicode is known) is
   replaced by a `TJ` number of the same advance, -1000 · (w + (Tc [+ Tw]) / Tfs), so every
   other glyph keeps its position. The text is gone from the content: neither drawn nor
   extracted. Widths are truncated to whole 1/1000 em as PDFium reads them (see `_units`).
   Only pages with tags are parsed; the output is saved with a deterministic /ID.

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

import bisect
import ctypes
import functools
import io
import itertools
import math
import operator
import re
import typing
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from esign.domain.anchors import AnchorTag, MalformedTag, parse_tag
from esign.pdf.content import Instruction, Lexer, String, skippable_text_objects
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


MAX_TAG_CHARS = 400  # longer "tags" are taken to be stray delimiters, not tags
MATCH_TOLERANCE = 0.3  # points between PDFium's char origin and ours for the same glyph
_MAX_FORM_DEPTH = 12
# what a malformed operator or a wrong-typed resource raises while it is interpreted
_BAD_OPERANDS = (
    TypeError,
    ValueError,
    IndexError,
    KeyError,
    AttributeError,
    ArithmeticError,
    pikepdf.PdfError,
)

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class UserBox:
    """A rectangle in raw PDF user space (the page's own coordinates)."""

    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True, slots=True)
class FoundTag:
    """A tag that parsed, and the field it stands for (see the module doc for geometry)."""

    page_index: int
    parsed: AnchorTag
    x: float
    y: float
    width: float
    height: float
    page_width: float
    page_height: float
    text: str
    text_box: UserBox


@dataclass(frozen=True, slots=True)
class FoundMalformed:
    page_index: int
    text: str
    reason: str
    text_box: UserBox


@dataclass(frozen=True, slots=True)
class Unremoved:
    """A tag (well-formed or not) whose text is still, wholly or partly, in the output."""

    page_index: int
    text: str
    reason: str


@dataclass(slots=True)
class AnchorScan:
    pdf: bytes
    tags: list[FoundTag] = field(default_factory=list)
    malformed: list[FoundMalformed] = field(default_factory=list)
    unremoved: list[Unremoved] = field(default_factory=list)
    # the document or a page could not be read, or the result could not be written
    errors: list[str] = field(default_factory=list)


def scan_and_strip(
    pdf: bytes, open_char: str = "<", close_char: str = ">", space_char: str = "|"
) -> AnchorScan:
    """Find the anchor tags in `pdf`, remove their text and return both.

    Delimiters are single characters (they may be equal, e.g. `#…#`). `space_char` is the
    client's space substitute in dropdown items. Never raises on a bad PDF: problems are in
    `errors` (the document) or `unremoved` (a tag), and `pdf` is then returned unchanged or
    with what could be removed.
    """
    pattern = _tag_pattern(open_char, close_char)
    result = AnchorScan(pdf)
    try:
        pages = _find_tags(pdf, pattern, open_char, result.errors)
    except pdfium.PdfiumError as exc:
        result.errors.append(f"PDFium could not read the PDF: {exc}")
        return result
    hits = [hit for page in pages for hit in page]
    if not hits:
        return result
    for hit in hits:
        _report(result, hit, space_char)
    result.pdf = _strip(pdf, pages, result, open_char + close_char)
    return result


def _tag_pattern(open_char: str, close_char: str) -> re.Pattern[str]:
    """Open, then no delimiter, then close: on one line, or wrapped onto the next one."""
    if len(open_char) != 1 or len(close_char) != 1:
        raise ValueError("anchor delimiters are single characters")
    o, c = re.escape(open_char), re.escape(close_char)
    inner = f"[^{o}{c}\\r\\n]*"
    return re.compile(f"{o}{inner}(?:\\r?\\n{inner})?{c}")


def _report(result: AnchorScan, hit: _Hit, space_char: str) -> None:
    parsed = parse_tag(hit.inner, space_char)
    if isinstance(parsed, MalformedTag):
        result.malformed.append(FoundMalformed(hit.page_index, hit.text, parsed.reason, hit.box))
        return
    geom = hit.geometry
    result.tags.append(
        FoundTag(
            page_index=hit.page_index,
            parsed=parsed,
            x=hit.anchor[0] / geom.width,
            y=hit.anchor[1] / geom.height,
            width=parsed.width / geom.width,
            height=parsed.height / geom.height,
            page_width=geom.width,
            page_height=geom.height,
            text=hit.text,
            text_box=hit.box,
        )
    )


# --------------------------------------------------------------------------- phase 1: find


@dataclass(frozen=True, slots=True)
class _PageGeometry:
    """The displayed page: box (CropBox ∩ MediaBox) in user space and /Rotate (clockwise)."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int

    @property
    def width(self) -> float:
        span = self.right - self.left
        return self.top - self.bottom if self.rotation in (90, 270) else span

    @property
    def height(self) -> float:
        span = self.top - self.bottom
        return self.right - self.left if self.rotation in (90, 270) else span

    def to_display(self, ux: float, uy: float) -> tuple[float, float]:
        """User space → displayed page points, origin top-left, y down."""
        px, py = ux - self.left, uy - self.bottom
        w, h = self.right - self.left, self.top - self.bottom
        if self.rotation == 90:
            return py, px
        if self.rotation == 180:
            return w - px, py
        if self.rotation == 270:
            return h - py, w - px
        return px, h - py


@dataclass(slots=True, eq=False)
class _Hit:
    page_index: int
    text: str
    inner: str
    box: UserBox
    anchor: tuple[float, float]  # the field's top-left, displayed page points
    geometry: _PageGeometry
    targets: list[_Target] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(t.count for t in self.targets)

    @property
    def removed(self) -> int:
        return sum(min(t.matched, t.count) for t in self.targets)


@dataclass(slots=True, eq=False)
class _Target:
    """A run of a tag's real chars on one baseline (the tag, or each line of a wrapped one):
    where PDFium says its first and last glyphs start, and how many glyphs it has.

    A glyph whose origin lies on the segment between the two (within `MATCH_TOLERANCE`) is
    one of them: on one baseline, glyph origins are in reading order.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    count: int
    hit: _Hit
    matched: int = 0  # glyphs found on the segment so far


class _CharReader:
    """Per-char PDFium queries with reusable ctypes out-parameters."""

    def __init__(self, textpage: Any) -> None:
        self.tp = textpage.raw  # the bare handle: no conversion on every call
        self._x, self._y = ctypes.c_double(), ctypes.c_double()
        self._px, self._py = ctypes.byref(self._x), ctypes.byref(self._y)
        self._rect = pdfium_c.FS_RECTF()
        self._matrix = pdfium_c.FS_MATRIX()

    def origin(self, index: int) -> tuple[float, float]:
        pdfium_c.FPDFText_GetCharOrigin(self.tp, index, self._px, self._py)
        return self._x.value, self._y.value

    def targets(self, runs: list[list[int]], hit: _Hit) -> list[_Target]:
        """One `_Target` per run of char indices (its first and last char's origins)."""
        out = []
        for run in runs:
            x0, y0 = self.origin(run[0])
            x1, y1 = self.origin(run[-1]) if len(run) > 1 else (x0, y0)
            out.append(_Target(x0, y0, x1, y1, len(run), hit))
        return out

    def loose_box(self, index: int) -> tuple[float, float, float, float]:
        r = self._rect
        pdfium_c.FPDFText_GetLooseCharBox(self.tp, index, r)
        return r.left, r.bottom, r.right, r.top

    def em_top(self, index: int, origin: tuple[float, float]) -> tuple[float, float]:
        """The point one font size above the char's origin, along the text's up direction."""
        m = self._matrix
        size = pdfium_c.FPDFText_GetFontSize(self.tp, index)
        if not pdfium_c.FPDFText_GetMatrix(self.tp, index, m):
            return origin[0], origin[1] + size
        return origin[0] + size * m.c, origin[1] + size * m.d


def _find_tags(
    pdf: bytes, pattern: re.Pattern[str], open_char: str, errors: list[str]
) -> list[list[_Hit]]:
    """The hits of every page; a page PDFium cannot read has none and is named in `errors`."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            pages = []
            for index in range(len(doc)):
                try:
                    pages.append(_find_on_page(doc, index, pattern, open_char))
                except pdfium.PdfiumError as exc:
                    errors.append(f"page {index + 1}: PDFium could not read it ({exc})")
                    pages.append([])
            return pages
        finally:
            doc.close()


def _find_on_page(doc: Any, index: int, pattern: re.Pattern[str], open_char: str) -> list[_Hit]:
    page = doc[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            if open_char not in text:
                return []
            geometry = _geometry(page)
            reader = _CharReader(textpage)
            offsets = _Offsets(text, _first_text_index(textpage))
            matches = (m for m in pattern.finditer(text) if len(m.group(0)) <= MAX_TAG_CHARS)
            hits = (_hit(reader, index, geometry, offsets, m) for m in matches)
            return [hit for hit in hits if hit is not None]
        finally:
            textpage.close()
    finally:
        page.close()


def _geometry(page: Any) -> _PageGeometry:
    ml, mb, mr, mt = _ordered(page.get_mediabox())
    cl, cb, cr, ct = _ordered(page.get_cropbox())
    left, bottom, right, top = max(ml, cl), max(mb, cb), min(mr, cr), min(mt, ct)
    if right <= left or top <= bottom:  # a CropBox outside the MediaBox: show the MediaBox
        left, bottom, right, top = ml, mb, mr, mt
    return _PageGeometry(left, bottom, right, top, page.get_rotation() % 360)


def _ordered(box: Sequence[float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


class _Offsets:
    """Python string offsets → PDFium text indices, which count UTF-16 code units."""

    def __init__(self, text: str, base: int) -> None:
        self.base = base
        self.units: list[int] | None = None
        if _ASTRAL.search(text):  # a char beyond U+FFFF takes two units: shift what follows
            self.units = list(
                itertools.accumulate((1 + (ord(c) > 0xFFFF) for c in text), initial=0)
            )

    def __call__(self, offset: int) -> int:
        return self.base + (offset if self.units is None else self.units[offset])


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _first_text_index(textpage: Any) -> int:
    """The text index of the first char `get_text_range()` returned (see pypdfium2)."""
    count = pdfium_c.FPDFText_CountChars(textpage)
    for char_index in range(count):
        text_index = pdfium_c.FPDFText_GetTextIndexFromCharIndex(textpage, char_index)
        if text_index >= 0:
            return int(text_index)
    return 0


def _hit(
    reader: _CharReader,
    page_index: int,
    geom: _PageGeometry,
    offsets: _Offsets,
    match: re.Match[str],
) -> _Hit | None:
    runs = _real_chars(reader.tp, offsets, match)
    if not runs:
        return None
    first, last = runs[0][0], runs[-1][-1]
    origin = reader.origin(first)
    points = [geom.to_display(*origin), geom.to_display(*reader.em_top(first, origin))]
    anchor = (min(p[0] for p in points), min(p[1] for p in points))
    # the union of the first and last chars' boxes: exact for a tag on one line (all its
    # chars share the line's loose height), and spanning both lines of a wrapped tag
    l0, b0, r0, t0 = reader.loose_box(first)
    l1, b1, r1, t1 = reader.loose_box(last)
    box = UserBox(min(l0, l1), min(b0, b1), max(r0, r1), max(t0, t1))
    inner = match.group(0)[1:-1]
    if "\r" in inner or "\n" in inner:
        inner = re.sub(r"[\r\n]+", " ", inner)
    hit = _Hit(page_index, match.group(0), inner, box, anchor, geom)
    hit.targets = reader.targets(runs, hit)
    return hit


def _real_chars(textpage: Any, offsets: _Offsets, match: re.Match[str]) -> list[list[int]]:
    """The char indices behind the match's text, without generated spaces and line breaks, in
    runs: a new one starts after each line break (a tag wrapped onto the next line)."""
    start, end = offsets(match.start()), offsets(match.end() - 1)
    char_at = functools.partial(pdfium_c.FPDFText_GetCharIndexFromTextIndex, textpage)
    first, last = char_at(start), char_at(end)
    # text → char indices increase strictly, so equal offsets at both ends mean every index
    # in between is offset the same way: one call per tag instead of one per char
    shift = first - start if first >= 0 and last - first == end - start else None
    if shift is not None and offsets.units is None:  # the usual case: no lookups
        return _direct_runs(textpage, match, offsets.base + shift)
    runs: list[list[int]] = [[]]
    text = match.string
    for offset in range(match.start(), match.end()):
        char = text[offset]
        if char in "\r\n":  # always generated: line breaks are not glyphs
            if runs[-1]:
                runs.append([])
            continue
        text_index = offsets(offset)
        char_index = text_index + shift if shift is not None else char_at(text_index)
        if char_index < 0 or (runs[-1] and runs[-1][-1] == char_index):
            continue
        if char.isspace() and pdfium_c.FPDFText_IsGenerated(textpage, char_index) != 0:
            continue  # a space PDFium inferred from a gap: nothing to remove
        runs[-1].append(int(char_index))
    return [run for run in runs if run]


def _direct_runs(textpage: Any, match: re.Match[str], shift: int) -> list[list[int]]:
    """`_real_chars` when char index = text offset + `shift`: only spaces need a query."""
    runs, text = [], match.string
    for line in _LINE.finditer(text, match.start(), match.end()):
        run = list(range(line.start() + shift, line.end() + shift))
        for space in reversed([m.start() for m in _SPACE.finditer(line.group())]):
            if pdfium_c.FPDFText_IsGenerated(textpage, run[space]):
                del run[space]
        if run:
            runs.append(run)
    return runs


_LINE = re.compile(r"[^\r\n]+")
_SPACE = re.compile(r"\s")


# --------------------------------------------------------------------------- phase 2: remove


def _strip(pdf: bytes, pages: list[list[_Hit]], result: AnchorScan, delimiters: str) -> bytes:
    """Remove every hit's glyphs; record what could not be removed; return the new PDF."""
    hits = [hit for page in pages for hit in page]
    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            stripper = _Stripper(doc, delimiters)
            for index, page_hits in enumerate(pages):
                if page_hits:
                    stripper.strip_page(index, page_hits)
            stripper.write_back()
            _report_unremoved(result, hits, stripper.problems)
            if not stripper.changed:
                return pdf
            out = io.BytesIO()
            doc.save(out, deterministic_id=True)  # same input, same bytes: blobs dedupe
            return out.getvalue()
    except Exception as exc:  # never raise on an odd PDF: report and keep the input
        reason = f"the PDF could not be rewritten ({type(exc).__name__}: {exc})"
        result.errors.append(reason)
        result.unremoved = [Unremoved(h.page_index, h.text, reason) for h in hits]
        return pdf


def _report_unremoved(result: AnchorScan, hits: list[_Hit], problems: dict[int, set[str]]) -> None:
    for hit in hits:
        left = hit.chars - hit.removed
        if not left:
            continue
        why = "; ".join(sorted(problems.get(hit.page_index, ()))) or "glyphs not found"
        reason = f"{left} of {hit.chars} characters could not be removed ({why})"
        result.unremoved.append(Unremoved(hit.page_index, hit.text, reason))


@dataclass(slots=True)
class _Edit:
    """Glyphs to drop from one text-showing instruction, with the text state they were shown in."""

    instruction: Instruction
    font: _Font
    size: float
    char_spacing: float
    word_spacing: float
    glyphs: dict[int, set[int]] = field(default_factory=dict)  # element → glyph indices


@dataclass(slots=True)
class _Stream:
    """A content stream (a page's or a form's) and the edits found in it, by byte offset."""

    data: bytes
    write: Callable[[bytes], None]
    edits: dict[int, _Edit] = field(default_factory=dict)


class _Stripper:
    """Walks pages (and the forms they draw) and rewrites what holds tag glyphs.

    A page is first walked *quickly*: text objects that show no string holding a delimiter's
    code (in any of the page's fonts) and set no lasting state are skipped unread, unless a
    tag is half removed (its remaining chars are in the next text objects). When a tag char
    is still left after that, the page is walked again reading every text object.
    """

    def __init__(self, doc: Any, delimiters: str) -> None:
        self.doc = doc
        self.delimiters = delimiters
        self.fonts = _FontCache()
        self.forms: dict[tuple[int, int], _Stream] = {}
        self.problems: dict[int, set[str]] = {}
        self.changed = False
        self._skips: dict[tuple[int, int], re.Pattern[bytes] | None] = {}
        self._codes: dict[_Font, bytes] = {}

    def strip_page(self, index: int, hits: list[_Hit]) -> None:
        targets = _TargetIndex([t for hit in hits for t in hit.targets])
        problems = self.problems.setdefault(index, set())
        try:
            page = self.doc.pages[index].obj
            resources = _resources(page)
            stream = _Stream(_page_content(page), self._page_writer(page))
            for thorough in (False, True):
                if thorough:
                    if all(h.removed == h.chars for h in hits):
                        break
                    for t in targets.all:
                        t.matched = 0
                    stream.edits.clear()
                _Walk(self, stream, targets, problems, resources, 0, thorough).run(_GraphicsState())
            # written at once, so the page's bytes do not stay alive until the end (a form
            # may still gain edits from later pages: those wait for write_back)
            self._write(stream)
        except Exception as exc:  # a broken page must not cost the other pages their tags
            problems.add(f"page content unreadable: {type(exc).__name__}: {exc}")

    def _page_writer(self, page: Any) -> Callable[[bytes], None]:
        def write(data: bytes) -> None:
            page.Contents = self.doc.make_stream(data)

        return write

    def form(self, xobject: Any) -> _Stream | None:
        key = xobject.objgen
        if key == (0, 0):
            return None  # a direct stream cannot be a Form XObject; nothing to share
        stream = self.forms.get(key)
        if stream is None:
            stream = _Stream(xobject.read_bytes(), xobject.write)
            self.forms[key] = stream
        return stream

    def skip_pattern(self, resources: Any) -> re.Pattern[bytes] | None:
        """What text objects drawn with `resources` may be skipped (see `_Walk.run`)."""
        key = resources.objgen
        if key != (0, 0) and key in self._skips:
            return self._skips[key]
        special = bytearray(ord(c) for c in self.delimiters if ord(c) < 256)
        fonts = resources.get("/Font")
        if isinstance(fonts, pikepdf.Dictionary):
            for _name, obj in fonts.items():
                font = self.fonts.get(obj)
                codes = self._codes.get(font)
                if codes is None:
                    codes = self._codes[font] = font.codes_of(self.delimiters)
                special += codes
        pattern = skippable_text_objects(bytes(sorted(set(special))))
        if key != (0, 0):
            self._skips[key] = pattern
        return pattern

    def write_back(self) -> None:
        for stream in self.forms.values():
            self._write(stream)

    def _write(self, stream: _Stream) -> None:
        if stream.edits:
            stream.write(_rewrite(stream))
            stream.edits.clear()
            self.changed = True


def _page_content(page: Any) -> bytes:
    """A page's content: its streams joined (they split only between tokens)."""
    contents = page.get("/Contents")
    if contents is None:
        return b""
    if isinstance(contents, pikepdf.Array):
        return b"\n".join(part.read_bytes() for part in contents)
    data: bytes = contents.read_bytes()
    return data


class _TargetIndex:
    """Tag chars bucketed by whole points of y, for the common horizontal-text lookup."""

    def __init__(self, targets: list[_Target]) -> None:
        self.all = targets
        self.by_row: dict[int, list[_Target]] = {}
        for t in targets:
            self.by_row.setdefault(int(t.y0 // 1), []).append(t)
        # rows a baseline may sit on and still be within tolerance of a tag char
        self.rows = {row + d for row in self.by_row for d in (-1, 0, 1)}

    def near_row(self, y: float) -> list[_Target]:
        row = int(y // 1)
        if row not in self.rows:  # most lines of a page: one set lookup
            return []
        found: list[_Target] = []
        for key in (row - 1, row, row + 1):
            for t in self.by_row.get(key, ()):
                if abs(t.y0 - y) <= MATCH_TOLERANCE and abs(t.y1 - y) <= MATCH_TOLERANCE:
                    found.append(t)
        return found


def _resources(obj: Any) -> Any:
    """A page's /Resources, inherited from the page tree when the page has none."""
    node, hops = obj, 0
    while node is not None and hops < 64:
        res = node.get("/Resources")
        if res is not None:
            return res
        node, hops = node.get("/Parent"), hops + 1
    return pikepdf.Dictionary()


# --------------------------------------------------------------------------- interpreter


class _GraphicsState:
    """The parts of the graphics state that place glyphs."""

    __slots__ = ("char_spacing", "ctm", "font", "leading", "rise", "scale", "size", "word_spacing")

    def __init__(self) -> None:
        self.ctm: Matrix = _IDENTITY
        self.font: _Font | None = None
        self.size = 0.0
        self.char_spacing = 0.0
        self.word_spacing = 0.0
        self.scale = 1.0  # Tz / 100
        self.leading = 0.0
        self.rise = 0.0

    def copy(self) -> _GraphicsState:
        new = _GraphicsState.__new__(_GraphicsState)
        new.ctm, new.font, new.size = self.ctm, self.font, self.size
        new.char_spacing, new.word_spacing = self.char_spacing, self.word_spacing
        new.scale, new.leading, new.rise = self.scale, self.leading, self.rise
        return new


Elements = list[bytes | float]  # a TJ array: strings and adjustments; Tj is one string
Codes = Sequence[tuple[int, int, int]]  # (start, end, code) of each code in a string


class _Walk:
    """Interprets one content stream, matching shown glyphs against the page's tag chars."""

    def __init__(
        self,
        stripper: _Stripper,
        stream: _Stream,
        targets: _TargetIndex,
        problems: set[str],
        resources: Any,
        depth: int,
        thorough: bool,
    ) -> None:
        self.stripper = stripper
        self.stream = stream
        self.targets = targets
        self.problems = problems
        self.resources = resources
        self.depth = depth
        self.thorough = thorough
        self.fonts: dict[bytes, _Font | None] = {}
        self.tm: Matrix = _IDENTITY
        self.tlm: Matrix = _IDENTITY
        # strings shown since the line start, kept raw: most are never measured at all
        self.pending: list[tuple[Any, bool, _Font, float, float, float, float]] = []
        self.gs = _GraphicsState()
        self.stack: list[_GraphicsState] = []
        self.open_hits: set[int] = set()  # ids of hits with some, not all, chars removed

    def run(self, gs: _GraphicsState) -> None:
        self.gs, self.stack = gs, []
        handlers = _HANDLERS
        lexer = Lexer(self.stream.data)
        skip = None if self.thorough else self.stripper.skip_pattern(self.resources)
        lexer.skip = skip
        while (instruction := lexer.next()) is not None:
            handler = handlers.get(instruction[0])
            if handler is not None:
                try:
                    handler(self, instruction[1], instruction)
                except _BAD_OPERANDS:
                    continue  # a malformed operator: skip it like viewers do
                if self.open_hits and skip is not None:
                    lexer.skip = None if self.open_hits else skip

    # -- text positioning ------------------------------------------------------------

    def set_line(self, matrix: Matrix) -> None:
        self.tlm = self.tm = matrix
        self.pending.clear()  # advances since the last line start no longer matter

    def move(self, tx: float, ty: float) -> None:
        a, b, c, d, e, f = self.tlm
        self.set_line((a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f))

    def _catch_up(self) -> None:
        """Apply the advances of strings shown since the last line start (computed lazily)."""
        total = 0.0
        for raw, is_array, font, size, tc, tw, scale in self.pending:
            elements = _elements(raw) if is_array else _string(raw)
            total += _advance(elements, font, size, tc, tw) * scale
        self.pending.clear()
        self.tm = _translate(self.tm, total)

    # -- showing text ------------------------------------------------------------------

    def show(self, raw: Any, is_array: bool, instruction: Instruction) -> None:
        """A Tj (`raw` a string) or TJ (`raw` an array)."""
        gs = self.gs
        font = gs.font
        if font is None:
            return
        if self.pending:
            self._catch_up()
        # only the y of the text's start is needed to rule most strings out: compute just
        # the b, d, f terms of Tm × CTM
        a, b, c, d, e, f = self.tm
        _p, q, _r, s, _t, u = gs.ctm
        mb = a * q + b * s
        if abs(mb) < 1e-9:  # horizontal in user space: the baseline's y is fixed
            candidates = self.targets.near_row(gs.rise * (c * q + d * s) + e * q + f * s + u)
        else:
            candidates = self.targets.all
        if candidates and font.usable and gs.size != 0:
            elements = _elements(raw) if is_array else _string(raw)
            m = _multiply(self.tm, gs.ctm)
            advance = self._match(gs, font, m, elements, candidates, instruction)
            self.tm = _translate(self.tm, advance)
            return
        if candidates:
            self.problems.add(f"font {font.name}: {font.problem or 'size 0'}")
        state = (font, gs.size, gs.char_spacing, gs.word_spacing, gs.scale)
        self.pending.append((raw, is_array, *state))

    def _match(
        self,
        gs: _GraphicsState,
        font: _Font,
        m: Matrix,
        elements: Elements,
        candidates: list[_Target],
        instruction: Instruction,
    ) -> float:
        """Find the glyphs on tag chars and record them; return the advance in text space."""
        size, scale = gs.size, gs.scale
        x = 0.0
        for ei, element in enumerate(elements):
            if isinstance(element, float):
                x -= element / 1000.0 * size * scale
                continue
            codes = font.split(element)
            sums, k = _glyph_starts(font, element, codes, gs)
            found = _glyphs_on(sums, x, k, m, gs.rise, candidates)
            if found:
                self._record(gs, font, instruction, ei, found)
            x += k * sums[-1]
        for t in candidates:  # a tag left half removed continues in what follows
            hit = t.hit
            if 0 < hit.removed < hit.chars:
                self.open_hits.add(id(hit))
            else:
                self.open_hits.discard(id(hit))
        return x

    def _record(
        self, gs: _GraphicsState, font: _Font, instruction: Instruction, ei: int, found: set[int]
    ) -> None:
        edit = self.stream.edits.get(instruction[2])
        if edit is None:
            edit = _Edit(instruction, font, gs.size, gs.char_spacing, gs.word_spacing)
            self.stream.edits[instruction[2]] = edit
        edit.glyphs.setdefault(ei, set()).update(found)

    # -- fonts and forms ---------------------------------------------------------------

    def font(self, name: bytes) -> _Font | None:
        if name not in self.fonts:
            fonts = self.resources.get("/Font")
            obj = fonts.get(_name(name)) if fonts is not None else None
            self.fonts[name] = self.stripper.fonts.get(obj) if obj is not None else None
        return self.fonts[name]

    def draw_form(self, name: bytes) -> None:
        gs = self.gs
        xobjects = self.resources.get("/XObject")
        xobject = xobjects.get(_name(name)) if xobjects is not None else None
        if xobject is None or xobject.get("/Subtype") != pikepdf.Name.Form:
            return
        if self.depth >= _MAX_FORM_DEPTH:
            self.problems.add("Form XObjects nested too deeply")
            return
        stream = self.stripper.form(xobject)
        if stream is None:
            return
        inner = gs.copy()
        inner.ctm = _multiply(_matrix(xobject.get("/Matrix")), gs.ctm)
        resources = xobject.get("/Resources") or self.resources
        walk = _Walk(
            self.stripper,
            stream,
            self.targets,
            self.problems,
            resources,
            self.depth + 1,
            self.thorough,
        )
        walk.run(inner)


def _name(token: bytes) -> str:
    """A name token (`/F1`, maybe with #xx escapes) as pikepdf's dictionary key."""
    if b"#" in token:
        token = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes.fromhex(m.group(1).decode()), token)
    return token.decode("latin-1")


def _glyph_starts(
    font: _Font, data: bytes, codes: Codes, gs: _GraphicsState
) -> tuple[list[float], float]:
    """(sums, k): glyph i of the string starts k · sums[i] after the string's start in text
    space, and the string ends k · sums[-1] after it (len(codes) + 1 sums)."""
    width, size, tc, scale = font.width, gs.size, gs.char_spacing, gs.scale
    if tc == 0 and gs.word_spacing == 0:  # the usual case: widths alone
        widths = font.widths_of(data, codes)
        return list(itertools.accumulate(widths, initial=0.0)), size * scale
    space = tc + gs.word_spacing  # Tw applies to single-byte code 32 only
    advances = [
        (width(code) * size + (space if code == 32 and end - start == 1 else tc)) * scale
        for start, end, code in codes
    ]
    return list(itertools.accumulate(advances, initial=0.0)), 1.0


def _glyphs_on(
    sums: list[float], x: float, k: float, m: Matrix, rise: float, candidates: list[_Target]
) -> set[int]:
    """Indices of the glyphs that start on a tag's run of chars (counted in the run).

    Glyph i starts at user-space point origin + (x + k · sums[i]) · (a, b): a line. A run whose ends
    are off that line is skipped at once; for the others, the span between the ends' x along
    the line is solved for and looked up.
    """
    a, b, c, d, e, f = m
    ox, oy = rise * c + e, rise * d + f  # user-space point of text-space x = 0
    norm = a * a + b * b
    if norm < 1e-12 or k == 0:
        return set()  # a degenerate matrix draws nothing
    length = math.sqrt(norm)
    tol = MATCH_TOLERANCE / length  # the tolerance in text-space units along the line
    off_line = MATCH_TOLERANCE * length
    count = len(sums) - 1
    ordered = k > 0 and all(map(operator.le, sums, sums[1:]))  # false with backward kerning
    found: set[int] = set()
    for t in candidates:
        rx0, ry0, rx1, ry1 = t.x0 - ox, t.y0 - oy, t.x1 - ox, t.y1 - oy
        if abs(rx0 * b - ry0 * a) > off_line or abs(rx1 * b - ry1 * a) > off_line:
            continue  # not on this string's baseline
        lo, hi = sorted(((rx0 * a + ry0 * b) / norm, (rx1 * a + ry1 * b) / norm))
        lo, hi = lo - tol - x, hi + tol - x  # in units of k along the string
        if ordered:
            first = bisect.bisect_left(sums, lo / k, 0, count)
            span: Sequence[int] = range(first, bisect.bisect_right(sums, hi / k, first, count))
        else:
            span = [i for i in range(count) if lo <= k * sums[i] <= hi]
        if span:
            t.matched += len(span)
            found.update(span)
    return found


def _advance(elements: Elements, font: _Font, size: float, tc: float, tw: float) -> float:
    """Horizontal displacement of a shown TJ array in unscaled text space (before Tz)."""
    total = 0.0
    for element in elements:
        if isinstance(element, float):
            total -= element / 1000.0 * size
        else:
            total += font.advance(element, size, tc, tw)
    return total


def _six(ops: Any) -> Matrix:
    a, b, c, d, e, f = map(float, ops)
    return (a, b, c, d, e, f)


def _string(value: Any) -> Elements:
    """A Tj operand as a one-string TJ array."""
    if not isinstance(value, String):
        raise TypeError("not a string")
    return [value]


def _elements(array: Any) -> Elements:
    if not isinstance(array, list):
        raise TypeError("not an array")
    return [item if isinstance(item, String) else float(item) for item in array]


def _op_q(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.stack.append(w.gs.copy())


def _op_restore(w: _Walk, ops: Any, _i: Instruction) -> None:
    if w.stack:  # an unbalanced Q is ignored, as viewers do
        w.gs = w.stack.pop()


def _op_cm(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.ctm = _multiply(_six(ops), w.gs.ctm)


def _op_bt(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.set_line(_IDENTITY)


def _op_tf(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.font = w.font(ops[0])
    w.gs.size = float(ops[1])


def _op_tc(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.char_spacing = float(ops[0])


def _op_tw(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.word_spacing = float(ops[0])


def _op_tz(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.scale = float(ops[0]) / 100.0


def _op_tl(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.leading = float(ops[0])


def _op_ts(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.rise = float(ops[0])


def _op_td(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.move(float(ops[0]), float(ops[1]))


def _op_td_leading(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.leading = -float(ops[1])
    w.move(float(ops[0]), float(ops[1]))


def _op_tm(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.set_line(_six(ops))


def _op_tstar(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.move(0.0, -w.gs.leading)


def _op_tj(w: _Walk, ops: Any, i: Instruction) -> None:
    w.show(ops[0], False, i)


def _op_tj_array(w: _Walk, ops: Any, i: Instruction) -> None:
    w.show(ops[0], True, i)


def _op_quote(w: _Walk, ops: Any, i: Instruction) -> None:
    w.move(0.0, -w.gs.leading)
    w.show(ops[0], False, i)


def _op_dquote(w: _Walk, ops: Any, i: Instruction) -> None:
    w.gs.word_spacing, w.gs.char_spacing = float(ops[0]), float(ops[1])
    w.move(0.0, -w.gs.leading)
    w.show(ops[2], False, i)


def _op_do(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.draw_form(ops[0])


_HANDLERS: dict[bytes, Callable[[_Walk, Any, Instruction], None]] = {
    b"q": _op_q,
    b"Q": _op_restore,
    b"cm": _op_cm,
    b"BT": _op_bt,
    b"Tf": _op_tf,
    b"Tc": _op_tc,
    b"Tw": _op_tw,
    b"Tz": _op_tz,
    b"TL": _op_tl,
    b"Ts": _op_ts,
    b"Td": _op_td,
    b"TD": _op_td_leading,
    b"Tm": _op_tm,
    b"T*": _op_tstar,
    b"Tj": _op_tj,
    b"TJ": _op_tj_array,
    b"'": _op_quote,
    b'"': _op_dquote,
    b"Do": _op_do,
}


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """m × n for PDF's row-vector matrices (apply m, then n)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (
        a * p + b * r,
        a * q + b * s,
        c * p + d * r,
        c * q + d * s,
        e * p + f * r + t,
        e * q + f * s + u,
    )


def _translate(m: Matrix, tx: float) -> Matrix:
    a, b, c, d, e, f = m
    return (a, b, c, d, tx * a + e, tx * b + f)


def _matrix(value: Any) -> Matrix:
    try:
        if value is not None and len(value) == 6:
            a, b, c, d, e, f = (float(v) for v in value)
            return (a, b, c, d, e, f)
    except (TypeError, ValueError):
        pass
    return _IDENTITY


# --------------------------------------------------------------------------- rewriting


def _rewrite(stream: _Stream) -> bytes:
    """The stream with each edited instruction's bytes replaced; all other bytes kept."""
    data, parts, pos = stream.data, [], 0
    for start in sorted(stream.edits):
        edit = stream.edits[start]
        _op, _ops, begin, end = edit.instruction
        parts += [data[pos:begin], _replacement(edit)]
        pos = end
    parts.append(data[pos:])
    return b"".join(parts)


def _replacement(edit: _Edit) -> bytes:
    """What shows the same text without the edit's glyphs, with the same advances."""
    name, ops, _start, _end = edit.instruction
    if name == b"TJ":
        return b" " + _tj(_kept(_elements(ops[0]), edit))
    if name == b"Tj":
        return b" " + _tj(_kept(_string(ops[0]), edit))
    if name == b"'":
        return b" T* " + _tj(_kept(_string(ops[0]), edit))
    # '"': set the spacings it sets, move to the next line, then show
    tw, tc = _number(float(ops[0])), _number(float(ops[1]))
    return b" %s Tw %s Tc T* %s" % (tw, tc, _tj(_kept(_string(ops[2]), edit)))


def _kept(elements: Elements, edit: _Edit) -> Elements:
    """A TJ array without the edit's glyphs: each becomes a number of the same advance."""
    font, out = edit.font, Elements()
    removed = {ei: sorted(glyphs) for ei, glyphs in edit.glyphs.items()}
    for ei, element in enumerate(elements):
        if isinstance(element, float):
            _push_number(out, element)
            continue
        if ei not in removed:
            out.append(element)
            continue
        codes, keep_from = font.split(element), 0
        for first, last in _runs(removed[ei]):
            start = codes[first][0]
            if start > keep_from:
                out.append(element[keep_from:start])
            keep_from = codes[last][1]
            gone = element[start:keep_from]  # whole codes: it splits as they did
            advance = font.advance(gone, edit.size, edit.char_spacing, edit.word_spacing)
            _push_number(out, -1000.0 * advance / edit.size)
        if keep_from < len(element):
            out.append(element[keep_from:])
    return out


def _runs(indices: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted indices as runs of consecutive ones: (first, last) each."""
    first = last = indices[0]
    for i in indices[1:]:
        if i != last + 1:
            yield first, last
            first = i
        last = i
    yield first, last


def _push_number(out: Elements, value: float) -> None:
    if out and isinstance(out[-1], float):
        out[-1] += value
    else:
        out.append(value)


def _tj(elements: Elements) -> bytes:
    items = [_number(e) if isinstance(e, float) else _literal(e) for e in elements]
    return b"[" + b" ".join(items) + b"] TJ"


def _number(value: float) -> bytes:
    """4 decimals (of 1/1000 em in a TJ array: far below a pixel), no exponent."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return b"0" if text in ("", "-0") else text.encode("ascii")


def _literal(data: bytes) -> bytes:
    escaped = data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped.replace(b"\r", b"\\r") + b")"


# --------------------------------------------------------------------------- fonts


class _Font:
    """How a font's strings split into codes, how wide each is, what each reads as.

    Widths are in text space per unit of font size (glyph units / 1000 for most fonts).
    """

    name = "?"
    usable = True
    problem = ""

    def split(self, data: bytes) -> Codes:
        """(start, end, code) for each code in `data`."""
        raise NotImplementedError

    def width(self, code: int) -> float:
        raise NotImplementedError

    def text(self, code: int) -> str | None:
        raise NotImplementedError

    def widths_of(self, data: bytes, codes: Codes) -> Iterable[float]:
        """The width of each code of `data` (`codes` is `split(data)`)."""
        return (self.width(code) for _, _, code in codes)

    def codes_of(self, chars: str) -> bytes:
        """The bytes of every code that reads as (or as containing) one of `chars`."""
        return b""

    def word_space(self, code: int, length: int) -> bool:
        """Tw applies to the single-byte code 32 only (PDF 32000 §9.3.3)."""
        return code == 32 and length == 1

    def advance(self, data: bytes, size: float, tc: float, tw: float) -> float:
        total = 0.0
        for start, end, code in self.split(data):
            total += self.width(code) * size + tc
            if tw and self.word_space(code, end - start):
                total += tw
        return total


class _Unusable(_Font):
    usable = False

    def __init__(self, name: str, problem: str) -> None:
        self.name, self.problem = name, problem

    def split(self, data: bytes) -> Codes:
        return [(i, i + 1, b) for i, b in enumerate(data)]

    def width(self, code: int) -> float:
        return 0.0

    def text(self, code: int) -> str | None:
        return None


class _ByteCodes(Sequence[tuple[int, int, int]]):
    """`split` of a one-byte-per-code string, built only for the codes looked at."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    @typing.overload
    def __getitem__(self, index: int) -> tuple[int, int, int]: ...

    @typing.overload
    def __getitem__(self, index: slice) -> Sequence[tuple[int, int, int]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.data)))]
        if index < 0:
            index += len(self.data)
        return index, index + 1, self.data[index]


class _SimpleFont(_Font):
    """Type1, TrueType, MMType1, Type3: one byte per code."""

    def __init__(self, name: str, widths: list[float], texts: list[str | None]) -> None:
        self.name, self.widths, self.texts = name, widths, texts

    def split(self, data: bytes) -> Codes:
        return _ByteCodes(data)

    def width(self, code: int) -> float:
        return self.widths[code]

    def widths_of(self, data: bytes, codes: Codes) -> Iterable[float]:
        return map(self.widths.__getitem__, data)  # one byte, one code

    def text(self, code: int) -> str | None:
        return self.texts[code]

    def codes_of(self, chars: str) -> bytes:
        return bytes(
            code for code, text in enumerate(self.texts) if text and any(c in text for c in chars)
        )

    def advance(self, data: bytes, size: float, tc: float, tw: float) -> float:
        # the hot path for text before a tag on the same line: no per-glyph tuples
        widths = self.widths
        total = sum(map(widths.__getitem__, data)) * size + tc * len(data)
        return total + tw * data.count(32) if tw else total


class _CidFont(_Font):
    """Type0 with Identity-H or an embedded horizontal CMap; widths from /W and /DW."""

    def __init__(
        self,
        name: str,
        codespace: _Codespace,
        cids: _CidMap | None,
        widths: dict[int, float],
        default_width: float,
        texts: dict[int, str],
    ) -> None:
        self.name, self.codespace, self.cids = name, codespace, cids
        self.widths, self.default_width, self.texts = widths, default_width, texts

    def split(self, data: bytes) -> Codes:
        return self.codespace.split(data)

    def width(self, code: int) -> float:
        cid = code if self.cids is None else self.cids.cid(code)
        return self.widths.get(cid, self.default_width)

    def text(self, code: int) -> str | None:
        return self.texts.get(code)

    def codes_of(self, chars: str) -> bytes:
        n = self.codespace.fixed or 2
        return b"".join(
            code.to_bytes(n, "big")
            for code, text in self.texts.items()
            if code < 1 << (8 * n) and any(ch in text for ch in chars)
        )


class _FontCache:
    def __init__(self) -> None:
        self._fonts: dict[tuple[int, int], _Font] = {}

    def get(self, obj: Any) -> _Font:
        key = obj.objgen
        if key != (0, 0) and key in self._fonts:
            return self._fonts[key]
        font = _load_font(obj)
        if key != (0, 0):
            self._fonts[key] = font
        return font


def _load_font(obj: Any) -> _Font:
    name = str(obj.get("/BaseFont", "?")).lstrip("/")
    try:
        if obj.get("/Subtype") == pikepdf.Name.Type0:
            return _load_cid_font(obj, name)
        return _load_simple_font(obj, name)
    except Exception as exc:  # a font we cannot read must not stop the page
        return _Unusable(name, f"unreadable font ({type(exc).__name__})")


def _load_simple_font(obj: Any, name: str) -> _Font:
    scale = 0.001
    if obj.get("/Subtype") == pikepdf.Name.Type3:
        scale = _matrix(obj.get("/FontMatrix"))[0]
    # standard-14 metrics and encodings only stand in for a font that is not embedded
    base14 = None if _embedded(obj) else _base14_name(name)
    names = _glyph_names(obj, base14)
    widths = _simple_widths(obj, scale, names, base14)
    if widths is None:
        return _Unusable(name, "no /Widths and not a standard font")
    to_unicode = _to_unicode(obj)
    texts = [to_unicode.get(code) or _glyph_text(names[code]) for code in range(256)]
    return _SimpleFont(name, widths, texts)


def _simple_widths(
    obj: Any, scale: float, names: list[str | None], base14: str | None
) -> list[float] | None:
    descriptor = obj.get("/FontDescriptor")
    missing = _units(descriptor.get("/MissingWidth", 0)) if descriptor is not None else 0.0
    if obj.get("/Widths") is None:
        if base14 is None:
            return None
        metrics = _base14_widths(base14)
        return [metrics.get(n, 0) * 0.001 if n else 0.0 for n in names]
    widths = [missing * scale] * 256
    first = int(obj.get("/FirstChar", 0))
    for offset, value in enumerate(obj.Widths):
        if 0 <= first + offset < 256:
            widths[first + offset] = (_units(value) if scale == 0.001 else float(value)) * scale
    return widths


def _glyph_names(obj: Any, base14: str | None) -> list[str | None]:
    """Glyph name per code from /Encoding (base encoding + /Differences)."""
    encoding = obj.get("/Encoding")
    base_name = None
    differences = None
    if isinstance(encoding, pikepdf.Name):
        base_name = str(encoding).lstrip("/")
    elif isinstance(encoding, pikepdf.Dictionary):
        base = encoding.get("/BaseEncoding")
        base_name = str(base).lstrip("/") if base is not None else None
        differences = encoding.get("/Differences")
    names = list(_base_encoding(base_name, base14))
    if differences is not None:
        code = 0
        for item in differences:
            if isinstance(item, int):
                code = item
            elif 0 <= code < 256:
                names[code] = str(item).lstrip("/")
                code += 1
    return names


def _base_encoding(name: str | None, base14: str | None) -> Sequence[str | None]:
    encodings = _reportlab_fontdata().encodings
    if name in ("WinAnsiEncoding", "MacRomanEncoding", "StandardEncoding", "MacExpertEncoding"):
        return list(encodings[name])
    if base14 == "Symbol":
        return list(encodings["SymbolEncoding"])
    if base14 == "ZapfDingbats":
        return list(encodings["ZapfDingbatsEncoding"])
    if base14 is not None:
        return list(encodings["StandardEncoding"])
    return [None] * 256  # the font program's built-in encoding: only ToUnicode can tell


def _embedded(obj: Any) -> bool:
    descriptor = obj.get("/FontDescriptor")
    if not isinstance(descriptor, pikepdf.Dictionary):
        return False
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def _glyph_text(name: str | None) -> str | None:
    if not name:
        return None
    table = _glyph_table()
    if name in table:
        return chr(table[name])
    match = re.fullmatch(r"uni([0-9A-Fa-f]{4})|u([0-9A-Fa-f]{4,6})", name)
    if match:
        value = int(match.group(1) or match.group(2), 16)
        return chr(value) if value < 0x110000 and not 0xD800 <= value < 0xE000 else None
    return None


_BASE14_FAMILIES = {
    "helvetica": "Helvetica",
    "arial": "Helvetica",
    "arialmt": "Helvetica",
    "times": "Times",
    "timesroman": "Times",
    "timesnewroman": "Times",
    "timesnewromanps": "Times",
    "courier": "Courier",
    "couriernew": "Courier",
    "couriernewps": "Courier",
    "symbol": "Symbol",
    "zapfdingbats": "ZapfDingbats",
}


def _base14_name(name: str) -> str | None:
    """The standard-14 font a /BaseFont stands for, when it is one (or a common alias)."""
    name = name.split("+", 1)[-1]  # drop a subset prefix
    head = re.split(r"[,-]", name, maxsplit=1)[0]
    base = _BASE14_FAMILIES.get(re.sub(r"[^a-z]", "", head.lower()))
    if base is None or base in ("Symbol", "ZapfDingbats"):
        return base
    style = name[len(head) :].lower()
    bold = "bold" in style
    italic = "italic" in style or "oblique" in style
    if base == "Times":
        return "Times-" + (("Bold" if bold else "") + ("Italic" if italic else "") or "Roman")
    slant = "Oblique" if italic else ""
    return f"{base}-{'Bold' if bold else ''}{slant}" if bold or italic else base


def _units(value: Any) -> float:
    """A width as PDFium uses it: truncated to whole 1/1000 em (it reads widths as integers).

    Matching PDFium keeps every other glyph exactly where PDFium (our renderer, and Chrome's
    viewer) draws it; a viewer that honours fractional widths sees a shift below 1/1000 em per
    removed glyph.
    """
    return float(int(float(value)))


def _load_cid_font(obj: Any, name: str) -> _Font:
    descendants = obj.get("/DescendantFonts")
    if descendants is None or len(descendants) == 0:
        return _Unusable(name, "Type0 font without a descendant font")
    cid_font = descendants[0]
    encoding = obj.get("/Encoding")
    if isinstance(encoding, pikepdf.Name):
        label = str(encoding).lstrip("/")
        if label == "Identity-V":
            return _Unusable(name, "vertical writing (Identity-V)")
        if label != "Identity-H":
            return _Unusable(name, f"predefined CMap {label} is not supported")
        codespace, cids = _Codespace([(2, b"\x00\x00", b"\xff\xff")]), None
    elif isinstance(encoding, pikepdf.Stream):
        if int(encoding.get("/WMode", 0)) == 1:
            return _Unusable(name, "vertical writing (WMode 1)")
        data = encoding.read_bytes()  # a `usecmap` parent is not followed: codes it adds
        codespace, cids = _Codespace.parse(data), _CidMap.parse(data)  # map to CID 0
    else:
        return _Unusable(name, "Type0 font without an encoding")
    widths, default = _cid_widths(cid_font)
    return _CidFont(name, codespace, cids, widths, default, _to_unicode(obj))


def _cid_widths(cid_font: Any) -> tuple[dict[int, float], float]:
    default = _units(cid_font.get("/DW", 1000)) * 0.001
    widths: dict[int, float] = {}
    w = cid_font.get("/W")
    items = list(w) if w is not None else []
    i = 0
    while i + 1 < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            for offset, value in enumerate(items[i + 1]):
                widths[first + offset] = _units(value) * 0.001
            i += 2
        elif i + 2 < len(items):
            last, value = int(items[i + 1]), _units(items[i + 2]) * 0.001
            for cid in range(first, min(last, first + 65535) + 1):
                widths[cid] = value
            i += 3
        else:
            break
    return widths, default


# --------------------------------------------------------------------------- CMaps

_CMAP_TOKEN = re.compile(rb"<([0-9A-Fa-f\s]*)>|(\[)|(\])|(\d+)")


def _cmap_sections(data: bytes, kind: bytes) -> Iterator[list[Any]]:
    """The tokens of each `begin<kind> … end<kind>` section: bytes, int, or a list of bytes."""
    for section in re.finditer(b"begin" + kind + rb"\b(.*?)end" + kind, data, re.S):
        tokens: list[Any] = []
        array: list[bytes] | None = None
        for m in _CMAP_TOKEN.finditer(section.group(1)):
            hexa, opening, closing, number = m.groups()
            if opening:
                array = []
            elif closing:
                tokens.append(array or [])
                array = None
            elif hexa is not None:
                value = bytes.fromhex(re.sub(rb"\s", b"", hexa).decode())
                (array if array is not None else tokens).append(value)
            elif number is not None and array is None:
                tokens.append(int(number))
        yield tokens


def _to_unicode(obj: Any) -> dict[int, str]:
    stream = obj.get("/ToUnicode")
    if not isinstance(stream, pikepdf.Stream):
        return {}
    try:
        return _parse_to_unicode(stream.read_bytes())
    except (pikepdf.PdfError, ValueError, zlib.error):
        return {}


def _parse_to_unicode(data: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for tokens in _cmap_sections(data, b"bfchar"):
        for src, dst in zip(tokens[0::2], tokens[1::2], strict=False):
            if isinstance(src, bytes) and isinstance(dst, bytes):
                table[int.from_bytes(src, "big")] = _utf16(dst)
    for tokens in _cmap_sections(data, b"bfrange"):
        for lo, hi, dst in zip(tokens[0::3], tokens[1::3], tokens[2::3], strict=False):
            if isinstance(lo, bytes) and isinstance(hi, bytes):
                _bfrange(table, int.from_bytes(lo, "big"), int.from_bytes(hi, "big"), dst)
    return table


def _bfrange(table: dict[int, str], lo: int, hi: int, dst: Any) -> None:
    hi = min(hi, lo + 65535)
    if isinstance(dst, list):
        for code, value in zip(range(lo, hi + 1), dst, strict=False):
            table[code] = _utf16(value)
    elif isinstance(dst, bytes) and dst:
        prefix, last = dst[:-2], int.from_bytes(dst[-2:], "big")
        for offset, code in enumerate(range(lo, hi + 1)):
            value = (last + offset) & 0xFFFF
            table[code] = _utf16(prefix + value.to_bytes(2, "big"))


def _utf16(data: bytes) -> str:
    if len(data) == 1:
        return chr(data[0])
    return data.decode("utf-16-be", errors="replace")


class _Codespace:
    """How a composite font's strings split into codes (PDF 32000 §9.7.6.2)."""

    def __init__(self, ranges: list[tuple[int, bytes, bytes]]) -> None:
        self.ranges = sorted(ranges) or [(2, b"\x00\x00", b"\xff\xff")]
        self.fixed = self.ranges[0][0] if len({r[0] for r in self.ranges}) == 1 else 0

    @classmethod
    def parse(cls, data: bytes) -> _Codespace:
        ranges = []
        for tokens in _cmap_sections(data, b"codespacerange"):
            for lo, hi in zip(tokens[0::2], tokens[1::2], strict=False):
                if isinstance(lo, bytes) and isinstance(hi, bytes) and len(lo) == len(hi):
                    ranges.append((len(lo), lo, hi))
        return cls(ranges)

    def split(self, data: bytes) -> Codes:
        if self.fixed:
            n = self.fixed
            return [
                (i, i + n, int.from_bytes(data[i : i + n], "big"))
                for i in range(0, len(data) - n + 1, n)
            ]
        out, i = [], 0
        while i < len(data):
            n = self._length(data, i)
            out.append((i, i + n, int.from_bytes(data[i : i + n], "big")))
            i += n
        return out

    def _length(self, data: bytes, i: int) -> int:
        for n, lo, hi in self.ranges:
            chunk = data[i : i + n]
            if len(chunk) == n and all(a <= b <= c for a, b, c in zip(lo, chunk, hi, strict=True)):
                return n
        return min(self.ranges[0][0], len(data) - i)


class _CidMap:
    """Code → CID from an embedded CMap's cidchar/cidrange sections."""

    def __init__(self) -> None:
        self.single: dict[int, int] = {}
        self.ranges: list[tuple[int, int, int]] = []

    @classmethod
    def parse(cls, data: bytes) -> _CidMap:
        cmap = cls()
        for tokens in _cmap_sections(data, b"cidchar"):
            for src, cid in zip(tokens[0::2], tokens[1::2], strict=False):
                if isinstance(src, bytes) and isinstance(cid, int):
                    cmap.single[int.from_bytes(src, "big")] = cid
        for tokens in _cmap_sections(data, b"cidrange"):
            for lo, hi, cid in zip(tokens[0::3], tokens[1::3], tokens[2::3], strict=False):
                if isinstance(lo, bytes) and isinstance(hi, bytes) and isinstance(cid, int):
                    cmap.ranges.append((int.from_bytes(lo, "big"), int.from_bytes(hi, "big"), cid))
        return cmap

    def cid(self, code: int) -> int:
        if code in self.single:
            return self.single[code]
        for lo, hi, start in self.ranges:
            if lo <= code <= hi:
                return start + code - lo
        return 0


# --------------------------------------------------------------------------- reportlab data


@functools.cache
def _reportlab_fontdata() -> Any:
    from reportlab.pdfbase import _fontdata  # metrics and encodings of the standard 14 fonts

    return _fontdata


@functools.cache
def _glyph_table() -> dict[str, int]:
    from reportlab.pdfbase import _glyphlist  # the Adobe Glyph List

    table: dict[str, int] = _glyphlist._glyphname2unicode
    return table


def _base14_widths(name: str) -> dict[str, int]:
    widths: dict[str, int] = _reportlab_fontdata().widthsByFontGlyph.get(name, {})
    return widths
