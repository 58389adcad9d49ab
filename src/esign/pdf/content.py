"""A small lexer for PDF content streams (PDF 32000 §7.2, §7.8.2), working on the bytes.

`Lexer(data).next()` returns one instruction at a time: operator, operands and the byte span
[start, end) from its first operand to the end of the operator, so an instruction can be
replaced in place while every other byte of the stream stays as it was. Operands are:

  * numbers, booleans, null and names: the raw token (`bytes`, a name keeps its `/`);
  * strings (literal or hex): a `String`, the decoded bytes;
  * arrays: a `list` of operands; dictionaries (marked-content properties): `None`.

`skip` lets a caller jump over whole text objects (`BT … ET`) it knows it does not need: a
compiled pattern (see `skippable_text_objects`) is tried where a `BT` starts.

The usual instruction (numbers and names, at most one simple string or array, an operator)
is read with one pattern match; anything else token by token.

Inline images (`BI … ID data EI`) become one `BI` instruction; the data ends at the first
`EI` between whitespace, the usual heuristic. Nothing here raises on malformed content: stray
bytes are dropped, an unterminated string runs to the end of the stream.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["Instruction", "Lexer", "String", "hex_string", "skippable_text_objects"]

_WS = rb"\x00\t\n\x0c\r "
_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"

_TOKEN = re.compile(
    rb"[\x00\t\n\x0c\r ]*+(?:"
    rb"(?P<str>\((?>[^()\\]++|\\.|\((?>[^()\\]++|\\.)*+\))*+\))"
    rb"|(?P<hex><[0-9A-Fa-f\x00\t\n\x0c\r ]*+>)"
    rb"|(?P<nums>[-+.0-9]++(?:[\x00\t\n\x0c\r ]++[-+.0-9]++)*+)(?!" + _REGULAR + rb")"
    rb"|(?P<word>" + _REGULAR + rb"++)"
    rb"|(?P<name>/" + _REGULAR + rb"*+)"
    rb"|(?P<open>\[)|(?P<close>\])"
    rb"|(?P<dopen><<)|(?P<dclose>>>)"
    rb"|(?P<comment>%[^\r\n]*+)"
    rb"|(?P<other>.))",
    re.S,
)
# The usual instruction in one match: numbers and names (each followed by whitespace), then at
# most one literal string (no nested parentheses) or array of such strings and numbers, then the
# operator. Anything else is read token by token (`_TOKEN`).
_WS_CLASS = rb"[\x00\t\n\x0c\r ]"
_SIMPLE_STRING = rb"\((?:[^()\\]++|\\.)*+\)"
_INSTRUCTION = re.compile(
    _WS_CLASS + rb"*+(?P<ops>(?:(?:[-+.0-9]++|/" + _REGULAR + rb"*+)" + _WS_CLASS + rb"++)*+)"
    rb"(?:(?P<str>" + _SIMPLE_STRING + rb")" + _WS_CLASS + rb"*+"
    rb"|(?P<arr>\[(?:"
    + _WS_CLASS
    + rb"++|[-+.0-9]++(?!"
    + _REGULAR
    + rb")|"
    + _SIMPLE_STRING
    + rb")*+\])"
    + _WS_CLASS
    + rb"*+)?"
    rb"(?P<op>[^\x00\t\n\x0c\r ()<>\[\]{}/%+.0-9\-]" + _REGULAR + rb"*+)",
    re.S,
)
_ARRAY_ITEM = re.compile(rb"[-+.0-9]++|" + _SIMPLE_STRING, re.S)
_OPERAND_WORDS = frozenset((b"true", b"false", b"null"))
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|.)", re.S)
_ESCAPES = {
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"b": b"\b",
    b"f": b"\f",
    b"\r\n": b"",
    b"\r": b"",
    b"\n": b"",
}
_NUMBER_START = frozenset(b"+-.0123456789")
_INLINE_DATA_END = re.compile(rb"[\x00\t\n\x0c\r ]EI(?=[\x00\t\n\x0c\r ]|$)")
_IMAGE_DATA = re.compile(rb"(?<![^\x00\t\n\x0c\r /\]>)])ID[\x00\t\n\x0c\r ]")


class String(bytes):
    """A string operand, decoded (escapes resolved, hex read)."""

    __slots__ = ()


Instruction = tuple[bytes, list[Any], int, int]  # operator, operands, start, end


class Lexer:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.skip: re.Pattern[bytes] | None = None  # see skippable_text_objects

    def next(self) -> Instruction | None:
        """The next instruction, or None at the end of the stream."""
        data, skip = self.data, self.skip
        while True:
            m = _INSTRUCTION.match(data, self.pos)
            if m is None:
                return self._next_token_by_token()
            ops, string, array, word = m.groups()  # one call: this runs per instruction
            if word in _OPERAND_WORDS:
                return self._next_token_by_token()
            start = m.start(1)
            if word == b"BT" and skip is not None and not (ops or string or array):
                skipped = skip.match(data, start)
                if skipped is not None and skipped.end() > start:
                    self.pos = skipped.end()
                    continue
            self.pos = end = m.end()
            operands: list[Any] = ops.split() if ops else []
            if string is not None:
                operands.append(String(_unescape(string[1:-1])))
            elif array is not None:
                operands.append([_item(item) for item in _ARRAY_ITEM.findall(array)])
            if word == b"BI":
                end = self._inline_image(end)
            return word, operands, start, end

    def _next_token_by_token(self) -> Instruction | None:
        """`next` for what `_INSTRUCTION` does not cover: dictionaries, hex strings, nested
        parentheses, comments, operands not followed by whitespace, unclosed arrays."""
        data, match = self.data, _TOKEN.match
        operands: list[Any] = []
        stack: list[list[Any]] = []
        dict_depth = 0
        start = -1
        while True:
            m = match(data, self.pos)
            if m is None:
                return None  # only whitespace left (operands without operator are dropped)
            self.pos = end = m.end()
            kind = m.lastgroup
            if dict_depth and kind not in ("dopen", "dclose"):
                continue  # a property dictionary's contents are never needed
            if start < 0 and kind != "comment":
                start = m.start(kind or 0)
            if kind == "nums":
                operands += m.group(kind).split()
                continue
            if kind == "word":
                word = m.group(kind)
                if word[0] in _NUMBER_START or word in (b"true", b"false", b"null"):
                    operands.append(word)
                    continue
                if stack:  # an operator inside an array: the array was never closed
                    operands = stack[0]
                if word == b"BT" and not operands and self.skip is not None:
                    skipped = self.skip.match(data, start)
                    if skipped is not None and skipped.end() > start:
                        self.pos, start, stack = skipped.end(), -1, []
                        continue
                if word == b"BI":
                    end = self._inline_image(end)
                return word, operands, start, end
            if kind == "str":
                operands.append(String(_unescape(m.group(kind)[1:-1])))
            elif kind == "name":
                operands.append(m.group(kind))
            elif kind == "hex":
                operands.append(hex_string(m.group(kind)))
            elif kind == "open":
                stack.append(operands)
                operands = []
            elif kind == "close":
                if stack:
                    inner, operands = operands, stack.pop()
                    operands.append(inner)
            elif kind == "dopen":
                dict_depth += 1
            elif kind == "dclose":
                dict_depth = max(dict_depth - 1, 0)
                if not dict_depth:
                    operands.append(None)
            elif kind == "other" and m.group(kind) == b"(":
                operands.append(String(_unescape(self._deep_string(m.start(kind) + 1))))
            elif kind == "comment" and start == m.start(kind):
                start = -1

    def _deep_string(self, pos: int) -> bytes:
        """A literal string nested deeper than the token pattern follows: scan it by hand."""
        data, depth, i = self.data, 1, pos
        while i < len(data):
            byte = data[i]
            if byte == 0x5C:  # backslash: the next byte is escaped
                i += 2
                continue
            if byte == 0x28:
                depth += 1
            elif byte == 0x29:
                depth -= 1
                if not depth:
                    self.pos = i + 1
                    return data[pos:i]
            i += 1
        self.pos = len(data)
        return data[pos:]

    def _inline_image(self, pos: int) -> int:
        """Skip an inline image's dictionary and data; the end of its `EI`."""
        data = self.data
        marker = _IMAGE_DATA.search(data, pos)
        if marker is None:
            self.pos = len(data)
            return self.pos
        end = _INLINE_DATA_END.search(data, marker.end())
        self.pos = len(data) if end is None else end.end()
        return self.pos


