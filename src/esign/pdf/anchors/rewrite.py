"""Rewriting for `remove`: the new bytes of instructions that showed tag glyphs.

Each removed glyph becomes a `TJ` number of the same advance, so the glyphs after it keep their
positions; every byte outside the edited instructions stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from esign.pdf.anchors.fonts import Font
from esign.pdf.content import Instruction, String

Elements = list[bytes | float]  # a TJ array: strings and adjustments; Tj is one string


@dataclass(slots=True)
class Edit:
    """Glyphs to drop from one text-showing instruction, with the text state they were shown in."""

    instruction: Instruction
    font: Font
    size: float
    char_spacing: float
    word_spacing: float
    glyphs: dict[int, set[int]] = field(default_factory=dict)  # element → glyph indices


def string_operand(value: Any) -> Elements:
    """A Tj operand as a one-string TJ array."""
    if not isinstance(value, String):
        raise TypeError("not a string")
    return [value]


def array_operand(array: Any) -> Elements:
    """A TJ operand, its numbers as floats."""
    if not isinstance(array, list):
        raise TypeError("not an array")
    return [item if isinstance(item, String) else float(item) for item in array]


def rewrite(data: bytes, edits: dict[int, Edit]) -> bytes:
    """`data` with each edited instruction's bytes replaced (`edits` by the instructions'
    start offsets); all other bytes kept."""
    parts, pos = [], 0
    for start in sorted(edits):
        edit = edits[start]
        _op, _ops, begin, end = edit.instruction
        parts += [data[pos:begin], _replacement(edit)]
        pos = end
    parts.append(data[pos:])
    return b"".join(parts)


def _replacement(edit: Edit) -> bytes:
    """What shows the same text without the edit's glyphs, with the same advances."""
    name, ops, _start, _end = edit.instruction
    if name == b"TJ":
        return b" " + _tj(_kept(array_operand(ops[0]), edit))
    if name == b"Tj":
        return b" " + _tj(_kept(string_operand(ops[0]), edit))
    if name == b"'":
        return b" T* " + _tj(_kept(string_operand(ops[0]), edit))
    # '"': set the spacings it sets, move to the next line, then show
    tw, tc = _number(float(ops[0])), _number(float(ops[1]))
    return b" %s Tw %s Tc T* %s" % (tw, tc, _tj(_kept(string_operand(ops[2]), edit)))


def _kept(elements: Elements, edit: Edit) -> Elements:
    """A TJ array without the edit's glyphs: each becomes a number of the same advance."""
    out: Elements = []  # (a list, not `Elements()`: calling the alias is slow)
    font, removed = edit.font, edit.glyphs
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


def _runs(glyphs: set[int]) -> Iterator[tuple[int, int]]:
    """Indices as runs of consecutive ones, in order: (first, last) each."""
    first, last = min(glyphs), max(glyphs)
    if last - first + 1 == len(glyphs):  # the usual edit: one tag's glyphs, one run
        yield first, last
        return
    indices = sorted(glyphs)
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
