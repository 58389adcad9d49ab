"""The anchor-tag grammar of reference §6.1: one tag's inner text → `AnchorTag` or `MalformedTag`.

A tag is everything between the client's delimiters, e.g. `sig_req_Seller 1_175` inside
`<sig_req_Seller 1_175>`. Parts are separated by `_`; their meaning is positional:

    dt|d|t|sig|ini|txt _ req|opt[|aut] _ Role [_ Width [_ FontSize]]
    chk                 _ req|opt      _ Role [_ Size]
    rdo                 _ req|opt      _ Role _ Count
    ddl                 _ req|opt      _ Role _ Width _ Item1 [_ Item2 ...]

Leniency: type and option codes ignore case and surrounding spaces; an empty width part
(`<sig_req_Role__12>`) means "no width". Roles keep their letters as written with runs of
white space collapsed; `esign.domain.model.normalize_role` is the key to match them against
signer roles (case and repeated spaces ignored). Roles cannot contain `_` (it separates parts).

Sizes are PDF points (the vendor's "px" at 72 dpi, contract §5).

Widths: a missing width, or one below the type's minimum, becomes the type's default:

    type          minimum  default   source
    sig             80      175      reference §6.1
    ini             35       45      reference §6.1
    dt, d, t        50      100      reference §6.1
    txt             20      175      reference §6.1
    chk             10       14      ours: the side of the square box
    ddl             50      120      ours: fits about 15 characters at 10 pt
    rdo              -        -      ours: Count buttons of 14 pt side by side, 6 pt apart

Heights (ours; the reference gives none): without a font size the type's default height,

    sig 36, ini 30, dt/d/t 16, txt 16, chk = its size (square), rdo 14, ddl 18;

with a font size f (clamped to 6..28; allowed for sig, ini, dt, d, t, txt) a text-like field
(dt, d, t, txt) is 1.4 f tall, a line of text with its leading; a sig or ini field is
max(default, 1.4 f), so a large font still fits. Heights are rounded up to 0.5 pt.

Malformed (removed from the document all the same, and reported): an empty tag; an unknown
type or option; `aut` outside dt/d/t; no role; a width or font size that is not a plain
number; a radio count that is missing, not an integer or outside 2..10; a dropdown without a
width part and at least one item, or with an empty item; more parts than the type takes.
Font sizes out of 6..28 are clamped, not malformed (reference §6.1).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from esign.domain.enums import FieldOption, FieldType

FONT_SIZE_MIN = 6.0
FONT_SIZE_MAX = 28.0
RADIO_MIN = 2
RADIO_MAX = 10
RADIO_BUTTON = 14.0  # side of one radio button, points
RADIO_GAP = 6.0  # space between two buttons, points

_DATE_TYPES = frozenset({FieldType.DATE_TIME, FieldType.DATE, FieldType.TIME})
_TEXT_LIKE = _DATE_TYPES | {FieldType.TEXT}
_FONT_SIZED = _TEXT_LIKE | {FieldType.SIGNATURE, FieldType.INITIAL}

# (minimum, default) width per type; rdo has none (its width follows the button count).
WIDTHS: dict[FieldType, tuple[float, float]] = {
    FieldType.SIGNATURE: (80.0, 175.0),
    FieldType.INITIAL: (35.0, 45.0),
    FieldType.DATE_TIME: (50.0, 100.0),
    FieldType.DATE: (50.0, 100.0),
    FieldType.TIME: (50.0, 100.0),
    FieldType.TEXT: (20.0, 175.0),
    FieldType.CHECKBOX: (10.0, 14.0),
    FieldType.DROPDOWN: (50.0, 120.0),
}

DEFAULT_HEIGHTS: dict[FieldType, float] = {
    FieldType.SIGNATURE: 36.0,
    FieldType.INITIAL: 30.0,
    FieldType.DATE_TIME: 16.0,
    FieldType.DATE: 16.0,
    FieldType.TIME: 16.0,
    FieldType.TEXT: 16.0,
    FieldType.RADIO: RADIO_BUTTON,
    FieldType.DROPDOWN: 18.0,
}

LINE_FACTOR = 1.4  # field height per point of font size: the glyphs plus their leading

_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_INTEGER = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class AnchorTag:
    """A tag that parsed. Sizes in points; `items` only for dropdowns."""

    type: FieldType
    option: FieldOption
    role: str
    width: float
    height: float
    font_size: float | None = None
    radio_count: int | None = None
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MalformedTag:
    """Text between delimiters that is not a tag; it is removed from the document all the same."""

    text: str
    reason: str


class _Malformed(Exception):
    """Internal: carries the reason up to `parse_tag`."""


def parse_tag(inner: str, space_char: str = "|") -> AnchorTag | MalformedTag:
    """Parse the text between the delimiters (delimiters excluded).

    `space_char` is the client's substitute for spaces in dropdown items ("" for none).
    Never raises: anything that does not follow the grammar is a `MalformedTag` saying why.
    """
    try:
        return _parse(inner, space_char)
    except _Malformed as exc:
        return MalformedTag(inner, str(exc))


def _parse(inner: str, space_char: str) -> AnchorTag:
    if not inner.strip():
        raise _Malformed("the tag is empty")
    parts = inner.split("_")
    field_type = _field_type(parts[0])
    if len(parts) < 2 or not parts[1].strip():
        raise _Malformed("the option (req, opt or aut) is missing")
    option = _option(parts[1], field_type)
    if len(parts) < 3 or not parts[2].strip():
        raise _Malformed("the role is missing")
    role = " ".join(parts[2].split())
    rest = parts[3:]
    if field_type is FieldType.RADIO:
        return _radio(option, role, rest)
    if field_type is FieldType.DROPDOWN:
        return _dropdown(option, role, rest, space_char)
    if field_type is FieldType.CHECKBOX:
        return _checkbox(option, role, rest)
    return _sized(field_type, option, role, rest)


def _field_type(text: str) -> FieldType:
    code = text.strip().lower()
    try:
        return FieldType(code)
    except ValueError:
        raise _Malformed(
            f"unknown tag type {text.strip()!r} (dt, d, t, sig, ini, txt, chk, rdo, ddl)"
        ) from None


def _option(text: str, field_type: FieldType) -> FieldOption:
    code = text.strip().lower()
    try:
        option = FieldOption(code)
    except ValueError:
        raise _Malformed(f"unknown option {text.strip()!r} (req, opt or aut)") from None
    if option is FieldOption.AUTO and field_type not in _DATE_TYPES:
        raise _Malformed(f"option aut is only for dt, d and t, not {field_type.value}")
    return option


def _sized(field_type: FieldType, option: FieldOption, role: str, rest: list[str]) -> AnchorTag:
    """sig, ini, dt, d, t, txt: optional width, then optional font size."""
    if len(rest) > 2:
        raise _Malformed(f"too many parts: {field_type.value} takes a width and a font size")
    width = _width(field_type, rest[0] if rest else "")
    font_size = _font_size(rest[1]) if len(rest) > 1 else None
    height = _height(field_type, font_size)
    return AnchorTag(field_type, option, role, width, height, font_size)


def _checkbox(option: FieldOption, role: str, rest: list[str]) -> AnchorTag:
    if len(rest) > 1:
        raise _Malformed("too many parts: chk takes at most a size")
    size = _width(FieldType.CHECKBOX, rest[0] if rest else "")
    return AnchorTag(FieldType.CHECKBOX, option, role, size, size)


def _radio(option: FieldOption, role: str, rest: list[str]) -> AnchorTag:
    if not rest or not rest[0].strip():
        raise _Malformed(f"rdo needs the number of buttons ({RADIO_MIN} to {RADIO_MAX})")
    if len(rest) > 1:
        raise _Malformed("too many parts: rdo takes only the number of buttons")
    text = rest[0].strip()
    if not _INTEGER.fullmatch(text) or not RADIO_MIN <= int(text) <= RADIO_MAX:
        raise _Malformed(f"the number of radio buttons {text!r} is not {RADIO_MIN} to {RADIO_MAX}")
    count = int(text)
    width = count * RADIO_BUTTON + (count - 1) * RADIO_GAP
    height = DEFAULT_HEIGHTS[FieldType.RADIO]
    return AnchorTag(FieldType.RADIO, option, role, width, height, radio_count=count)


def _dropdown(option: FieldOption, role: str, rest: list[str], space_char: str) -> AnchorTag:
    if len(rest) < 2:
        raise _Malformed("ddl needs a width and at least one item")
    width = _width(FieldType.DROPDOWN, rest[0])
    items = [_item(text, space_char) for text in rest[1:]]
    height = DEFAULT_HEIGHTS[FieldType.DROPDOWN]
    return AnchorTag(FieldType.DROPDOWN, option, role, width, height, items=items)


def _item(text: str, space_char: str) -> str:
    if space_char:
        text = text.replace(space_char, " ")
    item = " ".join(text.split())
    if not item:
        raise _Malformed("a dropdown item is empty")
    return item


def _width(field_type: FieldType, text: str) -> float:
    minimum, default = WIDTHS[field_type]
    text = text.strip()
    if not text:
        return default
    if not _NUMBER.fullmatch(text):
        raise _Malformed(f"the width {text!r} is not a number")
    value = float(text)
    return value if value >= minimum else default


def _font_size(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise _Malformed(f"the font size {text!r} is not a number")
    return min(max(float(text), FONT_SIZE_MIN), FONT_SIZE_MAX)


def _height(field_type: FieldType, font_size: float | None) -> float:
    default = DEFAULT_HEIGHTS[field_type]
    if font_size is None or field_type not in _FONT_SIZED:
        return default
    line = _round_up_half(font_size * LINE_FACTOR)
    return line if field_type in _TEXT_LIKE else max(default, line)


def _round_up_half(value: float) -> float:
    # round(…, 6) first: 10 × 1.4 is 14.000000000000002, which must stay 14, not become 14.5
    return math.ceil(round(value * 2, 6)) / 2
