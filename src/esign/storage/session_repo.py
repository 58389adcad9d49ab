"""The signing-session aggregate: a `sessions` row, its documents and its signers.

Hot statements are built once with bind parameters, so a request pays for executing them,
not for constructing and cache-keying them again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection

from esign.domain.enums import LiteSortColumn, SessionStatus
from esign.domain.lifecycle import LISTED_APART
from esign.domain.model import Document, SessionInfo, Signer, SigningSession
from esign.domain.ports import Page, SessionRow
from esign.storage import tables as t
from esign.storage.prepared import PreparedInsert
from esign.storage.serialize import from_json, to_json, to_json_text

_s, _d, _g = t.sessions.c, t.documents.c, t.signers.c
_LISTED_WITH_THE_TRANSACTION = (
    _s.status.not_in(sorted(int(status) for status in LISTED_APART)),
    _s.deleted_at.is_(None),
)

_GET = (
    select(t.sessions, t.users.c.username)
    .join(t.users, t.users.c.id == _s.owner_user_id)
    .where(_s.id == bindparam("sid"), _s.client_id == bindparam("cid"))
)
_GET_FOR_UPDATE = _GET.with_for_update(of=t.sessions)
_STAMP = (
    select(_s.version, t.users.c.username)
    .join(t.users, t.users.c.id == _s.owner_user_id)
    .where(_s.id == bindparam("sid"), _s.client_id == bindparam("cid"))
)
_CHILDREN = union_all(
    select(literal(0).label("kind"), _d.position, _d.data).where(_d.session_id == bindparam("sid")),
    select(literal(1).label("kind"), _g.position, _g.data).where(_g.session_id == bindparam("sid")),
).order_by("kind", "position")
_INSERT_SESSION = PreparedInsert(t.sessions)
_UPDATE_SESSION = update(t.sessions).where(
    _s.id == bindparam("b_id"), _s.client_id == bindparam("b_cid")
)
_DELETE_REFS = delete(t.blob_refs).where(t.blob_refs.c.session_id == bindparam("sid"))
_DELETE_DOCS = delete(t.documents).where(_d.session_id == bindparam("sid"))
_DELETE_SIGNERS = delete(t.signers).where(_g.session_id == bindparam("sid"))
_INSERT_REFS = PreparedInsert(t.blob_refs)
_INSERT_DOCS = PreparedInsert(t.documents)
_INSERT_SIGNERS = PreparedInsert(t.signers)


class SessionRepo:
    def __init__(
        self, conn: Connection, for_update_supported: bool, created: set[str] | None = None
    ) -> None:
        self._c = conn
        self._for_update = for_update_supported
        self._created = created if created is not None else set()

    def add(self, session: SigningSession) -> None:
        _INSERT_SESSION.run(self._c, [{"version": 0, **self._header(session)}])
        self._created.add(session.id)
        self._write_children(session)

    def save(self, session: SigningSession) -> None:
        values = self._header(session)
        del values["id"], values["client_id"]
        self._c.execute(
            _UPDATE_SESSION.values(version=_s.version + 1),
            {"b_id": session.id, "b_cid": session.client_id, **values},
        )
        for statement in (_DELETE_REFS, _DELETE_DOCS, _DELETE_SIGNERS):
            self._c.execute(statement, {"sid": session.id})
        self._write_children(session)

    @staticmethod
    def _header(s: SigningSession) -> dict[str, Any]:
        data = {
            "status_before_purge": to_json(s.status_before_purge),
            "last_reminder_at": to_json(s.last_reminder_at),
            "info": to_json_text(s.info),
        }
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
            "deleted_at": s.deleted_at,
            "data": data,
        }

    def _write_children(self, s: SigningSession) -> None:
        keys = {k for k in _blob_keys(s) if k}
        if keys:
            _INSERT_REFS.run(self._c, [{"blob_key": k, "session_id": s.id} for k in sorted(keys)])
        if s.documents:
            _INSERT_DOCS.run(
                self._c,
                [
                    {"id": d.id, "session_id": s.id, "position": i, "data": to_json_text(d)}
                    for i, d in enumerate(s.documents)
                ],
            )
        if s.signers:
            _INSERT_SIGNERS.run(
                self._c,
                [
                    {
                        "id": g.id,
                        "session_id": s.id,
                        "client_id": s.client_id,
                        "position": i,
                        "status": int(g.status),
                        "data": to_json_text(g),
                    }
                    for i, g in enumerate(s.signers)
                ],
            )

    def get(
        self, client_id: str, session_id: str, *, for_update: bool = False
    ) -> SigningSession | None:
        query = _GET_FOR_UPDATE if for_update and self._for_update else _GET
        row = self._c.execute(query, {"sid": session_id, "cid": client_id}).mappings().first()
        if row is None:
            return None
        documents: list[Document] = []
        signers: list[Signer] = []
        for kind, _, data in self._c.execute(_CHILDREN, {"sid": session_id}):
            if kind == 0:
                documents.append(from_json(Document, data))
            else:
                signers.append(from_json(Signer, data))
        data = row["data"]
        return from_json(
            SigningSession,
            data,
            id=row["id"],
            client_id=row["client_id"],
            owner_user_id=row["owner_user_id"],
            created_at=row["created_at"],
            status_changed_at=row["status_changed_at"],
            completed_at=row["completed_at"],
            purge_due_at=row["purge_due_at"],
            deleted_at=row["deleted_at"],
            info=from_json(SessionInfo, data["info"]),
            status=SessionStatus(row["status"]),
            documents=documents,
            signers=signers,
            owner_username=row["username"],
        )

    def stamp(self, client_id: str, session_id: str) -> tuple[int, str] | None:
        row = self._c.execute(_STAMP, {"sid": session_id, "cid": client_id}).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def blob_in_use(self, blob_key: str) -> bool:
        by_session = select(t.blob_refs.c.blob_key).where(t.blob_refs.c.blob_key == blob_key)
        by_template = select(t.templates.c.blob_key).where(t.templates.c.blob_key == blob_key)
        return any(
            self._c.execute(q.limit(1)).first() is not None for q in (by_session, by_template)
        )

    def client_holding(self, session_id: str) -> str | None:
        return self._c.execute(select(_s.client_id).where(_s.id == session_id)).scalar()

    def find_by_signer(self, client_id: str, signer_id: str) -> str | None:
        return self._c.execute(
            select(_g.session_id).where(_g.id == signer_id, _g.client_id == client_id)
        ).scalar()

    def by_transaction(self, client_id: str, owner_user_id: str, transaction_id: str) -> list[str]:
        return list(
            self._c.execute(
                select(_s.id)
                .where(
                    _s.client_id == client_id,
                    _s.owner_user_id == owner_user_id,
                    _s.transaction_id == transaction_id,
                    *_LISTED_WITH_THE_TRANSACTION,
                )
                .order_by(_s.created_at)
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
        where = [
            _s.client_id == client_id,
            _s.transaction_id == transaction_id,
            *_LISTED_WITH_THE_TRANSACTION,
        ]
        if owner_user_id is not None:
            where.append(_s.owner_user_id == owner_user_id)
        column = {
            LiteSortColumn.SIGNING_SESSION_ID: _s.id,
            # Text sorts as people read it: "alpha" before "Bravo".
            LiteSortColumn.TITLE: func.lower(_s.title),
            LiteSortColumn.TRANSACTION_ID: func.lower(_s.transaction_id),
            LiteSortColumn.STATUS_CODE: _s.status,
            LiteSortColumn.CREATED_ON: _s.created_at,
        }[sort]
        order = [column.desc() if descending else column.asc(), _s.id.asc()]
        total = self._c.execute(
            select(func.count()).select_from(t.sessions).where(*where)
        ).scalar_one()
        rows = self._c.execute(
            select(_s.id, _s.title, _s.transaction_id, _s.status, _s.created_at, t.users.c.username)
            .join(t.users, t.users.c.id == _s.owner_user_id)
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
        # GetDeletedSessions: every session once deleted, its documents since purged or not.
        deleted = status is SessionStatus.DELETED
        where = (
            _s.client_id == client_id,
            _s.deleted_at.is_not(None) if deleted else _s.status == int(status),
        )
        total = self._c.execute(
            select(func.count()).select_from(t.sessions).where(*where)
        ).scalar_one()
        ids = self._c.execute(
            select(_s.id)
            .where(*where)
            .order_by(_s.status_changed_at.desc(), _s.id)
            .limit(page_size)
            .offset(page_size * page_num)
        ).scalars()
        return list(ids), int(total)

    def due(self, now: datetime, archive_before: datetime, limit: int) -> list[tuple[str, str]]:
        live = (int(SessionStatus.DRAFT), int(SessionStatus.SENT), int(SessionStatus.PAUSED))
        rows = self._c.execute(
            select(_s.client_id, _s.id)
            .where(
                or_(
                    and_(_s.status.in_(live), _s.expires_on.is_not(None), _s.expires_on <= now),
                    and_(
                        _s.status.in_(
                            (int(SessionStatus.TO_BE_PURGED), int(SessionStatus.DELETED))
                        ),
                        _s.purge_due_at <= now,
                    ),
                    and_(
                        _s.status == int(SessionStatus.COMPLETED), _s.completed_at <= archive_before
                    ),
                )
            )
            .limit(limit)
        ).all()
        return [(r[0], r[1]) for r in rows]


def _blob_keys(s: SigningSession) -> list[str | None]:
    return [
        *(d.blob_key for d in s.documents),
        *(d.original_blob_key for d in s.documents),
        *(g.signature_image_key for g in s.signers),
        *(g.initials_image_key for g in s.signers),
    ]
