"""The append-only audit trail. Events are buffered and written when the unit of work
commits: for each trail written to, two reads (its last event, its sealed head; none for a
session created in the transaction), one batched insert and the head moved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Text, bindparam, select, type_coerce, update
from sqlalchemy.engine import Connection

from esign.domain import audit as audit_chain
from esign.domain.audit import Actor, AuditEvent, AuditKind, ChainBreak, ChainHead, head_text
from esign.domain.errors import AuditTrailDamaged
from esign.storage import tables as t
from esign.storage.prepared import PreparedInsert
from esign.storage.serialize import from_json, to_json_text
from esign.storage.types import aware_utc

_e, _h = t.audit_events.c, t.audit_heads.c
_RAW = ("actor", "at", "data")
_HEAD = select(_h.seq, _h.hash, _h.seal).where(_h.chain_id == bindparam("sid"))
_LAST = (
    select(_e.seq, _e.hash)
    .where(_e.session_id == bindparam("sid"))
    .order_by(_e.seq.desc())
    .limit(1)
)
_INSERT_HEAD = PreparedInsert(t.audit_heads)
_MOVE_HEAD = (
    update(t.audit_heads)
    .where(_h.chain_id == bindparam("b_chain"))
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"), seal=bindparam("b_seal"))
)
# The trail as stored: what a tampered row holds must reach `_event` to be named, not stop the
# driver's conversions (a date that is no date, JSON that is none).
_TRAIL = (
    select(
        *(c for c in t.audit_events.c if c.name not in _RAW),
        *(type_coerce(t.audit_events.c[name], Text).label(name) for name in _RAW),
    )
    .where(_e.session_id == bindparam("sid"))
    .order_by(_e.seq)
)
_INSERT = PreparedInsert(t.audit_events)
# FOR NO KEY UPDATE: it queues the client's trail writers, yet does not wait for the KEY SHARE
# locks that rows referring to the client (a user just inserted) hold; FOR UPDATE would, and
# two writers would each wait for the other's.
_LOCK_CLIENT = (
    select(t.clients.c.id).where(t.clients.c.id == bindparam("id")).with_for_update(key_share=True)
)


class AuditRepo:
    def __init__(
        self,
        conn: Connection,
        seal: Callable[[str], str],
        new_sessions: set[str] | None = None,
        lock_rows: bool = False,
    ) -> None:
        self._c = conn
        self._seal = seal
        self._lock_rows = lock_rows  # (PostgreSQL)
        self._pending: list[AuditEvent] = []
        self._locked: set[str] = set()  # clients whose row this transaction locked
        # Sessions inserted in this transaction: their chains start at the genesis hash.
        self._new_sessions = new_sessions if new_sessions is not None else set()

    def append(self, event: AuditEvent) -> None:
        self._pending.append(event)

    def append_to_client_trail(self, event: AuditEvent) -> None:
        # A session's writers lock its row; a client trail's lock their client's row. On
        # SQLite writers take turns anyway.
        if self._lock_rows and event.session_id not in self._locked:
            self._c.execute(_LOCK_CLIENT, {"id": event.session_id})
            self._locked.add(event.session_id)
        self._pending.append(event)

    def flush(self) -> None:
        """Chain and store the buffered events, then move each trail's head. Callers hold each
        session's write lock, so reading the trail's end and appending is atomic; the unique
        (session_id, seq) constraint catches anyone who did not."""
        if not self._pending:
            return
        heads: dict[str, tuple[int, str]] = {}
        recorded: set[str] = set()  # chains whose head row exists: moved, not inserted
        vouched: set[str] = set()  # chains whose new head may be sealed
        rows = []
        for event in self._pending:
            chain = event.session_id
            if chain in self._new_sessions and chain not in heads:
                heads[chain] = (0, audit_chain.GENESIS_HASH)
                vouched.add(chain)
            if chain not in heads:
                heads[chain] = self._end(chain, recorded, vouched)
            seq, prev = heads[chain]
            audit_chain.seal(event, prev, seq + 1)
            heads[chain] = (event.seq, event.hash)
            rows.append(
                {
                    "id": event.id,
                    "session_id": event.session_id,
                    "client_id": event.client_id,
                    "seq": event.seq,
                    "kind": event.kind.value,
                    "description": event.description,
                    "actor": to_json_text(event.actor),
                    "at": event.at,
                    "data": event.data,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                }
            )
        self._pending.clear()
        _INSERT.run(self._c, rows)
        self._record_heads(heads, recorded, vouched)

    def _end(self, chain: str, recorded: set[str], vouched: set[str]) -> tuple[int, str]:
        """Where the trail ends, from its events (a process older than the heads may have
        appended without moving it). Its new head is sealed only if the recorded one vouched
        for that end: a head someone cut back or forged is not sealed anew by the next write,
        and its trail goes on failing verification (decision 0041)."""
        last = self._c.execute(_LAST, {"sid": chain}).first()
        end = (last[0], last[1]) if last else (0, audit_chain.GENESIS_HASH)
        head = self.read_head(chain)
        if head is not None:
            recorded.add(chain)
        if audit_chain.vouches_for(chain, end[0], end[1], head, self._seal):
            vouched.add(chain)
        return end

    def _record_heads(
        self, heads: dict[str, tuple[int, str]], recorded: set[str], vouched: set[str]
    ) -> None:
        new, moved = [], []
        for chain, (seq, hash_) in heads.items():
            seal = self._seal(head_text(chain, seq, hash_)) if chain in vouched else ""
            if chain in recorded:
                moved.append({"b_chain": chain, "b_seq": seq, "b_hash": hash_, "b_seal": seal})
            else:
                new.append({"chain_id": chain, "seq": seq, "hash": hash_, "seal": seal})
        _INSERT_HEAD.run(self._c, new)
        if moved:
            self._c.execute(_MOVE_HEAD, moved)

    def read_head(self, chain_id: str) -> ChainHead | None:
        row = self._c.execute(_HEAD, {"sid": chain_id}).first()
        return ChainHead(row[0], row[1], row[2]) if row else None

    def for_session(self, session_id: str) -> list[AuditEvent]:
        events, unreadable = self.read_trail(session_id)
        if unreadable is not None:
            raise AuditTrailDamaged(seq=unreadable.seq)
        return events

    def read_trail(self, session_id: str) -> tuple[list[AuditEvent], ChainBreak | None]:
        events = []
        for row in self._c.execute(_TRAIL, {"sid": session_id}).mappings():
            try:
                events.append(_event(row))
            except (ValueError, TypeError, KeyError) as exc:  # (orjson's errors included)
                reason = f"the stored event cannot be read: {type(exc).__name__}"
                return events, ChainBreak(row["seq"], row["id"], reason)
        return events, None


def _event(row: Any) -> AuditEvent:
    actor = _json(row["actor"])
    if not isinstance(actor, dict):
        raise TypeError("actor")
    data = _json(row["data"])
    if not isinstance(data, dict):
        raise TypeError("data")
    return AuditEvent(
        id=row["id"],
        session_id=row["session_id"],
        client_id=row["client_id"],
        kind=AuditKind(row["kind"]),
        description=row["description"],
        actor=from_json(Actor, actor),
        at=aware_utc(row["at"]),
        data=data,
        seq=row["seq"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _json(value: Any) -> Any:
    """JSON as stored: text on SQLite, already decoded by PostgreSQL's driver."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value
