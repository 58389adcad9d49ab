"""The pipeline works file to file: the source is only read, each step writes the next file,
and the processor's files go when prepare()'s context closes."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pikepdf
import pytest
from reportlab.pdfgen.canvas import Canvas

from esign.domain.ports import FileRefused, MergeStamp, PrepareRequest
from esign.pdf.anchors import scan_and_strip
from esign.pdf.convert import OfficeConverter
from esign.pdf.pipeline import ABANDONED_AFTER, PdfPipeline, remove_abandoned_work
from esign.pdf.sanitize import has_active_content, sanitize_pdf_file
from tests.pdf.builders import canvas_pdf, text


def tagged(canvas: Canvas) -> None:
    canvas.setFont("Helvetica", 12)
    canvas.drawString(72, 700, "Sign here: <sig_req_Seller 1> thank you")


def plain(canvas: Canvas) -> None:
    canvas.setFont("Helvetica", 12)
    canvas.drawString(72, 700, "Nothing to find here")


def with_script(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")
        )
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


@pytest.fixture
def pipeline(tmp_path: Path) -> PdfPipeline:
    return PdfPipeline(OfficeConverter(tmp_path / "office"), work_dir=tmp_path / "work")


def test_a_pdf_goes_from_file_to_file(pipeline: PdfPipeline, tmp_path: Path) -> None:
    original = with_script(canvas_pdf(tagged, pages=2))
    source = tmp_path / "original.pdf"
    source.write_bytes(original)
    stamp = MergeStamp("ACME Ltd", 1, 0.1, 0.1, 0.5, 0.05)
    request = PrepareRequest(source, ".pdf", has_anchor_tags=True, stamps=(stamp,))
    with pipeline.prepare(request) as prepared:
        assert prepared.pdf.parent.parent == tmp_path / "work"
        result = prepared.pdf.read_bytes()
        with pikepdf.open(prepared.pdf) as pdf:
            assert not has_active_content(pdf)  # sanitized
        # only the result is left in the work directory: the steps before it are gone
        assert list(prepared.pdf.parent.iterdir()) == [prepared.pdf]
    assert list((tmp_path / "work").iterdir()) == []
    assert source.read_bytes() == original  # read, never changed
    assert prepared.page_count == 2 and len(prepared.fields) == 2 and not prepared.errors
    assert "<sig_req" not in text(result, 0) and "Sign here:" in text(result, 0)
    assert "ACME Ltd" in text(result, 1)


def test_a_refused_file_leaves_no_work_files(pipeline: PdfPipeline, tmp_path: Path) -> None:
    source = tmp_path / "not.pdf"
    source.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    request = PrepareRequest(source, ".pdf")
    with pytest.raises(FileRefused, match="PNG image, not a PDF"), pipeline.prepare(request):
        pass
    assert list((tmp_path / "work").iterdir()) == []


def test_sanitize_pdf_file_refuses_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(FileRefused, match="empty"):
        sanitize_pdf_file(tmp_path / "empty.pdf", tmp_path / "out.pdf")


def test_scanning_a_file_writes_only_when_something_changed(tmp_path: Path) -> None:
    source, out = tmp_path / "in.pdf", tmp_path / "out.pdf"
    source.write_bytes(canvas_pdf(plain))
    assert scan_and_strip(source, out=out).pdf == source and not out.exists()
    source.write_bytes(canvas_pdf(tagged))
    result = scan_and_strip(source, out=out)
    assert result.pdf == out and len(result.tags) == 1
    assert "<sig_req" not in text(out.read_bytes())
    with pytest.raises(ValueError):
        scan_and_strip(source)


def test_abandoned_work_folders_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    old, live = tmp_path / "prepare-old", tmp_path / "prepare-live"
    for folder in (old, live):
        folder.mkdir()
        (folder / "sanitized.pdf").write_bytes(b"%PDF-")
    stale = time.time() - ABANDONED_AFTER - 60
    os.utime(old, (stale, stale))
    (tmp_path / "unrelated").mkdir()
    os.utime(tmp_path / "unrelated", (stale, stale))
    assert remove_abandoned_work(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepare-live", "unrelated"]
