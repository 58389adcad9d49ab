"""The facts of a plain PDF, read without qpdf: most uploads are plain, and qpdf's opening of
a file was a sixth of CreateSession's throughput (decision 0037).

Plain means what a look at the bytes can vouch for, so that any reader sees what qpdf sees:
- intact: `startxref` points at a classic cross-reference table that lists each object once;
  every object is where it says and ends; its value, up to `endobj` or to the keyword that
  starts its stream, is made of PDF's tokens only (no comment, no stray word) with its
  dictionaries, arrays and strings closed, each value on its own; and it refers only to
  objects the table lists.
  Nothing is left for a reader to repair, and repairs are where PDFium and qpdf part ways.
  What readers parse is then the objects' values and the trailer, and the checks below look
  at those alone (stream data holds no keys of anything);
- no object or cross-reference streams (what they hold is compressed, out of sight), no
  encryption, and no name written with `#` escapes (`/J#61vaScript` is `/JavaScript`);
- none of the names that active content needs (actions, scripts, embedded files, XFA, media
  annotations): every place `sanitize.has_active_content` looks is named by one of them;
- one flat page tree, whose /Count and /Kids agree with the page objects; no crop box, no
  rotation but a multiple of 360, and every /MediaBox written out as the same four numbers:
  every page is then displayed as that box.

PDFium then counts the pages, which must agree too. Anything else is not plain (None), and
`PdfInspector` has qpdf read it as before. The look at the bytes is a few regular expressions
and `bytes.count`s; PDFium is called through ctypes, which lets other threads run meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import pypdfium2  # noqa: F401  (initialises PDFium)
import pypdfium2.raw as pdfium_c

from esign.domain.model import PageSize
from esign.domain.ports import PdfFacts
from esign.pdf.pdfium_lock import PDFIUM_LOCK

_WHITE = rb"[\x00\t\n\x0c\r ]"  # PDF's white space (Python's \s has \v, and lacks \0)
_DELIMITER = rb"[\x00\t\n\x0c\r ()<>\[\]{}/%]"
_END_OF_NAME = rb"(?=" + _DELIMITER + rb"|\Z)"


def _pdf_re(pattern: bytes) -> re.Pattern[bytes]:
    """A regular expression in which \\s means PDF's white space."""
    return re.compile(pattern.replace(rb"\s", _WHITE))