def _item(token: bytes) -> Any:
    """An element of an array `_INSTRUCTION` matched: a number token or a literal string."""
    return String(_unescape(token[1:-1])) if token[0] == 0x28 else token


def _unescape(raw: bytes) -> bytes:
    if b"\\" not in raw:
        return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in raw else raw
    return _ESCAPE.sub(_escape, raw)


def _escape(m: re.Match[bytes]) -> bytes:
    seq = m.group(1)
    if seq[0] in b"01234567":
        return bytes([int(seq, 8) & 0xFF])
    return _ESCAPES.get(seq, seq)


def hex_string(token: bytes) -> String:
    digits = re.sub(rb"[^0-9A-Fa-f]", b"", token)
    if len(digits) % 2:
        digits += b"0"
    return String(bytes.fromhex(digits.decode("ascii")))


@functools.cache
def skippable_text_objects(special: bytes) -> re.Pattern[bytes]:
    """A pattern for a run of text objects that change no lasting state and show no string
    holding any byte of `special` (nor an escape, a hex string, or nested parentheses).

    What such a text object does ends at its `ET`: it positions and shows text, and sets
    colours or marked content, but no font, spacing, scaling, leading, rise, CTM or saved
    state, draws no XObject and no inline image.
    """
    excluded = b"".join(b"\\x%02x" % byte for byte in sorted(set(special) | set(b"()\\")))
    lasting = rb"(?:T[fcwzLs]|TD|\x22|q|Q|cm|Do|BI|ID|EI|gs|BT|ET|d0|d1)"
    ws = rb"[" + _WS + rb"]"
    after = ws + rb"*+"  # each token takes the whitespace after it: fewer loop iterations
    not_lasting = rb"(?!" + lasting + rb"(?!" + _REGULAR + rb"))"
    alternatives = [  # the most frequent first
        rb"[-+.0-9" + _WS + rb"]++",  # numbers and the whitespace between them, in one run
        rb"T[mdJj*](?!" + _REGULAR + rb")" + after,  # the usual text operators: never lasting
        rb"\([^" + excluded + rb"]*+\)" + after,
        rb"/" + _REGULAR + rb"*+" + after,
        not_lasting + _REGULAR + rb"++" + after,
        rb"[\[\]]" + after,
        rb"%[^\r\n]*+",
    ]
    token = b"|".join(alternatives)
    # `ET` right after a digit is the tail of one token (`12ET`), not the end of the object.
    # No token needs an atomic group: the loop is possessive and each alternative's first
    # byte rules the others out, except numbers before `T…` (`1Tm`: read as two tokens, both
    # harmless, or refused when lasting, `1Tf`: never wrongly skipped).
    end = rb"(?<![-+.0-9])ET(?!" + _REGULAR + rb")"
    block = rb"BT" + ws + rb"++(?:" + token + rb")*+" + end
    return re.compile(rb"(?:" + block + ws + rb"*+)*+")
