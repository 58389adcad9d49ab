"""new_id: time-ordered version-7 UUIDs (RFC 9562) in the canonical text form."""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from esign.services.context import new_id


def test_ids_are_canonical_version_7_uuids() -> None:
    made = [new_id() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_ids_begin_with_the_millisecond_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= int(made.replace("-", "")[:12], 16) <= after


def test_ids_made_later_sort_after() -> None:
    """What keeps a session's new rows together at the end of each index."""
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    assert first < second


def test_the_74_random_bits_differ_from_id_to_id() -> None:
    made = [uuid.UUID(new_id()).int for _ in range(2000)]
    random_part = {((n >> 64) & 0xFFF) << 62 | (n & ((1 << 62) - 1)) for n in made}
    assert len(random_part) == len(made)


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