# What a name is written with: printable ASCII but the delimiters. Other bytes are allowed
# in a name, but readers differ on them (qpdf takes \v for white space).
_NAME_CHAR = rb"[!-$&'*-.0-;=?-Z\\^-z|~]"
_UNPLAIN = (  # names that rule a file out: active content, and structure the bytes do not show
    rb"AA|A|JavaScript|JS|EmbeddedFiles|XFA|FileAttachment|RichMedia|Movie|Sound"
    rb"|Screen|Launch|SubmitForm|ImportData|GoToR|GoToE|Rendition|ObjStm|XRef|XRefStm|Encrypt"
    rb"|CropBox"
)
# One pass over the objects finds every name that matters, each by the group it is in; and
# any name with an escape in it. The one '/' in front lets the search skip from '/' to '/'.
_NAMES = _pdf_re(
    rb"/(?:(?:(?P<unplain>" + _UNPLAIN + rb")|(?P<opening>OpenAction)|(?P<box>MediaBox)"
    rb"|(?P<turn>Rotate)"
    rb"|(?P<count>Count)|(?P<kids>Kids)|Type\s*/(?:(?P<tree>Pages)|(?P<page>Page)))"
    + _END_OF_NAME
    + rb"|(?P<escaped>"
    + _NAME_CHAR
    + rb"*#[0-9A-Fa-f]{2}))"
)
_NUMBER = rb"([+-]?(?:\d+\.?\d*|\.\d+))"
_BOX = _pdf_re(rb"/MediaBox\s*\[\s*" + _NUMBER + (rb"\s+" + _NUMBER) * 3 + rb"\s*\]")
# An opening that is a destination written out (LibreOffice writes one): it only scrolls, as
# `sanitize.has_active_content` agrees. An action, or a reference to either, rules a file out.
_DESTINATION = _pdf_re(rb"/OpenAction\s*\[")
_COUNT = _pdf_re(rb"/Count\s+(\d{1,6})(?=\s*(?:/|>>))")
_KIDS = _pdf_re(rb"/Kids\s*\[((?:\s*\d+\s+\d+\s+R)*)\s*\]")
_KID = _pdf_re(rb"(\d+)\s+\d+\s+R")
_IS_PAGE = _pdf_re(rb"/Type\s*/Page" + _END_OF_NAME)
_NO_TURN = _pdf_re(rb"/Rotate\s+[+-]?0*(?:0|360|720)(?:\.0*)?(?=\s*(?:/|>>))")
_START_XREF = _pdf_re(rb"startxref\s+(\d{1,12})\s")
_TABLE = _pdf_re(rb"xref\s*((?:\d+ \d+\s*(?:\d{10} \d{5} [nf](?: \r| \n|\r\n))+)+)trailer\s*<<")
_SUBSECTION = _pdf_re(rb"(\d+) (\d+)\s*((?:\d{10} \d{5} [nf](?: \r| \n|\r\n))+)")
# The keyword that starts a stream's data: after its dictionary, and followed by an end of
# line. A "stream" anywhere else (in a string, in a name) is no keyword.
_STREAM = re.compile(rb"(?<=[>\x00\t\n\x0c\r ])stream(?=\r?\n)")
_AFTER_OBJ = b"\x00\t\n\x0c\r <[(/"  # what may follow `N G obj`
_AFTER_ENDOBJ = b"\x00\t\n\x0c\r %"
_COMMENT = _pdf_re(rb"%[^\r\n]*")
# Objects' values as PDF's tokens, each taken whole (atomic: a value that is not one fails at
# once instead of being tried every other way): a reference, white space, a name, a number or
# keyword ended by a delimiter, a dictionary or array bracket, a string with no parentheses
# in it unless escaped, a hex string.
_TOKEN = (
    rb"\d++\s++\d++\s++R" + _END_OF_NAME + rb"|\s++|/" + _NAME_CHAR + rb"*+"
    rb"|(?:[+-]?(?:\d++\.?\d*+|\.\d++)|true|false|null)"
    + _END_OF_NAME
    + rb"|<<|>>|[\[\]]|\((?:[^()\\]++|\\[\x00-\xff])*+\)|<[0-9A-Fa-f\x00\t\n\x0c\r ]*+>"
)
_TOKENS = _pdf_re(rb"(?>" + _TOKEN + rb")*+")
# A reference read backwards: searching the reversed text for its 'R' is several times faster
# than trying `N G R` at every byte. The digits come out reversed.
_REFERENCE_BACKWARDS = _pdf_re(rb"R\s++(\d++)\s++(\d++)")
_ENTRY = _pdf_re(rb"(\d{10}) (\d{5}) ([nf])")


def plain_facts(data: bytes, max_pages: int, min_side: float) -> PdfFacts | None:
    """The facts of `data` if it is a plain PDF with from 1 to `max_pages` pages, each at
    least `min_side` points a side; None otherwise (qpdf is to read it)."""
    read = _intact(data) if data.startswith(b"%PDF-") else None
    found = _scan(read) if read else None
    if found is None:
        return None
    size, pages = found
    if min(size.width, size.height) < min_side or not 0 < pages <= max_pages:
        return None
    if _page_count(data) != pages:
        return None
    return PdfFacts(pages, size.width, size.height, (size,) * pages, False)


class _Read(NamedTuple):
    """What readers parse of an intact file: the objects and the trailer, not stream data."""

    values: dict[int, bytes]  # each object's value by its number
    text: bytes  # the trailer and every value


def _intact(data: bytes) -> _Read | None:
    """The objects, if the last `startxref` (in the last KB, as readers look for it) points
    at a cross-reference table whose every object is where it says, written whole, and
    refers only to objects the table lists: a reader then has nothing to repair, and repairs
    are where PDFium and qpdf part ways. None otherwise."""
    found = _START_XREF.match(data, max(0, data.rfind(b"startxref", max(0, len(data) - 1024))))
    table = _TABLE.match(data, int(found.group(1))) if found else None
    if found is None or table is None:
        return None
    objects = _objects(table.group(1))
    values = _values(data, objects, table.start())
    trailer = _COMMENT.sub(b"", data[table.end() - 2 : found.start()])
    if not values or not all(map(_well_formed, [trailer, *values.values()])):
        return None
    text = b" ".join([trailer, *values.values()])
    in_use = {(b"%d" % number, b"%d" % generation) for number, (_, generation) in objects.items()}
    return _Read(values, text) if _references(text) <= in_use else None


def _objects(table: bytes) -> dict[int, tuple[int, int]]:
    """Object number → (offset, generation) of the objects in use."""
    objects = {}
    for first, count, entries in _SUBSECTION.findall(table):
        listed = _ENTRY.findall(entries)
        if len(listed) != int(count):
            return {}
        for number, (offset, generation, use) in enumerate(listed, start=int(first)):
            if number in objects:
                return {}  # listed twice: readers may take either
            if use == b"n":
                objects[number] = (int(offset), int(generation))
    return objects


