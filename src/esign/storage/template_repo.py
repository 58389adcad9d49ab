"""Templates (one row each, the body in JSON) and the cache of rendered page images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from esign.domain.model import Template
from esign.storage import tables as t
from esign.storage.serialize import from_json, to_json

_t, _p = t.templates.c, t.page_images.c
_COLUMNS = ("id", "client_id", "name", "created_at", "updated_at", "blob_key")


class TemplateRepo:
    def __init__(self, conn: Connection, for_update_supported: bool) -> None:
        self._c = conn
        self._for_update = for_update_supported

    def save(self, template: Template) -> None:
        values = _values(template)
        key = (_t.client_id == template.client_id, _t.id == template.id)
        if self._c.execute(select(_t.id).where(*key)).first() is None:
            self._c.execute(insert(t.templates).values(**values))
        else:
            self._c.execute(update(t.templates).where(*key).values(**values))

    def get(self, client_id: str, template_id: str, *, lock: bool = False) -> Template | None:
        query = select(t.templates).where(_t.client_id == client_id, _t.id == template_id)
        if lock and self._for_update:
            # A shared lock: sessions may copy it at once, a delete waits for them.
            query = query.with_for_update(read=True)
        row = self._c.execute(query).mappings().first()
        return _template(row) if row else None

    def all(self, client_id: str) -> list[Template]:
        rows = self._c.execute(
            select(t.templates).where(_t.client_id == client_id).order_by(_t.created_at, _t.id)
        ).mappings()
        return [_template(r) for r in rows]

    def delete(self, client_id: str, template_id: str) -> bool:
        result = self._c.execute(
            delete(t.templates).where(_t.client_id == client_id, _t.id == template_id)
        )
        return bool(result.rowcount)


def _values(template: Template) -> dict[str, Any]:
    data = to_json(template)
    return {
        **{name: getattr(template, name) for name in _COLUMNS},
        "data": {k: v for k, v in data.items() if k not in _COLUMNS},
    }


def _template(row: RowMapping) -> Template:
    return from_json(Template, row["data"], **{name: row[name] for name in _COLUMNS})


class PageImageRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def find(self, source_key: str, page_index: int, width: int) -> str | None:
        return self._c.execute(
            select(_p.image_key).where(
                _p.source_key == source_key, _p.page_index == page_index, _p.width == width
            )
        ).scalar()

    def add(self, source_key: str, page_index: int, width: int, image_key: str) -> None:
        # Two viewers may render the same page at once: the second row is not an error.
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        self._c.execute(
            dialect.insert(t.page_images)
            .values(source_key=source_key, page_index=page_index, width=width, image_key=image_key)
            .on_conflict_do_nothing()
        )

    def forget(self, source_keys: Sequence[str]) -> list[str]:
        if not source_keys:
            return []
        where = _p.source_key.in_(list(source_keys))
        images = list(self._c.execute(select(_p.image_key).where(where)).scalars())
        self._c.execute(delete(t.page_images).where(where))
        return images
