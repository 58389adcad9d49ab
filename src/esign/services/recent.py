"""Things read from the database within the last second, kept to save the read on busy paths.

`owners` holds what CreateSession reads before its transaction: the user named in the body
(per client and lower-cased username) and the client's settings. `credentials` holds the API
keys and users that a token check found valid. This process forgets both at once when it
changes a user, a client or a key (`directory_changed`); another process's change is seen
within the second (docs/decisions/0016).
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

from esign.domain.model import ClientSettings, User

K = TypeVar("K")
V = TypeVar("V")


class RecentlyRead(Generic[K, V]):
    """Values read at most `ttl` seconds ago. A value read before a `forget_all` is never
    kept: `put` takes the generation taken before the read, and drops the value if a change
    came in between (else a read racing an update could keep the old value for a second)."""

    def __init__(self, ttl: float = 1.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def generation(self) -> int:
        return self._generation

    def put(self, key: K, value: V, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self._ttl, value)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


# (client id, lower-cased username) -> (the user, the client's settings). Read-only: callers
# must not change what they get.
owners: RecentlyRead[tuple[str, str], tuple[User, ClientSettings]] = RecentlyRead()
# "k:<key id>:<client id>" or "u:<user id>:<client id>" -> the name the caller acts under
# (a user's username; "" for a key) and whether it is an administrator: found valid (not
# revoked, active) by a token check.
credentials: RecentlyRead[str, tuple[str, bool]] = RecentlyRead()


def directory_changed() -> None:
    """A user, a client or an API key was changed (after its commit): forget what was read
    before."""
    owners.forget_all()
    credentials.forget_all()
