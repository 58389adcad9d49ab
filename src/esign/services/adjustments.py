"""Anchor adjustment categories: per-client named offsets per tag type, which a document
names in `AnchorTagsAdjustmentCategory` to move and resize the fields its tags become."""

from __future__ import annotations

import math
from collections.abc import Mapping

from esign.domain.audit import OPERATOR, Actor, AuditKind
from esign.domain.documents import TAG_TYPES
from esign.domain.errors import AdjustmentCategoryNotFound, ValidationFailed
from esign.domain.model import AnchorOffset, Client
from esign.domain.ports import UnitOfWork
from esign.services import events, recent
from esign.services.context import Deps

MAX_CATEGORIES = 100
MAX_NAME = 100
MAX_POINTS = 1000.0  # further than any page is wide: a typo, not an adjustment

Offsets = dict[str, AnchorOffset]


def categories(deps: Deps, client_id: str) -> dict[str, Offsets]:
    with deps.uow(write=False) as uow:
        return dict(_client(uow, client_id).settings.adjustment_categories)


def get_category(deps: Deps, client_id: str, name: str) -> tuple[str, Offsets]:
    with deps.uow(write=False) as uow:
        found = _client(uow, client_id).settings.adjustment_category(name)
    if found is None:
        raise AdjustmentCategoryNotFound(category=name.strip())
    return found


def put_category(
    deps: Deps,
    client_id: str,
    name: str,
    offsets: Mapping[str, AnchorOffset],
    actor: Actor = OPERATOR,
) -> tuple[str, Offsets]:
    """Create the category, or replace every offset of the one with that name (any case)."""
    name = _name(name)
    checked = {_tag_type(t): _offset(o, t) for t, o in offsets.items()}
    with deps.uow() as uow:
        client = _client(uow, client_id)
        _store(uow, client, name, checked)
        _audit(deps, uow, client, AuditKind.ADJUSTMENT_CHANGED, name, actor)
        uow.commit()
    recent.directory_changed()
    return name, checked


def set_offset(
    deps: Deps,
    client_id: str,
    name: str,
    tag_type: str,
    offset: AnchorOffset,
    actor: Actor = OPERATOR,
) -> tuple[str, Offsets]:
    """Set one tag type's offset in a category, creating the category if need be."""
    name, tag = _name(name), _tag_type(tag_type)
    checked = _offset(offset, tag)
    with deps.uow() as uow:
        client = _client(uow, client_id)
        found = client.settings.adjustment_category(name)
        stored, offsets = found if found is not None else (name, {})
        updated = {**offsets, tag: checked}
        _store(uow, client, stored, updated)
        _audit(deps, uow, client, AuditKind.ADJUSTMENT_CHANGED, stored, actor)
        uow.commit()
    recent.directory_changed()
    return stored, updated


def delete_category(deps: Deps, client_id: str, name: str, actor: Actor = OPERATOR) -> str:
    """Remove a category (any case). Documents already processed keep their fields; a document
    that names it later is refused as naming an unknown category."""
    with deps.uow() as uow:
        client = _client(uow, client_id)
        found = client.settings.adjustment_category(name)
        if found is None:
            raise AdjustmentCategoryNotFound(category=name.strip())
        stored = found[0]
        client.settings.adjustment_categories = {
            k: v for k, v in client.settings.adjustment_categories.items() if k != stored
        }
        uow.clients.update(client)
        _audit(deps, uow, client, AuditKind.ADJUSTMENT_DELETED, stored, actor)
        uow.commit()
    recent.directory_changed()
    return stored


def _audit(
    deps: Deps, uow: UnitOfWork, client: Client, kind: AuditKind, name: str, actor: Actor
) -> None:
    what = "deleted" if kind is AuditKind.ADJUSTMENT_DELETED else "changed"
    description = f"Anchor adjustment category '{name}' {what}"
    events.client_audit(deps, uow, client.id, kind, description, actor, category=name)


def _client(uow: UnitOfWork, client_id: str) -> Client:
    client = uow.clients.get(client_id.strip())
    if client is None:
        raise ValidationFailed(field="client", reason=f"'{client_id}' does not exist")
    return client


def _store(uow: UnitOfWork, client: Client, name: str, offsets: Offsets) -> None:
    settings = client.settings
    kept = {
        k: v for k, v in settings.adjustment_categories.items() if k.casefold() != name.casefold()
    }
    if len(kept) >= MAX_CATEGORIES:
        raise ValidationFailed(
            field="category", reason=f"would be one more than the {MAX_CATEGORIES} allowed"
        )
    settings.adjustment_categories = {**kept, name: offsets}
    uow.clients.update(client)


def _name(given: str) -> str:
    name = " ".join(given.split())
    if not name:
        raise ValidationFailed(field="category", reason="is required")
    if len(name) > MAX_NAME:
        raise ValidationFailed(field="category", reason=f"is longer than {MAX_NAME} characters")
    if not name.isprintable():
        raise ValidationFailed(field="category", reason="contains control characters")
    return name


def _tag_type(given: str) -> str:
    tag = given.strip().lower()
    if tag not in TAG_TYPES:
        raise ValidationFailed(
            field="tag type",
            reason=f"'{given.strip()[:20]}' is not one of {', '.join(TAG_TYPES)}",
        )
    return tag


def _offset(offset: AnchorOffset, tag: str) -> AnchorOffset:
    for axis in ("x", "y", "width", "height"):
        value = getattr(offset, axis)
        if not math.isfinite(value) or abs(value) > MAX_POINTS:
            raise ValidationFailed(
                field=f"{tag}.{axis.capitalize()}",
                reason=f"must be between -{MAX_POINTS:g} and {MAX_POINTS:g} points",
            )
    return AnchorOffset(float(offset.x), float(offset.y), float(offset.width), float(offset.height))
