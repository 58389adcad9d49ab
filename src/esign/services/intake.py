"""Turning submitted documents and signers into domain objects, or into `Details` problems."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from esign.domain.documents import DOCX, PDF, needs_processing, unassigned_removed
from esign.domain.enums import ProcessingStatus, SignerStatus
from esign.domain.errors import ValidationFailed
from esign.domain.model import (
    ClientSettings,
    Document,
    Problem,
    Signer,
    SigningSession,
    Template,
)
from esign.domain.ports import FileRefused, UnitOfWork
from esign.services.commands import DocumentInput, SignerInput
from esign.services.context import Deps, Limits, new_id


def is_email_address(text: str) -> bool:
    """An address mail can be sent to (decision 0050): dot-separated words before the @ (no
    empty one, nothing invisible), a domain name after it (labels of letters, digits, marks
    and inner hyphens, any script; a top-level label of two or more, not starting with a
    digit). No quoted local parts or address literals (x@[127.0.0.1]): no agent's client
    sends them, and a trailing dot would make a second spelling of one mailbox."""
    local, at, domain = text.rpartition("@")
    if not at or not local or "@" in local:
        return False
    labels = domain.split(".")
    return (
        all(word and all(map(_in_local_part, word)) for word in local.split("."))
        and len(labels) >= 2
        and all(map(_is_label, labels))
        and len(labels[-1]) >= 2
        and not labels[-1][0].isdigit()
    )


def _in_local_part(char: str) -> bool:
    # (isprintable is False for control and format characters: a zero-width space or a soft
    # hyphen would make a second user that looks like the first.)
    return char.isprintable() and not char.isspace() and char not in _NOT_IN_LOCAL_PART


_NOT_IN_LOCAL_PART = frozenset(',;:<>()[]\\"')


def _is_label(label: str) -> bool:
    return (
        bool(label)
        and label[0].isalnum()
        and label[-1] != "-"
        and all(c.isalnum() or c == "-" or unicodedata.category(c)[0] == "M" for c in label)
    )


# What each accepted extension must look like inside (type by content, not by name).
_PDF = (PDF, (b"%PDF-",))
_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": _PDF,
    ".docx": (DOCX, _ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    ".doc": ("application/msword", _OLE),
    ".xls": ("application/vnd.ms-excel", _OLE),
    ".rtf": ("application/rtf", (b"{\\rtf",)),
    ".txt": ("text/plain", ()),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".tif": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    ".tiff": ("image/tiff", (b"II*\x00", b"MM\x00*")),
}


# Converted later, but what their bytes alone tell is refused in the request (PDFs are
# inspected on their own).
CHECKED_AT_UPLOAD = frozenset(KINDS) - {".pdf"}


def refused(file_name: str, reason: str) -> Problem:
    return Problem("file_not_uploaded", {"file_name": file_name, "reason": reason})


def extension(file_name: str) -> str:
    """The name's extension, lower case with its dot; "" when it has none."""
    dot = file_name.rfind(".")
    return file_name[dot:].lower() if dot >= 0 else ""


def content_kind(file_name: str, data: bytes) -> str:
    """The content type a file's name promises, if its bytes keep the promise."""
    ext = extension(file_name)
    if ext not in KINDS:
        raise FileRefused(f"files of type '{ext or 'none'}' are not accepted")
    content_type, magics = KINDS[ext]
    head = data.lstrip()[:16] if ext == ".pdf" else data[:16]
    if magics and not any(head.startswith(m) for m in magics):
        raise FileRefused(f"the content is not a {ext} file")
    # Text has no magic. The upload check (deps.uploads) judges it, as the converter will:
    # UTF-8, UTF-16 with its byte-order mark, or Windows' ANSI code page.
    return content_type


def is_template_copy(item: DocumentInput) -> bool:
    """A document that names a template and brings no bytes of its own copies the template."""
    return bool(item.form_id.strip()) and not item.file_bytes


def accept_documents(
    deps: Deps, inputs: Iterable[DocumentInput], bytes_already: int, settings: ClientSettings
) -> tuple[list[tuple[DocumentInput, Document]], list[Problem]]:
    """Validate and store each uploaded file (template copies are left to `copy_templates`).
    Refused files become problems; the rest are kept."""
    accepted: list[tuple[DocumentInput, Document]] = []
    problems: list[Problem] = []
    total = bytes_already
    for item in inputs:
        if is_template_copy(item):
            continue
        name = item.file_name.strip()
        if not name:
            problems.append(refused("(no FileName)", "the document has no FileName"))
            continue
        data = item.file_bytes or b""
        try:
            if not data:
                raise FileRefused("the file is empty")
            _check_size(deps.limits, total + len(data))
            _check_category(item, settings)
            # Zip bombs, passwords, damage: told now, with better reasons than the magic check.
            if (ext := extension(name)) in CHECKED_AT_UPLOAD:
                deps.uploads.check(data, ext)
            content_type = content_kind(name, data)
            doc = _document(deps, item, name, content_type, data)
        except FileRefused as exc:
            problems.append(refused(name, exc.reason))
            continue
        total += len(data)
        accepted.append((item, doc))
    return accepted, problems


