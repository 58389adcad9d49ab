"""Anchor tags found in real PDFs and removed from them.

Every PDF is generated here: reportlab with base-14 Helvetica and embedded TrueType Vera, hand
written content streams (TJ kerning, Tc/Tw/Tz, the ' and " operators, Times without /Widths),
a hand-built Type0/Identity-H font, rotated pages, offset boxes, two columns, a platypus table,
Form XObjects. For each: the field sits within 1 pt of where the test drew the tag, the tag is
gone from the extracted text, every other char keeps its origin (±0.1 pt), the tag's region
renders without ink while the words around it still have ink.
"""

from __future__ import annotations

import io
import math
import shutil
import threading

import pikepdf
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Table, TableStyle

from esign.domain.enums import FieldOption, FieldType
from esign.pdf.anchors import AnchorScan, FoundTag, scan_and_strip
from esign.pdf.anchors import remove as anchor_removal
from tests.pdf.builders import (
    VeraIdentityH,
    canvas_pdf,
    dark_pixels,
    display_point,
    docx,
    glyphs,
    libreoffice_pdf,
    page_size,
    raw_pdf,
    text,
    w_para,
    w_run,
    w_table,
    width,
    with_boxes,
)

Box = tuple[float, float, float, float]


# --------------------------------------------------------------------------- assertions


def scan(pdf: bytes, *args: str) -> AnchorScan:
    result = scan_and_strip(pdf, *args)
    assert result.errors == [] and result.unremoved == [], (result.errors, result.unremoved)
    return result


def assert_field_at(
    tag: FoundTag,
    pdf: bytes,
    x: float,
    baseline: float,
    size: float,
    up: tuple[float, float] = (0.0, 1.0),
) -> None:
    """The field's top-left is the displayed top-left of the segment from the tag's origin
    (x, baseline) to one font size above it (`up` is the text's up direction in user space)."""
    top = (x + size * up[0], baseline + size * up[1])
    points = [display_point(pdf, tag.page_index, *p) for p in ((x, baseline), top)]
    expected = (min(p[0] for p in points), min(p[1] for p in points))
    w, h = page_size(pdf, tag.page_index)
    assert (tag.page_width, tag.page_height) == pytest.approx((w, h), abs=0.01)
    assert tag.x * w == pytest.approx(expected[0], abs=1.0)
    assert tag.y * h == pytest.approx(expected[1], abs=1.0)
    assert tag.width * w == pytest.approx(tag.parsed.width)
    assert tag.height * h == pytest.approx(tag.parsed.height)


def assert_only_removed(before: bytes, after: bytes, removed: list[str], page: int = 0) -> None:
    """`after` has the chars of `before` minus each removed string, each at its old origin.

    Spaces are left out of the comparison: PDFium's text page drops a space that follows
    another one, which happens once the tag between them is gone.
    """
    kept = glyphs(before, page)
    for gone in removed:
        chars = "".join(g.char for g in kept)
        at = chars.index(gone)
        kept = kept[:at] + kept[at + len(gone) :]
    kept = [g for g in kept if not g.char.isspace()]
    now = [g for g in glyphs(after, page) if not g.char.isspace()]
    assert "".join(g.char for g in now) == "".join(g.char for g in kept)
    for old, new in zip(kept, now, strict=True):
        assert (new.x, new.y) == pytest.approx((old.x, old.y), abs=0.1), old


def assert_no_ink(before: bytes, after: bytes, box: Box, page: int = 0) -> None:
    assert dark_pixels(before, page, box) > 0, "the region must have had ink"
    assert dark_pixels(after, page, box) == 0


def text_box(x: float, baseline: float, text_width: float, size: float) -> Box:
    return (x, baseline - 0.2 * size, x + text_width, baseline + 0.75 * size)


def line_pdf(font: str, before: str, tag: str, after: str, x: float = 72, y: float = 700) -> bytes:
    def draw(c: Canvas) -> None:
        c.setFont(font, 12)
        c.drawString(x, y, before + tag + after)

    return canvas_pdf(draw)


