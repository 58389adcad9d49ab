"""Answers rendered from a stored session, kept with the stamp of the state they show.

A reader asks the database for the session's stamp (its version and owner, one indexed row),
and only renders again when the stamp differs from the kept one: every writer, in any process,
raises the version in the transaction that changes the session, so nothing kept is ever shown
for a newer state (docs/decisions/0021).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

# Bounds: memory alone. A count bound would fail a poll that cycles through more sessions
# than it allows: every read would miss (an LRU order would not help a cycle). 64 MB keeps
# about 25,000 answers of a one-document session. A session of many documents renders to a
# large answer, which is then cheaper to render again than to keep.
MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRY_BYTES = 1024 * 1024
# What an entry holds beside its answer (key and stamp tuples, their strings, a dict slot),
# counted against MAX_BYTES so that many small answers cannot outgrow it.
ENTRY_OVERHEAD = 512


class RenderedViews:
    """Rendered answers by key (which view of which session), each with the stamp it shows.
    The oldest answers go first when the memory bound is reached."""

    def __init__(
        self,
        max_bytes: int = MAX_BYTES,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
        entry_overhead: int = ENTRY_OVERHEAD,
    ) -> None:
        self._max_bytes = max_bytes
        self._overhead = entry_overhead
        self._max_entry_bytes = max_entry_bytes
        self._entries: dict[Hashable, tuple[Hashable, bytes]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, stamp: Hashable) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != stamp:
            return None
        return entry[1]

    def put(self, key: Hashable, stamp: Hashable, answer: bytes) -> None:
        with self._lock:
            self._drop(key)
            if len(answer) > self._max_entry_bytes:
                return
            size = len(answer) + self._overhead
            while self._entries and self._bytes + size > self._max_bytes:
                self._drop(next(iter(self._entries)))
            self._entries[key] = (stamp, answer)
            self._bytes += size

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1]) + self._overhead

    def __len__(self) -> int:
        return len(self._entries)