def check_counts(
    limits: Limits, cmd_documents: int, cmd_signers: int, documents: int = 0, signers: int = 0
) -> None:
    """Refuse, before anything is stored, a request that would take the session over its
    number of documents or signers (`documents` and `signers`: what it holds already)."""
    for field, held, given, limit in (
        ("session.Documents", documents, cmd_documents, limits.max_documents),
        ("session.Signers", signers, cmd_signers, limits.max_signers),
    ):
        if held + given > limit:
            has = f"has {held}, and " if held else ""
            raise ValidationFailed(
                field=field,
                reason=f"would make {held + given} ({has}{given} given); "
                f"a session holds at most {limit}",
            )


def _check_size(limits: Limits, session_bytes: int) -> None:
    if session_bytes > limits.max_session_bytes:
        raise FileRefused(_size_reason(limits))


def _size_reason(limits: Limits) -> str:
    return f"the session would exceed its {limits.max_session_bytes // (1024 * 1024)} MB limit"


Upload = tuple[DocumentInput, Document]


def within_session_limit(
    limits: Limits, session: SigningSession, uploaded: list[Upload]
) -> tuple[list[Upload], list[Upload]]:
    """The uploads that still fit the session's size limit, in order, and those that do not:
    checked again in the transaction, for files a concurrent update added meanwhile."""
    total = sum(d.size for d in session.documents)
    kept: list[Upload] = []
    over: list[Upload] = []
    for item, doc in uploaded:
        if total + doc.size > limits.max_session_bytes:
            over.append((item, doc))
        else:
            total += doc.size
            kept.append((item, doc))
    return kept, over


def over_session_limit(limits: Limits, doc: Document) -> Problem:
    return refused(doc.file_name, _size_reason(limits))


def _check_category(item: DocumentInput, settings: ClientSettings) -> None:
    name = item.adjustment_category.strip()
    if name and settings.adjustment_category(name) is None:
        raise FileRefused(f"anchor adjustment category '{name}' does not exist")


def _document(
    deps: Deps, item: DocumentInput, name: str, content_type: str, data: bytes
) -> Document:
    doc = Document(
        id=new_id(),
        file_name=name,
        sequence=0,
        content_type=content_type,
        blob_key=None,
        size=len(data),
        sha256="",  # set below: the blob store's key is the content's sha256
        form_id=item.form_id,
        form_tag=item.form_tag,
        has_anchor_tags=item.has_anchor_tags,
        adjustment_category=item.adjustment_category.strip(),
    )
    if content_type == PDF:
        facts = deps.pdf.inspect(data)
        doc.set_pages(list(facts.page_sizes))
        doc.active_content = facts.active_content
    # Conversion, anchor tags and merge values wait, Pending, for the processing job.
    doc.processing_status = (
        ProcessingStatus.PENDING if needs_processing(doc) else ProcessingStatus.READY
    )
    doc.blob_key = doc.original_blob_key = doc.sha256 = deps.blobs.put(data)
    return doc


def copy_templates(
    uow: UnitOfWork,
    client_id: str,
    inputs: Iterable[DocumentInput],
    bytes_already: int,
    settings: ClientSettings,
    limits: Limits,
) -> tuple[list[tuple[DocumentInput, Document]], list[Problem]]:
    """Documents made from the client's templates, inside the transaction that adds them:
    the template is locked meanwhile, so a delete cannot take its PDF from under the copy."""
    accepted: list[tuple[DocumentInput, Document]] = []
    problems: list[Problem] = []
    total = bytes_already
    for item in inputs:
        if not is_template_copy(item):
            continue
        form_id = item.form_id.strip()
        template = uow.templates.get(client_id, form_id, lock=True)
        name = item.file_name.strip() or (template.file_name if template else form_id)
        try:
            if template is None:
                raise FileRefused(f"template '{form_id}' was not found")
            _check_size(limits, total + template.size)
            _check_category(item, settings)
        except FileRefused as exc:
            problems.append(refused(name, exc.reason))
            continue
        total += template.size
        accepted.append((item, _from_template(item, template, name)))
    return accepted, problems


def _from_template(item: DocumentInput, template: Template, name: str) -> Document:
    """A copy of everything the template holds: later edits to it never reach the session."""
    doc = Document(
        id=new_id(),
        file_name=name,
        sequence=0,
        content_type=PDF,
        blob_key=template.blob_key,
        original_blob_key=template.blob_key,
        size=template.size,
        sha256=template.sha256,
        form_id=template.id,
        form_tag=item.form_tag,
        has_anchor_tags=item.has_anchor_tags,
        adjustment_category=item.adjustment_category.strip(),
        fields=[replace(f, id=new_id(), items=list(f.items), value=None) for f in template.fields],
        merge_fields=[replace(m) for m in template.merge_fields],
    )
    doc.set_pages([replace(p) for p in template.page_sizes])
    doc.processing_status = (
        ProcessingStatus.PENDING if needs_processing(doc) else ProcessingStatus.READY
    )
    return doc