# --------------------------------------------------------------------------- inline tags


@pytest.mark.parametrize("font", ["Helvetica", "Vera"])
def test_tag_inside_a_line(font: str) -> None:
    tag = "<sig_req_Seller 1_175>"
    pdf = line_pdf(font, "Please sign ", tag, " below, thank you.")
    result = scan(pdf)

    (found,) = result.tags
    assert (found.parsed.type, found.parsed.option) == (FieldType.SIGNATURE, FieldOption.REQUIRED)
    assert (found.parsed.role, found.parsed.width) == ("Seller 1", 175)
    assert found.text == tag and found.page_index == 0
    x = 72 + width("Please sign ", font)
    assert_field_at(found, result.pdf, x, 700, 12)
    assert found.text_box.left == pytest.approx(x, abs=0.5)
    assert found.text_box.right == pytest.approx(x + width(tag, font), abs=0.5)

    out = text(result.pdf)
    assert "<" not in out and "sig_req" not in out
    assert out.startswith("Please sign") and out.rstrip().endswith("below, thank you.")
    assert_only_removed(pdf, result.pdf, [tag])
    assert_no_ink(pdf, result.pdf, text_box(x, 700, width(tag, font), 12))
    assert dark_pixels(result.pdf, 0, text_box(72, 700, width("Please", font), 12)) > 0


def test_tag_split_across_runs_and_fonts() -> None:
    pieces = [
        ("Helvetica", "Sign: <ini_req_"),
        ("Helvetica-Bold", "Buy"),
        ("Helvetica", "er 2> ok"),
    ]

    def draw(c: Canvas) -> None:
        x = 72.0
        for font, piece in pieces:
            c.setFont(font, 12)
            c.drawString(x, 700, piece)
            x += width(piece, font)

    pdf = canvas_pdf(draw)
    result = scan(pdf)
    (found,) = result.tags
    assert (found.parsed.type, found.parsed.role, found.parsed.width) == (
        FieldType.INITIAL,
        "Buyer 2",
        45,
    )
    start = 72 + width("Sign: ")
    assert_field_at(found, result.pdf, start, 700, 12)
    assert_only_removed(pdf, result.pdf, ["<ini_req_Buyer 2>"])
    tag_width = width("<ini_req_") + width("Buy", "Helvetica-Bold") + width("er 2>")
    assert_no_ink(pdf, result.pdf, text_box(start, 700, tag_width, 12))
    assert text(result.pdf).split() == ["Sign:", "ok"]


