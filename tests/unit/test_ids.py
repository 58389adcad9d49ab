"""new_id: random version-4 UUIDs in the canonical text form, as str(uuid.uuid4()) writes."""

from __future__ import annotations

import uuid

from esign.services.context import new_id


def test_ids_are_canonical_random_uuids() -> None:
    made = [new_id() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
