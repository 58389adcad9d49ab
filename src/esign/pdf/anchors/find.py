"""Phase 1: find anchor tags with PDFium (under `PDFIUM_LOCK`), and where their chars are.

Each page's text is searched for open delimiter, no delimiter, close delimiter (`tag_pattern`);
a tag may wrap onto the next line and is at most `MAX_TAG_CHARS` long. PDFium's text page
already joins runs split across `Tj`/`TJ` operators, fonts and BT blocks. Text indices (UTF-16
units) map to char indices through `FPDFText_GetCharIndexFromTextIndex`; each line of a tag is
one `Target`: its first and last real (not generated) chars' origins and how many there are.
"""

from __future__ import annotations

import ctypes
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from esign.pdf.anchors.results import UserBox
from esign.pdf.geometry import Displayed
from esign.pdf.pdfium_lock import PDFIUM_LOCK

MAX_TAG_CHARS = 400  # longer "tags" are taken to be stray delimiters, not tags


def tag_pattern(open_char: str, close_char: str) -> re.Pattern[str]:
    """Open, then no delimiter, then close: on one line, or wrapped onto the next one."""
    if len(open_char) != 1 or len(close_char) != 1:
        raise ValueError("anchor delimiters are single characters")
    o, c = re.escape(open_char), re.escape(close_char)
    inner = f"[^{o}{c}\\r\\n]*"
    return re.compile(f"{o}{inner}(?:\\r?\\n{inner})?{c}")


@dataclass(slots=True, eq=False)
class Hit:
    page_index: int
    text: str
    inner: str
    box: UserBox
    anchor: tuple[float, float]  # the field's top-left, displayed page points
    geometry: Displayed
    targets: list[Target] = field(default_factory=list)
    chars: int = 0  # the targets' glyphs, all told

    @property
    def removed(self) -> int:
        targets = self.targets
        if len(targets) == 1:  # the usual tag, on one line
            t = targets[0]
            return t.matched if t.matched < t.count else t.count
        return sum(min(t.matched, t.count) for t in targets)


@dataclass(slots=True, eq=False)
class Target:
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
    hit: Hit
    matched: int = 0  # glyphs found on the segment so far


def _unchecked(function: Any) -> Any:
    """A `pypdfium2.raw` binding without its declared argument types: ctypes then converts
    nothing on a call, which makes it 2-3 times cheaper (about 0.3 instead of 0.8 µs), and
    these run several times per tag. Callers pass only handles, ints and `byref()`s."""
    unchecked = type(function)(ctypes.cast(function, ctypes.c_void_p).value)
    unchecked.restype = function.restype
    return unchecked


_CHAR_ORIGIN = _unchecked(pdfium_c.FPDFText_GetCharOrigin)
_LOOSE_BOX = _unchecked(pdfium_c.FPDFText_GetLooseCharBox)
_FONT_SIZE = _unchecked(pdfium_c.FPDFText_GetFontSize)
_MATRIX = _unchecked(pdfium_c.FPDFText_GetMatrix)
_IS_GENERATED = _unchecked(pdfium_c.FPDFText_IsGenerated)


class _CharReader:
    """PDFium queries with reusable ctypes out-parameters, one reader per document; `tp` is
    the current page's text page."""

    def __init__(self) -> None:
        self.tp: Any = None  # the bare handle: no conversion on every call
        self._x, self._y = ctypes.c_double(), ctypes.c_double()
        self._px, self._py = ctypes.byref(self._x), ctypes.byref(self._y)
        self._rect = pdfium_c.FS_RECTF()
        self._matrix = pdfium_c.FS_MATRIX()
        self._prect, self._pmatrix = ctypes.byref(self._rect), ctypes.byref(self._matrix)
        self._box = [ctypes.c_float() for _ in range(4)]

    def geometry(self, page: Any) -> Displayed:
        """The page (a raw handle) as displayed, as pypdfium2's `get_mediabox()`,
        `get_cropbox()` and `get_rotation()` read it."""
        media = self._page_box(pdfium_c.FPDFPage_GetMediaBox, page) or (0, 0, 612, 792)
        crop = self._page_box(pdfium_c.FPDFPage_GetCropBox, page) or media
        rotation = pdfium_c.FPDFPage_GetRotation(page)
        return Displayed.of(media, crop, rotation * 90 if 0 <= rotation <= 3 else 0)

    def _page_box(self, get: Any, page: Any) -> tuple[float, ...] | None:
        box = self._box
        if not get(page, *box):
            return None
        return tuple(side.value for side in box)

    def origin(self, index: int) -> tuple[float, float]:
        _CHAR_ORIGIN(self.tp, index, self._px, self._py)
        return self._x.value, self._y.value

    def targets(self, runs: list[Run], hit: Hit, first: tuple[float, float]) -> list[Target]:
        """One `Target` per run (its first and last char's origins); `first` is the origin of
        the first run's first char."""
        out: list[Target] = []
        for start, end, count in runs:
            x0, y0 = first if not out else self.origin(start)
            x1, y1 = self.origin(end) if end != start else (x0, y0)
            out.append(Target(x0, y0, x1, y1, count, hit))
        return out

    def loose_box(self, index: int) -> tuple[float, float, float, float]:
        r = self._rect
        _LOOSE_BOX(self.tp, index, self._prect)
        return r.left, r.bottom, r.right, r.top

    def em_top(self, index: int, x: float, y: float) -> tuple[float, float]:
        """The point one font size above the char's origin (x, y), along the text's up
        direction."""
        m = self._matrix
        size = _FONT_SIZE(self.tp, index)
        if not _MATRIX(self.tp, index, self._pmatrix):
            return x, y + size
        return x + size * m.c, y + size * m.d


