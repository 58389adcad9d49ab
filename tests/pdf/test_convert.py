"""Office and image conversion through a warm LibreOffice, and hostile input.

One converter is shared by the module (LibreOffice starts once, ≈1.3 s) and closed at the end.
Office-dependent tests skip when LibreOffice is missing, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import signal
import struct
import subprocess
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from esign.domain.ports import FileRefused
from esign.pdf import convert
from esign.pdf.convert import _START_ATTEMPTS, OfficeConverter, office_available
from esign.pdf.images import check_image, images_to_pdf
from esign.pdf.office_bridge import bridge_source
from esign.pdf.office_files import check_office_file
from tests.pdf.office_samples import (
    REL_BASE,
    docx,
    encrypted_docx,
    macro_odt,
    odt,
    para,
    pdf_texts,
    require_office,
    rtf,
    run,
    sample_docx,
    xlsx,
    zip_bomb_docx,
)


@pytest.fixture(scope="module")
def converter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfficeConverter]:
    require_office()
    shared = OfficeConverter(tmp_path_factory.mktemp("office"))
    yield shared
    group = shared.pid
    shared.close()
    if group is not None:
        assert not _group_alive(group), "soffice survived close()"


def _group_alive(group: int) -> bool:
    """Whether a process of the group still runs (zombies left to an init that does not reap
    them do not count)."""
    return bool(_members(group))


def _pages(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def _fonts(pdf: bytes) -> set[str]:
    names: set[str] = set()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            fonts = page.Resources.get("/Font")
            if isinstance(fonts, pikepdf.Dictionary):
                names |= {str(font.get("/BaseFont", "")) for font in fonts.values()}
    return names


# ---- office formats


def test_docx_with_table_in_calibri(converter: OfficeConverter) -> None:
    pdf = converter.to_pdf(sample_docx(pages=3), ".docx")
    texts = pdf_texts(pdf)
    assert len(texts) == 3
    assert "Purchase agreement page 3" in texts[2]
    assert "Widget" in texts[0] and "144.00" in texts[0]  # the table
    # Calibri is rendered with its metric-compatible substitute, so the layout matches Word.
    assert any("Carlito" in name for name in _fonts(pdf)), _fonts(pdf)


@pytest.mark.parametrize(
    ("extension", "data", "expected"),
    [
        (".odt", odt("<text:p>Hello from ODF</text:p>"), ["Hello from ODF"]),
        (".rtf", rtf(["Hello from RTF", "Second line"]), ["Hello from RTF", "Second line"]),
        (".txt", "Grüße aus UTF-8\nZeile zwei\n".encode(), ["Grüße aus UTF-8", "Zeile zwei"]),
        (".txt", "Windows text: Grüße".encode("cp1252"), ["Windows text: Grüße"]),
        (".txt", "Notepad Unicode: Grüße".encode("utf-16"), ["Notepad Unicode: Grüße"]),
        (".xlsx", xlsx([["Item", "Price"], ["Widget", 12.5]]), ["Item", "Widget", "12.5"]),
    ],
    ids=["odt", "rtf", "txt-utf8", "txt-cp1252", "txt-utf16", "xlsx"],
)
def test_formats(
    converter: OfficeConverter, extension: str, data: bytes, expected: list[str]
) -> None:
    pdf = converter.to_pdf(data, extension)
    texts = pdf_texts(pdf)
    assert len(texts) == 1
    for text in expected:
        assert text in texts[0]


def test_text_gets_letter_paper_unless_a4_is_asked_for(
    converter: OfficeConverter, tmp_path: Path
) -> None:
    assert _mediabox(converter.to_pdf(b"Letter paper", ".txt")) == pytest.approx(
        [0, 0, 612, 792], abs=0.5
    )
    with OfficeConverter(tmp_path, paper="a4") as a4:
        assert _mediabox(a4.to_pdf(b"A4 paper", ".txt")) == pytest.approx(
            [0, 0, 595.3, 841.9], abs=0.5
        )


def test_threads_share_one_converter(converter: OfficeConverter) -> None:
    results: dict[int, bytes] = {}

    def convert_one(number: int) -> None:
        results[number] = converter.to_pdf(docx(para(f"Thread document {number}")), ".docx")

    threads = [threading.Thread(target=convert_one, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number in range(3):
        assert f"Thread document {number}" in pdf_texts(results[number])[0]


# ---- images (no LibreOffice)


def _image_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _mediabox(pdf: bytes, index: int = 0) -> list[float]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return [float(v) for v in document.pages[index].mediabox]


def test_png_page_is_the_image_at_its_dpi() -> None:
    data = _image_bytes(Image.new("RGBA", (300, 150), (255, 0, 0, 128)), "PNG", dpi=(150, 150))
    pdf = images_to_pdf(data, ".png")
    assert _pages(pdf) == 1
    assert _mediabox(pdf) == pytest.approx([0, 0, 144, 72], abs=0.01)  # 300 px / 150 dpi = 2 in


def test_jpeg_without_dpi_fits_letter_and_keeps_the_aspect_ratio() -> None:
    data = _image_bytes(Image.new("RGB", (1600, 1000), "navy"), "JPEG")
    pdf = images_to_pdf(data, ".jpg")
    assert _mediabox(pdf) == pytest.approx([0, 0, 792, 612])  # wide image: landscape Letter
    with pikepdf.open(io.BytesIO(pdf)) as document:
        image = document.pages[0].Resources.XObject.Im0
        assert image.Filter == pikepdf.Name.DCTDecode  # the JPEG passed through as it was
        content = document.pages[0].Contents.read_bytes().split()
    width, height = float(content[1]), float(content[4])
    assert width / height == pytest.approx(1.6, abs=0.001)


def test_multi_frame_tiff_gives_a_page_per_frame() -> None:
    frames = [Image.new("1", (850, 1100), 1), Image.new("L", (850, 1100), 128)]
    frames.append(Image.new("RGB", (1100, 850), "white"))
    data = _image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:], dpi=(100, 100))
    pdf = images_to_pdf(data, ".tif")
    assert _pages(pdf) == 3
    assert _mediabox(pdf, 2) == pytest.approx([0, 0, 792, 612])  # 1100 px at 100 dpi


def test_image_converter_checks_the_content() -> None:
    jpeg = _image_bytes(Image.new("RGB", (10, 10)), "JPEG")
    with pytest.raises(FileRefused, match="JPEG image, not a PNG"):
        images_to_pdf(jpeg, ".png")
    with pytest.raises(FileRefused, match="not a PNG image"):
        images_to_pdf(b"%PDF-1.7 not an image", ".png")
    with pytest.raises(FileRefused, match="empty"):
        images_to_pdf(b"", ".jpg")


def test_to_pdf_hands_images_to_the_image_converter(tmp_path: Path) -> None:
    # No LibreOffice needed, even with a converter pointing at a missing one.
    missing = OfficeConverter(tmp_path, soffice="/nonexistent/soffice")
    data = _image_bytes(Image.new("RGB", (200, 100), "green"), "PNG")
    assert _pages(missing.to_pdf(data, "scan.PNG")) == 1


# ---- failure handling


def test_missing_libreoffice_says_what_to_install(tmp_path: Path) -> None:
    missing = OfficeConverter(tmp_path, soffice="/nonexistent/soffice")
    assert not missing.available()
    assert not office_available("/nonexistent/soffice")
    with pytest.raises(FileRefused) as refused:
        missing.to_pdf(sample_docx(), ".docx")
    assert "scripts/install-office.sh" in refused.value.reason
    assert "libreoffice-writer-nogui" in refused.value.reason


_HUNG_BRIDGE = """#!/bin/sh
# Stands in for /usr/bin/python3: passes the `import uno` probe, then acts as a bridge that
# answers the handshake, forks a child (like soffice) and never answers a conversion.
case "$*" in *"import uno"*) exit 0;; esac
sleep 600 &
echo $$ $! >> "{pids}"
echo '{{"ok": true}}'
exec sleep 600
"""


def test_hung_converter_is_killed_restarted_and_reported(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    fake = tmp_path / "fake-python"
    fake.write_text(_HUNG_BRIDGE.format(pids=pids))
    fake.chmod(0o755)
    hung = OfficeConverter(
        tmp_path / "work",
        soffice="/bin/true",
        python=str(fake),
        timeout=0.5,
        isolate_network=False,
    )
    started = time.monotonic()
    with pytest.raises(FileRefused, match=r"took longer than 0\.5 seconds"):
        hung.to_pdf(docx(para("never converted")), ".docx")
    elapsed = time.monotonic() - started
    hung.close()
    assert elapsed < 3.0  # two attempts of 0.5 s each, plus two fake starts
    started_pids = [int(pid) for pid in pids.read_text().split()]
    assert len(started_pids) == 4  # restarted once: two bridges, each with a child
    for pid in started_pids:
        assert _state(pid) in ("gone", "Z"), f"{pid} survived"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "gone"


def test_soffice_that_never_opens_its_pipe(tmp_path: Path) -> None:
    require_office()
    fake = tmp_path / "fake-soffice"
    pids = tmp_path / "pids"
    fake.write_text(f'#!/bin/sh\nsleep 600 &\necho $$ $! >> "{pids}"\nexec sleep 600\n')
    fake.chmod(0o755)
    stuck = OfficeConverter(tmp_path / "work", soffice=str(fake), start_timeout=0.5)
    with pytest.raises(FileRefused, match="could not start"):
        stuck.to_pdf(docx(para("x")), ".docx")
    stuck.close()
    started = [int(pid) for pid in pids.read_text().split()]
    # Each start launches two processes; three starts (fresh profile each time), then it gives up.
    assert len(started) == 2 * _START_ATTEMPTS
    for pid in started:
        assert _state(pid) in ("gone", "Z"), f"{pid} survived"


def test_a_conversion_over_the_timeout_is_killed_then_the_converter_recovers(
    converter: OfficeConverter,
) -> None:
    converter.to_pdf(docx(para("warm")), ".docx")
    group = converter.pid
    assert group is not None
    converter.timeout = 0.001
    try:
        with pytest.raises(FileRefused, match="took longer than"):
            converter.to_pdf(sample_docx(pages=2), ".docx")
    finally:
        converter.timeout = 60.0
    assert not _group_alive(group)
    assert "recovered" in pdf_texts(converter.to_pdf(docx(para("recovered")), ".docx"))[0]


def test_close_leaves_no_process_and_no_socket(tmp_path: Path) -> None:
    require_office()
    own = OfficeConverter(tmp_path)
    own.to_pdf(docx(para("one")), ".docx")
    group = own.pid
    assert group is not None
    soffice_bin = _members(group, "soffice.bin")
    assert soffice_bin, "soffice.bin is not in the converter's process group"
    if convert._network_isolation():
        # LibreOffice has a network namespace of its own: nothing to reach, not even loopback.
        assert os.readlink(f"/proc/{soffice_bin[0]}/ns/net") != os.readlink("/proc/self/ns/net")
    pipe = own._slot.pipe if own._slot else ""
    assert pipe
    own.close()
    assert not _group_alive(group)
    assert not list(Path("/tmp").glob(f"OSL_PIPE_*_{pipe}"))


def _members(group: int, name: str | None = None) -> list[int]:
    """Live (not zombie) processes of a process group, optionally only those called `name`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm, _, rest = text.partition("(")[2].rpartition(")")
        fields = rest.split()
        if int(fields[2]) == group and fields[0] != "Z" and name in (None, comm):
            found.append(int(stat.parent.name))
    return found