def test_split_tags_one_after_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping stops while a tag is half removed and resumes once it is whole: the middle
    run of each tag (no delimiter in it) is still read in the quick walk, which then finds
    every glyph (no thorough walk needed)."""
    walks: list[bool] = []
    init = anchor_removal._Walk.__init__

    def record(self: anchor_removal._Walk, *args: object) -> None:
        init(self, *args)  # type: ignore[arg-type]
        walks.append(self.thorough)

    monkeypatch.setattr(anchor_removal._Walk, "__init__", record)
    lines = [
        [("Helvetica", "A: <ini_req_"), ("Helvetica-Bold", "Buy"), ("Helvetica", "er 1> ok")],
        [("Helvetica", "filler without delimiters")],
        [("Helvetica", "B: <ini_req_"), ("Helvetica-Bold", "Sell"), ("Helvetica", "er 2> ok")],
    ]

    def draw(c: Canvas) -> None:
        for row, pieces in enumerate(lines):
            x = 72.0
            for font, piece in pieces:
                c.setFont(font, 12)
                c.drawString(x, 700 - 40 * row, piece)
                x += width(piece, font)

    pdf = canvas_pdf(draw)
    result = scan(pdf)
    assert [t.parsed.role for t in result.tags] == ["Buyer 1", "Seller 2"]
    assert_only_removed(pdf, result.pdf, ["<ini_req_Buyer 1>", "<ini_req_Seller 2>"])
    assert text(result.pdf).split() == ["A:", "ok", "filler", "without", "delimiters", "B:", "ok"]
    assert walks == [False]


def test_tag_wrapped_onto_the_next_line() -> None:
    def draw(c: Canvas) -> None:
        c.setFont("Helvetica", 12)
        c.drawString(72, 700, "Signature: <sig_req_Seller")
        c.drawString(72, 686, "1_200> end of clause")

    pdf = canvas_pdf(draw)
    result = scan(pdf)
    (found,) = result.tags
    assert (found.parsed.role, found.parsed.width) == ("Seller 1", 200)
    assert_field_at(found, result.pdf, 72 + width("Signature: "), 700, 12)
    assert_only_removed(pdf, result.pdf, ["<sig_req_Seller1_200>"])
    assert "end of clause" in text(result.pdf)


def test_kerned_tj_with_char_word_spacing_and_scaling() -> None:
    content = (
        b"BT /F1 11 Tf 1 0 0 1 72 700 Tm 0.4 Tc 2.5 Tw 90 Tz "
        b"[(Sign ) -150 (<txt_req_Buy) 80 (er_120_10> ) -30 (after tag)] TJ ET"
    )
    pdf = raw_pdf(content)
    result = scan(pdf)
    (found,) = result.tags
    assert (found.parsed.role, found.parsed.width, found.parsed.font_size) == ("Buyer", 120, 10)
    # x of '<': each of "Sign " advances (w·Tfs + Tc [+ Tw for the space]) · Th, then the kerning
    start = 72 + ((width("Sign ", size=11) + 5 * 0.4 + 2.5) + 150 / 1000 * 11) * 0.9
    assert_field_at(found, result.pdf, start, 700, 11)
    assert_only_removed(pdf, result.pdf, ["<txt_req_Buyer_120_10>"])
    assert text(result.pdf).split() == ["Sign", "after", "tag"]


def test_quote_operators_and_base14_font_without_widths() -> None:
    content = (
        b"BT /F1 12 Tf 14 TL 72 700 Td (first line) Tj "
        b"1 0.5 (<chk_req_A> second line) \" (third <d_opt_B> line) ' ET "
        b"BT /F2 12 Tf 72 600 Td (Times <sig_req_C> text) Tj ET"
    )
    pdf = raw_pdf(content)
    result = scan(pdf)
    assert sorted(t.parsed.role for t in result.tags) == ["A", "B", "C"]
    times = next(t for t in result.tags if t.parsed.role == "C")
    # Tc 0.5 and Tw 1 set by " are text state: they still apply in the next BT block
    start = 72 + width("Times ", "Times-Roman") + 6 * 0.5 + 1
    assert_field_at(times, result.pdf, start, 600, 12)
    assert_only_removed(pdf, result.pdf, ["<chk_req_A>", "<d_opt_B>", "<sig_req_C>"])
    words = ["first", "line", "second", "line", "third", "line", "Times", "text"]
    assert text(result.pdf).split() == words


def test_chars_beyond_the_basic_plane_before_a_tag() -> None:
    """PDFium's text indices count UTF-16 units: an emoji earlier on the page takes two."""
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"1 begincodespacerange <00> <FF> endcodespacerange\n"
        b"1 beginbfrange <20> <7E> <0020> endbfrange\n"
        b"1 beginbfchar <41> <D83DDE00> endbfchar\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end\n"
    )
    content = b"BT /F1 12 Tf 72 700 Td (AA smile then <sig_req_B> here) Tj ET"  # A reads as U+1F600
    pdf = raw_pdf(content, to_unicode=cmap)
    assert "\U0001f600" in text(pdf)
    result = scan(pdf)
    (found,) = result.tags
    assert found.text == "<sig_req_B>"
    assert_field_at(found, result.pdf, 72 + width("AA smile then "), 700, 12)
    assert_only_removed(pdf, result.pdf, ["<sig_req_B>"])


