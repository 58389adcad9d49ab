"""RenderedViews (services/views.py): an answer is given back only for the stamp it was kept
with, and the memory bound holds, each entry counted with what it holds beside its answer."""

from __future__ import annotations

from esign.services.views import RenderedViews


def test_an_answer_is_given_for_its_own_stamp_only() -> None:
    views = RenderedViews()
    views.put("s1", (1, "ann"), b"one")
    assert views.get("s1", (1, "ann")) == b"one"
    assert views.get("s1", (2, "ann")) is None
    assert views.get("s1", (1, "bob")) is None
    assert views.get("s2", (1, "ann")) is None
    views.put("s1", (2, "ann"), b"two")
    assert views.get("s1", (2, "ann")) == b"two"
    assert views.get("s1", (1, "ann")) is None
    assert len(views) == 1


def test_the_oldest_answers_go_first_when_full() -> None:
    views = RenderedViews(max_bytes=30, entry_overhead=9)  # 10 bytes an entry
    for n in range(5):
        views.put(n, 0, b"x")
    assert len(views) == 3
    assert [views.get(n, 0) for n in range(5)] == [None, None, b"x", b"x", b"x"]


def test_more_answers_than_the_old_count_bound_are_kept() -> None:
    """A poll cycling through 5,000 live sessions (more than the 4,096 once kept) hits."""
    views = RenderedViews()
    answer = b"x" * 2000
    for n in range(5000):
        views.put(n, 0, answer)
    assert len(views) == 5000 and all(views.get(n, 0) == answer for n in range(5000))


def test_the_byte_bound_holds() -> None:
    views = RenderedViews(max_bytes=10, max_entry_bytes=10, entry_overhead=0)
    views.put("a", 0, b"1234")
    views.put("b", 0, b"5678")
    views.put("c", 0, b"90ab")  # 12 bytes would be too many: "a" goes
    assert views.get("a", 0) is None
    assert views.get("b", 0) == b"5678" and views.get("c", 0) == b"90ab"
    views.put("b", 1, b"123456")  # replacing "b" frees its 4 bytes first
    assert views.get("c", 0) == b"90ab" and views.get("b", 1) == b"123456"


def test_an_answer_too_large_to_keep_is_not_kept() -> None:
    views = RenderedViews(max_bytes=100, max_entry_bytes=10, entry_overhead=0)
    views.put("big", 0, b"x" * 11)
    assert views.get("big", 0) is None and len(views) == 0
    views.put("big", 1, b"small")
    views.put("big", 2, b"x" * 11)  # the older answer goes too
    assert len(views) == 0
