"""new_id: random version-4 UUIDs in the canonical text form, as str(uuid.uuid4()) writes."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

from esign.services.context import new_id


def test_ids_are_canonical_random_uuids() -> None:
    made = [new_id() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_a_forked_child_draws_its_own_ids() -> None:
    """Randomness is drawn in blocks: a child must not reuse what its parent has in hand."""
    new_id()  # the parent now holds a block with ids to spare
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next ids and leave at once
        os.write(write, ",".join(new_id() for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split(",")
    os.waitpid(pid, 0)
    parent = [new_id() for _ in range(10)]
    assert len(child) == 10 and not set(child) & set(parent)


def test_threads_draw_distinct_ids() -> None:
    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(1000)], range(8)))
    made = [i for batch in batches for i in batch]
    assert len(set(made)) == len(made) == 8000
