"""The PDF inspector: the facts a session keeps, and the files it refuses, read from memory."""

from __future__ import annotations

import io

import pikepdf
import pytest

from esign.domain.model import PageSize
from esign.domain.ports import FileRefused
from esign.pdf import inspect
from esign.pdf.inspect import PikePdfInspector
from tests.pdf.builders import canvas_pdf, pdf_of_objects, with_boxes


def _two_pages_rotated() -> bytes:
    pdf = canvas_pdf(lambda c: c.drawString(72, 720, "Clause"), pagesize=(612, 792), pages=2)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.pages[1].Rotate = 90
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()


def _encrypted() -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(canvas_pdf(lambda c: None))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner-pw", user=""))
    return out.getvalue()


_CATALOG = "<< /Type /Catalog /Pages 2 0 R >>"
# A page tree with a kid that is no page and no /Count: qpdf raises a RuntimeError for it.
_BAD_TREE = pdf_of_objects(
    _CATALOG,
    "<< /Type /Pages /Kids [3 0 R 7] >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
)
_NO_AREA = pdf_of_objects(
    _CATALOG,
    "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 0 792] >>",
)


@pytest.fixture(params=["memory file", "BytesIO", "memfd refused"])
def inspector(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> PikePdfInspector:
    """Every way of handing qpdf the bytes: a memory-mapped file (Linux), the portable stream
    (other systems, and large files), and the stream again where memfd is refused (a
    sandbox). All must say the same."""
    if request.param == "BytesIO":
        monkeypatch.setattr(inspect, "_MEMFD_MAX", 0)
    elif request.param == "memfd refused":

        def refused(name: str, flags: int = 0) -> int:
            raise PermissionError("memfd_create not allowed")

        monkeypatch.setattr(inspect.os, "memfd_create", refused, raising=False)
        monkeypatch.setattr(inspect, "_MEMFD", True)
    elif not inspect._MEMFD:
        pytest.skip("no memfd_create on this platform")
    return PikePdfInspector(max_pages=3)


def test_pages_as_displayed(inspector: PikePdfInspector) -> None:
    facts = inspector.inspect(_two_pages_rotated())
    assert facts.page_count == 2
    assert facts.page_sizes == (PageSize(612, 792), PageSize(792, 612))
    assert (facts.first_page_width, facts.first_page_height) == (612, 792)
    assert facts.active_content is False


def test_boxes_and_rotation_inherited_from_the_page_tree(inspector: PikePdfInspector) -> None:
    doc = pikepdf.new()
    for _ in range(2):
        doc.add_blank_page(page_size=(300, 400))
    for page in doc.pages:
        del page.obj["/MediaBox"]
    doc.Root.Pages.MediaBox = [0, 0, 500, 700]
    doc.Root.Pages.Rotate = 90
    out = io.BytesIO()
    doc.save(out)
    assert inspector.inspect(out.getvalue()).page_sizes == (PageSize(700, 500),) * 2


def test_crop_box_is_what_shows(inspector: PikePdfInspector) -> None:
    pdf = with_boxes(canvas_pdf(lambda c: None), cropbox=[0, 0, 300, 400])
    assert inspector.inspect(pdf).page_sizes == (PageSize(300, 400),)


def test_active_content_is_noticed(inspector: PikePdfInspector) -> None:
    with pikepdf.open(io.BytesIO(canvas_pdf(lambda c: None))) as doc:
        doc.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert(1)")
        out = io.BytesIO()
        doc.save(out)
    assert inspector.inspect(out.getvalue()).active_content is True


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"GIF89a", "the file is not a PDF"),
        (b"%PDF-1.4\n garbage", "the PDF is damaged (unable to find trailer dictionary"),
        (_encrypted(), "the PDF is encrypted"),
        (canvas_pdf(lambda c: None, pages=4), "the PDF has 4 pages; the limit is 3"),
        (_BAD_TREE, "the PDF is damaged (/Count is wrong"),
        (_NO_AREA, "page 2 has no area (0 by 792 points)"),
    ],
)
def test_refusals_say_why(inspector: PikePdfInspector, data: bytes, reason: str) -> None:
    with pytest.raises(FileRefused) as refused:
        inspector.inspect(data)
    assert refused.value.reason.startswith(reason)
    assert "_io" not in refused.value.reason  # no stream repr leaks into the sender's message