def test_identity_h_type0_font() -> None:
    vera = VeraIdentityH()
    line = "Sign <sig_req_Seller 1_175> here"
    content = (
        b"BT /F1 12 Tf 72 700 Td ["
        + vera.hex("Sign <sig_")
        + b" -40 "
        + vera.hex("req_Seller 1_175>")
        + vera.hex(" here")
        + b"] TJ ET"
    )
    pdf = vera.pdf(content, line)
    result = scan(pdf)
    (found,) = result.tags
    assert (found.parsed.role, found.parsed.width) == ("Seller 1", 175)
    start = 72 + vera.width("Sign ", 12)
    assert_field_at(found, result.pdf, start, 700, 12)
    assert_only_removed(pdf, result.pdf, ["<sig_req_Seller 1_175>"])
    tag_width = vera.width("<sig_req_Seller 1_175>", 12) + 0.04 * 12
    assert_no_ink(pdf, result.pdf, text_box(start, 700, tag_width, 12))
    assert text(result.pdf).split() == ["Sign", "here"]


def test_invisible_and_white_tags_are_removed_too() -> None:
    def draw(c: Canvas) -> None:
        c.setFont("Helvetica", 12)
        c.setFillColorRGB(1, 1, 1)
        c.drawString(72, 700, "<sig_req_White>")
        t = c.beginText(72, 650)
        t.setTextRenderMode(3)
        t.textOut("<ini_req_Hidden>")
        c.drawText(t)
        c.setFillColorRGB(0, 0, 0)
        c.drawString(72, 600, "visible")

    pdf = canvas_pdf(draw)
    result = scan(pdf)
    assert sorted(t.parsed.role for t in result.tags) == ["Hidden", "White"]
    assert text(result.pdf).strip() == "visible"


# --------------------------------------------------------------------------- page geometry


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_pages(rotation: int) -> None:
    tag = "<dt_req_Buyer 1_120>"
    pdf = with_boxes(line_pdf("Helvetica", "Date: ", tag, " (today)", x=100, y=500), rotation)
    result = scan(pdf)
    (found,) = result.tags
    w, h = page_size(pdf)
    assert (found.page_width, found.page_height) == pytest.approx((w, h))
    assert (w > h) == (rotation in (90, 270))
    x = 100 + width("Date: ")
    assert_field_at(found, result.pdf, x, 500, 12)
    assert_only_removed(pdf, result.pdf, [tag])
    assert_no_ink(pdf, result.pdf, text_box(x, 500, width(tag), 12))
    assert dark_pixels(result.pdf, 0, text_box(100, 500, width("Date:"), 12)) > 0


@pytest.mark.parametrize(
    ("mediabox", "cropbox"),
    [([0, -100, 595, 742], None), ([0, -100, 595, 742], [30, -50, 565, 700])],
)
def test_offset_page_boxes(mediabox: list[float], cropbox: list[float] | None) -> None:
    tag = "<txt_opt_Tenant 1_150_10>"
    pdf = with_boxes(line_pdf("Helvetica", "Name: ", tag, " end", y=300), None, mediabox, cropbox)
    result = scan(pdf)
    (found,) = result.tags
    x = 72 + width("Name: ")
    assert_field_at(found, result.pdf, x, 300, 12)
    box = cropbox or mediabox
    assert found.page_height == pytest.approx(box[3] - box[1])
    assert found.y == pytest.approx((box[3] - 312) / (box[3] - box[1]), abs=1 / 842)
    assert found.x == pytest.approx((x - box[0]) / (box[2] - box[0]), abs=1 / 595)
    assert_only_removed(pdf, result.pdf, [tag])
    assert_no_ink(pdf, result.pdf, text_box(x, 300, width(tag), 12))