def _values(data: bytes, objects: dict[int, tuple[int, int]], table_at: int) -> dict[int, bytes]:
    """Each object's value, from its `N G obj` to its `stream` or `endobj` (none if an
    object is not where the table says, or does not end before the next one starts)."""
    if not objects:
        return {}
    starts = sorted((at, number, generation) for number, (at, generation) in objects.items())
    ends = [at for at, _, _ in starts[1:]] + [table_at]
    values = {}
    for (at, number, generation), end in zip(starts, ends, strict=True):
        header = b"%d %d obj" % (number, generation)
        value = at + len(header)
        close = data.rfind(b"endobj", value, end)
        if close < 0 or not data.startswith(header, at) or data[value] not in _AFTER_OBJ:
            return {}
        if close + 6 < len(data) and data[close + 6] not in _AFTER_ENDOBJ:
            return {}
        stream = _STREAM.search(data, value, close)
        values[number] = data[value : stream.start() if stream else close]
    return values


def _well_formed(value: bytes) -> bool:
    """Whether an object's value (or the trailer) is nothing but PDF's tokens, with its
    dictionaries and arrays closed as they open. Each value on its own: one that another
    makes up for could hide what follows a cut from the look at names."""
    return (
        value.count(b"<<") == value.count(b">>")
        and value.count(b"[") == value.count(b"]")
        and _TOKENS.fullmatch(value) is not None
    )


def _references(text: bytes) -> set[tuple[bytes, bytes]]:
    """The (number, generation) of every reference in well-formed values. (Numbers in a
    string that look like a reference count too: a file with one that names no object is
    not plain.)"""
    backwards = _REFERENCE_BACKWARDS.findall(text[::-1])
    return {(number[::-1], generation[::-1]) for generation, number in backwards}


@dataclass
class _Found:
    """What the scan saw: the media boxes as written, and the page tree."""

    boxes: set[tuple[bytes, ...]] = field(default_factory=set)
    pages: int = 0  # page objects
    trees: int = 0  # page tree nodes
    counts: list[int] = field(default_factory=list)  # the /Count of each node
    kids: list[int] = field(default_factory=list)  # the objects each /Kids refers to


def _scan(read: _Read) -> tuple[PageSize, int] | None:
    """The size of every page and their number, if the file has one flat page tree (one
    node whose /Count and /Kids agree with the page objects, each kid one of them), every
    media box written out and the same, no page turned, and no name that rules it out;
    otherwise None.

    Only what readers parse is looked at: names in stream data are no keys of anything, and
    objects the table does not list are read by nobody while it is intact (qpdf's own check
    for active content looks at fewer still: the objects reachable from the catalog)."""
    found, values = _Found(), read.values
    for name in _NAMES.finditer(read.text):
        if not _note(read.text, name, found):
            return None
    pages, kids = found.pages, found.kids
    flat_tree = (
        found.trees == 1
        and found.counts == [pages]
        and len(set(kids)) == len(kids) == pages
        and all(_IS_PAGE.search(values.get(kid, b"")) for kid in kids)
    )
    if len(found.boxes) != 1 or not flat_tree:
        return None
    x0, y0, x1, y1 = (float(v) for v in found.boxes.pop())
    return PageSize(abs(x1 - x0), abs(y1 - y0)), pages


def _note(data: bytes, name: re.Match[bytes], found: _Found) -> bool:
    """Add what the name says to `found`; False if it rules the file out."""
    kind, at = name.lastgroup, name.start()
    if kind == "page":
        found.pages += 1
    elif kind == "tree":
        found.trees += 1
    elif kind == "box" and (box := _BOX.match(data, at)):
        found.boxes.add(box.groups())
    elif kind == "count" and (count := _COUNT.match(data, at)):
        found.counts.append(int(count.group(1)))
    elif kind == "kids" and (kids := _KIDS.match(data, at)):
        found.kids += map(int, _KID.findall(kids.group(1)))
    elif kind == "opening":
        return _DESTINATION.match(data, at) is not None
    elif kind == "turn":
        return _NO_TURN.match(data, at) is not None
    else:  # a name that rules the file out, or a box, count or kids not written out
        return False
    return True


def _page_count(data: bytes) -> int:
    """PDFium's count of the pages (0 if it cannot read the file or it is encrypted)."""
    with PDFIUM_LOCK:
        document = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
        if not document:
            return 0
        try:
            if pdfium_c.FPDF_GetSecurityHandlerRevision(document) != -1:
                return 0
            return int(pdfium_c.FPDF_GetPageCount(document))
        finally:
            pdfium_c.FPDF_CloseDocument(document)
