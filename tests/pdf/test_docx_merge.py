"""fill_docx: MERGEFIELDs and {{Key}} placeholders, in the body, headers and footers."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from esign.domain.ports import FileRefused
from esign.pdf.convert import OfficeConverter
from esign.pdf.docx_merge import fill_docx
from tests.pdf.office_samples import W_NS, docx, para, pdf_texts, require_office, run

W = f"{{{W_NS}}}"


def _field(instruction: list[str], result: list[str]) -> str:
    """A complex field; the instruction and the result may each be split over several runs."""
    code = '<w:r><w:instrText xml:space="preserve">{}</w:instrText></w:r>'
    parts = ['<w:r><w:fldChar w:fldCharType="begin"/></w:r>']
    parts += [code.format(text) for text in instruction]
    parts.append('<w:r><w:fldChar w:fldCharType="separate"/></w:r>')
    parts += [run(text, bold=True) for text in result]
    parts.append('<w:r><w:fldChar w:fldCharType="end"/></w:r>')
    return "".join(parts)


def _simple(instruction: str, result: str) -> str:
    return f'<w:fldSimple w:instr="{instruction}">{run(result, font="Cambria")}</w:fldSimple>'


NESTED_IF = (
    '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    '<w:r><w:instrText xml:space="preserve"> IF </w:instrText></w:r>'
    + _field([" MERGEFIELD Flag "], ["1"])
    + '<w:r><w:instrText xml:space="preserve"> = "1" "yes" "no" </w:instrText></w:r>'
    '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
    + run("yes")
    + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
)


def _letter() -> bytes:
    body = "".join(
        [
            para("Dear ", _simple(" MERGEFIELD  FirstName \\* MERGEFORMAT ", "«FirstName»")),
            para("Surname: ", _field([" MERGEFIELD ", "LastName \\* Upper "], ["«Last", "Name»"])),
            para("Company: ", _field([' MERGEFIELD "Company Name" '], ["«Company Name»"])),
            para("Unknown: ", _field([" MERGEFIELD Unknown "], ["keep this result"])),
            para("Unknown simple: ", _simple(" MERGEFIELD Missing ", "simple result")),
            para("Nested: ", NESTED_IF),
            para(run("Client: {{Cli", bold=True), run("ent"), run("Name}} signs.")),
            para("Spaced: {{ Spaced }} and case {{clientname}}."),
            para("Anchor {{sig:1}} and unknown {{Nobody}} stay."),
            para("Address: {{Address}}"),
        ]
    )
    header = para(run("Header for {{"), run("HeaderKey}}"))
    footer = para("Footer: ", _field([" MERGEFIELD FooterKey "], ["«FooterKey»"]))
    return docx(body, header=header, footer=footer)


VALUES = {
    "FirstName": "Ada",
    "LastName": "Lovelace",
    "Company Name": "Analytical <Engines> & Co",
    "ClientName": "ACME <&> Ltd",
    "Spaced": "spaced value",
    "Address": "1 Main St\nSpringfield",
    "HeaderKey": "Header Value",
    "FooterKey": "Footer Value",
    "Flag": "0",
}


def _paragraphs(data: bytes, part: str = "word/document.xml") -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read(part))
    texts = []
    for paragraph in root.iter(f"{W}p"):
        pieces = []
        for node in paragraph.iter(f"{W}t", f"{W}br", f"{W}instrText"):
            if node.tag == f"{W}br":
                pieces.append("\n")
            elif node.tag == f"{W}t":
                pieces.append(node.text or "")
        texts.append("".join(pieces))
    return texts


def _text(element: etree._Element) -> str:
    return "".join(str(piece) for piece in element.itertext())


def test_merge_fields_and_placeholders_are_filled() -> None:
    filled = fill_docx(_letter(), VALUES)
    body = _paragraphs(filled)
    assert body[0] == "Dear Ada"
    assert body[1] == "Surname: Lovelace"
    assert body[2] == "Company: Analytical <Engines> & Co"
    assert body[3] == "Unknown: keep this result"  # no value: the current result stays
    assert body[4] == "Unknown simple: simple result"
    assert body[6] == "Client: ACME <&> Ltd signs."
    assert body[7] == "Spaced: spaced value and case ACME <&> Ltd."
    assert body[8] == "Anchor {{sig:1}} and unknown {{Nobody}} stay."
    assert body[9] == "Address: 1 Main St\nSpringfield"  # a newline becomes a line break
    assert _paragraphs(filled, "word/header1.xml") == ["Header for Header Value"]
    assert _paragraphs(filled, "word/footer1.xml") == ["Footer: Footer Value"]


def test_fields_become_plain_text_with_the_result_formatting() -> None:
    filled = fill_docx(_letter(), VALUES)
    with zipfile.ZipFile(io.BytesIO(filled)) as archive:
        xml = archive.read("word/document.xml")
    root = etree.fromstring(xml)
    paragraphs = list(root.iter(f"{W}p"))
    surname = paragraphs[1]
    assert surname.find(f".//{W}fldChar") is None and surname.find(f".//{W}instrText") is None
    value_run = next(r for r in surname.iter(f"{W}r") if "Lovelace" in _text(r))
    assert value_run.find(f"{W}rPr/{W}b") is not None  # the result runs were bold
    first = paragraphs[0]
    assert first.find(f"{W}fldSimple") is None
    ada = next(r for r in first.iter(f"{W}r") if "Ada" in _text(r))
    fonts = ada.find(f"{W}rPr/{W}rFonts")
    assert fonts is not None and fonts.get(f"{W}ascii") == "Cambria"  # the result's font
    # The placeholder split over three runs keeps the first run's (bold) formatting.
    client = paragraphs[6]
    holder = next(r for r in client.iter(f"{W}r") if "ACME" in _text(r))
    assert holder.find(f"{W}rPr/{W}b") is not None
    assert b"ACME &lt;&amp;&gt; Ltd" in xml  # escaped in the XML
    # The MERGEFIELD inside an IF is part of the IF's instruction: left alone.
    assert len(paragraphs[5].findall(f".//{W}fldChar")) == 6


def test_no_values_leaves_the_text_as_it_was() -> None:
    original = _letter()
    assert _paragraphs(fill_docx(original, {})) == _paragraphs(original)


def test_values_are_plain_text_whatever_they_contain() -> None:
    filled = fill_docx(docx(para("{{A}}")), {"A": "x\x00y\x1b</w:t><w:b/>"})
    assert _paragraphs(filled) == ["xy</w:t><w:b/>"]


def test_a_file_that_is_not_a_docx_is_refused() -> None:
    with pytest.raises(FileRefused, match="damaged"):
        fill_docx(docx(para("x"))[:300], {"A": "b"})


@pytest.fixture(scope="module")
def converter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfficeConverter]:
    require_office()
    shared = OfficeConverter(Path(tmp_path_factory.mktemp("office")))
    yield shared
    shared.close()


def test_merged_values_are_in_the_converted_pdf(converter: OfficeConverter) -> None:
    text = pdf_texts(converter.to_pdf(fill_docx(_letter(), VALUES), ".docx"))[0]
    for expected in (
        "Dear Ada",
        "Surname: Lovelace",
        "Analytical <Engines> & Co",
        "Client: ACME <&> Ltd signs.",
        "Header for Header Value",
        "Footer: Footer Value",
        "keep this result",
        "{{sig:1}}",
        "Springfield",
    ):
        assert expected in text, (expected, text)
    assert "«" not in text and "{{Cli" not in text
