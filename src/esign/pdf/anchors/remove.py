"""Phase 2: remove the found tags' glyphs from the content streams, with pikepdf.

Pages (and the Form XObjects they draw) are lexed as bytes (`esign.pdf.content`) and walked
with a small text-state interpreter (q/Q, cm, BT, Tf, Tc, Tw, Tz, TL, Ts, Td, TD, Tm, T*, Tj,
TJ, ', "). Glyph origins come from each font's widths (`fonts`). A glyph whose origin lies on
a tag's run of chars (between PDFium's first and last origins, within `MATCH_TOLERANCE`) is
replaced by a `TJ` number of the same advance, -1000 · (w + (Tc [+ Tw]) / Tfs), so every other
glyph keeps its position; only the edited instructions' bytes change (`rewrite`).

Text objects that cannot hold a tag glyph are skipped unread: see `Stripper`.
"""

from __future__ import annotations

import bisect
import io
import itertools
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf

from esign.pdf.anchors.find import Hit, Target
from esign.pdf.anchors.fonts import Font, FontCache
from esign.pdf.anchors.results import AnchorScan, Unremoved
from esign.pdf.anchors.rewrite import Edit, Elements, array_operand, rewrite, string_operand
from esign.pdf.content import Instruction, Lexer, skippable_text_objects
from esign.pdf.geometry import IDENTITY, Matrix, matrix, multiply, translate

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


def strip(
    pdf: bytes | Path,
    pages: list[list[Hit]],
    result: AnchorScan,
    delimiters: str,
    out: Path | None = None,
) -> bytes | Path:
    """Remove every hit's glyphs; record what could not be removed; return the new PDF (for
    a file in, the file `out`, or `pdf` itself when nothing changed)."""
    hits = [hit for page in pages for hit in page]
    try:
        with pikepdf.open(pdf if isinstance(pdf, Path) else io.BytesIO(pdf)) as doc:
            stripper = _Stripper(doc, delimiters)
            for index, page_hits in enumerate(pages):
                if page_hits:
                    stripper.strip_page(index, page_hits)
            stripper.write_back()
            _report_unremoved(result, hits, stripper.problems)
            if not stripper.changed:
                return pdf
            if isinstance(pdf, Path) and out is not None:
                doc.save(out, deterministic_id=True)  # same input, same bytes: blobs dedupe
                return out
            buf = io.BytesIO()
            doc.save(buf, deterministic_id=True)
            return buf.getvalue()
    except Exception as exc:  # never raise on an odd PDF: report and keep the input
        reason = f"the PDF could not be rewritten ({type(exc).__name__}: {exc})"
        result.errors.append(reason)
        result.unremoved = [Unremoved(h.page_index, h.text, reason) for h in hits]
        return pdf


def _report_unremoved(result: AnchorScan, hits: list[Hit], problems: dict[int, set[str]]) -> None:
    for hit in hits:
        left = hit.chars - hit.removed
        if not left:
            continue
        why = "; ".join(sorted(problems.get(hit.page_index, ()))) or "glyphs not found"
        reason = f"{left} of {hit.chars} characters could not be removed ({why})"
        result.unremoved.append(Unremoved(hit.page_index, hit.text, reason))


@dataclass(slots=True)
class _Stream:
    """A content stream (a page's or a form's) and the edits found in it, by byte offset."""

    data: bytes
    write: Callable[[bytes], None]
    edits: dict[int, Edit] = field(default_factory=dict)


