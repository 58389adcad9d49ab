"""Fonts as the removal needs them: how a string splits into codes, each code's width and
Unicode text. Simple fonts: /Widths, /Encoding with /Differences, base-14 metrics; Type0:
Identity-H or an embedded CMap, /W, /DW; /ToUnicode for both."""

from __future__ import annotations

import functools
import re
import typing
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pikepdf

from esign.pdf.geometry import matrix

Codes = Sequence[tuple[int, int, int]]  # (start, end, code) of each code in a string


class Font:
    """How a font's strings split into codes, how wide each is, what each reads as.

    Widths are in text space per unit of font size (glyph units / 1000 for most fonts).
    """

    name = "?"
    usable = True
    problem = ""
    nonnegative = False  # every width ≥ 0: glyphs shown without spacing start in order

    def split(self, data: bytes) -> Codes:
        """(start, end, code) for each code in `data`."""
        raise NotImplementedError

    def width(self, code: int) -> float:
        raise NotImplementedError

    def text(self, code: int) -> str | None:
        raise NotImplementedError

    def widths_of(self, data: bytes) -> Iterable[float]:
        """The width of each code of `data`."""
        return (self.width(code) for _, _, code in self.split(data))

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


class _Unusable(Font):
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


class _SimpleFont(Font):
    """Type1, TrueType, MMType1, Type3: one byte per code."""

    def __init__(self, name: str, widths: list[float], texts: list[str | None]) -> None:
        self.name, self.widths, self.texts = name, widths, texts
        self.nonnegative = min(widths, default=0.0) >= 0

    def split(self, data: bytes) -> Codes:
        return _ByteCodes(data)

    def width(self, code: int) -> float:
        return self.widths[code]

    def widths_of(self, data: bytes) -> Iterable[float]:
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


class _CidFont(Font):
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
        self.nonnegative = default_width >= 0 and all(w >= 0 for w in widths.values())

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


class FontCache:
    def __init__(self) -> None:
        self._fonts: dict[tuple[int, int], Font] = {}

    def get(self, obj: Any) -> Font:
        key = obj.objgen
        if key != (0, 0) and key in self._fonts:
            return self._fonts[key]
        font = _load_font(obj)
        if key != (0, 0):
            self._fonts[key] = font
        return font


def _load_font(obj: Any) -> Font:
    name = str(obj.get("/BaseFont", "?")).lstrip("/")
    try:
        if obj.get("/Subtype") == pikepdf.Name.Type0:
            return _load_cid_font(obj, name)
        return _load_simple_font(obj, name)
    except Exception as exc:  # a font we cannot read must not stop the page
        return _Unusable(name, f"unreadable font ({type(exc).__name__})")


def _load_simple_font(obj: Any, name: str) -> Font:
    scale = 0.001
    if obj.get("/Subtype") == pikepdf.Name.Type3:
        scale = matrix(obj.get("/FontMatrix"))[0]
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


def _load_cid_font(obj: Any, name: str) -> Font:
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
