"""The append-only audit trail. Events are buffered and written when the unit of work
commits: one read of each session's chain head and one batched insert per transaction."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from esign.domain import audit as audit_chain
from esign.domain.audit import Actor, AuditEvent, AuditKind
from esign.storage import tables as t
from esign.storage.prepared import PreparedInsert
from esign.storage.serialize import from_json, to_json_text

_e = t.audit_events.c
_HEAD = (
    select(_e.seq, _e.hash)
    .where(_e.session_id == bindparam("sid"))
    .order_by(_e.seq.desc())
    .limit(1)
)
_TRAIL = select(t.audit_events).where(_e.session_id == bindparam("sid")).order_by(_e.seq)
_INSERT = PreparedInsert(t.audit_events)


class AuditRepo:
    def __init__(self, conn: Connection, new_sessions: set[str] | None = None) -> None:
        self._c = conn
        self._pending: list[AuditEvent] = []
        # Sessions inserted in this transaction: their chains start at the genesis hash.
        self._new_sessions = new_sessions if new_sessions is not None else set()

    def append(self, event: AuditEvent) -> None:
        self._pending.append(event)

    def flush(self) -> None:
        """Chain and store the buffered events. Callers hold each session's write lock, so
        reading the head and appending is atomic; the unique (session_id, seq) constraint
        catches anyone who did not."""
        if not self._pending:
            return
        heads: dict[str, tuple[int, str]] = {}
        rows = []
        for event in self._pending:
            if event.session_id in self._new_sessions and event.session_id not in heads:
                heads[event.session_id] = (0, audit_chain.GENESIS_HASH)
            if event.session_id not in heads:
                head = self._c.execute(_HEAD, {"sid": event.session_id}).first()
                heads[event.session_id] = (
                    (head[0], head[1]) if head else (0, audit_chain.GENESIS_HASH)
                )
            seq, prev = heads[event.session_id]
            audit_chain.seal(event, prev, seq + 1)
            heads[event.session_id] = (event.seq, event.hash)
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

    def for_session(self, session_id: str) -> list[AuditEvent]:
        rows = self._c.execute(_TRAIL, {"sid": session_id}).mappings()
        return [
            AuditEvent(
                id=r["id"],
                session_id=r["session_id"],
                client_id=r["client_id"],
                kind=AuditKind(r["kind"]),
                description=r["description"],
                actor=from_json(Actor, r["actor"]),
                at=r["at"],
                data=r["data"],
                seq=r["seq"],
                prev_hash=r["prev_hash"],
                hash=r["hash"],
            )
            for r in rows
        ]
