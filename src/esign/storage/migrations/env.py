"""Alembic environment: run with the connection esign hands over (see storage.migrate)."""

from __future__ import annotations

from alembic import context

from esign.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    transaction_per_migration=False,
)
context.run_migrations()
