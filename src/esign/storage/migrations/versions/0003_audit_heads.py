"""audit heads: each trail's last event, sealed with the server's key (decision 0041); when a
session was deleted (decision 0038)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from esign.domain.audit import head_text

_DELETED = 5  # SessionStatus.DELETED, as stored
_BATCH = 1000

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode: SQLite adds (and drops) a column in place, where rebuilding the
    # table that documents and signers refer to would break their foreign keys.
    op.add_column("sessions", sa.Column("deleted_at", sa.DateTime(), nullable=True))
    sessions = sa.table(
        "sessions", sa.column("status"), sa.column("status_changed_at"), sa.column("deleted_at")
    )
    op.execute(
        sessions.update()
        .where(sessions.c.status == _DELETED)
        .values(deleted_at=sessions.c.status_changed_at)
    )
    heads = op.create_table(
        "audit_heads",
        sa.Column("chain_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("seal", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain_id"),
    )
    # The trails written before: each one's last event becomes its head, sealed when esign
    # runs the migration (it hands over its key's digest); run without it, a head stays
    # unsealed and its trail no longer verifies.
    seal: Callable[[str], str] | None = context.config.attributes.get("seal")
    events = sa.table("audit_events", sa.column("session_id"), sa.column("seq"), sa.column("hash"))
    last = (
        sa.select(events.c.session_id, sa.func.max(events.c.seq).label("seq"))
        .group_by(events.c.session_id)
        .subquery()
    )
    # Streamed, a thousand heads at a time: a database of millions of trails never sits whole
    # in memory (PostgreSQL reads through a server-side cursor).
    rows = op.get_bind().execute(
        sa.select(events.c.session_id, events.c.seq, events.c.hash)
        .join(last, sa.and_(last.c.session_id == events.c.session_id, last.c.seq == events.c.seq))
        .execution_options(stream_results=True, yield_per=_BATCH)
    )
    for batch in rows.partitions():
        sealed = [
            {
                "chain_id": chain,
                "seq": seq,
                "hash": hash_,
                "seal": seal(head_text(chain, seq, hash_)) if seal else "",
            }
            for chain, seq, hash_ in batch
        ]
        op.bulk_insert(heads, sealed)


def downgrade() -> None:
    op.drop_table("audit_heads")
    op.drop_column("sessions", "deleted_at")