def _convert_in_child(queue: object) -> None:
    converter = _inherited
    assert converter is not None
    pdf = converter.to_pdf(docx(para("from the child")), ".docx")
    queue.put((pdf_texts(pdf)[0], converter.pid))  # type: ignore[attr-defined]
    converter.close()


_inherited: OfficeConverter | None = None


def test_forked_worker_gets_its_own_soffice(converter: OfficeConverter) -> None:
    import multiprocessing

    global _inherited
    converter.to_pdf(docx(para("parent")), ".docx")
    parent_group = converter.pid
    assert parent_group is not None
    _inherited = converter
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_convert_in_child, args=(queue,))
    child.start()
    text, child_group = queue.get(timeout=60)
    child.join(30)
    _inherited = None
    assert "from the child" in text
    assert child_group != parent_group
    assert converter.pid == parent_group and _group_alive(parent_group)  # untouched by the child
    assert "parent again" in pdf_texts(converter.to_pdf(docx(para("parent again")), ".docx"))[0]


# ---- hostile files


def test_zip_bomb_is_refused_from_the_directory() -> None:
    bomb = zip_bomb_docx(300)
    assert len(bomb) < 400_000
    started = time.monotonic()
    with pytest.raises(FileRefused, match="expands to 300 MB"):
        check_office_file(bomb, ".docx")
    assert time.monotonic() - started < 1.0  # nothing was inflated


