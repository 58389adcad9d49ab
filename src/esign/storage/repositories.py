"""SQLAlchemy Core implementations of the domain's repositories. Every query names its client."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from esign.domain import audit as audit_chain
from esign.domain.audit import Actor, AuditEvent, AuditKind
from esign.domain.enums import LiteSortColumn, SessionStatus, UserStatus
from esign.domain.jobs import Job, JobStatus, WebhookAttempt, WebhookDelivery
from esign.domain.model import (
    ApiKey,
    Client,
    ClientSettings,
    Document,
    SessionInfo,
    Signer,
    SigningSession,
    User,
)
from esign.domain.ports import Page, SessionRow
from esign.storage import tables as t
from esign.storage.serialize import from_json, to_json


class ClientRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def add(self, client: Client) -> None:
        self._c.execute(
            insert(t.clients).values(
                id=client.id,
                name=client.name,
                created_at=client.created_at,
                settings=to_json(client.settings),
            )
        )

    def get(self, client_id: str) -> Client | None:
        query = select(t.clients).where(t.clients.c.id == client_id)
        row = self._c.execute(query).mappings().first()
        return _client(row) if row else None

    def update(self, client: Client) -> None:
        self._c.execute(
            update(t.clients)
            .where(t.clients.c.id == client.id)
            .values(name=client.name, settings=to_json(client.settings))
        )

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(t.clients)).scalar_one())

    def all(self) -> list[Client]:
        rows = self._c.execute(select(t.clients).order_by(t.clients.c.created_at)).mappings()
        return [_client(r) for r in rows]


def _client(row: RowMapping) -> Client:
    return Client(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        settings=from_json(ClientSettings, row["settings"]),
    )


class ApiKeyRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def add(self, key: ApiKey) -> None:
        self._c.execute(
            insert(t.api_keys).values(
                id=key.id,
                client_id=key.client_id,
                key_hash=key.key_hash,
                created_at=key.created_at,
                revoked_at=key.revoked_at,
            )
        )

    def get(self, key_id: str) -> ApiKey | None:
        query = select(t.api_keys).where(t.api_keys.c.id == key_id)
        row = self._c.execute(query).mappings().first()
        return ApiKey(**row) if row else None

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        row = (
            self._c.execute(select(t.api_keys).where(t.api_keys.c.key_hash == key_hash))
            .mappings()
            .first()
        )
        return ApiKey(**row) if row else None

    def revoke_all(self, client_id: str, now: datetime) -> None:
        self._c.execute(
            update(t.api_keys)
            .where(t.api_keys.c.client_id == client_id, t.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


_USER_COLUMNS = ("id", "client_id", "username", "status", "created_at")


class UserRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def _values(self, user: User) -> dict[str, Any]:
        data = to_json(user)
        return {
            "id": user.id,
            "client_id": user.client_id,
            "username": user.username.lower(),
            "status": int(user.status),
            "created_at": user.created_at,
            "data": {k: v for k, v in data.items() if k not in _USER_COLUMNS},
        }

    def add(self, user: User) -> None:
        self._c.execute(insert(t.users).values(**self._values(user)))

    def update(self, user: User) -> None:
        self._c.execute(
            update(t.users)
            .where(t.users.c.id == user.id, t.users.c.client_id == user.client_id)
            .values(**self._values(user))
        )

    def get(self, client_id: str, user_id: str) -> User | None:
        return self._one(and_(t.users.c.client_id == client_id, t.users.c.id == user_id))

    def find_by_username(self, client_id: str, username: str) -> User | None:
        return self._one(
            and_(t.users.c.client_id == client_id, t.users.c.username == username.strip().lower())
        )

    def _one(self, where: Any) -> User | None:
        row = self._c.execute(select(t.users).where(where)).mappings().first()
        if row is None:
            return None
        return from_json(
            User,
            row["data"],
            id=row["id"],
            client_id=row["client_id"],
            username=row["username"],
            status=UserStatus(row["status"]),
            created_at=row["created_at"],
        )


_SESSION_SKIP = ("documents", "signers", "owner_username", "info")


class SessionRepo:
    def __init__(self, conn: Connection, for_update_supported: bool) -> None:
        self._c = conn
        self._for_update = for_update_supported

    def add(self, session: SigningSession) -> None:
        self._c.execute(insert(t.sessions).values(version=0, **self._header(session)))
        self._write_children(session)

    def save(self, session: SigningSession) -> None:
        self._c.execute(
            update(t.sessions)
            .where(t.sessions.c.id == session.id, t.sessions.c.client_id == session.client_id)
            .values(version=t.sessions.c.version + 1, **self._header(session))
        )
        self._c.execute(delete(t.blob_refs).where(t.blob_refs.c.session_id == session.id))
        self._c.execute(delete(t.documents).where(t.documents.c.session_id == session.id))
        self._c.execute(delete(t.signers).where(t.signers.c.session_id == session.id))
        self._write_children(session)

    def _header(self, s: SigningSession) -> dict[str, Any]:
        data = {k: v for k, v in to_json(s).items() if k not in _SESSION_SKIP}
        data["info"] = to_json(s.info)
        return {
            "id": s.id,
            "client_id": s.client_id,
            "owner_user_id": s.owner_user_id,
            "status": int(s.status),
            "title": s.info.title,
            "transaction_id": s.info.transaction_id,
            "created_at": s.created_at,
            "status_changed_at": s.status_changed_at,
            "completed_at": s.completed_at,
            "expires_on": s.info.expires_on,
            "purge_due_at": s.purge_due_at,
            "data": data,
        }

    def _write_children(self, s: SigningSession) -> None:
        keys = {k for k in _blob_keys(s) if k}
        if keys:
            self._c.execute(
                insert(t.blob_refs), [{"blob_key": k, "session_id": s.id} for k in sorted(keys)]
            )
        if s.documents:
            self._c.execute(
                insert(t.documents),
                [
                    {"id": d.id, "session_id": s.id, "position": i, "data": to_json(d)}
                    for i, d in enumerate(s.documents)
                ],
            )
        if s.signers:
            self._c.execute(
                insert(t.signers),
                [
                    {
                        "id": g.id,
                        "session_id": s.id,
                        "client_id": s.client_id,
                        "position": i,
                        "status": int(g.status),
                        "data": to_json(g),
                    }
                    for i, g in enumerate(s.signers)
                ],
            )

    def get(
        self, client_id: str, session_id: str, *, for_update: bool = False
    ) -> SigningSession | None:
        query = (
            select(t.sessions, t.users.c.username)
            .join(t.users, t.users.c.id == t.sessions.c.owner_user_id)
            .where(t.sessions.c.id == session_id, t.sessions.c.client_id == client_id)
        )
        if for_update and self._for_update:
            query = query.with_for_update(of=t.sessions)
        row = self._c.execute(query).mappings().first()
        if row is None:
            return None
        docs = self._c.execute(
            select(t.documents.c.data)
            .where(t.documents.c.session_id == session_id)
            .order_by(t.documents.c.position)
        ).scalars()
        signers = self._c.execute(
            select(t.signers.c.data)
            .where(t.signers.c.session_id == session_id)
            .order_by(t.signers.c.position)
        ).scalars()
        data = row["data"]
        return from_json(
            SigningSession,
            data,
            id=row["id"],
            client_id=row["client_id"],
            owner_user_id=row["owner_user_id"],
            created_at=row["created_at"],
            info=from_json(SessionInfo, data["info"]),
            status=SessionStatus(row["status"]),
            documents=[from_json(Document, d) for d in docs],
            signers=[from_json(Signer, g) for g in signers],
            owner_username=row["username"],
        )

    def blob_in_use(self, blob_key: str) -> bool:
        return (
            self._c.execute(
                select(t.blob_refs.c.session_id).where(t.blob_refs.c.blob_key == blob_key).limit(1)
            ).first()
            is not None
        )

    def find_by_signer(self, client_id: str, signer_id: str) -> str | None:
        return self._c.execute(
            select(t.signers.c.session_id).where(
                t.signers.c.id == signer_id, t.signers.c.client_id == client_id
            )
        ).scalar()

    def by_transaction(self, client_id: str, owner_user_id: str, transaction_id: str) -> list[str]:
        return list(
            self._c.execute(
                select(t.sessions.c.id)
                .where(
                    t.sessions.c.client_id == client_id,
                    t.sessions.c.owner_user_id == owner_user_id,
                    t.sessions.c.transaction_id == transaction_id,
                )
                .order_by(t.sessions.c.created_at)
            ).scalars()
        )

    def lite_page(
        self,
        client_id: str,
        owner_user_id: str | None,
        transaction_id: str,
        sort: LiteSortColumn,
        descending: bool,
        page_size: int,
        page_num: int,
    ) -> Page:
        where = [t.sessions.c.client_id == client_id, t.sessions.c.transaction_id == transaction_id]
        if owner_user_id is not None:
            where.append(t.sessions.c.owner_user_id == owner_user_id)
        column = {
            LiteSortColumn.SIGNING_SESSION_ID: t.sessions.c.id,
            LiteSortColumn.TITLE: t.sessions.c.title,
            LiteSortColumn.TRANSACTION_ID: t.sessions.c.transaction_id,
            LiteSortColumn.STATUS_CODE: t.sessions.c.status,
            LiteSortColumn.CREATED_ON: t.sessions.c.created_at,
        }[sort]
        order = [column.desc() if descending else column.asc(), t.sessions.c.id.asc()]
        total = self._c.execute(
            select(func.count()).select_from(t.sessions).where(*where)
        ).scalar_one()
        rows = self._c.execute(
            select(
                t.sessions.c.id,
                t.sessions.c.title,
                t.sessions.c.transaction_id,
                t.sessions.c.status,
                t.sessions.c.created_at,
                t.users.c.username,
            )
            .join(t.users, t.users.c.id == t.sessions.c.owner_user_id)
            .where(*where)
            .order_by(*order)
            .limit(page_size)
            .offset(page_size * page_num)
        ).all()
        return Page(
            [SessionRow(r[0], r[1], r[2], SessionStatus(r[3]), r[4], r[5]) for r in rows],
            int(total),
        )

    def ids_with_status(
        self, client_id: str, status: SessionStatus, page_size: int, page_num: int
    ) -> tuple[list[str], int]:
        where = (t.sessions.c.client_id == client_id, t.sessions.c.status == int(status))
        total = self._c.execute(
            select(func.count()).select_from(t.sessions).where(*where)
        ).scalar_one()
        ids = self._c.execute(
            select(t.sessions.c.id)
            .where(*where)
            .order_by(t.sessions.c.status_changed_at.desc(), t.sessions.c.id)
            .limit(page_size)
            .offset(page_size * page_num)
        ).scalars()
        return list(ids), int(total)

    def due(self, now: datetime, archive_before: datetime, limit: int) -> list[tuple[str, str]]:
        s = t.sessions.c
        live = (int(SessionStatus.DRAFT), int(SessionStatus.SENT), int(SessionStatus.PAUSED))
        rows = self._c.execute(
            select(s.client_id, s.id)
            .where(
                or_(
                    and_(s.status.in_(live), s.expires_on.is_not(None), s.expires_on <= now),
                    and_(s.status == int(SessionStatus.TO_BE_PURGED), s.purge_due_at <= now),
                    and_(
                        s.status == int(SessionStatus.COMPLETED), s.completed_at <= archive_before
                    ),
                )
            )
            .limit(limit)
        ).all()
        return [(r[0], r[1]) for r in rows]


def _blob_keys(s: SigningSession) -> list[str | None]:
    return [
        *(d.blob_key for d in s.documents),
        *(g.signature_image_key for g in s.signers),
        *(g.initials_image_key for g in s.signers),
    ]


class AuditRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def append(self, event: AuditEvent) -> None:
        # Callers hold the session's write lock, so reading the head and appending is atomic;
        # the unique (session_id, seq) constraint catches anyone who did not.
        head = self._c.execute(
            select(t.audit_events.c.seq, t.audit_events.c.hash)
            .where(t.audit_events.c.session_id == event.session_id)
            .order_by(t.audit_events.c.seq.desc())
            .limit(1)
        ).first()
        seq, prev = (head[0] + 1, head[1]) if head else (1, audit_chain.GENESIS_HASH)
        audit_chain.seal(event, prev, seq)
        self._c.execute(
            insert(t.audit_events).values(
                id=event.id,
                session_id=event.session_id,
                client_id=event.client_id,
                seq=event.seq,
                kind=event.kind.value,
                description=event.description,
                actor=to_json(event.actor),
                at=event.at,
                data=event.data,
                prev_hash=event.prev_hash,
                hash=event.hash,
            )
        )

    def for_session(self, session_id: str) -> list[AuditEvent]:
        rows = self._c.execute(
            select(t.audit_events)
            .where(t.audit_events.c.session_id == session_id)
            .order_by(t.audit_events.c.seq)
        ).mappings()
        return [
            AuditEvent(
                id=r["id"],
                session_id=r["session_id"],
                client_id=r["client_id"],
                kind=AuditKind(r["kind"]),
                description=r["description"],
                actor=from_json(Actor, r["actor"]),
                at=r["at"],
                data=r["data"],
                seq=r["seq"],
                prev_hash=r["prev_hash"],
                hash=r["hash"],
            )
            for r in rows
        ]


class JobRepo:
    def __init__(self, conn: Connection, added: list[Job]) -> None:
        self._c = conn
        self._added = added

    def add(self, job: Job) -> bool:
        exists = self._c.execute(select(t.jobs.c.id).where(t.jobs.c.key == job.key)).first()
        if exists:
            return False
        self._c.execute(
            insert(t.jobs).values(
                id=job.id,
                name=job.name,
                key=job.key,
                payload=job.payload,
                status=job.status.value,
                run_at=job.run_at,
                attempts=job.attempts,
                last_error=job.last_error,
            )
        )
        self._added.append(job)
        return True

    def claim(self, job_id: str, now: datetime, lease_until: datetime) -> Job | None:
        j = t.jobs.c
        taken = self._c.execute(
            update(t.jobs)
            .where(
                j.id == job_id,
                j.run_at <= now,
                or_(
                    j.status == JobStatus.PENDING.value,
                    and_(j.status == JobStatus.RUNNING.value, j.lease_until < now),
                ),
            )
            .values(
                status=JobStatus.RUNNING.value, lease_until=lease_until, attempts=j.attempts + 1
            )
        )
        return self.get(job_id) if taken.rowcount == 1 else None

    def get(self, job_id: str) -> Job | None:
        r = self._c.execute(select(t.jobs).where(t.jobs.c.id == job_id)).mappings().first()
        if r is None:
            return None
        return Job(
            id=r["id"],
            name=r["name"],
            payload=r["payload"],
            key=r["key"],
            run_at=r["run_at"],
            status=JobStatus(r["status"]),
            attempts=r["attempts"],
            last_error=r["last_error"],
            lease_until=r["lease_until"],
        )

    def finish(self, job_id: str) -> None:
        self._set(job_id, status=JobStatus.DONE.value, lease_until=None)

    def retry_later(self, job_id: str, run_at: datetime, error: str) -> None:
        self._set(
            job_id,
            status=JobStatus.PENDING.value,
            run_at=run_at,
            lease_until=None,
            last_error=error[:2000],
        )

    def give_up(self, job_id: str, error: str) -> None:
        self._set(job_id, status=JobStatus.FAILED.value, lease_until=None, last_error=error[:2000])

    def _set(self, job_id: str, **values: Any) -> None:
        self._c.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(**values))

    def due_ids(self, now: datetime, limit: int) -> list[str]:
        j = t.jobs.c
        return list(
            self._c.execute(
                select(j.id)
                .where(
                    j.run_at <= now,
                    or_(
                        j.status == JobStatus.PENDING.value,
                        and_(j.status == JobStatus.RUNNING.value, j.lease_until < now),
                    ),
                )
                .order_by(j.run_at)
                .limit(limit)
            ).scalars()
        )


class WebhookRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def add(self, d: WebhookDelivery) -> None:
        self._c.execute(insert(t.webhook_deliveries).values(**self._values(d)))

    def save(self, d: WebhookDelivery) -> None:
        self._c.execute(
            update(t.webhook_deliveries)
            .where(t.webhook_deliveries.c.id == d.id)
            .values(**self._values(d))
        )

    @staticmethod
    def _values(d: WebhookDelivery) -> dict[str, Any]:
        return {
            "id": d.id,
            "client_id": d.client_id,
            "session_id": d.session_id,
            "url": d.url,
            "body": d.body,
            "created_at": d.created_at,
            "status": d.status,
            "next_attempt_at": d.next_attempt_at,
            "attempts": to_json(d.attempts),
        }

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        r = (
            self._c.execute(
                select(t.webhook_deliveries).where(t.webhook_deliveries.c.id == delivery_id)
            )
            .mappings()
            .first()
        )
        return _delivery(r) if r else None

    def page(
        self, client_id: str, page_size: int, page_num: int
    ) -> tuple[list[WebhookDelivery], int]:
        w = t.webhook_deliveries.c
        total = self._c.execute(
            select(func.count()).select_from(t.webhook_deliveries).where(w.client_id == client_id)
        ).scalar_one()
        rows = self._c.execute(
            select(t.webhook_deliveries)
            .where(w.client_id == client_id)
            .order_by(w.created_at.desc(), w.id)
            .limit(page_size)
            .offset(page_size * page_num)
        ).mappings()
        return [_delivery(r) for r in rows], int(total)


def _delivery(r: RowMapping) -> WebhookDelivery:
    return WebhookDelivery(
        id=r["id"],
        client_id=r["client_id"],
        session_id=r["session_id"],
        url=r["url"],
        body=r["body"],
        created_at=r["created_at"],
        status=r["status"],
        next_attempt_at=r["next_attempt_at"],
        attempts=[from_json(WebhookAttempt, a) for a in r["attempts"]],
    )


class RateLimitRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def failures_since(self, bucket: str, since: datetime) -> int:
        a = t.auth_failures.c
        return int(
            self._c.execute(
                select(func.count())
                .select_from(t.auth_failures)
                .where(a.bucket == bucket, a.at >= since)
            ).scalar_one()
        )

    def oldest_since(self, bucket: str, since: datetime) -> datetime | None:
        a = t.auth_failures.c
        return self._c.execute(
            select(func.min(a.at)).where(a.bucket == bucket, a.at >= since)
        ).scalar()

    def record_failure(self, bucket: str, now: datetime) -> None:
        self._c.execute(insert(t.auth_failures).values(bucket=bucket, at=now))


class SignerLinkRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def add(
        self, token_hash: str, client_id: str, session_id: str, signer_id: str, now: datetime
    ) -> None:
        self._c.execute(
            insert(t.signer_links).values(
                token_hash=token_hash,
                client_id=client_id,
                session_id=session_id,
                signer_id=signer_id,
                created_at=now,
            )
        )

    def find(self, token_hash: str) -> tuple[str, str, str] | None:
        r = self._c.execute(
            select(
                t.signer_links.c.client_id, t.signer_links.c.session_id, t.signer_links.c.signer_id
            ).where(t.signer_links.c.token_hash == token_hash)
        ).first()
        return (r[0], r[1], r[2]) if r else None
