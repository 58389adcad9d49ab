"""Check an untrusted office file before LibreOffice sees it.

`check_office_file` checks the file by its content, not its name, refuses zip bombs and
password-protected files, and removes macros and external references from OOXML and ODF
packages so LibreOffice never runs or fetches anything. A refusal raises `FileRefused` with a
reason in words for the sender (the caller prefixes `Error: <File Name> did not upload.`).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from esign.domain.ports import FileRefused
from esign.pdf.file_kinds import OLE_MAGIC, ZIP_MAGIC, not_a

MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_ENTRIES = 10_000
# Below this total a high ratio is just a small, repetitive XML file, not a bomb.
_RATIO_FLOOR = 2 * 1024 * 1024


_KINDS = {
    ".docx": "word",
    ".xlsx": "excel",
    ".odt": "odt",
    ".doc": "doc",
    ".xls": "xls",
    ".rtf": "rtf",
    ".txt": "text",
}
_KIND_NAMES = {  # with their article, as they appear in reasons
    "word": "a Word document (.docx)",
    "excel": "an Excel workbook (.xlsx)",
    "odt": "an OpenDocument text (.odt)",
    "doc": "a Word 97-2003 document (.doc)",
    "xls": "an Excel 97-2003 workbook (.xls)",
    "rtf": "an RTF document",
    "text": "a text file",
}

_WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
# Main-part content types per kind, mapped to the macro-free type the part gets after cleaning.
_MAIN_TYPES = {
    "word": {
        _WORD_MAIN: _WORD_MAIN,
        "application/vnd.ms-word.document.macroenabled.main+xml": _WORD_MAIN,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": (
            _WORD_MAIN
        ),
        "application/vnd.ms-word.template.macroenabledtemplate.main+xml": _WORD_MAIN,
    },
    "excel": {
        _EXCEL_MAIN: _EXCEL_MAIN,
        "application/vnd.ms-excel.sheet.macroenabled.main+xml": _EXCEL_MAIN,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": (
            _EXCEL_MAIN
        ),
        "application/vnd.ms-excel.template.macroenabled.main+xml": _EXCEL_MAIN,
    },
}
# VBA projects, their signatures and the parts that only serve them (lower case).
_MACRO_TYPES = frozenset(
    {
        "application/vnd.ms-office.vbaproject",
        "application/vnd.ms-office.vbaprojectsignature",
        "application/vnd.ms-office.vbaprojectsignatureagile",
        "application/vnd.ms-office.vbaprojectsignaturev3",
        "application/vnd.ms-word.vbadata+xml",
        "application/vnd.ms-word.keymapcustomizations+xml",
        "application/vnd.ms-word.attachedtoolbars",
        "application/vnd.ms-excel.macrosheet+xml",
        "application/vnd.ms-excel.intlmacrosheet+xml",
    }
)
_MACRO_REL_SUFFIXES = (
    "/vbaproject",
    "/vbaprojectsignature",
    "/vbaprojectsignatureagile",
    "/vbaprojectsignaturev3",
    "/wordvbadata",
    "/keymapcustomizations",
    "/attachedtoolbars",
)
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_ODF_MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
_ODF_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_ODF_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ODF_DRAW_NS = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_ODF_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
# ODF elements whose xlink:href is a hyperlink the reader clicks, not something loaded.
_ODF_NAVIGATION = frozenset({f"{{{_ODF_TEXT_NS}}}a", f"{{{_ODF_DRAW_NS}}}a"})
# ODF elements that only pull content in from elsewhere: removed whole when external.
_ODF_SOURCES = frozenset({f"{{{_ODF_TEXT_NS}}}section-source", f"{{{_ODF_TABLE_NS}}}table-source"})
_XML_SUFFIXES = (".xml", ".rels", ".vml")
# What zipfile raises on a damaged archive (zlib.error: a corrupt deflate stream).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError)
_EXTERNAL_HREF = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/|\\|\.\./)")


def check_office_file(data: bytes, extension: str) -> bytes:
    """The file, cleaned, if its content is the office format its extension names.

    OOXML and ODF packages come back repacked without macros or external references; legacy
    OLE files (.doc, .xls) and RTF are checked by their magic and returned as they are; text
    comes back as UTF-8.
    """
    ext = extension.lower() if extension.startswith(".") else "." + extension.lower()
    kind = _KINDS.get(ext)
    if kind is None:
        raise FileRefused(f"files of type {ext} are not accepted")
    if not data:
        raise FileRefused("the file is empty")
    if kind in ("word", "excel", "odt"):
        return _check_package(data, kind)
    if kind in ("doc", "xls"):
        return _check_ole(data, kind)
    if kind == "rtf":
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"{\\rtf":
            raise FileRefused(not_a(_KIND_NAMES[kind], data))
        return data
    return _check_text(data)


def _check_ole(data: bytes, kind: str) -> bytes:
    if not data.startswith(OLE_MAGIC):
        raise FileRefused(not_a(_KIND_NAMES[kind], data))
    if _utf16("EncryptedPackage") in data:
        raise FileRefused("the document is password-protected")
    # An OLE file names its streams in UTF-16 in its directory: Word keeps its text in
    # "WordDocument", Excel its sheets in "Workbook" (BIFF8) or "Book" (BIFF5).
    wanted = ["WordDocument"] if kind == "doc" else ["Workbook", "Book"]
    if not any(_utf16(name) in data for name in wanted):
        raise FileRefused(f"the file is not {_KIND_NAMES[kind]}")
    return data


# Text runs to about 4 KB a page: a text file over this would pass the 500-page limit once
# converted, and a huge one holds the (one, shared) converter for minutes before failing.
MAX_TEXT_BYTES = 4 * 1024 * 1024


def _check_text(data: bytes) -> bytes:
    if len(data) > MAX_TEXT_BYTES:
        raise FileRefused(f"the text file is over {MAX_TEXT_BYTES // (1024 * 1024)} MB")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise FileRefused("the text file is not valid UTF-16") from None
    elif b"\x00" in data[:65536]:
        raise FileRefused(not_a("a text file", data))
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Windows' ANSI code page is what a text file that is not UTF-8 most likely is.
            text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise FileRefused("the text file is empty")
    return text.encode("utf-8")


@dataclass
class _Package:
    """An opened OOXML/ODF zip: its entries in order, and the edits to make when repacking."""

    archive: zipfile.ZipFile
    entries: list[zipfile.ZipInfo]
    by_name: dict[str, zipfile.ZipInfo]  # lower-case name → entry (OPC names ignore case)
    removed: set[str] = field(default_factory=set)  # lower-case names
    replaced: dict[str, bytes] = field(default_factory=dict)  # lower-case name → new bytes

    def read(self, name: str) -> bytes:
        info = self.by_name[name.lower()]
        try:
            # zipfile stops at the declared size and checks the CRC, so a lying header cannot
            # make this inflate more than the limits checked in _open_package allowed.
            return self.archive.read(info)
        except _ZIP_ERRORS:
            raise FileRefused("the file is damaged") from None
        except (NotImplementedError, RuntimeError):
            raise FileRefused("the file uses an unsupported compression or encryption") from None

    def has(self, name: str) -> bool:
        return name.lower() in self.by_name


def _check_package(data: bytes, kind: str) -> bytes:
    if data.startswith(OLE_MAGIC):
        if _utf16("EncryptedPackage") in data:
            raise FileRefused("the document is password-protected")
        raise FileRefused(f"the file is an older Office file, not {_KIND_NAMES[kind]}")
    if not data.startswith(ZIP_MAGIC):
        raise FileRefused(not_a(_KIND_NAMES[kind], data))
    package = _open_package(data)
    with package.archive:
        if kind == "odt":
            _clean_odf(package)
        else:
            _clean_ooxml(package, kind)
        return _repack(package)


def _open_package(data: bytes) -> _Package:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        raise FileRefused("the file is damaged (not a complete zip package)") from None
    except NotImplementedError:  # e.g. a zip version or feature zipfile does not know
        raise FileRefused("the file uses an unsupported zip format") from None
    entries = archive.infolist()  # the central directory only: nothing is inflated here
    _check_limits(entries)
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in entries:
        key = info.filename.lower()
        if key in by_name:
            # Two parts with one name: readers disagree on which one counts, which hides content.
            raise FileRefused("the file is damaged (a part appears twice)")
        if info.flag_bits & 0x1:
            raise FileRefused("the document is password-protected")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefused("the file uses an unsupported compression")
        by_name[key] = info
    return _Package(archive, entries, by_name)


def _check_limits(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ENTRIES:
        raise FileRefused(f"the document has {len(entries):,} parts; the limit is {MAX_ENTRIES:,}")
    total = sum(info.file_size for info in entries)
    packed = sum(info.compress_size for info in entries)
    if total > MAX_UNCOMPRESSED:
        raise FileRefused(
            f"the document expands to {total / 2**20:,.0f} MB; "
            f"the limit is {MAX_UNCOMPRESSED / 2**20:,.0f} MB"
        )
    if total > _RATIO_FLOOR and total > MAX_RATIO * max(packed, 1):
        raise FileRefused(
            f"the document is compressed {total // max(packed, 1):,} to 1, "
            f"which only a zip bomb does (the limit is {MAX_RATIO} to 1)"
        )


def _repack(package: _Package) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in package.entries:
            key = info.filename.lower()
            if key in package.removed or info.is_dir():
                continue
            payload = package.replaced.get(key)
            if payload is None:
                payload = package.read(info.filename)
            if key.endswith(_XML_SUFFIXES) and b"<!ENTITY" in payload:
                # Office XML never declares entities; a "billion laughs" part does, to make the
                # converter's parser expand it without end.
                raise FileRefused("the document declares XML entities, which Office files never do")
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            # ODF wants its `mimetype` stored; keep every entry's method as the producer chose.
            entry.compress_type = info.compress_type
            target.writestr(entry, payload)
    return out.getvalue()


# ---- OOXML


def _clean_ooxml(package: _Package, kind: str) -> None:
    if not package.has("[Content_Types].xml"):
        raise FileRefused(f"the file is not {_KIND_NAMES[kind]}")
    types = _parse(package, "[Content_Types].xml")
    overrides = {
        str(el.get("PartName", "")).lstrip("/").lower(): el
        for el in types.iter(f"{{{_CT_NS}}}Override")
    }
    _check_main_type(overrides, kind)
    for name, el in overrides.items():
        if str(el.get("ContentType", "")).lower() in _MACRO_TYPES:
            package.removed.add(name)
    for name in list(package.by_name):
        if posixpath.basename(name).startswith("vbaproject"):  # whatever its declared type
            package.removed.add(name)
    # A removed part's own relationships go with it.
    package.removed |= {_rels_of(name) for name in package.removed} & set(package.by_name)
    for name in list(package.by_name):
        if name.endswith(".rels") and name not in package.removed:
            _clean_rels(package, name)
    _clean_content_types(package, types, overrides, kind)


def _check_main_type(overrides: dict[str, etree._Element], kind: str) -> None:
    found = {str(el.get("ContentType", "")).lower() for el in overrides.values()}
    if found & _MAIN_TYPES[kind].keys():
        return
    for other, types in _MAIN_TYPES.items():
        if found & types.keys():
            raise FileRefused(f"the file is {_KIND_NAMES[other]}, not {_KIND_NAMES[kind]}")
    raise FileRefused(f"the file is not {_KIND_NAMES[kind]}")


def _clean_rels(package: _Package, name: str) -> None:
    """Drop relationships to removed parts, to macros, and to anything outside the package.

    External targets (linked images, OLE links, attached templates, subdocuments) are what
    LibreOffice would fetch; external hyperlinks stay, as they are only clicked, never loaded.
    """
    root = _parse(package, name)
    source_dir = posixpath.dirname(posixpath.dirname(name))  # word/_rels/x.rels → word
    changed = False
    for rel in list(root.iter(f"{{{_REL_NS}}}Relationship")):
        rel_type = str(rel.get("Type", "")).lower()
        target = str(rel.get("Target", ""))
        external = str(rel.get("TargetMode", "")).lower() == "external"
        if external:
            drop = not rel_type.endswith("/hyperlink")
        else:
            resolved = _resolve(source_dir, target)
            drop = resolved in package.removed or rel_type.endswith(_MACRO_REL_SUFFIXES)
        if drop:
            parent = rel.getparent()
            if parent is not None:
                parent.remove(rel)
                changed = True
    if changed:
        package.replaced[name] = _serialize(root)


def _clean_content_types(
    package: _Package, types: etree._Element, overrides: dict[str, etree._Element], kind: str
) -> None:
    for name, el in overrides.items():
        parent = el.getparent()
        content_type = str(el.get("ContentType", "")).lower()
        if name in package.removed and parent is not None:
            parent.remove(el)
        elif content_type in _MAIN_TYPES[kind]:
            # A .docm/.xlsm main part without its macros is an ordinary document.
            el.set("ContentType", _MAIN_TYPES[kind][content_type])
    for el in list(types.iter(f"{{{_CT_NS}}}Default")):
        parent = el.getparent()
        if str(el.get("ContentType", "")).lower() in _MACRO_TYPES and parent is not None:
            parent.remove(el)
    package.replaced["[content_types].xml"] = _serialize(types)


def _rels_of(name: str) -> str:
    head, tail = posixpath.split(name)
    return posixpath.join(head, "_rels", tail + ".rels")


def _resolve(source_dir: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/")).lower()
    return posixpath.normpath(posixpath.join(source_dir, target)).lower()


# ---- ODF


def _clean_odf(package: _Package) -> None:
    if not package.has("mimetype"):
        raise FileRefused(f"the file is not {_KIND_NAMES['odt']}")
    mimetype = package.read("mimetype").strip()
    if not mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        raise FileRefused(f"the file is not {_KIND_NAMES['odt']}")
    if package.has("META-INF/manifest.xml"):
        manifest = _parse(package, "META-INF/manifest.xml")
        if next(manifest.iter(f"{{{_ODF_MANIFEST_NS}}}encryption-data"), None) is not None:
            raise FileRefused("the document is password-protected")
    # Basic and scripting-framework macros live in these folders.
    package.removed |= {n for n in package.by_name if n.startswith(("basic/", "scripts/"))}
    if package.has("META-INF/manifest.xml"):
        _clean_manifest(package, manifest)
    for name in package.by_name:
        if posixpath.basename(name) in ("content.xml", "styles.xml"):
            _clean_odf_xml(package, name)


def _clean_manifest(package: _Package, manifest: etree._Element) -> None:
    path_attr = f"{{{_ODF_MANIFEST_NS}}}full-path"
    changed = False
    for entry in list(manifest.iter(f"{{{_ODF_MANIFEST_NS}}}file-entry")):
        path = str(entry.get(path_attr, "")).lower()
        parent = entry.getparent()
        if path.startswith(("basic/", "scripts/")) and parent is not None:
            parent.remove(entry)
            changed = True
    if changed:
        package.replaced["meta-inf/manifest.xml"] = _serialize(manifest)


def _clean_odf_xml(package: _Package, name: str) -> None:
    root = _parse(package, name)
    changed = False
    for el in list(root.iter(f"{{{_ODF_OFFICE_NS}}}event-listeners")):
        changed |= _remove(el)  # macros bound to document or control events
    for el in list(_with_href(root)):
        href = str(el.get(_XLINK_HREF, ""))
        if el.tag in _ODF_NAVIGATION or not _EXTERNAL_HREF.match(href):
            continue
        if el.tag in _ODF_SOURCES:
            changed |= _remove(el)
        else:
            del el.attrib[_XLINK_HREF]  # a linked image or object becomes an empty frame
            changed = True
    if changed:
        package.replaced[name] = _serialize(root)


def _with_href(root: etree._Element) -> Iterator[etree._Element]:
    for el in root.iter():
        if isinstance(el.tag, str) and _XLINK_HREF in el.attrib:
            yield el


def _remove(el: etree._Element) -> bool:
    parent = el.getparent()
    if parent is None:
        return False
    parent.remove(el)
    return True


# ---- helpers

# No DTDs, no entities, no network: the XML comes from the uploader.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse(package: _Package, name: str) -> etree._Element:
    try:
        return etree.fromstring(package.read(name), parser=_PARSER)
    except etree.XMLSyntaxError:
        raise FileRefused("the file is damaged (a part is not valid XML)") from None


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")