@pytest.mark.parametrize(("angle", "page_rotation"), [(90, 0), (30, 0), (90, 90)])
def test_text_rotated_by_the_content_stream(angle: int, page_rotation: int) -> None:
    """Text turned by `cm`: the baseline is not horizontal in user space. With /Rotate 90 on
    top, 90° text reads upright on screen, as landscape pages of some producers do."""
    tag = "<sig_req_Landlord 1>"

    def draw(c: Canvas) -> None:
        c.translate(300, 200)
        c.rotate(angle)
        c.setFont("Helvetica", 12)
        c.drawString(0, 0, f"Rotated {tag} text")

    pdf = with_boxes(canvas_pdf(draw), page_rotation)
    result = scan(pdf)
    (found,) = result.tags
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    along = width("Rotated ")
    x, baseline = 300 + along * cos, 200 + along * sin
    assert_field_at(found, result.pdf, x, baseline, 12, (-sin, cos))
    if page_rotation == 90:  # upright on screen: the field's corner is the tag's top-left
        left, top = display_point(pdf, 0, x - 12, baseline)
        assert (found.x * found.page_width, found.y * found.page_height) == pytest.approx(
            (left, top), abs=1
        )
    assert_only_removed(pdf, result.pdf, [tag])
    assert text(result.pdf).split() == ["Rotated", "text"]


def test_two_columns() -> None:
    left, right = 50.0, 320.0
    rows = {
        (left, 3): "Buyer <sig_req_Buyer 1_120> here",
        (right, 3): "Seller <sig_req_Seller 1_120> here",
        (right, 10): "Date <d_req_Seller 1> ok",
    }

    def draw(c: Canvas) -> None:
        c.setFont("Helvetica", 10)
        for column in (left, right):
            for row in range(20):
                line = rows.get((column, row), f"column text {row} lorem ipsum dolor")
                c.drawString(column, 760 - row * 14, line)

    pdf = canvas_pdf(draw)
    result = scan(pdf)
    assert len(result.tags) == 3
    for (column, row), line in rows.items():
        start = line.index("<")
        tag = line[start : line.index(">") + 1]
        found = next(t for t in result.tags if t.text == tag)
        x = column + width(line[:start], size=10)
        assert_field_at(found, result.pdf, x, 760 - row * 14, 10)
        assert_no_ink(pdf, result.pdf, text_box(x, 760 - row * 14, width(tag, size=10), 10))
    assert_only_removed(pdf, result.pdf, [t.text for t in result.tags])


def test_tags_in_a_table() -> None:
    cols, rows = [100.0, 220.0, 120.0], [30.0, 30.0, 30.0]
    cells = [
        ["Party", "Signature", "Date"],
        ["Seller", "<sig_req_Seller 1_200>", "<d_aut_Seller 1>"],
        ["Buyer", "<sig_req_Buyer 1_200>", "<d_aut_Buyer 1>"],
    ]
    origin = (50.0, 500.0)

    def draw(c: Canvas) -> None:
        table = Table(cells, colWidths=cols, rowHeights=rows)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), "Helvetica", 10),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0)),
                ]
            )
        )
        table.wrapOn(c, 500, 500)
        table.drawOn(c, *origin)

    pdf = canvas_pdf(draw)
    result = scan(pdf)
    assert len(result.tags) == 4
    for r, row in enumerate(cells):
        for col, cell in enumerate(row):
            if not cell.startswith("<"):
                continue
            x = origin[0] + sum(cols[:col]) + 6
            row_bottom = origin[1] + sum(rows) - sum(rows[: r + 1])
            baseline = row_bottom + rows[r] - 4 - 10
            found = next(t for t in result.tags if t.text == cell)
            assert_field_at(found, result.pdf, x, baseline, 10)
            assert_no_ink(pdf, result.pdf, text_box(x, baseline, width(cell, size=10), 10))
    assert_only_removed(pdf, result.pdf, [t.text for t in result.tags])
    auto = [t for t in result.tags if t.parsed.type is FieldType.DATE]
    assert {t.parsed.option for t in auto} == {FieldOption.AUTO}


