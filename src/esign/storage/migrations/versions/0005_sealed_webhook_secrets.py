"""webhook signing secrets sealed under the server's key (decision 0046)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_clients = sa.table("clients", sa.column("id", sa.String), sa.column("settings", sa.JSON))


def upgrade() -> None:
    # esign hands over its key's Cipher.protect (storage.migrate); the context is the one
    # services.webhooks reads the secret with.
    protect: Callable[[str, str], str] | None = context.config.attributes.get("protect")
    bind = op.get_bind()
    for client_id, settings in bind.execute(sa.select(_clients.c.id, _clients.c.settings)):
        if "webhook_secret" not in settings:
            continue
        plain = settings.pop("webhook_secret")
        if plain:
            if protect is None:
                raise RuntimeError(
                    "a webhook secret must be sealed with the server's key: run `esign migrate`"
                )
            settings["sealed_webhook_secret"] = protect(plain, f"webhook-secret:{client_id}")
        _save(bind, client_id, settings)


def downgrade() -> None:
    # The secrets stay sealed: a downgrade must not write them out in the clear.
    pass


def _save(bind: Any, client_id: str, settings: dict[str, Any]) -> None:
    bind.execute(_clients.update().where(_clients.c.id == client_id).values(settings=settings))
