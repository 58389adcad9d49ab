"""The content-stream lexer: instructions with their byte spans, and skipping of text objects."""

from __future__ import annotations

import pytest

from esign.pdf.content import Lexer, skippable_text_objects


def operators(data: bytes, special: bytes | None = None) -> list[bytes]:
    lexer = Lexer(data)
    lexer.skip = None if special is None else skippable_text_objects(special)
    found = []
    while (instruction := lexer.next()) is not None:
        found.append(instruction[0])
    return found


def test_instructions_with_operands_and_spans() -> None:
    data = b"1 0 0 1 56 800 Tm (a\\(b) Tj [(x) -20 (y)] TJ /F1 10 Tf"
    lexer = Lexer(data)
    tm, tj, tj_array, tf = (lexer.next() for _ in range(4))
    assert tm is not None and tm[:2] == (b"Tm", [b"1", b"0", b"0", b"1", b"56", b"800"])
    assert tj is not None and tj[1] == [b"a(b"] and data[tj[2] : tj[3]] == b"(a\\(b) Tj"
    assert tj_array is not None and tj_array[1] == [[b"x", b"-20", b"y"]]
    assert tf is not None and tf[1] == [b"/F1", b"10"]
    assert lexer.next() is None


def test_text_objects_without_special_bytes_are_skipped() -> None:
    data = b"BT 1 0 0 1 56 800 Tm (plain) Tj T* ET\nBT 0 0 Td [(more) 5] TJ ET\nBT (a<b) Tj ET"
    assert operators(data, b"<") == [b"BT", b"Tj", b"ET"]
    every = [b"BT", b"Tm", b"Tj", b"T*", b"ET", b"BT", b"Td", b"TJ", b"ET", b"BT", b"Tj", b"ET"]
    assert operators(data) == every


@pytest.mark.parametrize(
    "inner",
    [
        b"/F1 10 Tf (x) Tj",  # a font change lasts beyond ET
        b"1Tf (x) Tj",  # read as `1` then `Tf` by the pattern: refused all the same
        b"2 Tc (x) Tj",
        b"(a\\)b) Tj",  # an escape: not read by the pattern
        b"<41> Tj",  # a hex string
        b"(a(b)c) Tj",  # nested parentheses
        b"q (x) Tj Q",
    ],
)
def test_text_objects_that_matter_are_not_skipped(inner: bytes) -> None:
    data = b"BT " + inner + b" ET"
    assert operators(data, b"<")[0] == b"BT"


def test_et_glued_to_a_number_does_not_end_the_object() -> None:
    """`12ET` is one (unknown) token: the object goes on to the real `ET`."""
    data = b"BT 1 0 0 1 5 5 Tm 12ET /F1 9 Tf ET (after) Tj"
    assert operators(data, b"<")[:2] == [b"BT", b"Tm"]
