"""Make an untrusted PDF safe to keep and to show.

`sanitize_pdf` / `sanitize_pdf_file` strip a PDF's active content (JavaScript, launch and
submit actions, embedded files) and keep everything else; `has_active_content` says whether
there is any. A refusal raises `FileRefused` with a reason in words for the sender (the caller
prefixes `Error: <File Name> did not upload.`). Office files are checked by `office_files`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pikepdf

from esign.domain.ports import FileRefused
from esign.pdf.file_kinds import not_a

# Actions a viewer performs without running code or leaving the document; everything else
# (JavaScript, Launch, SubmitForm, ImportData, GoToR, GoToE, Rendition, Sound, Movie, Hide,
# RichMediaExecute, ...) is removed.
_SAFE_ACTIONS = frozenset({"/GoTo", "/URI", "/Named", "/SetOCGState", "/Thread"})
_SAFE_URI_SCHEMES = ("http:", "https:", "mailto:")
# Annotations that carry files or media players rather than marks on the page.
_ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/RichMedia", "/Movie", "/Sound", "/Screen"})
_MAX_DEPTH = 64  # action chains and field trees deeper than this are hostile
_HEAD = 64 * 1024  # what is read of a file to check that it is a PDF at all


def sanitize_pdf(data: bytes) -> bytes:
    """The PDF without active content; refuses encrypted and unreadable files."""
    out = io.BytesIO()
    _sanitize(data[:_HEAD], io.BytesIO(data), out)
    return out.getvalue()


def sanitize_pdf_file(source: Path, target: Path) -> None:
    """sanitize_pdf from file to file: qpdf reads objects as it needs them and writes them as
    it goes, so a large document is never held whole in memory."""
    with open(source, "rb") as f:
        head = f.read(_HEAD)
    _sanitize(head, source, target)


def _sanitize(head: bytes, source: Path | BinaryIO, target: Path | BinaryIO) -> None:
    with _open_pdf(head, source) as pdf:
        try:
            _strip_catalog(pdf.Root)
            for page in pdf.pages:
                _strip_page(page.obj)
            # qpdf writes only objects reachable from the trailer, so the detached embedded
            # files and scripts are gone from the output, not just unlinked.
            pdf.save(target)
        except (pikepdf.PdfError, RuntimeError, ValueError, TypeError):
            # qpdf reads objects lazily: damage deep in the file shows only now (a broken
            # page tree raises QpdfRuntimeError, a RuntimeError).
            raise FileRefused("the PDF is damaged") from None


def has_active_content(pdf: pikepdf.Pdf) -> bool:
    """Whether sanitize_pdf would have anything to remove: a cheap look at the places active
    content hides. It may say yes for harmless content (a chained action), never no for
    harmful content, so a PDF it clears can be kept as uploaded."""
    root = pdf.Root
    if "/AA" in root or _unsafe_opening(_member(root, "/OpenAction")):
        return True
    names = _member(root, "/Names")
    if isinstance(names, pikepdf.Dictionary) and (
        "/JavaScript" in names or "/EmbeddedFiles" in names
    ):
        return True
    form = _member(root, "/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and (
        "/XFA" in form or _any_action(_member(form, "/Fields"), ("/Kids",))
    ):
        return True
    outlines = _member(root, "/Outlines")
    if isinstance(outlines, pikepdf.Dictionary) and _any_action(
        _member(outlines, "/First"), ("/Next", "/First")
    ):
        return True
    for page in pdf.pages:
        if "/AA" in page.obj:
            return True
        annots = _member(page.obj, "/Annots")
        if isinstance(annots, pikepdf.Array):
            for annot in annots:
                if isinstance(annot, pikepdf.Dictionary) and (
                    str(annot.get("/Subtype")) in _ACTIVE_ANNOTATIONS or _has_unsafe_action(annot)
                ):
                    return True
    return False


def _member(holder: pikepdf.Object, key: str) -> object:
    """holder.get(key) for the hot path: pikepdf's get raises and catches a C++ exception
    for a missing key (3 µs), `in` does not."""
    return holder[key] if key in holder else None  # noqa: SIM401 (see above)


def _unsafe_opening(opening: object) -> bool:
    if not isinstance(opening, pikepdf.Dictionary):
        return False  # absent, or an explicit destination (an array) that only scrolls
    return str(opening.get("/S")) != "/GoTo" or "/Next" in opening


def _any_action(start: object, links: tuple[str, ...]) -> bool:
    return any(_has_unsafe_action(item) for item in _walk(start, links))


def _has_unsafe_action(holder: pikepdf.Dictionary) -> bool:
    if "/AA" in holder:
        return True
    action = holder.get("/A")
    if action is None:
        return False
    if not isinstance(action, pikepdf.Dictionary) or "/Next" in action:
        return True
    kind = str(action.get("/S"))
    if kind not in _SAFE_ACTIONS:
        return True
    uri = str(action.get("/URI", "")).strip().lower()
    return kind == "/URI" and not uri.startswith(_SAFE_URI_SCHEMES)


def _open_pdf(head: bytes, source: Path | BinaryIO) -> pikepdf.Pdf:
    """`head` is the file's beginning (_HEAD bytes or all of it), to check before qpdf."""
    if not head:
        raise FileRefused("the file is empty")
    if not head.lstrip()[:5].startswith(b"%PDF-"):
        raise FileRefused(not_a("a PDF", head))
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError:
        raise FileRefused("the PDF is encrypted") from None
    except (pikepdf.PdfError, RuntimeError):
        raise FileRefused("the PDF is damaged") from None
    if pdf.is_encrypted:  # an owner password alone still encrypts (and restricts)
        pdf.close()
        raise FileRefused("the PDF is encrypted")
    return pdf


