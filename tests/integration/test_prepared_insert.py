"""`storage.prepared.PreparedInsert` writes exactly what SQLAlchemy's own INSERT writes (dates
through UtcDateTime, JSON through the engine's serializer), inside the open transaction."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from esign.app import Runtime
from esign.services import clients
from esign.storage import tables as t
from esign.storage.prepared import PreparedInsert

EAST = timezone(timedelta(hours=2))


def _row(session_id: str, client_id: str, user_id: str, at: datetime) -> dict[str, object]:
    return {
        "id": session_id,
        "client_id": client_id,
        "owner_user_id": user_id,
        "status": 1,
        "title": "Ünïcode % title",
        "transaction_id": "TX-1",
        "created_at": at,
        "status_changed_at": at + timedelta(seconds=1),
        "completed_at": None,
        "expires_on": None,
        "purge_due_at": None,
        "deleted_at": None,
        "version": 0,
        "data": {"info": {"title": "x", "n": [1, 2.5, None]}, "flag": True},
    }


def test_rows_match_sqlalchemy_inserts(runtime: Runtime) -> None:
    made = clients.create_client(runtime.deps, "Acme", "admin@acme.example.com")
    with runtime.deps.uow(write=False) as uow:
        user = uow.users.find_by_username(made.client_id, made.admin_username)
    assert user is not None
    at = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    with runtime.engine.connect() as conn, conn.begin():
        conn.execute(insert(t.sessions), _row("by-sqlalchemy", made.client_id, user.id, at))
        PreparedInsert(t.sessions).run(
            conn,
            [
                _row("by-prepared-1", made.client_id, user.id, at),
                # The same moments written at another offset are stored the same.
                _row("by-prepared-2", made.client_id, user.id, at.astimezone(EAST)),
            ],
        )
    with runtime.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(t.sessions))}
    reference = rows.pop("by-sqlalchemy")._asdict()
    assert set(rows) == {"by-prepared-1", "by-prepared-2"}
    for row in rows.values():
        got = row._asdict()
        assert {k: v for k, v in got.items() if k != "id"} == {
            k: v for k, v in reference.items() if k != "id"
        }
    assert reference["created_at"] == at and reference["data"]["flag"] is True
    if runtime.engine.dialect.name == "sqlite":  # the very text, not just the value read back
        with runtime.engine.connect() as conn:
            texts = conn.exec_driver_sql(
                "SELECT created_at, status_changed_at, data FROM sessions ORDER BY id"
            ).fetchall()
        assert len(texts) == 3 and len(set(texts)) == 1, texts


def test_rolled_back_with_its_transaction(runtime: Runtime) -> None:
    made = clients.create_client(runtime.deps, "Acme", "admin@acme.example.com")
    with runtime.deps.uow(write=False) as uow:
        user = uow.users.find_by_username(made.client_id, made.admin_username)
    assert user is not None
    at = datetime(2030, 1, 1, tzinfo=UTC)
    with runtime.engine.connect() as conn:
        conn.begin()
        PreparedInsert(t.sessions).run(conn, [_row("gone", made.client_id, user.id, at)])
        conn.rollback()
    with runtime.engine.connect() as conn:
        assert conn.execute(select(t.sessions)).first() is None


def test_sqlite_connections_are_kept_open_and_go_with_the_engine(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        return
    from esign.storage.unit_of_work import SqlUnitOfWorkFactory

    factory = runtime.deps.uow
    assert isinstance(factory, SqlUnitOfWorkFactory)
    writers, readers = set(), set()
    for _ in range(3):
        with factory() as uow:
            writers.add(uow.sessions._c.connection.driver_connection)
            uow.commit()
        with factory(write=False) as uow:
            readers.add(uow.sessions._c.connection.driver_connection)
    assert len(writers) == 1 and len(readers) == 1 and writers != readers
    writer = factory._write_engine
    assert writer is not runtime.engine and writer.pool.checkedout() == 1
    assert runtime.engine.pool.checkedout() == 1
    runtime.engine.dispose()
    for dbapi in writers | readers:
        with pytest.raises(sqlite3.ProgrammingError):  # closed
            dbapi.execute("SELECT 1")


def test_a_kept_connection_left_in_a_transaction_is_not_kept(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        return
    from esign.storage.unit_of_work import SqlUnitOfWorkFactory

    factory = runtime.deps.uow
    assert isinstance(factory, SqlUnitOfWorkFactory) and factory._kept_readers is not None
    stuck = factory._kept_readers.take()
    stuck.begin()
    factory._kept_readers.give_back(stuck)
    assert stuck.closed
    with factory(write=False) as uow:
        assert uow.sessions._c is not stuck
