"""Preparing documents in the background, and showing their pages.

`process_document` is the `document.process` job: it has the DocumentProcessor convert the
original, merge values, find and remove anchor tags (slow, outside any transaction), then
stores the prepared PDF and the fields it found in one short write. The document goes from
the blob store's file through the processor's files back into the store, never whole in
memory: a 100 MB packet costs the worker little more than qpdf's and PDFium's own state."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from esign.domain import documents as rules
from esign.domain import lifecycle
from esign.domain.audit import SYSTEM, AuditKind
from esign.domain.enums import ProcessingStatus
from esign.domain.errors import (
    DocumentFailed,
    DocumentNotFound,
    DocumentNotReady,
    SessionPurged,
    ValidationFailed,
)
from esign.domain.model import AnchorOffset, ClientSettings, Document, SigningSession
from esign.domain.ports import FileRefused, PreparedDocument, PrepareRequest
from esign.services import blob_gc, events
from esign.services.context import Caller, Deps, new_id
from esign.services.intake import extension
from esign.services.sessions import load, load_for_change

log = logging.getLogger("esign.documents")

MIN_IMAGE_WIDTH, MAX_IMAGE_WIDTH = 100, 2000
UNEXPECTED = "the document could not be processed (an internal error; it has been logged)"


@dataclass(frozen=True, slots=True)
class _Work:
    client_id: str
    session_id: str
    document_id: str
    original_key: str
    request: PrepareRequest


def process_document(deps: Deps, client_id: str, session_id: str, document_id: str) -> None:
    """Prepare one Pending document. Safe to run twice: a document no longer Pending, or
    whose bytes were purged meanwhile, is left alone."""
    with ExitStack() as files:  # the original and the processor's files, closed at the end
        work = _work(deps, files, client_id, session_id, document_id)
        if work is None:
            return
        try:
            prepared = files.enter_context(deps.processor.prepare(work.request))
        except FileRefused as exc:
            mark_failed(deps, client_id, session_id, document_id, [exc.reason])
            return
        except Exception:  # a converter bug must not leave the document Pending for hours
            log.exception("processing document %s of session %s failed", document_id, session_id)
            mark_failed(deps, client_id, session_id, document_id, [UNEXPECTED])
            return
        pdf_key = deps.blobs.put_file(prepared.pdf)
        stored = _store(deps, work, prepared, pdf_key)
    if not stored:
        blob_gc.delete_unused(deps, [pdf_key])


def _work(
    deps: Deps, files: ExitStack, client_id: str, session_id: str, document_id: str
) -> _Work | None:
    with deps.uow(write=False) as uow:
        session = uow.sessions.get(client_id, session_id)
        client = uow.clients.get(client_id)
    doc = session.document(document_id) if session else None
    if session is None or client is None or doc is None or not _pending(doc):
        return None
    assert doc.original_blob_key is not None
    values = rules.merge_values(session.signers)
    request = PrepareRequest(
        source=files.enter_context(deps.blobs.local_file(doc.original_blob_key)),
        extension=_extension(doc.file_name, doc.content_type),
        has_anchor_tags=doc.has_anchor_tags,
        anchor_open=client.settings.anchor_open,
        anchor_close=client.settings.anchor_close,
        space_char=client.settings.anchor_space_char,
        merge_values=values,
        stamps=rules.merge_stamps(doc.merge_fields, values),
    )
    return _Work(client_id, session_id, document_id, doc.original_blob_key, request)


def _pending(doc: Document) -> bool:
    return doc.processing_status is ProcessingStatus.PENDING and bool(doc.original_blob_key)


def _extension(file_name: str, content_type: str) -> str:
    """The converter to use: the name's extension (intake checked the content matches it);
    a template copy may carry any name, and is a PDF."""
    return ".pdf" if content_type == rules.PDF else extension(file_name)


def _store(deps: Deps, work: _Work, prepared: PreparedDocument, pdf_key: str) -> bool:
    """Keep the prepared PDF and its fields; False when the document moved on meanwhile."""
    with deps.uow() as uow:
        session = uow.sessions.get(work.client_id, work.session_id, for_update=True)
        client = uow.clients.get(work.client_id)
        doc = session.document(work.document_id) if session else None
        if session is None or client is None or doc is None or not _pending(doc):
            return False
        if doc.original_blob_key != work.original_key or _stale(session, doc, work):
            return False  # a newer job, queued with the change, prepares it
        _apply(session, doc, prepared, pdf_key, client.settings)
        events.audit(
            deps,
            uow,
            session,
            AuditKind.DOCUMENT_PROCESSED,
            f"Document '{doc.file_name}' prepared: {doc.page_count} pages, "
            f"{len(prepared.fields)} anchor-tag fields, {len(prepared.errors)} problems",
            SYSTEM,
            document_id=doc.id,
            sha256=pdf_key,  # the blob key is the sha256 of its content
        )
        uow.sessions.save(session)
        uow.commit()
    return True


def _stale(session: SigningSession, doc: Document, work: _Work) -> bool:
    """Whether the merge values changed while the document was being prepared."""
    if not rules.uses_merge_values(doc):
        return False
    now = rules.merge_digest(rules.merge_values(session.signers))
    return now != rules.merge_digest(work.request.merge_values)


def _apply(
    session: SigningSession,
    doc: Document,
    prepared: PreparedDocument,
    pdf_key: str,
    settings: ClientSettings,
) -> None:
    doc.blob_key = pdf_key
    doc.set_pages(list(prepared.page_sizes))
    offsets, problems = _offsets(doc, settings)
    signer_roles = [s.role for s in session.signers]
    for found in prepared.fields:
        role = rules.resolve_role(found.role, signer_roles, settings.roles)
        page = doc.page_size(found.page_index)
        offset = offsets.get(found.type.value)
        doc.fields.append(rules.field_from_tag(found, new_id(), role, offset, page))
    if session.info.remove_unassigned_signer_roles:
        rules.unassigned_removed(doc, signer_roles)
    doc.processing_errors = [*problems, *prepared.errors]
    doc.processing_status = ProcessingStatus.READY


def _offsets(doc: Document, settings: ClientSettings) -> tuple[dict[str, AnchorOffset], list[str]]:
    name = doc.adjustment_category
    if not name:
        return {}, []
    found = settings.adjustment_category(name)
    if found is None:  # removed after the document was accepted
        return {}, [f"Anchor adjustment category '{name}' no longer exists; none applied."]
    return found[1], []


def mark_failed(
    deps: Deps, client_id: str, session_id: str, document_id: str, errors: list[str]
) -> None:
    """The document cannot be prepared: say why on it, and StartSession will refuse it."""
    with deps.uow() as uow:
        session = uow.sessions.get(client_id, session_id, for_update=True)
        doc = session.document(document_id) if session else None
        if session is None or doc is None or not _pending(doc):
            return
        doc.processing_status = ProcessingStatus.FAILED
        doc.processing_errors = errors
        events.audit(
            deps,
            uow,
            session,
            AuditKind.DOCUMENT_FAILED,
            f"Document '{doc.file_name}' could not be processed: {'; '.join(errors)}",
            SYSTEM,
            document_id=doc.id,
        )
        uow.sessions.save(session)
        uow.commit()


# --- page images -----------------------------------------------------------------------------


def page_image(
    deps: Deps, caller: Caller, session_id: str, document_id: str, page_number: int, width: int
) -> bytes:
    """A page of the document as the signers see it, as a PNG `width` pixels wide (clamped
    to 100..2000), rendered once per page and width and then served from the blob store."""
    with deps.uow(write=False) as uow:
        session = load(uow, caller, session_id)
        doc = _viewable(session, document_id, deps.clock.now())
        if not 1 <= page_number <= (doc.page_count or 0):
            raise ValidationFailed(
                field="pageNumber", reason=f"must be between 1 and {doc.page_count}"
            )
        width = min(max(width, MIN_IMAGE_WIDTH), MAX_IMAGE_WIDTH)
        assert doc.blob_key is not None
        source, cached = doc.blob_key, uow.page_images.find(doc.blob_key, page_number - 1, width)
    if cached is not None and deps.blobs.exists(cached):
        return deps.blobs.get(cached)
    png = _render(deps, doc, source, page_number - 1, width)
    _remember(deps, source, page_number - 1, width, deps.blobs.put(png))
    return png


def _viewable(session: SigningSession, document_id: str, now: datetime) -> Document:
    doc = session.document(document_id.strip())
    if doc is None:
        raise DocumentNotFound(document_id=document_id)
    if lifecycle.documents_gone(session, now) or doc.blob_key is None:
        raise SessionPurged(session_id=session.id)
    if doc.processing_status is ProcessingStatus.PENDING:
        raise DocumentNotReady(file_name=doc.file_name)
    if doc.processing_status is ProcessingStatus.FAILED:
        raise DocumentFailed(file_name=doc.file_name)
    return doc


def document_file(
    deps: Deps, caller: Caller, session_id: str, document_id: str
) -> tuple[str, BinaryIO]:
    """GetDocumentFile: the prepared PDF's name and the file opened for reading (the caller
    closes it), once processing has made it. Opened here, so a purge after this call cannot
    take it from under a download, and a 100 MB PDF is streamed, never held whole. Who took
    a copy of a contract is evidence: the download is in the audit trail (decision 0035)."""
    with deps.uow() as uow:
        session = load_for_change(deps, uow, caller, session_id)
        doc = _viewable(session, document_id, deps.clock.now())
        assert doc.blob_key is not None
        try:
            with deps.blobs.local_file(doc.blob_key) as path:
                opened = path.open("rb")
        except (KeyError, OSError):  # its bytes went with a purge
            raise SessionPurged(session_id=session.id) from None
        try:
            description = f"Document '{doc.file_name}' downloaded"
            events.audit(
                deps,
                uow,
                session,
                AuditKind.DOCUMENT_DOWNLOADED,
                description,
                caller.actor(),
                document_id=doc.id,
            )
            uow.commit()
        except BaseException:
            opened.close()
            raise
    return doc.file_name, opened


def _render(deps: Deps, doc: Document, source: str, page_index: int, width: int) -> bytes:
    try:
        with deps.blobs.local_file(source) as pdf:  # PDFium reads only the page it draws
            return deps.renderer.render(pdf, page_index, width)
    except FileRefused:
        raise DocumentFailed(file_name=doc.file_name) from None


def _remember(deps: Deps, source: str, page_index: int, width: int, image_key: str) -> None:
    with deps.uow() as uow:
        # Not if the document was purged while we drew it: nothing would delete the image.
        if uow.sessions.blob_in_use(source):
            uow.page_images.add(source, page_index, width, image_key)
            uow.commit()
            return
    blob_gc.delete_unused(deps, [image_key])