def _strip_catalog(root: pikepdf.Object) -> None:
    if not isinstance(root, pikepdf.Dictionary):
        raise FileRefused("the PDF is damaged (no document catalog)")
    _drop(root, "/AA")
    if "/OpenAction" in root:
        opening = root.OpenAction
        # An explicit destination (an array) only scrolls; an action must be a plain GoTo.
        if isinstance(opening, pikepdf.Dictionary):
            kept = _clean_action(opening)
            if kept is None or str(kept.get("/S")) != "/GoTo":
                del root["/OpenAction"]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        _drop(names, "/JavaScript")
        _drop(names, "/EmbeddedFiles")
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary):
        _drop(form, "/XFA")  # XFA forms carry their own scripts
        # Form fields not merged with a widget keep their own /AA (keystroke, calculate).
        for item in _walk(form.get("/Fields"), ("/Kids",)):
            _strip_actions(item)
    outlines = root.get("/Outlines")
    if isinstance(outlines, pikepdf.Dictionary):
        for item in _walk(outlines.get("/First"), ("/Next", "/First")):
            _strip_actions(item)


def _strip_page(page: pikepdf.Dictionary) -> None:
    _drop(page, "/AA")
    annots = page.get("/Annots")
    if not isinstance(annots, pikepdf.Array):
        return
    kept = pikepdf.Array()
    for annot in annots:
        if not isinstance(annot, pikepdf.Dictionary):
            continue
        if str(annot.get("/Subtype")) in _ACTIVE_ANNOTATIONS:
            continue
        _strip_actions(annot)
        kept.append(annot)
    page.Annots = kept


def _walk(start: object, links: tuple[str, ...]) -> Iterator[pikepdf.Dictionary]:
    """Every dictionary reachable from `start` through `links`, once each: outline and field
    trees may be cyclic in a hostile file."""
    stack = [start]
    seen: set[tuple[int, int]] = set()
    while stack and len(seen) < 100_000:
        item = stack.pop()
        if isinstance(item, pikepdf.Array):
            stack.extend(item)
            continue
        if not isinstance(item, pikepdf.Dictionary):
            continue
        if item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        yield item
        stack.extend(item.get(key) for key in links)


def _strip_actions(holder: pikepdf.Dictionary) -> None:
    _drop(holder, "/AA")
    action = holder.get("/A")
    if action is None:
        return
    kept = _clean_action(action) if isinstance(action, pikepdf.Dictionary) else None
    if kept is None:
        del holder["/A"]


def _clean_action(
    action: pikepdf.Dictionary, depth: int = 0, seen: set[tuple[int, int]] | None = None
) -> pikepdf.Dictionary | None:
    """The action with its unsafe successors (/Next) removed, or None when it is unsafe itself.

    A chain that loops back or runs deeper than _MAX_DEPTH is hostile and counts as unsafe.
    """
    seen = set() if seen is None else seen
    if action.is_indirect:
        if action.objgen in seen:
            return None
        seen.add(action.objgen)
    if depth > _MAX_DEPTH or str(action.get("/S")) not in _SAFE_ACTIONS:
        return None
    if str(action.get("/S")) == "/URI":
        uri = str(action.get("/URI", "")).strip().lower()
        if not uri.startswith(_SAFE_URI_SCHEMES):
            return None
    following = action.get("/Next")
    if isinstance(following, pikepdf.Dictionary):
        if _clean_action(following, depth + 1, seen) is None:
            del action["/Next"]
    elif isinstance(following, pikepdf.Array):
        safe = [
            item
            for item in following
            if isinstance(item, pikepdf.Dictionary)
            and _clean_action(item, depth + 1, seen) is not None
        ]
        action.Next = pikepdf.Array(safe)
    return action


def _drop(holder: pikepdf.Dictionary, key: str) -> None:
    if key in holder:
        del holder[key]
