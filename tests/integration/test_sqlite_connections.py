"""SQLite connections (decision 0031): every one reads through a memory map; the one writer
connection keeps a 64 MB page cache, the readers SQLite's default."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from esign.storage.database import make_engine, sqlite_url, writer_engine


def _pragma(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        value = conn.exec_driver_sql(f"PRAGMA {name}").scalar()
    assert isinstance(value, int)
    return value


def test_writer_keeps_a_large_cache_and_readers_map_the_file(tmp_path: Path) -> None:
    readers = make_engine(sqlite_url(tmp_path))
    writer = writer_engine(readers)
    assert writer is not None
    try:
        default_cache = -2000  # SQLite's own default: 2,000 KiB
        assert _pragma(readers, "cache_size") == default_cache
        assert _pragma(writer, "cache_size") == -64 * 1024
        for engine in (readers, writer):
            assert _pragma(engine, "mmap_size") == 256 * 1024 * 1024
            assert _pragma(engine, "synchronous") == 1  # NORMAL, under WAL
    finally:
        readers.dispose()


def test_no_writer_engine_for_postgresql() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    try:
        assert writer_engine(engine) is None
    finally:
        engine.dispose()