class _Stripper:
    """Walks pages (and the forms they draw) and rewrites what holds tag glyphs.

    A page is first walked *quickly*: text objects that show no string holding a delimiter's
    code (in any of the page's fonts) and set no lasting state are skipped unread, unless a
    tag is half removed (its remaining chars are in the next text objects). When a tag char
    is still left after that, the page is walked again reading every text object.
    """

    def __init__(self, doc: Any, delimiters: str) -> None:
        self.doc = doc
        # listed once: `doc.pages[i]` alone costs about 10 µs a page
        self.pages = list(doc.pages)
        self.delimiters = delimiters
        self.fonts = FontCache()
        self.forms: dict[tuple[int, int], _Stream] = {}
        self.problems: dict[int, set[str]] = {}
        self.changed = False
        self._fonts: dict[_Key, _Fonts] = {}
        self._codes: dict[Font, bytes] = {}

    def strip_page(self, index: int, hits: list[Hit]) -> None:
        targets = _TargetIndex([t for hit in hits for t in hit.targets])
        problems = self.problems.setdefault(index, set())
        try:
            page = self.pages[index].obj
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

    def fonts_of(self, resources: Any) -> _Fonts:
        """What a walk needs of the fonts of `resources`; shared by every page with the same
        fonts."""
        key = _fonts_key(resources)
        fonts = self._fonts.get(key) if key is not None else None
        if fonts is None:
            fonts = _Fonts({}, self.skip_pattern(resources))
            if key is not None:
                self._fonts[key] = fonts
        return fonts

    def skip_pattern(self, resources: Any) -> re.Pattern[bytes] | None:
        """What text objects drawn with `resources` may be skipped (see `_Walk.run`)."""
        special = bytearray(ord(c) for c in self.delimiters if ord(c) < 256)
        fonts = resources.get("/Font")
        if isinstance(fonts, pikepdf.Dictionary):
            for _name, obj in fonts.items():
                font = self.fonts.get(obj)
                codes = self._codes.get(font)
                if codes is None:
                    codes = self._codes[font] = font.codes_of(self.delimiters)
                special += codes
        return skippable_text_objects(bytes(sorted(set(special))))

    def write_back(self) -> None:
        for stream in self.forms.values():
            self._write(stream)

    def _write(self, stream: _Stream) -> None:
        if stream.edits:
            stream.write(rewrite(stream.data, stream.edits))
            stream.edits.clear()
            self.changed = True


_Key = tuple[str, int, int]


@dataclass(slots=True)
class _Fonts:
    """A resource dictionary's fonts as the walk uses them."""

    names: dict[bytes, Font | None]  # by name token, filled in as the walks meet them
    skip: re.Pattern[bytes] | None  # see `_Stripper.skip_pattern`


