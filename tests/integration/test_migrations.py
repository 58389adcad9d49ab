"""The Alembic migrations build exactly the schema `storage/tables.py` describes, on SQLite and
PostgreSQL, and step down again."""

from __future__ import annotations

import base64
import os

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from esign import startup
from esign.app import Runtime, build_runtime
from esign.config import Settings, SettingsError
from esign.services import webhooks
from esign.storage import migrate
from esign.storage.migrate import alembic_config
from esign.storage.tables import metadata
from tests.conftest import make_api


def test_migrated_schema_matches_the_tables(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_templates_migration_goes_down_and_up(runtime: Runtime) -> None:
    cfg = alembic_config()
    with runtime.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        assert not {"templates", "page_images"} & set(inspect(conn).get_table_names())
        command.upgrade(cfg, "head")
        assert {"templates", "page_images"} <= set(inspect(conn).get_table_names())


def _client_settings(conn: Connection, client_id: str) -> dict[str, object]:
    query = text("SELECT settings FROM clients WHERE id = :id")
    raw = conn.execute(query, {"id": client_id}).scalar_one()
    return orjson.loads(raw) if isinstance(raw, str | bytes) else dict(raw)


def _put_back_a_plain_secret(runtime: Runtime, client_id: str) -> None:
    """The database as 0004 left it: the client's secret in its settings, in the clear."""
    cfg = alembic_config()
    with runtime.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
        settings = _client_settings(conn, client_id)
        settings.pop("sealed_webhook_secret", None)
        settings["webhook_secret"] = "whsec_from_before"
        conn.execute(
            text("UPDATE clients SET settings = :s WHERE id = :id"),
            {"s": orjson.dumps(settings).decode(), "id": client_id},
        )


def test_plain_webhook_secrets_are_sealed_by_the_upgrade(runtime: Runtime) -> None:
    api = make_api(runtime, "Hooked")
    _put_back_a_plain_secret(runtime, api.client_id)
    cipher = runtime.deps.cipher
    migrate.upgrade(runtime.engine, cipher.digest, cipher.protect)
    with runtime.engine.connect() as conn:
        settings = _client_settings(conn, api.client_id)
    assert "webhook_secret" not in settings and "whsec_from_before" not in str(settings)
    with runtime.deps.uow(write=False) as uow:
        client = uow.clients.get(api.client_id)
    assert client is not None
    assert webhooks.signing_secret(runtime.deps, client) == "whsec_from_before"


def test_a_plain_secret_is_never_left_behind_by_an_upgrade_without_the_key(
    runtime: Runtime,
) -> None:
    api = make_api(runtime, "Hooked")
    _put_back_a_plain_secret(runtime, api.client_id)
    with pytest.raises(RuntimeError, match="esign migrate"):
        migrate.upgrade(runtime.engine)
    with runtime.engine.connect() as conn:  # rolled back whole: still at 0004, as it was
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        assert _client_settings(conn, api.client_id)["webhook_secret"] == "whsec_from_before"


def test_a_process_with_another_key_stops_before_sealing_anything(runtime: Runtime) -> None:
    api = make_api(runtime, "Hooked")
    _put_back_a_plain_secret(runtime, api.client_id)
    startup.check_key(runtime.engine, runtime.deps.cipher.digest)  # (PostgreSQL: truncated)
    other_key = base64.urlsafe_b64encode(os.urandom(64)).decode()
    values = {**vars(runtime.settings), "secret_key": other_key}
    with pytest.raises(SettingsError, match="another secret key"):
        build_runtime(Settings(**values), clock=runtime.deps.clock)
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        assert _client_settings(conn, api.client_id)["webhook_secret"] == "whsec_from_before"
