"""sanitize_pdf: active content goes, the rest of the document stays."""

from __future__ import annotations

import io

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from reportlab.pdfgen import canvas

from esign.domain.ports import FileRefused
from esign.pdf.sanitize import has_active_content, sanitize_pdf
from tests.pdf.office_samples import pdf_texts

PAYLOAD = b"MZ-embedded-payload-6b1f"
ATTACHED = b"attached-file-payload-93c2"
UNSAFE = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"}


def _plain_pdf(pages: int = 2) -> bytes:
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=(612, 792))
    for number in range(1, pages + 1):
        drawing.drawString(72, 700, f"Contract page {number}: the parties agree.")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def _saved(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _hostile_pdf() -> bytes:
    pdf = pikepdf.open(io.BytesIO(_plain_pdf()))
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("app.alert('hi')")))
    embedded = Dictionary(
        Type=Name.Filespec, F="payload.exe", EF=Dictionary(F=pikepdf.Stream(pdf, PAYLOAD))
    )
    attached = Dictionary(
        Type=Name.Filespec, F="notes.txt", EF=Dictionary(F=pikepdf.Stream(pdf, ATTACHED))
    )
    first, second = pdf.pages[0], pdf.pages[1]
    root = pdf.Root
    root.OpenAction = script
    root.AA = Dictionary(WC=script)
    root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), script])),
        EmbeddedFiles=Dictionary(Names=Array([String("payload.exe"), embedded])),
    )
    field = pdf.make_indirect(
        Dictionary(FT=Name.Tx, T="total", AA=Dictionary(K=script, C=script), V="1")
    )
    root.AcroForm = Dictionary(Fields=Array([field]), XFA=pikepdf.Stream(pdf, b"<xdp/>"))
    bookmark = pdf.make_indirect(Dictionary(Title="Chapter 1", A=script))
    root.Outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, First=bookmark, Last=bookmark))
    bookmark.Parent = root.Outlines
    first.obj.AA = Dictionary(O=script)

    def link(action: Dictionary, y: int) -> Dictionary:
        return Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[72, y, 300, y + 20], A=action)

    https = Dictionary(S=Name.URI, URI=String("https://example.org/"), Next=script)
    first.obj.Annots = pdf.make_indirect(
        Array(
            [
                link(Dictionary(S=Name.Launch, F=String("calc.exe")), 600),
                link(Dictionary(S=Name.URI, URI=String("javascript:alert(1)")), 570),
                link(Dictionary(S=Name.SubmitForm, F=String("https://evil.example/")), 540),
                link(Dictionary(S=Name.GoToR, F=String("other.pdf"), D=Array([0, Name.Fit])), 510),
                link(Dictionary(S=Name.GoTo, D=Array([second.obj, Name.Fit])), 480),
                link(https, 450),
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.FileAttachment,
                    Rect=[72, 400, 90, 418],
                    FS=attached,
                ),
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Widget,
                    Rect=[72, 300, 200, 320],
                    AA=Dictionary(Fo=script),
                    Parent=field,
                ),
            ]
        )
    )
    return _saved(pdf)


def _all_objects(data: bytes) -> list[pikepdf.Object]:
    pdf = pikepdf.open(io.BytesIO(data))
    return list(pdf.objects)


def _stream_payloads(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return b"".join(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream))


