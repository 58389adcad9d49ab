"""SQLAlchemy Core repositories of clients, keys, users, rate limits and signer links.

Every query names its client. Sessions, audit events and jobs have modules of their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from esign.domain.enums import UserStatus
from esign.domain.model import (
    ApiKey,
    Client,
    ClientSettings,
    User,
)
from esign.storage import tables as t
from esign.storage.serialize import from_json, to_json

# Built once: these run on every authenticated request.
_CLIENT_BY_ID = select(t.clients).where(t.clients.c.id == bindparam("cid"))
_KEY_BY_ID = select(t.api_keys).where(t.api_keys.c.id == bindparam("kid"))
_USER_BY_ID = select(t.users).where(
    t.users.c.client_id == bindparam("cid"), t.users.c.id == bindparam("value")
)
_USER_BY_NAME = select(t.users).where(
    t.users.c.client_id == bindparam("cid"), t.users.c.username == bindparam("value")
)


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
        row = self._c.execute(_CLIENT_BY_ID, {"cid": client_id}).mappings().first()
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
        row = self._c.execute(_KEY_BY_ID, {"kid": key_id}).mappings().first()
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
        return self._one(_USER_BY_ID, {"cid": client_id, "value": user_id})

    def find_by_username(self, client_id: str, username: str) -> User | None:
        return self._one(_USER_BY_NAME, {"cid": client_id, "value": username.strip().lower()})

    def with_username(self, username: str) -> list[User]:
        query = (
            select(t.users)
            .where(t.users.c.username == username.strip().lower())
            .order_by(t.users.c.created_at, t.users.c.id)
        )
        return [self._user(row) for row in self._c.execute(query).mappings()]

    def _one(self, query: Select[Any], params: dict[str, str]) -> User | None:
        row = self._c.execute(query, params).mappings().first()
        return None if row is None else self._user(row)

    @staticmethod
    def _user(row: Any) -> User:
        return from_json(
            User,
            row["data"],
            id=row["id"],
            client_id=row["client_id"],
            username=row["username"],
            status=UserStatus(row["status"]),
            created_at=row["created_at"],
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