def test_zip_bomb_under_the_size_limit_is_refused_by_its_ratio() -> None:
    with pytest.raises(FileRefused, match="zip bomb"):
        check_office_file(zip_bomb_docx(150), ".docx")


def test_zip_bomb_that_lies_about_its_size_is_refused() -> None:
    # The directory says 1 KB; inflating stops there and the checksum gives it away.
    with pytest.raises(FileRefused, match="damaged"):
        check_office_file(zip_bomb_docx(300, declared=1000), ".docx")


def test_too_many_parts() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(10_001):
            archive.writestr(f"p{number}", b"")
    with pytest.raises(FileRefused, match="10,001 parts"):
        check_office_file(buffer.getvalue(), ".docx")


def test_xml_entity_bomb_is_refused() -> None:
    laughs = '<!DOCTYPE w:document [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    data = docx(para("&b;"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename == "word/document.xml":
                payload = payload.replace(b"?>", b"?>" + laughs.encode(), 1)
            target.writestr(info, payload)
    with pytest.raises(FileRefused, match="XML entities"):
        check_office_file(buffer.getvalue(), ".docx")


def test_vba_macros_are_removed(converter: OfficeConverter) -> None:
    macro_main = "application/vnd.ms-word.document.macroEnabled.main+xml"
    data = docx(
        para("Document with macros"),
        parts={
            "word/vbaProject.bin": b"\xd0\xcf\x11\xe0 fake VBA project",
            "word/_rels/vbaProject.bin.rels": b"<Relationships/>",
            "word/vbaData.xml": b"<wne:vbaSuppData/>",
        },
        rels=[
            '<Relationship Id="rIdV" Type="http://schemas.microsoft.com/office/2006/'
            'relationships/vbaProject" Target="vbaProject.bin"/>'
        ],
        overrides={
            "/word/vbaProject.bin": "application/vnd.ms-office.vbaProject",
            "/word/vbaData.xml": "application/vnd.ms-word.vbaData+xml",
        },
        main_type=macro_main,
    )
    clean = check_office_file(data, ".docx")
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        names = archive.namelist()
        rels = archive.read("word/_rels/document.xml.rels").decode()
        types = archive.read("[Content_Types].xml").decode()
    assert not {"word/vbaProject.bin", "word/vbaData.xml", "word/_rels/vbaProject.bin.rels"} & set(
        names
    )
    assert "vbaProject" not in rels and "vba" not in types.lower()
    assert "macroEnabled" not in types and "wordprocessingml.document.main+xml" in types
    assert "Document with macros" in pdf_texts(converter.to_pdf(data, ".docx"))[0]


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request LibreOffice might make."""
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


_PICTURE_NS = (
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
)


def _linked_picture_docx(url: str) -> bytes:
    drawing = (
        f'<w:p><w:r><w:drawing><wp:inline {_PICTURE_NS}><wp:extent cx="952500" cy="952500"/>'
        '<wp:docPr id="1" name="Picture 1"/><a:graphic><a:graphicData '
        'uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr>'
        '<pic:cNvPr id="1" name="x.png"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill>'
        '<a:blip r:link="rIdImg"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr>'
        '<a:xfrm><a:off x="0" y="0"/><a:ext cx="952500" cy="952500"/></a:xfrm>'
        '<a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic>'
        "</wp:inline></w:drawing></w:r></w:p>"
    )
    rels = [
        f'<Relationship Id="rIdImg" Type="{REL_BASE}/image" Target="{url}/linked.png" '
        'TargetMode="External"/>',
        f'<Relationship Id="rIdL" Type="{REL_BASE}/hyperlink" Target="https://example.org/" '
        'TargetMode="External"/>',
    ]
    return docx(para("A linked picture follows") + drawing, rels=rels)


def test_external_links_are_removed_and_never_fetched(
    converter: OfficeConverter, web: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, hits = web
    data = _linked_picture_docx(url)
    clean = check_office_file(data, ".docx")
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        rels = archive.read("word/_rels/document.xml.rels").decode()
    assert url not in rels
    assert "https://example.org/" in rels  # a hyperlink is only clicked, never loaded: kept
    assert "A linked picture" in pdf_texts(converter.to_pdf(data, ".docx"))[0]
    # Even unsanitised, the warm converter loads it without fetching (links never updated).
    with converter._lock:
        converter._convert_with_retry(data, ".docx")
    assert hits == []
    # Control: a plain `soffice --convert-to` does fetch it, so the server would have seen it.
    (tmp_path / "linked.docx").write_bytes(data)
    _cold_soffice(tmp_path / "linked.docx", "pdf", tmp_path)
    assert hits, "control failed: plain soffice did not fetch the linked picture"


def test_odt_macros_are_removed_and_never_run(converter: OfficeConverter, tmp_path: Path) -> None:
    marker = tmp_path / "macro-ran"
    data = macro_odt(str(marker))
    clean = check_office_file(data, ".odt")
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        assert not [name for name in archive.namelist() if name.startswith("Basic/")]
        assert b"event-listener" not in archive.read("content.xml")
    assert "with a macro" in pdf_texts(converter.to_pdf(data, ".odt"))[0]
    with converter._lock:  # unsanitised, straight into LibreOffice
        converter._convert_with_retry(data, ".odt")
    assert not marker.exists()
    # Control: the same file run by LibreOffice with macros allowed does write the marker.
    _run_macro_control(data, tmp_path)
    assert marker.exists(), "control failed: the macro did not run even when allowed"


_MACRO_CONTROL = """
import sys, time, subprocess, uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
soffice, profile, document = sys.argv[1:4]
pipe = "esign-macro-control-" + str(time.time_ns())
office = subprocess.Popen([soffice, "--headless", "--norestore", "--nolockcheck",
    "-env:UserInstallation=" + profile, "--accept=pipe,name=" + pipe + ";urp;"])
