"""Answers rendered from a stored session, kept with the stamp of the state they show.

A reader asks the database for the session's stamp (its version and owner, one indexed row),
and only renders again when the stamp differs from the kept one: every writer, in any process,
raises the version in the transaction that changes the session, so nothing kept is ever shown
for a newer state (docs/decisions/0021).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

# Bounds: a busy installation reads a few thousand live sessions; a session of many documents
# renders to a large answer, which is then cheaper to render again than to keep.
MAX_ENTRIES = 4096
MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRY_BYTES = 1024 * 1024


class RenderedViews:
    """Rendered answers by key (which view of which session), each with the stamp it shows.
    The oldest answers go first when a bound is reached."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
    ) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
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
            while self._entries and (
                len(self._entries) >= self._max_entries
                or self._bytes + len(answer) > self._max_bytes
            ):
                self._drop(next(iter(self._entries)))
            self._entries[key] = (stamp, answer)
            self._bytes += len(answer)

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])

    def __len__(self) -> int:
        return len(self._entries)
