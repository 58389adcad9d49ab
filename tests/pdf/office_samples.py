"""Office files written by hand (zipfile + minimal XML), so the tests need no Word or python-docx.

Each builder returns bytes. Text runs use Calibri like Word's defaults, so the conversion
exercises LibreOffice's metric-compatible substitute (Carlito).
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from xml.sax.saxutils import escape

import pypdfium2 as pdfium
import pytest

from esign.pdf.convert import office_available
from esign.pdf.pdfium_lock import PDFIUM_LOCK

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def run(text: str, *, font: str = "Calibri", bold: bool = False, size: int = 22) -> str:
    """A w:r; `size` is in half-points like Word's w:sz."""
    props = f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:cs="{font}"/>'
    props += "<w:b/>" if bold else ""
    props += f'<w:sz w:val="{size}"/>'
    return f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def para(*runs: str) -> str:
    """A w:p of runs; plain strings become Calibri runs."""
    body = "".join(r if r.startswith("<") else run(r) for r in runs)
    return f"<w:p>{body}</w:p>"


def page_break() -> str:
    return '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'


def table(rows: list[list[str]]) -> str:
    grid = '<w:gridCol w:w="3000"/>' * len(rows[0])
    cells = "".join(
        "<w:tr>"
        + "".join(
            f'<w:tc><w:tcPr><w:tcW w:w="3000" w:type="dxa"/></w:tcPr>{para(cell)}</w:tc>'
            for cell in row
        )
        + "</w:tr>"
        for row in rows
    )
    borders = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    return (
        f'<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/><w:tblBorders>{borders}</w:tblBorders>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{cells}</w:tbl>"
    )


def docx(
    body: str,
    *,
    header: str | None = None,
    footer: str | None = None,
    parts: dict[str, bytes] | None = None,
    rels: list[str] | None = None,
    overrides: dict[str, str] | None = None,
    main_type: str = WORD_MAIN,
) -> bytes:
    """A .docx with `body` (w:p/w:tbl XML) on Letter paper, optional header and footer XML
    (paragraphs), extra parts, extra document relationships and content-type overrides."""
    rel_list = list(rels or [])
    types = {"/word/document.xml": main_type, **(overrides or {})}
    files: dict[str, bytes] = {}
    refs = ""
    if header is not None:
        files["word/header1.xml"] = _hdr_ftr("hdr", header)
        rel_list.append(f'<Relationship Id="rIdH" Type="{REL_BASE}/header" Target="header1.xml"/>')
        types["/word/header1.xml"] = (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
        )
        refs += '<w:headerReference w:type="default" r:id="rIdH"/>'
    if footer is not None:
        files["word/footer1.xml"] = _hdr_ftr("ftr", footer)
        rel_list.append(f'<Relationship Id="rIdF" Type="{REL_BASE}/footer" Target="footer1.xml"/>')
        types["/word/footer1.xml"] = (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
        )
        refs += '<w:footerReference w:type="default" r:id="rIdF"/>'
    section = (
        f'<w:sectPr>{refs}<w:pgSz w:w="12240" w:h="15840"/>'
        '<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="720"'
        ' w:footer="720" w:gutter="0"/></w:sectPr>'
    )
    files["word/document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}"><w:body>{body}{section}</w:body>'
        "</w:document>"
    ).encode()
    files["word/_rels/document.xml.rels"] = _rels(rel_list)
    files["_rels/.rels"] = _rels(
        [f'<Relationship Id="rId1" Type="{REL_BASE}/officeDocument" Target="word/document.xml"/>']
    )
    files.update(parts or {})
    return _package(files, types)


def _hdr_ftr(tag: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:{tag} xmlns:w="{W_NS}" xmlns:r="{R_NS}">{body}</w:{tag}>'
    ).encode()


def _rels(items: list[str]) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{PKG_RELS}">{"".join(items)}</Relationships>'
    ).encode()


def _package(files: dict[str, bytes], overrides: dict[str, str]) -> bytes:
    types = "".join(
        f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides.items()
    )
    content_types = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{CT_NS}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="png" ContentType="image/png"/>'
        f"{types}</Types>"
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def sample_docx(pages: int = 1) -> bytes:
    """Paragraphs, a bold heading and a table per page, Calibri; pages split by page breaks."""
    body = ""
    for number in range(1, pages + 1):
        body += para(run(f"Purchase agreement page {number}", bold=True, size=32))
        body += para("The Seller agrees to sell and the Buyer agrees to buy the goods listed.")
        body += table([["Item", "Quantity", "Price"], ["Widget", "12", "144.00"]])
        body += "".join(
            para(f"Clause {number}.{i}: the parties shall act in good faith at all times.")
            for i in range(1, 12)
        )
        if number < pages:
            body += page_break()
    return docx(body)