local = uno.getComponentContext()
manager = local.ServiceManager
resolver = manager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
for _ in range(600):
    try:
        context = resolver.resolve("uno:pipe,name=" + pipe + ";urp;StarOffice.ComponentContext")
        break
    except NoConnectException:
        time.sleep(0.1)
desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
def prop(name, value):
    item = PropertyValue(); item.Name = name; item.Value = value; return item
# ALWAYS_EXECUTE_NO_WARN and a visible frame: what our converter never does.
loaded = desktop.loadComponentFromURL(document, "_blank", 0, (prop("MacroExecutionMode", 4),))
time.sleep(1.0)
loaded.close(True)
desktop.terminate()
office.wait(30)
"""


def _run_macro_control(data: bytes, tmp_path: Path) -> None:
    document = tmp_path / "macro.odt"
    document.write_bytes(data)
    _run_group(
        [
            convert.SYSTEM_PYTHON,
            "-c",
            _MACRO_CONTROL,
            convert.find_soffice() or "soffice",
            (tmp_path / "control-profile").as_uri(),
            document.as_uri(),
        ]
    )


def _run_group(command: list[str], timeout: float = 120) -> None:
    """Run a command in a process group of its own, and kill what is left of the group."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        process.wait(timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _cold_soffice(source: Path, target: str, out: Path) -> Path:
    """`soffice --convert-to` with a fresh profile: a control and a producer of legacy files."""
    profile = out / f"profile-{source.stem}-{target.split(':')[0]}"
    _run_group(
        [
            convert.find_soffice() or "soffice",
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(source),
        ]
    )
    return out / f"{source.stem}.{target.split(':')[0]}"


