"""The audit trail's hash chain (contract §6): sealing links each event to the one before,
and verification names the first link that does not hold."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from esign.domain.audit import (
    GENESIS_HASH,
    Actor,
    AuditEvent,
    AuditKind,
    canonical_bytes,
    seal,
    verify_chain,
)

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def event(n: int, **overrides: object) -> AuditEvent:
    base = AuditEvent(
        id=f"ev-{n}",
        session_id="sess-1",
        client_id="client-1",
        kind=AuditKind.SIGNER_ADDED,
        description=f"Event number {n}",
        actor=Actor(kind="api", id="key-1", name="owner@acme.test", ip="10.0.0.1", user_agent="UA"),
        at=T0 + timedelta(seconds=n),
        data={"signer_id": f"s-{n}", "n": n},
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def chain(length: int = 5) -> list[AuditEvent]:
    events = [event(n) for n in range(1, length + 1)]
    prev = GENESIS_HASH
    for seq, e in enumerate(events, start=1):
        seal(e, prev, seq)
        prev = e.hash
    return events


def test_seal_links_each_event_to_the_previous_one() -> None:
    events = chain()
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert all(len(e.hash) == 64 for e in events)
    assert len({e.hash for e in events}) == 5
    assert events[2].hash == hashlib.sha256(canonical_bytes(events[2])).hexdigest()


def test_sealing_is_deterministic_and_depends_on_the_previous_hash() -> None:
    a, b = event(1), event(1)
    seal(a, GENESIS_HASH, 1)
    seal(b, GENESIS_HASH, 1)
    assert a.hash == b.hash
    c = event(1)
    seal(c, "f" * 64, 1)
    assert c.hash != a.hash


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(chain()) is None
    assert verify_chain([]) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "Event number 3 (edited)"),
        ("kind", AuditKind.SESSION_DELETED),
        ("at", T0 + timedelta(days=1)),
        ("data", {"signer_id": "someone-else", "n": 3}),
        ("session_id", "sess-2"),
        ("client_id", "client-2"),
        ("id", "ev-forged"),
    ],
)
def test_changing_any_covered_field_breaks_that_link(field: str, value: object) -> None:
    events = chain()
    setattr(events[2], field, value)
    broken = verify_chain(events)
    assert broken is not None
    assert (broken.seq, broken.event_id) == (3, events[2].id)
    assert "hash" in broken.reason


@pytest.mark.parametrize("part", ["kind", "id", "name", "ip", "user_agent"])
def test_the_actor_is_covered(part: str) -> None:
    events = chain()
    setattr(events[1].actor, part, "forged")
    broken = verify_chain(events)
    assert broken is not None
    assert broken.seq == 2


def test_rehashing_a_tampered_event_breaks_the_next_link() -> None:
    events = chain()
    events[1].description = "rewritten history"
    seal(events[1], events[0].hash, 2)  # the forger recomputes this event's hash…
    broken = verify_chain(events)
    assert broken is not None  # …but event 3 still points at the old one
    assert broken.seq == 3
    assert broken.event_id == "ev-3"
    assert "previous-hash" in broken.reason


def test_the_first_broken_link_is_named_when_several_are() -> None:
    events = chain()
    events[3].description = "fourth changed"
    events[1].description = "second changed"
    broken = verify_chain(events)
    assert broken is not None
    assert broken.seq == 2


def test_a_removed_event_is_detected() -> None:
    events = chain()
    del events[2]
    broken = verify_chain(events)
    assert broken is not None
    assert broken.event_id == "ev-4"
    assert "expected 3" in broken.reason


def test_removing_the_first_event_is_detected() -> None:
    events = chain()
    broken = verify_chain(events[1:])
    assert broken is not None
    assert broken.event_id == "ev-2"


def test_reordered_events_are_detected() -> None:
    events = chain()
    events[1], events[2] = events[2], events[1]
    broken = verify_chain(events)
    assert broken is not None
    assert broken.event_id == "ev-3"


def test_a_forged_hash_value_is_detected() -> None:
    events = chain()
    events[4].hash = "0" * 64
    broken = verify_chain(events)
    assert broken is not None
    assert broken.seq == 5


def test_truncation_at_the_end_is_not_a_broken_link() -> None:
    # The chain alone cannot tell a trail cut at its end; the certificate carries the head hash
    # for that. What verify_chain can say is that the prefix is intact.
    events = chain()
    assert verify_chain(events[:3]) is None
    assert events[2].hash != events[4].hash


def test_the_hashed_encoding_never_changes() -> None:
    """Stored trails are verified by re-encoding their events: the bytes must stay these."""
    e = event(
        1,
        description="Signé par Zoë “quoted”",
        data={"b": 1.5, "a": ["x", None, True], "when": T0},
    )
    seal(e, GENESIS_HASH, 1)
    assert canonical_bytes(e) == (
        b'{"actor":["api","key-1","owner@acme.test","10.0.0.1","UA"],'
        b'"at":"2030-05-01T12:00:01+00:00","client_id":"client-1",'
        b'"data":{"a":["x",null,true],"b":1.5,"when":"2030-05-01 12:00:00+00:00"},'
        b'"description":"Sign\\u00e9 par Zo\\u00eb \\u201cquoted\\u201d","id":"ev-1",'
        b'"kind":"signer.added","prev_hash":"' + GENESIS_HASH.encode() + b'","seq":1,'
        b'"session_id":"sess-1"}'
    )
    assert e.hash == "8c25d5f0334c80575ab546c80c1bf046912ddc50b00049152fb1797b48d81455"
