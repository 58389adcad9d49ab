"""Fill a Word file's merge fields before it is converted to PDF.

What gets filled, in the body, headers, footers, footnotes and endnotes:

* Word MERGEFIELD fields, simple (`w:fldSimple w:instr=" MERGEFIELD Key "`) and complex
  (`w:fldChar` begin / `w:instrText` MERGEFIELD Key / separate / result runs / end). A field
  whose key has a value becomes plain text with the value, formatted like the field's result.
  A field whose key has no value is left as it is: Word and LibreOffice show its current result
  text. MERGEFIELDs nested inside another field (IF, …) are left alone.
* `{{Key}}` placeholders (spaces inside the braces allowed), also when Word has split them
  across several runs: the text of the runs is merged within the paragraph and the value takes
  the formatting of the run the placeholder starts in. A placeholder whose key has no value
  stays as written, so anchor tags such as `{{sig:1}}` pass through untouched.

Keys match exactly first, then ignoring case (Word treats field names that way). Values are
plain text: XML special characters are escaped, a newline becomes a line break, a tab a tab,
and characters XML cannot hold are dropped. Not docxtpl: it is LGPL and its Jinja syntax
breaks on anchor tags like `{{date:1}}`.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from esign.domain.ports import FileRefused
from esign.pdf.office_files import check_office_file

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_MERGEFIELD = re.compile(r'^\s*MERGEFIELD\s+(?:"([^"]*)"|([^\s\\]+))', re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The parts that hold text a reader sees.
_TEXT_PARTS = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def fill_docx(data: bytes, values: Mapping[str, str]) -> bytes:
    """The .docx with its MERGEFIELDs and `{{Key}}` placeholders filled from `values`.

    The file is checked and cleaned first (`check_office_file`), so what comes back is also
    free of macros and external links. FileRefused when it is not a usable .docx.
    """
    clean = check_office_file(data, ".docx")
    lookup = _Lookup(values)
    source = zipfile.ZipFile(io.BytesIO(clean))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            payload = source.read(info)
            if lookup.values and _TEXT_PARTS.match(info.filename):
                payload = _fill_part(payload, lookup)
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = info.compress_type
            target.writestr(entry, payload)
    return out.getvalue()


@dataclass
class _Lookup:
    values: Mapping[str, str]
    folded: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.folded = {key.casefold(): value for key, value in self.values.items()}

    def get(self, key: str) -> str | None:
        key = key.strip()
        if key in self.values:
            return _xml_safe(self.values[key])
        folded = self.folded.get(key.casefold())
        return None if folded is None else _xml_safe(folded)


def _xml_safe(value: str) -> str:
    return _NOT_XML.sub("", str(value))


def _fill_part(xml: bytes, lookup: _Lookup) -> bytes:
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError:
        raise FileRefused("the Word file is damaged (a part is not valid XML)") from None
    changed = _fill_simple_fields(root, lookup)
    changed |= _fill_complex_fields(root, lookup)
    changed |= _fill_placeholders(root, lookup)
    if not changed:
        return xml
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


# ---- MERGEFIELD


def _merge_key(instruction: str) -> str | None:
    match = _MERGEFIELD.match(instruction)
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _fill_simple_fields(root: etree._Element, lookup: _Lookup) -> bool:
    changed = False
    for simple in list(root.iter(_w("fldSimple"))):
        key = _merge_key(str(simple.get(_w("instr"), "")))
        value = None if key is None else lookup.get(key)
        parent = simple.getparent()
        if value is None or parent is None:
            continue
        template = next(simple.iter(_w("r")), None)
        parent.replace(simple, _text_run(template, value))
        changed = True
    return changed


@dataclass
class _Field:
    """A complex field being read: every run from its begin to its end."""

    begin: etree._Element
    runs: list[etree._Element]
    instruction: str = ""
    in_result: bool = False
    result: list[etree._Element] = field(default_factory=list)


def _fill_complex_fields(root: etree._Element, lookup: _Lookup) -> bool:
    done: list[tuple[_Field, str]] = []
    open_fields: list[_Field] = []
    for run in root.iter(_w("r")):
        kind = _fld_char(run)
        if kind == "begin":
            open_fields.append(_Field(run, []))
        for current in open_fields:
            current.runs.append(run)
        if not open_fields:
            continue
        top = open_fields[-1]
        if kind == "separate":
            top.in_result = True
        elif kind == "end":
            open_fields.pop()
            key = _merge_key(top.instruction)
            value = None if key is None else lookup.get(key)
            # Only top-level fields: a MERGEFIELD inside an IF is part of the IF's instruction.
            if value is not None and not open_fields:
                done.append((top, value))
        elif top.in_result:
            top.result.append(run)
        else:
            top.instruction += "".join(t.text or "" for t in run.iter(_w("instrText")))
    for complete, value in done:
        _replace_field(complete, value)
    return bool(done)


def _fld_char(run: etree._Element) -> str | None:
    char = run.find(_w("fldChar"))
    return None if char is None else str(char.get(_w("fldCharType"), ""))


def _replace_field(complete: _Field, value: str) -> None:
    template = next((r for r in complete.result if r.find(_w("t")) is not None), complete.begin)
    parent = complete.begin.getparent()
    if parent is None:
        return
    parent.insert(parent.index(complete.begin), _text_run(template, value))
    for run in complete.runs:
        holder = run.getparent()
        if holder is not None:
            holder.remove(run)


def _text_run(template: etree._Element | None, value: str) -> etree._Element:
    """A w:r with the template run's formatting (w:rPr) and `value` as its text."""
    run = etree.Element(_w("r"))
    props = template.find(_w("rPr")) if template is not None else None
    if props is not None:
        run.append(copy.deepcopy(props))
    text = etree.SubElement(run, _w("t"))
    text.set(_XML_SPACE, "preserve")
    text.text = value
    _expand_breaks(text)
    return run


