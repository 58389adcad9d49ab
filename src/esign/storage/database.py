"""Engines: SQLite (WAL, busy timeout, BEGIN IMMEDIATE for writers) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

WRITE_OPTION = "esign_write"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'esign.db').resolve()}"


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )


def writer_engine(engine: Engine) -> Engine | None:
    """SQLite: an engine of one connection for this process's writers, who queue on a lock
    anyway. SQLite drops a connection's page cache whenever another connection wrote since
    its last transaction, so writers taking turns on pooled connections re-read every page
    they touch (dozens of reads a CreateSession); one writer connection keeps its cache."""
    if engine.dialect.name != "sqlite":
        return None
    writer = _sqlite_engine(
        engine.url.render_as_string(hide_password=False), pool_size=1, cache_size=_WRITER_CACHE
    )
    event.listen(engine, "engine_disposed", lambda _engine: writer.dispose())
    return writer


# Decision 0031. The one writer connection keeps its page cache from write to write: 64 MB
# holds the indexes' upper levels and recent pages of a database of millions of rows (the
# default, 2 MB, re-read them every transaction once the database outgrew it). Readers'
# caches are dropped whenever anyone writes, so they keep the default and read through a
# memory map instead: a page re-read is a memory access, not a system call and a copy.
_WRITER_CACHE = -64 * 1024  # negative: KiB
_MEMORY_MAP = 256 * 1024 * 1024


def _sqlite_engine(url: str, pool_size: int = 20, cache_size: int = 0) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=pool_size,
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves, so writers can take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA mmap_size={_MEMORY_MAP}")
        if cache_size:
            cursor.execute(f"PRAGMA cache_size={cache_size}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer that only takes the lock at its first write can deadlock with another
        # writer that read first; BEGIN IMMEDIATE serialises writers from the start.
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        # On the driver's connection: this runs for every unit of work, and going through
        # Connection.exec_driver_sql costs more than the statement itself.
        conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            "BEGIN IMMEDIATE" if write else "BEGIN"
        )

    return engine