def test_tag_inside_a_form_xobject_drawn_on_two_pages() -> None:
    drawn: list[bool] = []

    def draw(c: Canvas) -> None:
        if not drawn:
            c.beginForm("header")
            c.setFont("Helvetica", 9)
            c.drawString(72, 800, "Initials <ini_req_Buyer 1> on every page")
            c.endForm()
            drawn.append(True)
        c.doForm("header")
        c.setFont("Helvetica", 12)
        c.drawString(72, 700, "Body text")

    pdf = canvas_pdf(draw, pages=2)
    result = scan(pdf)
    assert [t.page_index for t in result.tags] == [0, 1]
    for page in (0, 1):
        assert_field_at(result.tags[page], result.pdf, 72 + width("Initials ", size=9), 800, 9)
        assert_only_removed(pdf, result.pdf, ["<ini_req_Buyer 1>"], page)
        assert "Body text" in text(result.pdf, page)


# --------------------------------------------------------------------------- grammar in PDFs


def test_every_tag_type_in_one_document() -> None:
    tags = [
        "<dt_req_Buyer 1>",
        "<d_opt_Buyer 1_120>",
        "<t_aut_Buyer 1_80_9>",
        "<sig_req_Seller 1_200_14>",
        "<ini_opt_Seller 1_40>",
        "<txt_req_Seller 1_150_11>",
        "<chk_req_Buyer 1>",
        "<rdo_opt_Buyer 1_4>",
        "<ddl_req_Buyer 1_90_Cash_Bank|Loan_Other>",
    ]

    def draw(c: Canvas) -> None:
        c.setFont("Helvetica", 11)
        for i, tag in enumerate(tags):
            c.drawString(72, 760 - 24 * i, f"Field {i}: {tag} end")

    pdf = canvas_pdf(draw)
    result = scan(pdf)
    by_text = {t.text: t.parsed for t in result.tags}
    assert list(by_text) == tags
    assert by_text["<t_aut_Buyer 1_80_9>"].option is FieldOption.AUTO
    assert by_text["<t_aut_Buyer 1_80_9>"].width == 80
    assert by_text["<sig_req_Seller 1_200_14>"].font_size == 14
    assert by_text["<ini_opt_Seller 1_40>"].width == 40
    assert by_text["<rdo_opt_Buyer 1_4>"].radio_count == 4
    assert by_text["<ddl_req_Buyer 1_90_Cash_Bank|Loan_Other>"].items == [
        "Cash",
        "Bank Loan",
        "Other",
    ]
    assert {t.type for t in by_text.values()} == set(FieldType)
    for i, found in enumerate(result.tags):
        assert_field_at(found, result.pdf, 72 + width(f"Field {i}: ", size=11), 760 - 24 * i, 11)
    assert_only_removed(pdf, result.pdf, tags)
    assert text(result.pdf).split() == [w for i in range(9) for w in ("Field", f"{i}:", "end")]


def test_malformed_tags_are_removed_and_reported_with_page_and_text() -> None:
    bad = ["<foo_req_x>", "<sig_req_>", "<rdo_req_Buyer_1>", "<>", "<ddl_req_B_50>"]

    def draw(c: Canvas) -> None:
        c.setFont("Helvetica", 12)
        if c.getPageNumber() == 2:
            for i, tag in enumerate(bad):
                c.drawString(72, 700 - 20 * i, f"bad {tag} tag")
            c.drawString(72, 500, "1 < 2 is fine without a closing delimiter")
        else:
            c.drawString(72, 700, "good <sig_req_Buyer> tag")

    pdf = canvas_pdf(draw, pages=2)
    result = scan(pdf)
    assert [t.text for t in result.tags] == ["<sig_req_Buyer>"]
    assert [(m.page_index, m.text) for m in result.malformed] == [(1, tag) for tag in bad]
    reasons = [m.reason for m in result.malformed]
    assert "unknown tag type 'foo'" in reasons[0] and "role is missing" in reasons[1]
    assert "radio buttons" in reasons[2] and "empty" in reasons[3]
    assert_only_removed(pdf, result.pdf, bad, page=1)
    assert text(result.pdf, 1).split()[:4] == ["bad", "tag", "bad", "tag"]
    assert "1 < 2 is fine" in text(result.pdf, 1)


