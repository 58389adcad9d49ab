"""The plain-PDF path of the inspector: where it answers, it says what qpdf says; everything
it cannot vouch for from the bytes goes to qpdf (decision 0037)."""

from __future__ import annotations

import io
import random
import shutil

import pikepdf
import pytest
from reportlab.pdfgen.canvas import Canvas

from esign.domain.model import PageSize
from esign.domain.ports import FileRefused, PdfFacts
from esign.pdf import inspect
from esign.pdf.inspect import PdfInspector
from esign.pdf.plain_facts import _page_count, plain_facts
from tests.pdf.builders import (
    canvas_pdf,
    docx,
    libreoffice_pdf,
    pdf_of_objects,
    w_para,
    w_table,
    with_boxes,
)

_CATALOG = "<< /Type /Catalog /Pages 2 0 R >>"
_PAGE = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
_TREE = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def _by_qpdf(data: bytes, monkeypatch: pytest.MonkeyPatch) -> PdfFacts | FileRefused:
    """What the inspector says with the plain path turned off."""
    with monkeypatch.context() as patch:
        patch.setattr(inspect, "plain_facts", lambda *args: None)
        try:
            return PdfInspector(max_pages=500).inspect(data)
        except FileRefused as refused:
            return refused


def _plain(data: bytes) -> PdfFacts | None:
    return plain_facts(data, 500, 1.0)


def _saved(doc: pikepdf.Pdf, **options: object) -> bytes:
    out = io.BytesIO()
    doc.save(out, **options)  # type: ignore[arg-type]
    return out.getvalue()


def _with_spare(catalog: str) -> bytes:
    """A file with this catalog, and an object nobody refers to that closes a dictionary and a
    string it never opened."""
    return pdf_of_objects(catalog, _TREE, _PAGE, ">> )")


def _listed_twice(pdf: bytes) -> bytes:
    """The file with its catalog listed again, in a subsection of its own before the rest."""
    head, table = pdf.split(b"xref\n0 4\n")
    catalog_entry = table.split(b"\n")[1] + b"\n"
    return head + b"xref\n1 1\n" + catalog_entry + b"0 4\n" + table


def _text(canvas: Canvas) -> None:
    canvas.drawString(72, 720, "Seller signature: ____________")


def _with_link(canvas: Canvas) -> None:
    _text(canvas)
    canvas.linkURL("https://example.com", (72, 700, 200, 720))


def _with_outline(canvas: Canvas) -> None:
    _text(canvas)
    canvas.bookmarkPage("p")
    canvas.addOutlineEntry("Page", "p")


# Files the plain path answers for.
_PLAIN = {
    "reportlab, one page": canvas_pdf(_text),
    "reportlab, three Letter pages": canvas_pdf(_text, pagesize=(612, 792), pages=3),
    "reportlab, a comment before %%EOF": canvas_pdf(_text).replace(b"%%EOF", b"%a comment\n%%EOF"),
    "hand-written, flat tree": pdf_of_objects(_CATALOG, _TREE, _PAGE),
    "a box written in another corner order": pdf_of_objects(
        _CATALOG, _TREE, _PAGE.replace("[0 0 612 792]", "[612 792 0 0]")
    ),
    "saved by qpdf without object streams": with_boxes(canvas_pdf(_text)),
    "an opening that only scrolls, as LibreOffice writes": pdf_of_objects(
        _CATALOG.replace(">>", "/OpenAction [3 0 R /XYZ null null 0] >>"), _TREE, _PAGE
    ),
    # a name in a content stream is an operand to draw with, not a key of anything
    "a script's name in the page's content": pdf_of_objects(
        _CATALOG,
        _TREE,
        _PAGE.replace(">>", "/Contents 4 0 R >>"),
        "<< /Length 19 >>\nstream\n/JavaScript BMC EMC\nendstream",
    ),
}
# Files it leaves to qpdf: an outline's /Count, say, makes the page tree no longer the only
# node with one.
_NOT_PLAIN = {
    "a link (an action)": canvas_pdf(_with_link),
    "an outline": canvas_pdf(_with_outline),
    "an opening action": pdf_of_objects(
        _CATALOG.replace(">>", "/OpenAction << /S /GoTo /D [3 0 R /Fit] >> >>"), _TREE, _PAGE
    ),
    "an opening by reference": pdf_of_objects(
        _CATALOG.replace(">>", "/OpenAction 4 0 R >>"), _TREE, _PAGE, "[3 0 R /Fit]"
    ),
    # "stream" in a string or a name cut the value short, and an object nobody reads made up
    # for what the cut left open: the opening action after the cut went unseen
    "an action after 'stream' in a string": _with_spare(
        "<< /Type /Catalog /Pages 2 0 R /T (a stream\n) /OpenAction << /S /JavaScript >> >>"
    ),
    "an action after 'stream' in a name": _with_spare(
        "<< /Type /Catalog /Pages 2 0 R /Xstream 1 /OpenAction << /S /JavaScript >> >>"
    ),
    "an object listed twice": _listed_twice(pdf_of_objects(_CATALOG, _TREE, _PAGE)),
    "a page turned": with_boxes(canvas_pdf(_text), rotate=90),
    "a crop box": with_boxes(canvas_pdf(_text), cropbox=[0, 0, 300, 400]),
    "pages of two sizes": pdf_of_objects(
        _CATALOG,
        "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        _PAGE,
        _PAGE.replace("612 792", "792 612"),
    ),
    "object streams": _saved(
        pikepdf.open(io.BytesIO(canvas_pdf(_text))),
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    ),
    "encrypted": _saved(
        pikepdf.open(io.BytesIO(canvas_pdf(_text))),
        encryption=pikepdf.Encryption(owner="owner-pw", user=""),
    ),
    "an escaped name": pdf_of_objects(
        "<< /Type /Catalog /Pages 2 0 R /Open#41ction << /S /J#61vaScript /J#53 (1) >> >>",
        _TREE,
        _PAGE,
    ),
    "a box by reference": pdf_of_objects(
        _CATALOG, _TREE, "<< /Type /Page /Parent 2 0 R /MediaBox 4 0 R >>", "[0 0 612 792]"
    ),
    "a kid that is no reference, no /Count": pdf_of_objects(
        _CATALOG, "<< /Type /Pages /Kids [3 0 R 7] >>", _PAGE
    ),
    "/Count wrong": pdf_of_objects(_CATALOG, _TREE.replace("/Count 1", "/Count 2"), _PAGE),
    "a page object the tree does not hold": pdf_of_objects(_CATALOG, _TREE, _PAGE, _PAGE),
    "a page of no area": pdf_of_objects(_CATALOG, _TREE, _PAGE.replace("612 792", "0 792")),
    "startxref pointing elsewhere": canvas_pdf(_text).replace(b"startxref\n", b"startxref\n1"),
}


