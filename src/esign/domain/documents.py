"""Rules about a session's documents: which need background processing, which values fill
merge fields, and how a field found by an anchor tag becomes a field of the session."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from esign.domain.enums import ProcessingStatus
from esign.domain.model import (
    AnchorOffset,
    Document,
    Field,
    MergeField,
    PageSize,
    Signer,
    normalize_role,
)
from esign.domain.ports import FoundField, MergeStamp

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TAG_TYPES = ("sig", "ini", "dt", "d", "t", "txt", "chk", "rdo", "ddl")
MIN_SIDE = 1.0  # points: an adjustment may shrink a field, never make it vanish


def needs_processing(doc: Document) -> bool:
    """Conversion, active-content stripping, anchor tags and merge values all happen in the
    background; a plain PDF is kept as uploaded."""
    return (
        doc.content_type != PDF
        or doc.has_anchor_tags
        or doc.active_content
        or bool(doc.merge_fields)
    )


def uses_merge_values(doc: Document) -> bool:
    """Whether the signers' MergeFieldMapping shapes the prepared PDF: template merge fields
    are stamped, and a Word file's MERGEFIELDs and {{Key}} placeholders are filled."""
    return bool(doc.merge_fields) or doc.content_type == DOCX


def merge_digest(values: Mapping[str, str]) -> str:
    """A short fingerprint of the merge values, to tell a preparation made with stale ones."""
    items = sorted((k.casefold(), v) for k, v in values.items())
    return hashlib.sha256(repr(items).encode()).hexdigest()[:16]


def prepare_again(doc: Document) -> str | None:
    """Send a prepared document back to be prepared from its original bytes (the merge values
    changed). Fields its anchor tags made go, to be made anew; template fields stay. Returns
    the prepared PDF's key, which the document no longer holds."""
    dropped = doc.blob_key if doc.blob_key != doc.original_blob_key else None
    doc.blob_key = doc.original_blob_key
    doc.fields = [f for f in doc.fields if not f.from_tag]
    doc.processing_errors = []
    doc.processing_status = ProcessingStatus.PENDING
    return dropped


def merge_values(signers: Iterable[Signer]) -> dict[str, str]:
    """Every signer's MergeFieldMapping as one map. Keys match ignoring case; when two
    signers give the same key, the first signer in the session's order wins."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    for signer in signers:
        for key, value in signer.merge_field_mapping.items():
            if key.casefold() not in seen:
                seen.add(key.casefold())
                values[key] = value
    return values


def merge_stamps(fields: Iterable[MergeField], values: Mapping[str, str]) -> tuple[MergeStamp, ...]:
    """The text each template merge field shows: its mapped value, else its default."""
    lowered = {k.casefold(): v for k, v in values.items()}
    stamps = []
    for f in fields:
        text = lowered.get(f.key.casefold(), f.default)
        if text.strip():
            stamps.append(MergeStamp(text, f.page_index, f.x, f.y, f.width, f.height, f.font_size))
    return tuple(stamps)


def resolve_role(tag_role: str, signer_roles: Iterable[str], client_roles: Iterable[str]) -> str:
    """The role a tag names, spelt as a signer (or else the client's role list) spells it;
    roles match ignoring case and repeated spaces (contract §5)."""
    wanted = normalize_role(tag_role)
    for role in (*signer_roles, *client_roles):
        if normalize_role(role) == wanted:
            return role
    return " ".join(tag_role.split())


def field_from_tag(
    found: FoundField, field_id: str, role: str, offset: AnchorOffset | None, page: PageSize
) -> Field:
    """The session's field for an anchor tag, moved and resized by the category's offset."""
    x, y, width, height = found.x, found.y, found.width, found.height
    if offset is not None:
        x += offset.x / page.width
        y += offset.y / page.height
        width = max(width + offset.width / page.width, MIN_SIDE / page.width)
        height = max(height + offset.height / page.height, MIN_SIDE / page.height)
    x, width = _inside(x, width)
    y, height = _inside(y, height)
    return Field(
        id=field_id,
        type=found.type,
        option=found.option,
        role=role,
        page_index=found.page_index,
        x=x,
        y=y,
        width=width,
        height=height,
        font_size=found.font_size,
        items=list(found.items),
        from_tag=True,
    )


def _inside(start: float, length: float) -> tuple[float, float]:
    """Keep a span on the page: an offset may push a field to the edge, not off it."""
    length = min(length, 1.0)
    return min(max(start, 0.0), 1.0 - length), length


def unassigned_removed(doc: Document, held_roles: Iterable[str]) -> int:
    """Drop the document's fields whose role no signer holds; return how many went."""
    held = {normalize_role(r) for r in held_roles}
    kept = [f for f in doc.fields if normalize_role(f.role) in held]
    removed = len(doc.fields) - len(kept)
    doc.fields = kept
    return removed
