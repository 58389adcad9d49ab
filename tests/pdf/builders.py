"""PDFs made by the tests, and the checks run on what comes out.

Builders: reportlab canvases (base-14 Helvetica, embedded TrueType Vera, platypus tables,
Form XObjects), hand-written content streams (TJ kerning, Tc/Tw/Tz), and a hand-built
Type0/Identity-H font embedding Vera with 2-byte glyph ids, /W widths and a ToUnicode map.

Checks go through PDFium independently of the code under test: char origins of the output,
its text, the displayed position of a user-space point (FPDF_PageToDevice) and the ink in a
rendered region.
"""

from __future__ import annotations

import ctypes
import io
import os
import pathlib
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFile
from reportlab.pdfgen.canvas import Canvas

from esign.pdf.pdfium_lock import PDFIUM_LOCK

VERA_PATH = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")
pdfmetrics.registerFont(TTFont("Vera", VERA_PATH))


def width(text: str, font: str = "Helvetica", size: float = 12) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


# --------------------------------------------------------------------------- builders


def canvas_pdf(
    draw: Callable[[Canvas], None], pagesize: tuple[float, float] = A4, pages: int = 1
) -> bytes:
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=pagesize)
    for _ in range(pages):
        draw(canvas)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def with_boxes(
    pdf: bytes,
    rotate: int | None = None,
    mediabox: list[float] | None = None,
    cropbox: list[float] | None = None,
) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            if rotate is not None:
                page.Rotate = rotate
            if mediabox is not None:
                page.MediaBox = mediabox
            if cropbox is not None:
                page.CropBox = cropbox
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()


def pdf_of_objects(*objects: str) -> bytes:
    """A PDF of exactly these objects (1 0 obj is the catalog), with a correct xref: what
    no library would write, as a hostile file may be."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def raw_pdf(
    content: bytes, size: tuple[float, float] = (612, 792), to_unicode: bytes | None = None
) -> bytes:
    """One page with `content` and /F1 = Helvetica (WinAnsi, optionally a ToUnicode CMap),
    /F2 = Times-Roman (no Widths)."""
    doc = pikepdf.new()
    doc.add_blank_page(page_size=size)
    page = doc.pages[0]
    helvetica = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type1,
        BaseFont=pikepdf.Name.Helvetica,
        Encoding=pikepdf.Name.WinAnsiEncoding,
    )
    if to_unicode is not None:
        helvetica.ToUnicode = doc.make_stream(to_unicode)
    times = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name("/Times-Roman")
    )
    page.Resources = pikepdf.Dictionary(
        Font=pikepdf.Dictionary(F1=doc.make_indirect(helvetica), F2=doc.make_indirect(times))
    )
    page.Contents = doc.make_stream(content)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


class VeraIdentityH:
    """Vera as a Type0 font with Identity-H encoding: codes are 2-byte glyph ids."""

    def __init__(self) -> None:
        self.file = TTFontFile(VERA_PATH)
        self.scale: float = 1000.0 / self.file.unitsPerEm

    def gid(self, char: str) -> int:
        return int(self.file.charToGlyph[ord(char)])

    def glyph_width(self, char: str) -> float:
        """In 1/1000 em."""
        return float(self.file.hmetrics[self.gid(char)][0]) * self.scale

    def hex(self, text: str) -> bytes:
        return b"<" + "".join(f"{self.gid(c):04X}" for c in text).encode() + b">"

    def width(self, text: str, size: float) -> float:
        return sum(self.glyph_width(c) for c in text) * size / 1000.0

    def pdf(self, content: bytes, chars: str, size: tuple[float, float] = (612, 792)) -> bytes:
        doc = pikepdf.new()
        doc.add_blank_page(page_size=size)
        page = doc.pages[0]
        font = self._font(doc, sorted(set(chars)))
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = doc.make_stream(content)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()

    def _font(self, doc: Any, chars: list[str]) -> Any:
        with open(VERA_PATH, "rb") as fh:
            data = fh.read()
        file = doc.make_stream(data)
        file.Length1 = len(data)
        descriptor = pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=pikepdf.Name("/BitstreamVeraSans-Roman"),
            Flags=32,
            FontBBox=[int(v) for v in self.file.bbox],
            ItalicAngle=0,
            Ascent=int(self.file.ascent),
            Descent=int(self.file.descent),
            CapHeight=int(self.file.capHeight),
            StemV=87,
            FontFile2=file,
        )
        widths: list[Any] = []
        for char in chars:
            widths += [self.gid(char), [round(self.glyph_width(char), 3)]]
        cid_font = pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.CIDFontType2,
            BaseFont=pikepdf.Name("/BitstreamVeraSans-Roman"),
            CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=doc.make_indirect(descriptor),
            W=widths,
            DW=1000,
            CIDToGIDMap=pikepdf.Name.Identity,
        )
        return doc.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.Type0,
                BaseFont=pikepdf.Name("/BitstreamVeraSans-Roman"),
                Encoding=pikepdf.Name("/Identity-H"),
                DescendantFonts=[doc.make_indirect(cid_font)],
                ToUnicode=doc.make_stream(self._to_unicode(chars)),
            )
        )

    def _to_unicode(self, chars: list[str]) -> bytes:
        lines = [f"<{self.gid(c):04X}> <{ord(c):04X}>" for c in chars]
        return (
            b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            + f"{len(lines)} beginbfchar\n".encode()
            + "\n".join(lines).encode()
            + b"\nendbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n"
        )


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Glyph:
    char: str
    x: float
    y: float


def glyphs(pdf: bytes, page_index: int = 0) -> list[Glyph]:
    """The page's real (not generated) chars with their origins in user space."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            textpage = doc[page_index].get_textpage()
            x, y = ctypes.c_double(), ctypes.c_double()
            out = []
            for i in range(textpage.count_chars()):
                if pdfium_c.FPDFText_IsGenerated(textpage, i):
                    continue
                pdfium_c.FPDFText_GetCharOrigin(textpage, i, x, y)
                out.append(Glyph(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)), x.value, y.value))
            return out
        finally:
            doc.close()