@pytest.mark.parametrize("name", sorted(_PLAIN))
def test_plain_files_are_read_as_qpdf_reads_them(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _PLAIN[name]
    facts = _plain(data)
    assert facts is not None, "the plain path answers for it"
    assert facts == _by_qpdf(data, monkeypatch)
    assert PdfInspector(max_pages=500).inspect(data) == facts


@pytest.mark.parametrize("name", sorted(_NOT_PLAIN))
def test_what_the_bytes_cannot_vouch_for_goes_to_qpdf(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _NOT_PLAIN[name]
    assert _plain(data) is None
    qpdf = _by_qpdf(data, monkeypatch)
    try:
        answer: PdfFacts | FileRefused = PdfInspector(max_pages=500).inspect(data)
    except FileRefused as refused:
        answer = refused
    assert repr(answer) == repr(qpdf)


@pytest.fixture(scope="module")
def office_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    word = docx(w_para("Purchase agreement"), w_table([["Seller", "Buyer"], ["", ""]]))
    return libreoffice_pdf(word, str(tmp_path_factory.mktemp("office")))


def test_a_word_file_converted_by_libreoffice_is_plain(
    office_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What our own pipeline makes of Word files, and what many senders upload."""
    facts = _plain(office_pdf)
    assert facts is not None
    assert facts == _by_qpdf(office_pdf, monkeypatch)


@pytest.mark.parametrize(
    "name",
    [
        "an escaped name",
        "an action after 'stream' in a string",
        "an action after 'stream' in a name",
    ],
)
def test_active_content_that_the_bytes_hide_is_found(name: str) -> None:
    assert PdfInspector().inspect(_NOT_PLAIN[name]).active_content is True


def test_too_many_pages_is_refused_by_the_usual_message() -> None:
    with pytest.raises(FileRefused) as refused:
        PdfInspector(max_pages=2).inspect(_PLAIN["reportlab, three Letter pages"])
    assert refused.value.reason == "the PDF has 3 pages; the limit is 2"


def test_sizes_come_from_the_box_as_written() -> None:
    facts = _plain(canvas_pdf(_text))
    assert facts is not None
    assert facts.page_sizes == (PageSize(595.2756, 841.8898),)


def _mutants(data: bytes, count: int, seed: int) -> list[bytes]:
    """`data` damaged in the ways fuzzing damages files: bytes overwritten, lines dropped or
    repeated, a stretch cut out."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        out = bytearray(data)
        way = rng.randrange(4)
        if way == 0:
            for _ in range(rng.randint(1, 4)):
                out[rng.randrange(len(out))] = rng.randrange(256)
        elif way in (1, 2):
            lines = bytes(out).split(b"\n")
            at = rng.randrange(len(lines))
            lines[at : at + 1] = [] if way == 1 else [lines[at], lines[at]]
            out = bytearray(b"\n".join(lines))
        else:
            at = rng.randrange(len(out))
            del out[at : at + rng.randint(1, 200)]
        made.append(bytes(out))
    return made


def test_damaged_files_are_read_as_qpdf_reads_them_or_not_at_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the plain path answers for a damaged file, qpdf says the same; and the plain
    path still answers for some (else this would test nothing)."""
    answered = _agreeing(list(_PLAIN.values()), 1000, monkeypatch)
    assert answered > 500


def test_damaged_libreoffice_files_too(office_pdf: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its fonts are compressed streams, and the objects around them are written otherwise."""
    assert _agreeing([office_pdf], 1000, monkeypatch) > 100


def _agreeing(originals: list[bytes], each: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many damaged copies the plain path answers for, each as qpdf does."""
    answered = 0
    for number, original in enumerate(originals):
        for data in _mutants(original, each, seed=number):
            facts = _plain(data)
            if facts is not None:
                answered += 1
                assert facts == _by_qpdf(data, monkeypatch), data
    return answered


def test_pdfium_counts_no_pages_of_what_it_cannot_read_or_is_encrypted() -> None:
    """The last check is PDFium's own reading: the rules before it catch these files first,
    so it is tried on them alone here."""
    assert _page_count(_PLAIN["reportlab, three Letter pages"]) == 3
    assert _page_count(_NOT_PLAIN["encrypted"]) == 0
    assert _page_count(b"%PDF-1.4\n garbage") == 0
