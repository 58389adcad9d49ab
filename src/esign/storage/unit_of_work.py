"""One transaction per use case; jobs recorded in it reach the queue only after it commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from esign.domain.jobs import Job
from esign.domain.ports import JobDispatcher
from esign.storage.database import WRITE_OPTION
from esign.storage.repositories import (
    ApiKeyRepo,
    AuditRepo,
    ClientRepo,
    JobRepo,
    RateLimitRepo,
    SessionRepo,
    SignerLinkRepo,
    UserRepo,
    WebhookRepo,
)


class SqlUnitOfWork:
    clients: ClientRepo
    api_keys: ApiKeyRepo
    users: UserRepo
    sessions: SessionRepo
    audit: AuditRepo
    jobs: JobRepo
    webhooks: WebhookRepo
    rate_limits: RateLimitRepo
    signer_links: SignerLinkRepo

    def __init__(self, engine: Engine, dispatcher: JobDispatcher | None, write: bool) -> None:
        self._engine = engine
        self._dispatcher = dispatcher
        self._write = write
        self._conn: Connection | None = None
        self._added_jobs: list[Job] = []
        self._committed = False

    def __enter__(self) -> SqlUnitOfWork:
        conn = self._engine.connect().execution_options(**{WRITE_OPTION: self._write})
        conn.begin()
        self._conn = conn
        for_update = self._engine.dialect.name == "postgresql"
        self.clients = ClientRepo(conn)
        self.api_keys = ApiKeyRepo(conn)
        self.users = UserRepo(conn)
        self.sessions = SessionRepo(conn, for_update)
        self.audit = AuditRepo(conn)
        self.jobs = JobRepo(conn, self._added_jobs)
        self.webhooks = WebhookRepo(conn)
        self.rate_limits = RateLimitRepo(conn)
        self.signer_links = SignerLinkRepo(conn)
        return self

    def commit(self) -> None:
        assert self._conn is not None
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
            self._conn.close()
        if self._committed and self._added_jobs and self._dispatcher is not None:
            self._dispatcher.dispatch(list(self._added_jobs))


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine, dispatcher: JobDispatcher | None = None) -> None:
        self.engine = engine
        self.dispatcher = dispatcher

    def __call__(self, *, write: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.dispatcher, write)