def test_legacy_doc_and_xls_written_by_libreoffice(
    converter: OfficeConverter, tmp_path: Path
) -> None:
    # Word 97 and Excel 97 files, from LibreOffice as the producer (cold, ≈1.3 s each).
    (tmp_path / "letter.odt").write_bytes(odt("<text:p>Legacy Word text</text:p>"))
    (tmp_path / "sheet.xlsx").write_bytes(xlsx([["Legacy", "Excel"], ["total", 42]]))
    doc = _cold_soffice(tmp_path / "letter.odt", "doc:MS Word 97", tmp_path).read_bytes()
    xls = _cold_soffice(tmp_path / "sheet.xlsx", "xls:MS Excel 97", tmp_path).read_bytes()
    assert "Legacy Word text" in pdf_texts(converter.to_pdf(doc, ".doc"))[0]
    text = pdf_texts(converter.to_pdf(xls, ".xls"))[0]
    assert "Legacy" in text and "42" in text


@pytest.mark.parametrize(
    ("extension", "data", "reason"),
    [
        (".docx", encrypted_docx(), "password-protected"),
        (".docx", sample_docx()[:1500], "damaged"),
        (".docx", _image_bytes(Image.new("RGB", (8, 8)), "PNG"), "PNG image, not a Word"),
        (".docx", b"", "empty"),
        (".docx", xlsx([["a"]]), r"an Excel workbook \(\.xlsx\), not a Word document"),
        (".xlsx", sample_docx(), r"a Word document \(\.docx\), not an Excel workbook"),
        (".doc", sample_docx(), "zip archive, not a Word 97-2003"),
        (".doc", encrypted_docx(), "password-protected"),
        (".xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "not an Excel 97-2003"),
        (".rtf", b"Just text", "not an RTF"),
        (".txt", b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image, not a text file"),
        (".odt", sample_docx(), "not an OpenDocument"),
        (".pages", b"whatever", "not accepted"),
    ],
    ids=[
        "encrypted-docx",
        "truncated-docx",
        "png-named-docx",
        "empty",
        "xlsx-named-docx",
        "docx-named-xlsx",
        "docx-named-doc",
        "encrypted-doc",
        "ole-without-workbook",
        "text-named-rtf",
        "png-named-txt",
        "docx-named-odt",
        "unknown-extension",
    ],
)
def test_refused(extension: str, data: bytes, reason: str, tmp_path: Path) -> None:
    # Refused before LibreOffice is involved: this converter does not even have one.
    checker = OfficeConverter(tmp_path, soffice="/nonexistent/soffice")
    with pytest.raises(FileRefused, match=reason):
        checker.to_pdf(data, extension)


def test_docx_libreoffice_cannot_read(converter: OfficeConverter) -> None:
    # Structurally a .docx, but its main part is not WordprocessingML at all.
    data = docx("")
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename == "word/document.xml":
                payload = b"\x00\x01garbage"
            target.writestr(info, payload)
    with pytest.raises(FileRefused, match="could not"):
        converter.to_pdf(buffer.getvalue(), ".docx")
    assert "still fine" in pdf_texts(converter.to_pdf(docx(para(run("still fine"))), ".docx"))[0]


def test_bridge_source_compiles_on_the_system_python() -> None:
    # The bridge ships as the source of one function, run by Debian's Python, not the venv's.
    if not Path(convert.SYSTEM_PYTHON).exists():
        pytest.skip("no system Python")
    check = "import sys; compile(sys.stdin.read(), 'bridge.py', 'exec')"
    done = subprocess.run(
        [convert.SYSTEM_PYTHON, "-I", "-c", check],
        input=bridge_source().encode(),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only declares its size: enough for Image.open, nothing to decode."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + end


@pytest.mark.parametrize("side", [12_000, 40_000])
def test_image_too_large_to_decode_is_refused(side: int) -> None:
    # 144 Mpx passes Pillow's own guard and stops at ours; 1.6 Gpx stops at Pillow's.
    with pytest.raises(FileRefused, match="too large"):
        images_to_pdf(_png_header(side, side), ".png")


def test_truncated_png_is_damaged() -> None:
    data = _image_bytes(Image.new("RGB", (400, 400), "red"), "PNG")
    with pytest.raises(FileRefused, match="damaged"):
        images_to_pdf(data[: len(data) // 2], ".png")


def test_the_upload_check_refuses_what_conversion_refuses() -> None:
    frames = [Image.new("1", (850, 1100), 1), Image.new("L", (850, 1100), 128)]
    tiff = _image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    check_image(tiff, ".tif")  # headers only: nothing decoded, nothing refused
    check_image(_image_bytes(Image.new("RGB", (10, 10)), "JPEG"), ".jpg")
    png = _image_bytes(Image.new("RGB", (400, 400), "red"), "PNG")
    refused = [
        (png[: len(png) // 2], ".png", "damaged"),
        (_png_header(12_000, 12_000), ".png", "too large"),
        (_image_bytes(Image.new("RGB", (10, 10)), "JPEG"), ".png", "JPEG image, not a PNG"),
        (b"", ".jpg", "empty"),
        (tiff, ".tif", "2 pages; the limit is 1"),
    ]
    for data, ext, reason in refused:
        limit = 1 if reason.startswith("2 pages") else 500
        with pytest.raises(FileRefused, match=reason):
            check_image(data, ext, max_pages=limit)
        with pytest.raises(FileRefused, match=reason):
            images_to_pdf(data, ext, max_pages=limit)