def place_documents(
    session: SigningSession, accepted: list[tuple[DocumentInput, Document]]
) -> None:
    """Give each new document the place its `Sequence` (1-based) asks for in the final order.

    `accepted` is in the request's order. Those without a Sequence (0) follow the session's
    documents in that order; then each with a Sequence goes to that position, lowest first, so
    that a later one never moves it. Documents asking for the same position keep the
    request's order there; a position past the end appends.
    """
    session.documents.extend(doc for item, doc in accepted if item.sequence <= 0)
    placed = sorted((p for p in accepted if p[0].sequence > 0), key=lambda p: p[0].sequence)
    placed_at: Counter[int] = Counter()
    for item, doc in placed:
        index = item.sequence - 1 + placed_at[item.sequence]
        session.documents.insert(min(index, len(session.documents)), doc)
        placed_at[item.sequence] += 1
    for position, doc in enumerate(session.documents, start=1):
        doc.sequence = position


def signer_problem(item: SignerInput) -> Problem | None:
    if not item.last_name.strip() or not is_email_address(item.email.strip()):
        return Problem("signer_invalid", {"signer": _who(item)})
    if not item.role.strip():
        return Problem("signer_no_role", {"signer": _who(item)})
    for name, image in (
        ("SignatureImageBase64", item.signature_image),
        ("InitialsImageBase64", item.initials_image),
    ):
        if image and not image.startswith(_IMAGE_MAGICS):
            return Problem("signer_image_invalid", {"signer": _who(item), "member": name})
    return None


# What a signature or initials image may be: it is stamped into PDFs at completion.
_IMAGE_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


def _who(item: SignerInput) -> str:
    name = " ".join(p for p in (item.first_name.strip(), item.last_name.strip()) if p)
    return name or item.email.strip() or "(unnamed signer)"


def signer_not_found(signer_id: str) -> Problem:
    """A signer a list names (by SignerId) that the session does not have."""
    if not signer_id.strip():
        return Problem("signer_id_missing", {})
    return Problem("signer_not_found", {"signer_id": signer_id})


def check_signer_list(limits: Limits, name: str, count: int) -> None:
    """A list naming signers of one session cannot be longer than a session's signers."""
    if count > limits.max_signers:
        raise ValidationFailed(field=name, reason=f"names at most {limits.max_signers} signers")


def accept_signers(
    deps: Deps, session: SigningSession, inputs: Iterable[SignerInput]
) -> tuple[list[Signer], list[Problem]]:
    """Add each valid signer whose role nobody holds yet; the others become problems."""
    added: list[Signer] = []
    problems: list[Problem] = []
    for item in inputs:
        problem = signer_problem(item)
        if problem is None and session.signer_for_role(item.role) is not None:
            problem = Problem("duplicate_role", {"signer": _who(item), "role": item.role.strip()})
        if problem is not None:
            problems.append(problem)
            continue
        signer = build_signer(deps, item)
        session.signers.append(signer)
        added.append(signer)
    return added, problems


def build_signer(deps: Deps, item: SignerInput) -> Signer:
    properties = item.properties
    mandate = item.mandate_doc_upload or _truthy(_prop(properties, "MandateDocUpload"))
    return Signer(
        id=new_id(),
        first_name=item.first_name.strip(),
        last_name=item.last_name.strip(),
        email=item.email.strip(),
        role=" ".join(item.role.split()),
        sequence=item.sequence,
        auth_method=item.auth_method,
        auth_methods=list(item.auth_methods),
        password_hash=deps.passwords.hash(item.password) if item.password else None,
        sms_phone_number=item.sms_phone_number,
        in_person=item.in_person,
        properties=list(properties),
        contact=dict(item.contact),
        email_subject=item.email_subject,
        email_message=item.email_message,
        merge_field_mapping=dict(item.merge_field_mapping),
        signature_image_key=deps.blobs.put(item.signature_image) if item.signature_image else None,
        initials_image_key=deps.blobs.put(item.initials_image) if item.initials_image else None,
        auto_apply_signature=item.auto_apply_signature,
        mandate_doc_upload=mandate,
        status=SignerStatus.PENDING_INVITE,
    )


def _prop(properties: list[tuple[str, str]], key: str) -> str | None:
    return next((v for k, v in properties if k.lower() == key.lower()), None)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes")


def remove_unassigned_fields(session: SigningSession) -> int:
    """Drop every field whose role no signer holds; return how many went."""
    held = [s.role for s in session.signers]
    return sum(unassigned_removed(doc, held) for doc in session.documents)