def test_active_content_is_stripped_and_content_kept() -> None:
    hostile = _hostile_pdf()
    assert PAYLOAD in _stream_payloads(hostile) and ATTACHED in _stream_payloads(hostile)
    clean = sanitize_pdf(hostile)

    actions = {
        str(obj.get("/S"))
        for obj in _all_objects(clean)
        if isinstance(obj, pikepdf.Dictionary) and "/S" in obj
    }
    assert not actions & UNSAFE, actions
    assert PAYLOAD not in _stream_payloads(clean)  # gone from the file, not just unlinked
    assert ATTACHED not in _stream_payloads(clean)
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        root = pdf.Root
        assert "/OpenAction" not in root and "/AA" not in root
        assert "/JavaScript" not in root.Names and "/EmbeddedFiles" not in root.Names
        assert "/XFA" not in root.AcroForm
        assert "/AA" not in root.AcroForm.Fields[0]
        assert "/A" not in root.Outlines.First and root.Outlines.First.Title == "Chapter 1"
        page = pdf.pages[0].obj
        assert "/AA" not in page
        annots = list(page.Annots)
        subtypes = [str(a.Subtype) for a in annots]
        assert "/FileAttachment" not in subtypes
        assert len(annots) == 7  # every link and the widget stay, unsafe actions removed
        kept = [str(a.A.S) for a in annots if "/A" in a]
        assert kept == ["/GoTo", "/URI"]
        https = next(a.A for a in annots if "/A" in a and a.A.S == Name.URI)
        assert str(https.URI) == "https://example.org/" and "/Next" not in https
        assert all("/AA" not in a for a in annots)
    assert pdf_texts(clean) == pdf_texts(hostile)


def test_a_plain_goto_open_action_and_destination_stay() -> None:
    pdf = pikepdf.open(io.BytesIO(_plain_pdf()))
    pdf.Root.OpenAction = Array([pdf.pages[1].obj, Name.Fit])
    clean = sanitize_pdf(_saved(pdf))
    with pikepdf.open(io.BytesIO(clean)) as result:
        assert len(result.Root.OpenAction) == 2
    pdf.Root.OpenAction = Dictionary(S=Name.GoTo, D=Array([pdf.pages[1].obj, Name.Fit]))
    with pikepdf.open(io.BytesIO(sanitize_pdf(_saved(pdf)))) as result:
        assert str(result.Root.OpenAction.S) == "/GoTo"


def test_cyclic_action_chains_and_outlines_terminate() -> None:
    pdf = pikepdf.open(io.BytesIO(_plain_pdf()))
    action = pdf.make_indirect(Dictionary(S=Name.URI, URI=String("https://example.org/")))
    action.Next = action
    bookmark = pdf.make_indirect(Dictionary(Title="Loop", A=action))
    bookmark.Next = bookmark
    bookmark.First = bookmark
    pdf.Root.Outlines = Dictionary(First=bookmark)
    clean = sanitize_pdf(_saved(pdf))
    with pikepdf.open(io.BytesIO(clean)) as result:
        assert "/Next" not in result.Root.Outlines.First.A


@pytest.mark.parametrize("user_password", ["", "secret"])
def test_encrypted_pdf_is_refused(user_password: str) -> None:
    pdf = pikepdf.open(io.BytesIO(_plain_pdf()))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user=user_password))
    with pytest.raises(FileRefused, match="the PDF is encrypted"):
        sanitize_pdf(out.getvalue())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image, not a PDF"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\nnothing else here at all\n", "damaged"),
    ],
    ids=["empty", "png", "garbage"],
)
def test_not_a_usable_pdf(data: bytes, reason: str) -> None:
    with pytest.raises(FileRefused, match=reason):
        sanitize_pdf(data)


def _active(data: bytes) -> bool:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return has_active_content(pdf)


def _with_link(action: Dictionary) -> bytes:
    with pikepdf.open(io.BytesIO(_plain_pdf(1))) as pdf:
        link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 10, 10]), A=action)
        pdf.pages[0].obj.Annots = Array([pdf.make_indirect(link)])
        return _saved(pdf)


def test_active_content_is_detected_where_sanitizing_would_remove_something() -> None:
    assert _active(_hostile_pdf())
    assert _active(sanitize_pdf(_hostile_pdf())) is False
    assert _active(_plain_pdf()) is False
    web = Dictionary(S=Name.URI, URI=String("https://example.com"))
    assert _active(_with_link(web)) is False  # an ordinary hyperlink is kept as it is
    launch = Dictionary(S=Name.Launch, F=String("calc.exe"))
    assert _active(_with_link(launch))
    script = Dictionary(S=Name.URI, URI=String("javascript:alert(1)"))
    assert _active(_with_link(script))
