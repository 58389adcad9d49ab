"""`services.recent.RecentlyRead`: a second's memory that a change always clears."""

from __future__ import annotations

import time

from esign.services.recent import RecentlyRead


def test_remembers_for_the_ttl_only() -> None:
    cache: RecentlyRead[str, int] = RecentlyRead(ttl=0.05)
    cache.put("a", 1, cache.generation())
    assert cache.get("a") == 1
    assert cache.get("b") is None
    time.sleep(0.06)
    assert cache.get("a") is None


def test_forget_all_clears_and_refuses_a_value_read_before_it() -> None:
    cache: RecentlyRead[str, int] = RecentlyRead()
    cache.put("a", 1, cache.generation())
    before = cache.generation()  # a reader starts…
    cache.forget_all()  # …a writer commits a change meanwhile…
    cache.put("b", 2, before)  # …and the reader's (old) value is not kept
    assert cache.get("a") is None and cache.get("b") is None
    cache.put("b", 3, cache.generation())
    assert cache.get("b") == 3


def test_stays_bounded() -> None:
    cache: RecentlyRead[int, int] = RecentlyRead(max_entries=3)
    for n in range(10):
        cache.put(n, n, cache.generation())
    assert cache.get(9) == 9
    assert sum(cache.get(n) is not None for n in range(10)) <= 3
