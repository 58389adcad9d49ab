"""Rules about a session's documents: which need background processing, which values fill
merge fields, and how a field found by an anchor tag becomes a field of the session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