def test_client_delimiters_and_space_substitute() -> None:
    def draw(c: Canvas) -> None:
        c.setFont("Helvetica", 12)
        c.drawString(72, 700, "Sign #sig_req_Buyer 1# and pick #ddl_opt_Buyer 1_80_New~York_Rome#")
        c.drawString(72, 680, "Not a tag: <sig_req_Buyer 1> with these delimiters")

    pdf = canvas_pdf(draw)
    result = scan(pdf, "#", "#", "~")
    assert [t.parsed.role for t in result.tags] == ["Buyer 1", "Buyer 1"]
    assert result.tags[1].parsed.items == ["New York", "Rome"]
    assert_only_removed(
        pdf, result.pdf, ["#sig_req_Buyer 1#", "#ddl_opt_Buyer 1_80_New~York_Rome#"]
    )
    assert "<sig_req_Buyer 1>" in text(result.pdf)


# --------------------------------------------------------------------------- odd input


def test_a_pdf_without_tags_comes_back_unchanged() -> None:
    pdf = line_pdf("Helvetica", "No tags ", "here", ", just text > and <")
    result = scan_and_strip(pdf)
    assert result.pdf is pdf
    assert (result.tags, result.malformed, result.unremoved) == ([], [], [])


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n garbage", b"\x89PNG\r\n\x1a\n"])
def test_unreadable_input_is_reported_not_raised(data: bytes) -> None:
    result = scan_and_strip(data)
    assert result.pdf == data and result.tags == [] and result.errors


def test_unparsable_page_content_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """qpdf tolerates most broken content, so its refusal is simulated for page 2 only."""
    read = anchor_removal._page_content
    calls: list[int] = []

    def fussy(page: pikepdf.Object) -> bytes:
        calls.append(1)
        if len(calls) == 2:
            raise pikepdf.PdfError("content stream: unexpected EOF")
        return read(page)

    monkeypatch.setattr(anchor_removal, "_page_content", fussy)

    def draw(c: Canvas) -> None:
        c.setFont("Helvetica", 12)
        c.drawString(72, 700, "<ini_req_A>")

    pdf = canvas_pdf(draw, pages=3)
    result = scan_and_strip(pdf)
    assert [t.page_index for t in result.tags] == [0, 1, 2]
    (left,) = result.unremoved
    assert left.page_index == 1 and "page content unreadable" in left.reason
    assert [text(result.pdf, page).strip() for page in range(3)] == ["", "<ini_req_A>", ""]


def test_unsupported_font_encoding_is_reported_as_unremoved() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))  # encoded with UniJIS-UCS2-H

    def draw(c: Canvas) -> None:
        c.setFont("HeiseiMin-W3", 12)
        c.drawString(72, 700, "Sign <sig_req_Buyer> here")
        c.setFont("Helvetica", 12)
        c.drawString(72, 650, "and <ini_req_Buyer> here")

    pdf = canvas_pdf(draw)
    result = scan_and_strip(pdf)
    assert {t.parsed.type for t in result.tags} == {FieldType.SIGNATURE, FieldType.INITIAL}
    (left,) = result.unremoved
    assert left.text == "<sig_req_Buyer>" and left.page_index == 0
    assert "UniJIS-UCS2-H" in left.reason
    assert "<ini_req_Buyer>" not in text(result.pdf)


