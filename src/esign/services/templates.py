"""Template use cases (`/rest/v1/templates`, `esign templates`): a client's document with fields
per role and merge fields, which sessions copy through `Document.FormId`.

A template is kept as a clean PDF: Word files and images are converted and active content is
stripped when it is saved, since its fields are placed on the pages of that PDF."""

from __future__ import annotations

import re
from collections.abc import Sequence

from esign.domain.audit import OPERATOR, Actor, AuditKind
from esign.domain.documents import PDF
from esign.domain.errors import TemplateNotFound, ValidationFailed
from esign.domain.model import Field, MergeField, PageSize, Template
from esign.domain.ports import FileRefused, PrepareRequest
from esign.services import blob_gc, events
from esign.services.commands import MergeFieldInput, TemplateFieldInput, TemplateInput
from esign.services.context import Deps, new_id
from esign.services.intake import KINDS, content_kind, extension

FORM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MAX_FIELDS, MAX_MERGE_FIELDS, MAX_ITEMS = 2000, 500, 100
FONT_SIZES = (6.0, 28.0)  # as anchor tags clamp them (reference §6.1)
SLACK = 0.5  # points a box may pass the page edge by: rounding in the caller's tools


def save_template(
    deps: Deps, client_id: str, given: TemplateInput, actor: Actor = OPERATOR
) -> Template:
    """Create a template, or replace the client's template with the same FormId. Sessions
    that copied the old one keep their copy."""
    form_id = _form_id(given.form_id)
    name = _required(given.name, "template.Name", 200)
    file_name = _required(given.file_name, "template.Document.FileName", 200)
    blob_key, size, pages = _store_clean_pdf(deps, file_name, given.file_bytes)
    try:
        template = Template(
            id=form_id,
            client_id=client_id,
            name=name,
            created_at=deps.clock.now(),
            updated_at=deps.clock.now(),
            file_name=file_name,
            blob_key=blob_key,
            size=size,
            sha256=blob_key,  # the blob store's key is the content's sha256
            page_sizes=pages,
            fields=_fields(given.fields, pages),
            merge_fields=_merge_fields(given.merge_fields, pages),
        )
        with deps.uow() as uow:
            old = uow.templates.get(client_id, form_id, lock=True)
            if old is not None:
                template.created_at = old.created_at
            uow.templates.save(template)
            what = "replaced" if old is not None else "created"
            description = f"Template {form_id} ('{name}') {what}"
            events.client_audit(
                deps, uow, client_id, AuditKind.TEMPLATE_SAVED, description, actor, form_id=form_id
            )
            uow.commit()
    except BaseException:
        blob_gc.delete_unused(deps, [blob_key])  # refused: keep no file for it
        raise
    if old is not None and old.blob_key != template.blob_key:
        blob_gc.delete_unused(deps, [old.blob_key])
    return template


def list_templates(deps: Deps, client_id: str) -> list[Template]:
    with deps.uow(write=False) as uow:
        return uow.templates.all(client_id)


def get_template(deps: Deps, client_id: str, form_id: str) -> Template:
    with deps.uow(write=False) as uow:
        template = uow.templates.get(client_id, form_id.strip())
    if template is None:
        raise TemplateNotFound(form_id=form_id)
    return template


def delete_template(deps: Deps, client_id: str, form_id: str, actor: Actor = OPERATOR) -> None:
    """Sessions made from it keep their copies; its PDF goes once nobody else holds it."""
    with deps.uow() as uow:
        template = uow.templates.get(client_id, form_id.strip(), lock=True)
        if template is None:
            raise TemplateNotFound(form_id=form_id)
        uow.templates.delete(client_id, template.id)
        description = f"Template {template.id} ('{template.name}') deleted"
        events.client_audit(
            deps,
            uow,
            client_id,
            AuditKind.TEMPLATE_DELETED,
            description,
            actor,
            form_id=template.id,
        )
        uow.commit()
    blob_gc.delete_unused(deps, [template.blob_key])


# --- validation ------------------------------------------------------------------------------


def _form_id(given: str) -> str:
    form_id = given.strip()
    if not form_id:
        return new_id()
    if not FORM_ID.fullmatch(form_id):
        raise ValidationFailed(
            field="template.FormId",
            reason="must be 1 to 100 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
        )
    return form_id