def xlsx(rows: list[list[str | float]]) -> bytes:
    """One sheet with inline strings and numbers."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet_rows = ""
    for r, row in enumerate(rows, start=1):
        cells = ""
        for c, value in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if isinstance(value, str):
                cells += f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
            else:
                cells += f'<c r="{ref}"><v>{value}</v></c>'
        sheet_rows += f'<row r="{r}">{cells}</row>'
    files = {
        "_rels/.rels": _rels(
            [f'<Relationship Id="rId1" Type="{REL_BASE}/officeDocument" Target="xl/workbook.xml"/>']
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<workbook xmlns="{ns}" xmlns:r="{R_NS}"><sheets>'
            '<sheet name="Prices" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": _rels(
            [
                f'<Relationship Id="rId1" Type="{REL_BASE}/worksheet" '
                'Target="worksheets/sheet1.xml"/>'
            ]
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<worksheet xmlns="{ns}"><sheetData>{sheet_rows}</sheetData></worksheet>'
        ).encode(),
    }
    types = {
        "/xl/workbook.xml": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
        ),
        "/xl/worksheets/sheet1.xml": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        ),
    }
    return _package(files, types)


ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'xmlns:ooo="http://openoffice.org/2004/office" '
    'xmlns:dom="http://www.w3.org/2001/xml-events"'
)


def odt(body: str, *, scripts: str = "", parts: dict[str, bytes] | None = None) -> bytes:
    """An .odt whose office:text holds `body` (text:p XML); `scripts` goes into office:scripts."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS} '
        f'office:version="1.2"><office:scripts>{scripts}</office:scripts>'
        f"<office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    ).encode()
    extra = parts or {}
    manifest_ns = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
    entries = "".join(
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
        for name in extra
    )
    manifest = (
        f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="{manifest_ns}"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        f"{entries}</manifest:manifest>"
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            b"application/vnd.oasis.opendocument.text",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def rtf(lines: list[str]) -> bytes:
    body = "".join(f"{line}\\par\n" for line in lines)
    return (
        "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\fswiss Liberation Sans;}}"
        f"\\paperw12240\\paperh15840\\f0\\fs24\n{body}}}"
    ).encode("ascii")


# ---- test support


def require_office() -> None:
    """Skip when LibreOffice is missing on a developer machine; in CI (CI set) fail instead."""
    if office_available():
        return
    message = "LibreOffice is not installed: run scripts/install-office.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def pdf_texts(pdf: bytes) -> list[str]:
    """Each page's text, extracted with PDFium."""
    with PDFIUM_LOCK:  # PDFium is not thread-safe
        document = pdfium.PdfDocument(pdf)
        try:
            return [page.get_textpage().get_text_range() for page in document]
        finally:
            document.close()


def raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip from (name, raw deflate data, crc32, declared uncompressed size) entries, written
    by hand so a test can declare any size it likes."""
    body = io.BytesIO()
    central = io.BytesIO()
    for name, packed, crc, size in entries:
        offset = body.tell()
        encoded = name.encode()
        fixed = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(packed), size)
        body.write(b"PK\x03\x04" + fixed + struct.pack("<HH", len(encoded), 0) + encoded)
        body.write(packed)
        central.write(
            b"PK\x01\x02"
            + struct.pack("<H", 20)
            + fixed
            + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, offset)
            + encoded
        )
    directory = central.getvalue()
    end = b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, len(entries), len(entries), len(directory), body.tell(), 0
    )
    return body.getvalue() + directory + end


def deflate(data: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(), zlib.crc32(data), len(data)


def zip_bomb_docx(megabytes: int = 300, declared: int | None = None) -> bytes:
    """A valid .docx plus one part of `megabytes` MiB of zeros (≈1 KB packed per MiB), built
    without ever holding the inflated data: after a full flush deflate restarts, so each MiB
    of zeros packs to the same bytes. `declared` lies about that part's size."""
    chunk = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    bomb = ("word/media/filler.bin", block * megabytes + b"\x03\x00", crc, megabytes << 20)
    if declared is not None:
        bomb = (bomb[0], bomb[1], bomb[2], declared)
    with zipfile.ZipFile(io.BytesIO(docx(para("A bomb")))) as archive:
        parts = [(info.filename, *deflate(archive.read(info))) for info in archive.infolist()]
    return raw_zip([*parts, bomb])


def encrypted_docx() -> bytes:
    """What Word writes for a password-protected .docx: an OLE compound file whose directory
    names an EncryptedPackage stream (only the parts the checker looks at)."""
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return ole + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le")


def macro_odt(marker: str) -> bytes:
    """An .odt whose Basic macro, bound to the document's load event, writes `marker`."""
    lc = (
        b'<?xml version="1.0" encoding="UTF-8"?><library:libraries '
        b'xmlns:library="http://openoffice.org/2000/library" '
        b'xmlns:xlink="http://www.w3.org/1999/xlink"><library:library library:name="Standard" '
        b'xlink:href="Basic/Standard/script-lb.xml/" xlink:type="simple" library:link="false"/>'
        b"</library:libraries>"
    )
    lb = (
        b'<?xml version="1.0" encoding="UTF-8"?><library:library '
        b'xmlns:library="http://openoffice.org/2000/library" library:name="Standard" '
        b'library:readonly="false" library:passwordprotected="false">'
        b'<library:element library:name="Module1"/></library:library>'
    )
    module = (
        '<?xml version="1.0" encoding="UTF-8"?><script:module '
        'xmlns:script="http://openoffice.org/2000/script" script:name="Module1" '
        f'script:language="StarBasic">Sub Main\nOpen "{marker}" For Output As #1\n'
        'Print #1, "ran"\nClose #1\nEnd Sub\n</script:module>'
    ).encode()
    listeners = (
        '<office:event-listeners><script:event-listener script:language="ooo:script" '
        'script:event-name="dom:load" xlink:href="vnd.sun.star.script:Standard.Module1.Main'
        '?language=Basic&amp;location=document" xlink:type="simple"/></office:event-listeners>'
    )
    return odt(
        "<text:p>A document with a macro</text:p>",
        scripts=listeners,
        parts={
            "Basic/script-lc.xml": lc,
            "Basic/Standard/script-lb.xml": lb,
            "Basic/Standard/Module1.xml": module,
        },
    )
