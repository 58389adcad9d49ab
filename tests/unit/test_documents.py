"""The pure document rules (esign.domain.documents): merge values, roles, anchor-tag fields."""

from __future__ import annotations

import pytest

from esign.domain import documents as rules
from esign.domain.enums import FieldOption, FieldType, ProcessingStatus
from esign.domain.model import AnchorOffset, Document, Field, MergeField, PageSize, Signer
from esign.domain.ports import FoundField

LETTER = PageSize(612.0, 792.0)


def signer(role: str, **mapping: str) -> Signer:
    return Signer(id=role, last_name="Doe", email="a@b.c", role=role, merge_field_mapping=mapping)


def found(x: float = 0.5, y: float = 0.5, width: float = 0.1, height: float = 0.05) -> FoundField:
    return FoundField(
        FieldType.SIGNATURE, FieldOption.REQUIRED, "seller  1", 0, x, y, width, height
    )


def test_merge_values_first_signer_wins_ignoring_case() -> None:
    values = rules.merge_values(
        [signer("A", Company="Red", City="Rome"), signer("B", COMPANY="Blue", Zip="1")]
    )
    assert values == {"Company": "Red", "City": "Rome", "Zip": "1"}


def test_merge_stamps_use_value_or_default_and_skip_blanks() -> None:
    fields = [
        MergeField("Company", "Default Co", 0, 0.1, 0.1, 0.3, 0.02, 11),
        MergeField("Agent", "Pat", 1, 0.1, 0.2, 0.3, 0.02),
        MergeField("Empty", "", 0, 0.1, 0.3, 0.3, 0.02),
    ]
    stamps = rules.merge_stamps(fields, {"company": "Red"})
    assert [(s.text, s.page_index, s.font_size) for s in stamps] == [
        ("Red", 0, 11),
        ("Pat", 1, None),
    ]


def test_roles_take_the_signers_then_the_clients_spelling() -> None:
    assert rules.resolve_role(" seller   1 ", ["Seller 1"], []) == "Seller 1"
    assert rules.resolve_role("LISTING agent", [], ["Listing Agent"]) == "Listing Agent"
    assert rules.resolve_role("Uncle  Bob", ["Seller 1"], ["Buyer 1"]) == "Uncle Bob"


def test_offsets_are_points_on_the_page() -> None:
    field = rules.field_from_tag(
        found(), "f1", "Seller 1", AnchorOffset(61.2, -79.2, 6.12, 7.92), LETTER
    )
    assert (field.id, field.role, field.type) == ("f1", "Seller 1", FieldType.SIGNATURE)
    assert (field.x, field.y) == pytest.approx((0.6, 0.4))
    assert (field.width, field.height) == pytest.approx((0.11, 0.06))


def test_fields_stay_on_the_page_and_keep_a_size() -> None:
    pushed = rules.field_from_tag(found(x=0.95), "f", "R", AnchorOffset(x=100), LETTER)
    assert pushed.x + pushed.width == pytest.approx(1.0)
    shrunk = rules.field_from_tag(found(), "f", "R", AnchorOffset(width=-500, height=-500), LETTER)
    assert shrunk.width == pytest.approx(1 / 612) and shrunk.height == pytest.approx(1 / 792)
    up = rules.field_from_tag(found(y=0.01), "f", "R", AnchorOffset(y=-100), LETTER)
    assert up.y == 0.0
    assert rules.field_from_tag(found(x=0.95), "f", "R", None, LETTER).x == pytest.approx(0.9)


def test_which_documents_need_processing() -> None:
    def doc(content_type: str, **extra: object) -> Document:
        return Document("d", "n", 1, content_type, None, 1, "s", **extra)  # type: ignore[arg-type]

    assert not rules.needs_processing(doc("application/pdf"))
    assert rules.needs_processing(doc("application/pdf", has_anchor_tags=True))
    assert rules.needs_processing(
        doc("application/pdf", merge_fields=[MergeField("K", "", 0, 0, 0, 1, 1)])
    )
    assert rules.needs_processing(doc("image/png"))
    assert doc("image/png").processing_status is ProcessingStatus.PENDING


def test_unassigned_fields_go() -> None:
    d = Document("d", "n", 1, "application/pdf", None, 1, "s")
    d.fields = [
        Field("1", FieldType.SIGNATURE, FieldOption.REQUIRED, "Seller 1", 0, 0, 0, 0.1, 0.1),
        Field("2", FieldType.SIGNATURE, FieldOption.REQUIRED, "Buyer 1", 0, 0, 0, 0.1, 0.1),
    ]
    assert rules.unassigned_removed(d, ["seller  1"]) == 1
    assert [f.id for f in d.fields] == ["1"]