def _fonts_key(resources: Any) -> _Key | None:
    """What identifies the fonts of `resources` across pages: the dictionary's object, or,
    for a page's own (direct) dictionary, its /Font dictionary's object, which pages often
    share. None when neither is shared."""
    key = resources.objgen
    if key != (0, 0):
        return ("resources", *key)
    fonts = resources.get("/Font")
    if not isinstance(fonts, pikepdf.Dictionary) or fonts.objgen == (0, 0):
        return None
    return ("fonts", *fonts.objgen)


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

    def __init__(self, targets: list[Target]) -> None:
        self.all = targets
        self.by_row: dict[int, list[Target]] = {}
        for t in targets:
            self.by_row.setdefault(int(t.y0 // 1), []).append(t)
        # rows a baseline may sit on and still be within tolerance of a tag char
        self.rows = {row + d for row in self.by_row for d in (-1, 0, 1)}

    def near_row(self, y: float) -> list[Target]:
        row = int(y // 1)
        if row not in self.rows:  # most lines of a page: one set lookup
            return []
        found: list[Target] = []
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
        self.ctm: Matrix = IDENTITY
        self.font: Font | None = None
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
        shared = stripper.fonts_of(resources)
        self.fonts, self.shared_skip = shared.names, shared.skip
        self.tm: Matrix = IDENTITY
        self.tlm: Matrix = IDENTITY
        # strings shown since the line start, kept raw: most are never measured at all
        self.pending: list[tuple[Any, bool, Font, float, float, float, float]] = []
        self.gs = _GraphicsState()
        self.stack: list[_GraphicsState] = []
        self.open_hits: set[int] = set()  # ids of hits with some, not all, chars removed
        self.lexer = Lexer(b"")
        self.skip: re.Pattern[bytes] | None = None  # what `run` may skip (see `_Stripper`)

    def run(self, gs: _GraphicsState) -> None:
        self.gs, self.stack = gs, []
        handlers = _HANDLERS
        self.lexer = lexer = Lexer(self.stream.data)
        self.skip = None if self.thorough else self.shared_skip
        lexer.skip = self.skip
        next_instruction, handler_of = lexer.next, handlers.get  # bound once: run per instruction
        while (instruction := next_instruction()) is not None:
            handler = handler_of(instruction[0])
            if handler is not None:
                try:
                    handler(self, instruction[1], instruction)
                except _BAD_OPERANDS:
                    continue  # a malformed operator: skip it like viewers do

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
            elements = array_operand(raw) if is_array else string_operand(raw)
            total += _advance(elements, font, size, tc, tw) * scale
        self.pending.clear()
        self.tm = translate(self.tm, total)

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
            elements = array_operand(raw) if is_array else string_operand(raw)
            m = multiply(self.tm, gs.ctm)
            advance = self._match(gs, font, m, elements, candidates, instruction)
            self.tm = translate(self.tm, advance)
            return
        if candidates:
            self.problems.add(f"font {font.name}: {font.problem or 'size 0'}")
        state = (font, gs.size, gs.char_spacing, gs.word_spacing, gs.scale)
        self.pending.append((raw, is_array, *state))

    def _match(
        self,
        gs: _GraphicsState,
        font: Font,
        m: Matrix,
        elements: Elements,
        candidates: list[Target],
        instruction: Instruction,
    ) -> float:
        """Find the glyphs on tag chars and record them; return the advance in text space."""
        size, scale = gs.size, gs.scale
        x, found_any = 0.0, False
        # glyph starts only grow when every advance does (not with backward kerning)
        plain = font.nonnegative and gs.char_spacing == 0 and gs.word_spacing == 0
        for ei, element in enumerate(elements):
            if isinstance(element, float):
                x -= element / 1000.0 * size * scale
                continue
            sums, k = _glyph_starts(font, element, gs)
            found = _glyphs_on(sums, x, k, m, gs.rise, candidates, plain)
            if found:
                self._record(gs, font, instruction, ei, found)
                found_any = True
            x += k * sums[-1]
        if found_any:
            self._update_open(candidates)
        return x

    def _update_open(self, candidates: list[Target]) -> None:
        """Note which tags are left half removed: they continue in what follows."""
        for t in candidates:
            hit = t.hit
            if 0 < hit.removed < hit.chars:
                self.open_hits.add(id(hit))
            else:
                self.open_hits.discard(id(hit))
        if self.skip is not None:
            # a half-removed tag goes on in the next text objects, which skipping would pass
            # unread; once none is open, skipping resumes
            self.lexer.skip = None if self.open_hits else self.skip

    def _record(
        self, gs: _GraphicsState, font: Font, instruction: Instruction, ei: int, found: set[int]
    ) -> None:
        edit = self.stream.edits.get(instruction[2])
        if edit is None:
            edit = Edit(instruction, font, gs.size, gs.char_spacing, gs.word_spacing)
            self.stream.edits[instruction[2]] = edit
        edit.glyphs.setdefault(ei, set()).update(found)

    # -- fonts and forms ---------------------------------------------------------------

    def font(self, name: bytes) -> Font | None:
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
        inner.ctm = multiply(matrix(xobject.get("/Matrix")), gs.ctm)
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


def _glyph_starts(font: Font, data: bytes, gs: _GraphicsState) -> tuple[list[float], float]:
    """(sums, k): glyph i of the string starts k · sums[i] after the string's start in text
    space, and the string ends k · sums[-1] after it (one sum per code, and one more)."""
    width, size, tc, scale = font.width, gs.size, gs.char_spacing, gs.scale
    if tc == 0 and gs.word_spacing == 0:  # the usual case: widths alone
        return list(itertools.accumulate(font.widths_of(data), initial=0.0)), size * scale
    space = tc + gs.word_spacing  # Tw applies to single-byte code 32 only
    advances = [
        (width(code) * size + (space if code == 32 and end - start == 1 else tc)) * scale
        for start, end, code in font.split(data)
    ]
    return list(itertools.accumulate(advances, initial=0.0)), 1.0


def _glyphs_on(
    sums: list[float],
    x: float,
    k: float,
    m: Matrix,
    rise: float,
    candidates: list[Target],
    increasing: bool = False,
) -> set[int]:
    """Indices of the glyphs that start on a tag's run of chars (counted in the run).

    `increasing`: `sums` are known not to decrease (else they are looked at).

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
    # false with backward kerning; `increasing` says so without looking
    ordered = k > 0 and (increasing or all(map(operator.le, sums, sums[1:])))
    found: set[int] = set()
    for t in candidates:
        rx0, ry0, rx1, ry1 = t.x0 - ox, t.y0 - oy, t.x1 - ox, t.y1 - oy
        if abs(rx0 * b - ry0 * a) > off_line or abs(rx1 * b - ry1 * a) > off_line:
            continue  # not on this string's baseline
        lo, hi = (rx0 * a + ry0 * b) / norm, (rx1 * a + ry1 * b) / norm
        if lo > hi:
            lo, hi = hi, lo
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


def _advance(elements: Elements, font: Font, size: float, tc: float, tw: float) -> float:
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


def _op_q(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.stack.append(w.gs.copy())


def _op_restore(w: _Walk, ops: Any, _i: Instruction) -> None:
    if w.stack:  # an unbalanced Q is ignored, as viewers do
        w.gs = w.stack.pop()


def _op_cm(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.gs.ctm = multiply(_six(ops), w.gs.ctm)


def _op_bt(w: _Walk, ops: Any, _i: Instruction) -> None:
    w.set_line(IDENTITY)


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
