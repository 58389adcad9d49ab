"""The Alembic migrations build exactly the schema `storage/tables.py` describes, on SQLite and
PostgreSQL, and step down again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from esign.app import Runtime
from esign.storage.migrate import alembic_config
from esign.storage.tables import metadata


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
