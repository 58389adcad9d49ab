"""Typed audit events and the hash chain that makes the trail tamper-evident."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64


class AuditKind(StrEnum):
    SESSION_CREATED = "session.created"
    SESSION_UPDATED = "session.updated"
    SESSION_STARTED = "session.started"
    SESSION_PAUSED = "session.paused"
    SESSION_CANCELLED = "session.cancelled"
    SESSION_CLOSED = "session.closed"
    SESSION_DELETED = "session.deleted"
    SESSION_EXPIRED = "session.expired"
    SESSION_COMPLETED = "session.completed"
    SESSION_ARCHIVED = "session.archived"
    SESSION_COPIED = "session.copied"
    SESSION_COPIED_FROM = "session.copied_from"
    PURGE_REQUESTED = "session.purge_requested"
    PURGE_CANCELLED = "session.purge_cancelled"
    SESSION_PURGED = "session.purged"
    TRANSACTION_CHANGED = "session.transaction_changed"
    DOCUMENT_ADDED = "document.added"
    DOCUMENT_REFUSED = "document.refused"
    DOCUMENT_PROCESSED = "document.processed"
    DOCUMENT_FAILED = "document.failed"
    DOCUMENT_TO_PREPARE_AGAIN = "document.to_prepare_again"
    DOCUMENT_DOWNLOADED = "document.downloaded"
    SIGNER_ADDED = "signer.added"
    SIGNER_REFUSED = "signer.refused"
    SIGNER_UPDATED = "signer.updated"
    SIGNER_INVITED = "signer.invited"
    SIGNER_LINK_ISSUED = "signer.link_issued"
    SIGNER_CANCELLED = "signer.cancelled"
    FIELDS_REMOVED = "fields.removed"
    SESSION_VIEWED = "session.viewed"
    # A client's own trail: actions outside any session (decision 0035).
    CLIENT_CREATED = "client.created"
    CLIENT_CONFIGURED = "client.configured"
    WEBHOOK_SET = "client.webhook_set"
    API_KEY_ROTATED = "client.api_key_rotated"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_STATUS_CHANGED = "user.status_changed"
    TEMPLATE_SAVED = "template.saved"
    TEMPLATE_DELETED = "template.deleted"
    ADJUSTMENT_CHANGED = "adjustment.changed"
    ADJUSTMENT_DELETED = "adjustment.deleted"


@dataclass(slots=True)
class Actor:
    """Who did it and from where: a user, a signer, or the system itself."""

    kind: str  # "user" | "signer" | "system" | "api"
    id: str = ""
    name: str = ""
    ip: str = ""
    user_agent: str = ""


SYSTEM = Actor(kind="system", name="esign")
OPERATOR = Actor(kind="operator", name="esign command line")


@dataclass(slots=True)
class AuditEvent:
    id: str
    session_id: str
    client_id: str
    kind: AuditKind
    description: str
    actor: Actor
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    prev_hash: str = GENESIS_HASH
    hash: str = ""


def canonical_bytes(event: AuditEvent) -> bytes:
    """Everything that the hash covers, in one stable encoding."""
    body = {
        "id": event.id,
        "session_id": event.session_id,
        "client_id": event.client_id,
        "seq": event.seq,
        "kind": event.kind.value,
        "description": event.description,
        "actor": [
            event.actor.kind,
            event.actor.id,
            event.actor.name,
            event.actor.ip,
            event.actor.user_agent,
        ],
        "at": event.at.isoformat(),
        "data": event.data,
        "prev_hash": event.prev_hash,
    }
    return _CANONICAL.encode(body).encode()


# What json.dumps(body, sort_keys=True, separators=(",", ":"), default=str) uses, made once.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def seal(event: AuditEvent, prev_hash: str, seq: int) -> None:
    """Link the event after the one whose hash is `prev_hash`."""
    event.prev_hash = prev_hash
    event.seq = seq
    event.hash = hashlib.sha256(canonical_bytes(event)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    event_id: str  # "" for an event that is missing
    reason: str

    @property
    def event(self) -> str:
        """ "#7 (its id)", or "#7" for a missing event."""
        return f"#{self.seq} ({self.event_id})" if self.event_id else f"#{self.seq}"


def verify_chain(events: Sequence[AuditEvent]) -> ChainBreak | None:
    """Return the first broken link of a session's trail (ordered by seq), or None."""
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return ChainBreak(event.seq, event.id, f"sequence {event.seq}, expected {expected_seq}")
        if event.prev_hash != prev:
            return ChainBreak(event.seq, event.id, "previous-hash link does not match")
        if hashlib.sha256(canonical_bytes(event)).hexdigest() != event.hash:
            return ChainBreak(event.seq, event.id, "content does not match its hash")
        prev = event.hash
    return None


@dataclass(frozen=True, slots=True)
class ChainHead:
    """A trail's last event as recorded apart from the events, sealed with the server's key
    (decision 0041): events cut from the end of a trail, or a trail rewritten with its hashes
    computed again, no longer verify."""

    seq: int
    hash: str
    seal: str  # "" when recorded without the key (a migration run outside esign)


def head_text(chain_id: str, seq: int, hash_: str) -> str:
    """What a head's seal is the server's HMAC of (apart from every other digest it makes)."""
    return f"esign audit head\x00{chain_id}\x00{seq}\x00{hash_}"


def vouches_for(
    chain_id: str, seq: int, hash_: str, head: ChainHead | None, seal: Callable[[str], str]
) -> bool:
    """Does the recorded head say, under this server's seal, that the trail ends at `seq`
    with `hash_`? (A trail with no event and no head ends at the genesis: yes.)"""
    if head is None:
        return seq == 0
    return (
        head.seq == seq
        and head.hash == hash_
        and hmac.compare_digest(head.seal, seal(head_text(chain_id, seq, hash_)))
    )


def verify_head(
    chain_id: str,
    events: Sequence[AuditEvent],
    head: ChainHead | None,
    seal: Callable[[str], str],
) -> ChainBreak | None:
    """Does the trail end where its sealed head says? Check after `verify_chain`."""
    last_seq = events[-1].seq if events else 0
    last_hash = events[-1].hash if events else GENESIS_HASH
    last_id = events[-1].id if events else ""
    if head is None:
        if not events:
            return None  # nothing was ever recorded
        return ChainBreak(last_seq, last_id, "the trail's recorded head is missing")
    if head.seq > last_seq:
        gone = f"#{last_seq + 1}" if head.seq == last_seq + 1 else f"#{last_seq + 1}-#{head.seq}"
        reason = f"events {gone} are missing from the end (the recorded head is #{head.seq})"
        return ChainBreak(last_seq + 1, "", reason)
    if head.seq < last_seq:  # (verify_chain found seq 1..last_seq in order)
        extra = events[head.seq]
        return ChainBreak(extra.seq, extra.id, f"comes after the recorded head (#{head.seq})")
    if head.hash != last_hash:
        return ChainBreak(last_seq, last_id, "does not match the recorded head")
    if not vouches_for(chain_id, last_seq, last_hash, head, seal):
        return ChainBreak(last_seq, last_id, "the recorded head is not sealed by this server's key")
    return None