def _required(value: str, name: str, max_length: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValidationFailed(field=name, reason="is required")
    if len(text) > max_length:
        raise ValidationFailed(field=name, reason=f"is longer than {max_length} characters")
    return text


def _store_clean_pdf(deps: Deps, file_name: str, data: bytes) -> tuple[str, int, list[PageSize]]:
    """Store the PDF the template keeps, converted or stripped when it must be: its blob key,
    size and page sizes."""
    where = "template.Document.FileBytes"
    if not data:
        raise ValidationFailed(field=where, reason="is required")
    if len(data) > deps.limits.max_session_bytes:
        limit_mb = deps.limits.max_session_bytes // (1024 * 1024)
        raise ValidationFailed(field=where, reason=f"is larger than {limit_mb} MB")
    if extension(file_name) not in KINDS:
        raise ValidationFailed(
            field="template.Document.FileName",
            reason=f"must end in one of {', '.join(sorted(KINDS))} (the file's type)",
        )
    try:
        content_type = content_kind(file_name, data)
        facts = deps.pdf.inspect(data) if content_type == PDF else None
        if facts is not None and not facts.active_content:
            return deps.blobs.put(data), len(data), list(facts.page_sizes)
        return _prepared(deps, data, extension(file_name))
    except FileRefused as exc:
        raise ValidationFailed(field=where, reason=f"is not usable: {exc.reason}") from None


def _prepared(deps: Deps, data: bytes, extension: str) -> tuple[str, int, list[PageSize]]:
    """Convert or strip through the document processor, from and to the blob store."""
    original = deps.blobs.put(data)
    key = ""
    try:
        with (
            deps.blobs.local_file(original) as source,
            deps.processor.prepare(PrepareRequest(source=source, extension=extension)) as done,
        ):
            key = deps.blobs.put_file(done.pdf)
            return key, done.pdf.stat().st_size, list(done.page_sizes)
    finally:
        if original != key:
            blob_gc.delete_unused(deps, [original])


def _fields(given: Sequence[TemplateFieldInput], pages: list[PageSize]) -> list[Field]:
    if len(given) > MAX_FIELDS:
        raise ValidationFailed(field="template.Fields", reason=f"has more than {MAX_FIELDS}")
    fields = []
    for i, item in enumerate(given):
        where = f"template.Fields[{i}]"
        page = _page(pages, item.page_number, where)
        x, y, width, height = _box(item, page, where)
        fields.append(
            Field(
                id=new_id(),
                type=item.type,
                option=item.option,
                role=_required(item.role, f"{where}.Role", 100),
                page_index=item.page_number - 1,
                x=x,
                y=y,
                width=width,
                height=height,
                font_size=_font_size(item.font_size),
                items=_items(item.items, where),
            )
        )
    return fields


def _merge_fields(given: Sequence[MergeFieldInput], pages: list[PageSize]) -> list[MergeField]:
    if len(given) > MAX_MERGE_FIELDS:
        raise ValidationFailed(
            field="template.MergeFields", reason=f"has more than {MAX_MERGE_FIELDS}"
        )
    merged: list[MergeField] = []
    for i, item in enumerate(given):
        where = f"template.MergeFields[{i}]"
        key = _required(item.key, f"{where}.Key", 200)
        if any(m.key.casefold() == key.casefold() for m in merged):
            raise ValidationFailed(field=f"{where}.Key", reason=f"'{key}' is given twice")
        page = _page(pages, item.page_number, where)
        x, y, width, height = _box(item, page, where)
        merged.append(
            MergeField(
                key=key,
                default=item.default,
                page_index=item.page_number - 1,
                x=x,
                y=y,
                width=width,
                height=height,
                font_size=_font_size(item.font_size),
            )
        )
    return merged


def _page(pages: list[PageSize], number: int, where: str) -> PageSize:
    if not 1 <= number <= len(pages):
        raise ValidationFailed(
            field=f"{where}.PageNumber", reason=f"must be between 1 and {len(pages)}"
        )
    return pages[number - 1]


def _box(
    item: TemplateFieldInput | MergeFieldInput, page: PageSize, where: str
) -> tuple[float, float, float, float]:
    """The box in points (top-left origin) as fractions of the page, if it is on the page."""
    if item.width <= 0 or item.height <= 0:
        raise ValidationFailed(field=f"{where}.Width", reason="and Height must be more than 0")
    if item.x < 0 or item.x + item.width > page.width + SLACK:
        raise ValidationFailed(
            field=f"{where}.X", reason=f"and Width must keep the box on the page (0..{page.width})"
        )
    if item.y < 0 or item.y + item.height > page.height + SLACK:
        raise ValidationFailed(
            field=f"{where}.Y",
            reason=f"and Height must keep the box on the page (0..{page.height})",
        )
    return (
        item.x / page.width,
        item.y / page.height,
        min(item.width / page.width, 1.0 - item.x / page.width),
        min(item.height / page.height, 1.0 - item.y / page.height),
    )


def _font_size(size: float | None) -> float | None:
    if not size:
        return None
    return min(max(size, FONT_SIZES[0]), FONT_SIZES[1])


def _items(items: list[str], where: str) -> list[str]:
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(field=f"{where}.Items", reason=f"has more than {MAX_ITEMS}")
    return [i.strip() for i in items if i.strip()]
