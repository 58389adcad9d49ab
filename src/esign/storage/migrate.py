"""Bring the schema to the newest revision; safe when several processes start at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from esign.storage.database import WRITE_OPTION

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(
    engine: Engine,
    seal: Callable[[str], str] | None = None,
    protect: Callable[[str, str], str] | None = None,
) -> None:
    """`seal`: the server's keyed digest, for migrations that seal what they write;
    `protect`: its Cipher.protect, for migrations that encrypt secrets they find."""
    cfg = alembic_config()
    cfg.attributes["seal"] = seal
    cfg.attributes["protect"] = protect
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            # One migrator at a time across processes and machines.
            conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def revisions(engine: Engine) -> tuple[str | None, str]:
    """The database's schema revision (None before the first migration) and this code's."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision(), head
