"""One transaction per use case; jobs recorded in it reach the queue only after it commits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

from esign.domain.jobs import Job
from esign.domain.ports import JobDispatcher
from esign.storage.audit_repo import AuditRepo
from esign.storage.database import WRITE_OPTION, writer_engine
from esign.storage.job_repos import JobRepo, WebhookRepo
from esign.storage.repositories import (
    ApiKeyRepo,
    ClientRepo,
    RateLimitRepo,
    SignerLinkRepo,
    UserRepo,
)
from esign.storage.session_repo import SessionRepo
from esign.storage.template_repo import PageImageRepo, TemplateRepo


class KeptConnections:
    """SQLite: connections kept open from one unit of work to the next. Taking one from the
    pool (a Connection object, checkout and reset-on-return events) costs more than the
    statements of a GetSession, and a database file has no server that could drop it."""

    def __init__(self, engine: Engine, write: bool) -> None:
        self._engine = engine
        self._write = write
        self._free: list[Connection] = []
        event.listen(engine, "engine_disposed", self._close_all)

    def take(self) -> Connection:
        try:
            return self._free.pop()  # atomic: no lock needed
        except IndexError:
            return self._engine.connect().execution_options(**{WRITE_OPTION: self._write})

    def give_back(self, conn: Connection) -> None:
        if conn.invalidated or conn.closed:
            return
        if conn.in_transaction():  # its rollback failed: let the pool reset or drop it
            conn.close()
            return
        self._free.append(conn)

    def _close_all(self, _engine: Engine) -> None:
        # The engine's pool is gone: returning them to it would leave the files open.
        while self._free:
            conn = self._free.pop()
            conn.invalidate()
            conn.close()


class SqlUnitOfWork:
    """Repositories are made on first use: a use case touches two or three of them."""

    def __init__(
        self,
        engine: Engine,
        dispatcher: JobDispatcher | None,
        write: bool,
        write_lock: threading.Lock | None,
        seal: Callable[[str], str],
        kept: KeptConnections | None = None,
    ) -> None:
        self._engine = engine
        self._seal = seal
        self._kept = kept
        self._write_lock = write_lock if write else None
        self._dispatcher = dispatcher
        self._write = write
        self._conn: Connection | None = None
        self._added_jobs: list[Job] = []
        self._committed = False

    def __enter__(self) -> SqlUnitOfWork:
        if self._write_lock is not None:
            self._write_lock.acquire()
        try:
            return self._open()
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._write_lock is not None:
            self._write_lock.release()
            self._write_lock = None

    def _open(self) -> SqlUnitOfWork:
        if self._kept is not None:
            conn = self._kept.take()
        else:
            conn = self._engine.connect().execution_options(**self._options())
        try:
            conn.begin()
        except BaseException:
            self._put_away(conn)
            raise
        self._conn = conn
        self._for_update = self._engine.dialect.name == "postgresql"
        self._created: set[str] = set()  # sessions inserted here (their chains start anew)
        return self

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {WRITE_OPTION: self._write}
        if not self._write and self._engine.dialect.name == "postgresql":
            # One snapshot for all of a reader's statements, as SQLite's readers have: a
            # session's row and its documents never come from either side of a commit.
            options["isolation_level"] = "REPEATABLE READ"
        return options

    def _put_away(self, conn: Connection) -> None:
        if self._kept is not None:
            self._kept.give_back(conn)
        else:
            conn.close()

    @property
    def _c(self) -> Connection:
        assert self._conn is not None, "the unit of work is open"
        return self._conn

    @cached_property
    def clients(self) -> ClientRepo:
        return ClientRepo(self._c)

    @cached_property
    def api_keys(self) -> ApiKeyRepo:
        return ApiKeyRepo(self._c)

    @cached_property
    def users(self) -> UserRepo:
        return UserRepo(self._c)

    @cached_property
    def sessions(self) -> SessionRepo:
        return SessionRepo(self._c, self._for_update, self._created)

    @cached_property
    def templates(self) -> TemplateRepo:
        return TemplateRepo(self._c, self._for_update)

    @cached_property
    def page_images(self) -> PageImageRepo:
        return PageImageRepo(self._c)

    @cached_property
    def audit(self) -> AuditRepo:
        return AuditRepo(self._c, self._seal, self._created, self._for_update)

    @cached_property
    def jobs(self) -> JobRepo:
        return JobRepo(self._c, self._added_jobs)

    @cached_property
    def webhooks(self) -> WebhookRepo:
        return WebhookRepo(self._c)

    @cached_property
    def rate_limits(self) -> RateLimitRepo:
        return RateLimitRepo(self._c)

    @cached_property
    def signer_links(self) -> SignerLinkRepo:
        return SignerLinkRepo(self._c)

    def commit(self) -> None:
        assert self._conn is not None
        if "audit" in self.__dict__:  # events were buffered
            self.audit.flush()
        self._conn.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if not self._committed:
                self._conn.rollback()
        finally:
            self._put_away(self._conn)
            self._release()
        if self._committed and self._added_jobs and self._dispatcher is not None:
            self._dispatcher.dispatch(list(self._added_jobs))


class SqlUnitOfWorkFactory:
    def __init__(
        self,
        engine: Engine,
        dispatcher: JobDispatcher | None = None,
        *,
        seal: Callable[[str], str],
    ) -> None:
        """`seal`: the server's keyed digest, which seals each audit trail's head."""
        self.engine = engine
        self.dispatcher = dispatcher
        self._seal = seal
        # SQLite has one writer. Queueing this process's writers on a lock is fair and quick;
        # leaving them to SQLite's busy handler makes them sleep and retry (p99 of seconds).
        # They share one connection, whose page cache stays valid from write to write.
        sqlite = engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock() if sqlite else None
        self._write_engine = writer_engine(engine) or engine
        self._kept_writers = KeptConnections(self._write_engine, True) if sqlite else None
        self._kept_readers = KeptConnections(engine, False) if sqlite else None

    def __call__(self, *, write: bool = True) -> SqlUnitOfWork:
        engine = self._write_engine if write else self.engine
        kept = self._kept_writers if write else self._kept_readers
        return SqlUnitOfWork(engine, self.dispatcher, write, self._write_lock, self._seal, kept)