# ---- {{Key}} placeholders


def _fill_placeholders(root: etree._Element, lookup: _Lookup) -> bool:
    changed = False
    for paragraph in list(root.iter(_w("p"))):
        # Text boxes hold paragraphs of their own; each is handled as itself.
        nodes = [t for t in paragraph.iter(_w("t")) if _paragraph_of(t) is paragraph]
        text = "".join(t.text or "" for t in nodes)
        if "{{" not in text:
            continue
        edited: set[etree._Element] = set()
        matches = list(_PLACEHOLDER.finditer(text))
        for match in reversed(matches):  # from the end, so earlier offsets stay valid
            value = lookup.get(match.group(1))
            if value is not None:
                edited |= _splice(nodes, match.start(), match.end(), value)
        for node in edited:
            _expand_breaks(node)
        changed |= bool(edited)
    return changed


def _paragraph_of(node: etree._Element) -> etree._Element | None:
    for ancestor in node.iterancestors(_w("p")):
        return ancestor
    return None


def _splice(nodes: list[etree._Element], start: int, end: int, value: str) -> set[etree._Element]:
    """Replace text[start:end] of the paragraph by `value`: the value goes into the node where
    the match starts (keeping that run's formatting), the rest of the match is cut out of the
    following nodes."""
    edited: set[etree._Element] = set()
    offset = 0
    for node in nodes:
        content = node.text or ""
        low, high = offset, offset + len(content)
        offset = high
        if high <= start or low >= end:
            continue
        head = content[: start - low] if low <= start else ""
        tail = content[end - low :] if end <= high else ""
        node.text = head + (value if low <= start < high else "") + tail
        node.set(_XML_SPACE, "preserve")
        edited.add(node)
    return edited


def _expand_breaks(node: etree._Element) -> None:
    """Turn newlines and tabs in a w:t into w:br / w:tab siblings within its run."""
    content = node.text or ""
    if "\n" not in content and "\t" not in content and "\r" not in content:
        return
    run = node.getparent()
    if run is None:
        return
    position = run.index(node)
    run.remove(node)
    for piece in re.split(r"(\r\n|\r|\n|\t)", content):
        if piece in ("\r\n", "\r", "\n"):
            element = etree.Element(_w("br"))
        elif piece == "\t":
            element = etree.Element(_w("tab"))
        elif piece:
            element = etree.Element(_w("t"))
            element.set(_XML_SPACE, "preserve")
            element.text = piece
        else:
            continue
        run.insert(position, element)
        position += 1
