"""Warm Word conversion against a cold `soffice --convert-to` (issue 3: target ≤ 0.25×).

* warm: esign's `OfficeConverter` (one persistent soffice, started before timing), one untimed
  warm-up conversion, then BENCH_RUNS (default 10) timed conversions; the median is reported;
* cold: `soffice --headless --convert-to pdf` with a fresh profile each time (what a converter
  without a warm process pays), BENCH_COLD_RUNS (default 3) runs; the median is reported.

Both convert the same 5-page .docx (headings, paragraphs and a table per page, in Calibri),
written here with zipfile. Prints both medians, the ratio and PASS/FAIL.
Exit status 0 when it ran (whatever the numbers), 1 when LibreOffice is missing.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pikepdf

from esign.pdf.convert import OfficeConverter, find_soffice, office_available

TARGET = 0.25
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _para(text: str, size: int = 22, bold: bool = False) -> str:
    props = f'<w:rFonts w:ascii="Calibri" w:hAnsi="Calibri"/>{"<w:b/>" if bold else ""}'
    return (
        f'<w:p><w:r><w:rPr>{props}<w:sz w:val="{size}"/></w:rPr>'
        f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
    )


def _table(rows: int) -> str:
    cells = "".join(
        "<w:tr>"
        + "".join(f'<w:tc><w:tcW w:w="3000"/>{_para(f"R{r} C{c}")}</w:tc>' for c in range(3))
        + "</w:tr>"
        for r in range(rows)
    )
    return f"<w:tbl><w:tblGrid>{'<w:gridCol/>' * 3}</w:tblGrid>{cells}</w:tbl>"


def five_page_docx() -> bytes:
    body = ""
    for page in range(1, 6):
        body += _para(f"Section {page}: terms of sale", size=32, bold=True)
        body += "".join(
            _para(f"{page}.{i} The Seller shall deliver the goods to the Buyer in good order. " * 3)
            for i in range(1, 9)
        )
        body += _table(6)
        if page < 5:
            body += '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}">'
        f'<w:body>{body}<w:sectPr><w:pgSz w:w="12240" w:h="15840"/><w:pgMar w:top="1440" '
        'w:right="1440" w:bottom="1440" w:left="1440"/></w:sectPr></w:body></w:document>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{PKG}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{MAIN}"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="word/document.xml"/>'
            "</Relationships>",
        )
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def _pages(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def warm_runs(data: bytes, work: Path, runs: int) -> tuple[list[float], int]:
    with OfficeConverter(work) as converter:
        pages = _pages(converter.to_pdf(data, ".docx"))  # starts soffice; the warm-up
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            converter.to_pdf(data, ".docx")
            times.append(time.perf_counter() - started)
    return times, pages


def cold_runs(data: bytes, work: Path, runs: int) -> list[float]:
    soffice = find_soffice() or "soffice"
    work.mkdir(parents=True, exist_ok=True)
    source = work / "bench.docx"
    source.write_bytes(data)
    times = []
    for number in range(runs):
        profile = work / f"profile-{number}"  # fresh each time
        out = work / f"out-{number}"
        started = time.perf_counter()
        subprocess.run(
            [
                soffice,
                "--headless",
                f"-env:UserInstallation={profile.as_uri()}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out),
                str(source),
            ],
            capture_output=True,
            check=True,
            timeout=300,
        )
        times.append(time.perf_counter() - started)
        if not (out / "bench.pdf").exists():
            raise RuntimeError("soffice --convert-to wrote no PDF")
    return times


def main() -> int:
    if not office_available():
        print("LibreOffice is not installed: run scripts/install-office.sh", file=sys.stderr)
        return 1
    data = five_page_docx()
    runs = int(os.environ.get("BENCH_RUNS", "10"))
    cold_count = int(os.environ.get("BENCH_COLD_RUNS", "3"))
    with tempfile.TemporaryDirectory(prefix="esign-bench-office-") as tmp:
        warm, pages = warm_runs(data, Path(tmp) / "warm", runs)
        cold = cold_runs(data, Path(tmp) / "cold", cold_count)
    warm_ms = statistics.median(warm) * 1000
    cold_ms = statistics.median(cold) * 1000
    ratio = warm_ms / cold_ms
    print(f"document: {len(data):,} bytes .docx, {pages} pages in the PDF")
    print(f"warm OfficeConverter:        median {warm_ms:7.1f} ms of {runs} runs")
    print(f"cold soffice --convert-to:   median {cold_ms:7.1f} ms of {cold_count} runs")
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"ratio warm/cold: {ratio:.3f} (target <= {TARGET}) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