def find_tags(
    pdf: bytes | Path, pattern: re.Pattern[str], open_char: str, errors: list[str]
) -> list[list[Hit]]:
    """The hits of every page; a page PDFium cannot read has none and is named in `errors`."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            pages = []
            reader = _CharReader()
            for index in range(len(doc)):
                try:
                    pages.append(_find_on_page(doc, index, pattern, open_char, reader))
                except pdfium.PdfiumError as exc:
                    errors.append(f"page {index + 1}: PDFium could not read it ({exc})")
                    pages.append([])
            return pages
        finally:
            doc.close()


def _find_on_page(
    doc: Any, index: int, pattern: re.Pattern[str], open_char: str, reader: _CharReader
) -> list[Hit]:
    # PDFium's own calls, not pypdfium2's page objects: their wrappers and finalizers cost
    # about 30 µs a page, a tenth of everything the scan adds to loading the text
    page = pdfium_c.FPDF_LoadPage(doc.raw, index)
    if not page:
        raise pdfium.PdfiumError("Failed to load page.")
    try:
        textpage = pdfium_c.FPDFText_LoadPage(page)
        if not textpage:
            raise pdfium.PdfiumError("Failed to load text page.")
        try:
            base, text = _page_text(textpage)
            if open_char not in text:
                return []
            geometry = reader.geometry(page)
            reader.tp = textpage
            offsets = _Offsets(textpage, text, base)
            matches = (m for m in pattern.finditer(text) if len(m.group(0)) <= MAX_TAG_CHARS)
            hits = (_hit(reader, index, geometry, offsets, m) for m in matches)
            return [hit for hit in hits if hit is not None]
        finally:
            pdfium_c.FPDFText_ClosePage(textpage)
    finally:
        pdfium_c.FPDF_ClosePage(page)


def _page_text(textpage: Any) -> tuple[int, str]:
    """The page's text and the text index of its first char, as pypdfium2's
    `get_text_range()` gives it: chars without text (text index -1) at either end are left
    out of the range asked for (PDFium could read beyond it, crbug.com/pdfium/2079)."""
    text_index = pdfium_c.FPDFText_GetTextIndexFromCharIndex
    first, last = 0, pdfium_c.FPDFText_CountChars(textpage) - 1
    while first <= last and text_index(textpage, first) < 0:
        first += 1
    while last >= first and text_index(textpage, last) < 0:
        last -= 1
    if first > last:
        return 0, ""
    start = text_index(textpage, first)
    # up to the last char's first unit, a second unit should it need one, and the NUL
    buffer = (ctypes.c_ushort * (text_index(textpage, last) - start + 3))()
    written = pdfium_c.FPDFText_GetText(textpage, first, last - first + 1, buffer)
    return start, ctypes.string_at(buffer, 2 * max(written - 1, 0)).decode("utf-16-le", "ignore")


class _Offsets:
    """Python string offsets → PDFium text indices, which count UTF-16 code units."""

    def __init__(self, textpage: Any, text: str, base: int) -> None:
        self.base = base
        self.units: list[int] | None = None
        # a char beyond U+FFFF takes two units: shift what follows
        if not text.isascii() and _ASTRAL.search(text):
            self.units = list(
                itertools.accumulate((1 + (ord(c) > 0xFFFF) for c in text), initial=0)
            )
        # char index - text index when it is the same for the whole text: text → char
        # indices increase strictly, so equal differences at both ends mean equal in between
        self.shift: int | None = None
        if self.units is None and text:
            last = base + len(text) - 1
            char_at = pdfium_c.FPDFText_GetCharIndexFromTextIndex
            first_char, last_char = char_at(textpage, base), char_at(textpage, last)
            if first_char >= 0 and last_char - first_char == last - base:
                self.shift = first_char - base

    def __call__(self, offset: int) -> int:
        return self.base + (offset if self.units is None else self.units[offset])


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _hit(
    reader: _CharReader,
    page_index: int,
    geom: Displayed,
    offsets: _Offsets,
    match: re.Match[str],
) -> Hit | None:
    runs = _real_chars(reader.tp, offsets, match)
    if not runs:
        return None
    first, last = runs[0][0], runs[-1][1]
    origin = ox, oy = reader.origin(first)
    ax, ay = geom.to_display(ox, oy)
    bx, by = geom.to_display(*reader.em_top(first, ox, oy))
    anchor = (ax if ax < bx else bx, ay if ay < by else by)
    # the union of the first and last chars' boxes: exact for a tag on one line (all its
    # chars share the line's loose height), and spanning both lines of a wrapped tag
    l0, b0, r0, t0 = reader.loose_box(first)
    if last != first:
        l1, b1, r1, t1 = reader.loose_box(last)
        l0, b0 = (l0 if l0 < l1 else l1), (b0 if b0 < b1 else b1)
        r0, t0 = (r0 if r0 > r1 else r1), (t0 if t0 > t1 else t1)
    text = match.group()
    inner = text[1:-1]
    if "\r" in inner or "\n" in inner:
        inner = re.sub(r"[\r\n]+", " ", inner)
    hit = Hit(page_index, text, inner, UserBox(l0, b0, r0, t0), anchor, geom)
    hit.targets = reader.targets(runs, hit, origin)
    hit.chars = runs[0][2] if len(runs) == 1 else sum(run[2] for run in runs)
    return hit


Run = tuple[int, int, int]  # a run of a tag's real chars: first and last char index, count


def _real_chars(textpage: Any, offsets: _Offsets, match: re.Match[str]) -> list[Run]:
    """The char indices behind the match's text, without generated spaces and line breaks, in
    runs: a new one starts after each line break (a tag wrapped onto the next line)."""
    if offsets.shift is not None:  # the usual page: no lookups
        return _direct_runs(textpage, match, offsets.base + offsets.shift)
    start, end = offsets(match.start()), offsets(match.end() - 1)
    char_at = pdfium_c.FPDFText_GetCharIndexFromTextIndex
    first, last = char_at(textpage, start), char_at(textpage, end)
    # the page's indices shift unevenly, but maybe not within this tag (see `_Offsets`)
    shift = first - start if first >= 0 and last - first == end - start else None
    if shift is not None and offsets.units is None:
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
        char_index = text_index + shift if shift is not None else char_at(textpage, text_index)
        if char_index < 0 or (runs[-1] and runs[-1][-1] == char_index):
            continue
        if char.isspace() and pdfium_c.FPDFText_IsGenerated(textpage, char_index) != 0:
            continue  # a space PDFium inferred from a gap: nothing to remove
        runs[-1].append(int(char_index))
    return [(run[0], run[-1], len(run)) for run in runs if run]


def _direct_runs(textpage: Any, match: re.Match[str], shift: int) -> list[Run]:
    """`_real_chars` when char index = text offset + `shift`: only spaces need a query."""
    runs, text, start = [], match.string, match.start()
    if "\n" in match.group() or "\r" in match.group():  # wrapped: one run per line
        lines = [line.span() for line in _LINE.finditer(text, start, match.end())]
    else:
        lines = [(start, match.end())]
    for start, end in lines:
        generated = [i for i in _spaces(text, start, end, shift) if _IS_GENERATED(textpage, i)]
        if not generated:  # the usual line: every char is a glyph
            runs.append((start + shift, end - 1 + shift, end - start))
            continue
        real = [i for i in range(start + shift, end + shift) if i not in generated]
        if real:
            runs.append((real[0], real[-1], len(real)))
    return runs


def _spaces(text: str, start: int, end: int, shift: int) -> list[int]:
    """Where text[start:end] has white space, plus `shift`."""
    line = text[start:end]
    if line.isascii() and line.isprintable():  # the usual tag: only " " can be white space
        found, at = [], line.find(" ")
        while at >= 0:
            found.append(start + at + shift)
            at = line.find(" ", at + 1)
        return found
    return [space.start() + shift for space in _SPACE.finditer(text, start, end)]


_LINE = re.compile(r"[^\r\n]+")
_SPACE = re.compile(r"\s")