def test_concurrent_calls_share_pdfium_safely() -> None:
    pdf = line_pdf("Vera", "Please sign ", "<sig_req_Seller 1_175>", " below.")
    expected = scan(pdf)
    results: list[AnchorScan] = []

    def work() -> None:
        for _ in range(3):
            results.append(scan_and_strip(pdf))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    assert all(r.pdf == expected.pdf and r.tags == expected.tags for r in results)


# --------------------------------------------------------------------------- LibreOffice


@pytest.fixture(scope="module")
def office_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    word = docx(
        w_para("Please sign ", "<sig_req_", w_run("Seller", bold=True), " 1_175>", " below."),
        w_para("Initials: <ini_opt_Buyer 1> and date <d_aut_Buyer 1_120_10> today."),
        w_table([["Text <txt_req_Buyer 1_150_11> end", "Tick <chk_req_Seller 1> box"]]),
        w_para("Choose <ddl_req_Buyer 1_90_Option|A_Option|B> please"),
        w_para("Broken <oops_tag> stays reported."),
    )
    return libreoffice_pdf(word, str(tmp_path_factory.mktemp("office")))


OFFICE_TAGS = [
    "<sig_req_Seller 1_175>",
    "<ini_opt_Buyer 1>",
    "<d_aut_Buyer 1_120_10>",
    "<txt_req_Buyer 1_150_11>",
    "<chk_req_Seller 1>",
    "<ddl_req_Buyer 1_90_Option|A_Option|B>",
]


def test_libreoffice_export_from_a_word_file_with_split_runs(office_pdf: bytes) -> None:
    result = scan(office_pdf)
    assert sorted(t.text for t in result.tags) == sorted(OFFICE_TAGS)
    assert [m.text for m in result.malformed] == ["<oops_tag>"]
    assert next(t for t in result.tags if t.parsed.type is FieldType.DROPDOWN).parsed.items == [
        "Option A",
        "Option B",
    ]
    before = glyphs(office_pdf)
    chars = "".join(g.char for g in before)
    for found in result.tags:
        start = before[chars.index(found.text)]  # where LibreOffice put the '<'
        assert_field_at(found, result.pdf, start.x, start.y, 11)
        box = found.text_box
        assert_no_ink(office_pdf, result.pdf, (box.left, box.bottom + 1, box.right, box.top - 1))
    assert_only_removed(office_pdf, result.pdf, [*OFFICE_TAGS, "<oops_tag>"])
    out = text(result.pdf)
    assert "<" not in out and ">" not in out
    for words in ["Please sign", "below.", "today.", "Tick", "please", "stays reported."]:
        assert words in out


# --------------------------------------------------------------------------- scanned pages


def test_a_scanned_page_is_left_as_it_is_beside_a_tagged_page() -> None:
    """A scan holds its tag as pixels: nothing to find or remove there, and no error. The text
    page after it still gives its field."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    scan_image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    ImageDraw.Draw(scan_image).text((150, 300), "Sign here <sig_req_Buyer 1_120>", fill=0)
    pages = iter(["scan", "text"])

    def draw(c: Canvas) -> None:
        if next(pages) == "scan":
            c.drawImage(ImageReader(scan_image), 0, 0, width=595.27, height=841.89)
        else:
            c.setFont("Helvetica", 12)
            c.drawString(72, 700, "Seller: <sig_req_Seller 1_120>")

    pdf = canvas_pdf(draw, pages=2)
    result = scan(pdf)
    assert [(t.page_index, t.text) for t in result.tags] == [(1, "<sig_req_Seller 1_120>")]
    assert_field_at(result.tags[0], result.pdf, 72 + width("Seller: ", size=12), 700, 12)
    with pikepdf.open(io.BytesIO(pdf)) as before, pikepdf.open(io.BytesIO(result.pdf)) as after:
        assert before.pages[0].Contents.read_bytes() == after.pages[0].Contents.read_bytes()
    assert dark_pixels(result.pdf, 0, (70, 680, 300, 702)) > 0  # the scan is still there