def text(pdf: bytes, page_index: int = 0) -> str:
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            return str(doc[page_index].get_textpage().get_text_range())
        finally:
            doc.close()


def display_point(pdf: bytes, page_index: int, x: float, y: float) -> tuple[float, float]:
    """Where PDFium shows user-space (x, y): points from the displayed page's top-left."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            page = doc[page_index]
            w, h = page.get_size()
            dx, dy = ctypes.c_int(), ctypes.c_int()
            scale = 100  # PageToDevice answers in whole device pixels
            pdfium_c.FPDF_PageToDevice(
                page, 0, 0, round(w * scale), round(h * scale), 0, x, y, dx, dy
            )
            return dx.value / scale, dy.value / scale
        finally:
            doc.close()


def page_size(pdf: bytes, page_index: int = 0) -> tuple[float, float]:
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            w, h = doc[page_index].get_size()
            return float(w), float(h)
        finally:
            doc.close()


def dark_pixels(
    pdf: bytes, page_index: int, box: tuple[float, float, float, float], inset: float = 0.75
) -> int:
    """Pixels darker than near-white in the user-space box (left, bottom, right, top), at 2×."""
    left, bottom, right, top = box
    corners = [(left + inset, bottom + inset), (right - inset, top - inset)]
    scale = 2.0
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            page = doc[page_index]
            image = page.render(scale=scale).to_pil().convert("L")
            w, h = page.get_size()
            points = []
            for x, y in corners:
                dx, dy = ctypes.c_int(), ctypes.c_int()
                pdfium_c.FPDF_PageToDevice(
                    page, 0, 0, round(w * scale), round(h * scale), 0, x, y, dx, dy
                )
                points.append((dx.value, dy.value))
        finally:
            doc.close()
    (x0, y0), (x1, y1) = points
    region = image.crop((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return sum(region.histogram()[:200])


# --------------------------------------------------------------------------- LibreOffice

_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def w_run(text: str, bold: bool = False) -> str:
    """One run in 11 pt Liberation Sans (metric-compatible with Arial, installed with LO)."""
    props = '<w:rFonts w:ascii="Liberation Sans" w:hAnsi="Liberation Sans"/><w:sz w:val="22"/>'
    props += "<w:b/>" if bold else ""
    safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{safe}</w:t></w:r>'


def w_para(*runs: str) -> str:
    return "<w:p>" + "".join(r if r.startswith("<w:r>") else w_run(r) for r in runs) + "</w:p>"


def w_table(rows: list[list[str]]) -> str:
    cells = "".join(
        "<w:tr>" + "".join(f"<w:tc>{w_para(cell)}</w:tc>" for cell in row) + "</w:tr>"
        for row in rows
    )
    grid = '<w:gridCol w:w="4000"/>' * len(rows[0])
    return f"<w:tbl><w:tblGrid>{grid}</w:tblGrid>{cells}</w:tbl>"


def docx(*blocks: str) -> bytes:
    """A minimal Word file written with zipfile: content types, one relationship, the body."""
    body = "".join(blocks)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _DOCX_TYPES)
        zf.writestr("_rels/.rels", _DOCX_RELS)
        zf.writestr("word/document.xml", document)
    return buf.getvalue()


def libreoffice_pdf(data: bytes, workdir: str) -> bytes:
    """`soffice --convert-to pdf` in a profile of its own: two soffice can't share one."""

    work = pathlib.Path(workdir)
    source = work / "tags.docx"
    source.write_bytes(data)
    profile = (work / "profile").as_uri()
    subprocess.run(
        [
            *("soffice", f"-env:UserInstallation={profile}", "--headless", "--norestore"),
            *("--convert-to", "pdf", "--outdir", str(work), str(source)),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return (work / "tags.pdf").read_bytes()
