"""Read-only session use cases: one session, listings, the audit trail, invite links, roles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from esign.domain.audit import AuditEvent, ChainBreak, verify_chain, verify_head
from esign.domain.enums import LiteSortColumn, SessionStatus
from esign.domain.errors import (
    SessionNotFound,
    ValidationFailed,
)
from esign.domain.model import SigningSession
from esign.domain.ports import Page, UnitOfWork
from esign.services.context import Caller, Deps
from esign.services.sessions import client_of, load, user_named


def get_session(
    deps: Deps, caller: Caller, session_id: str, username: str | None = None
) -> SigningSession:
    """One session; with `username`, on behalf of that user, who must be one of the client's."""
    with deps.uow(write=False) as uow:
        if username is not None:
            user_named(uow, caller, username)
        return load(uow, caller, session_id)


def session_answer(
    deps: Deps, caller: Caller, session_id: str, render: Callable[[SigningSession], bytes]
) -> bytes:
    """One session as `render` writes it, rendered again only when the stored session changed
    since the kept answer (services/views.py). The stamp and the session are read in one
    snapshot (decision 0022), so an answer is kept under the stamp of the state it shows."""
    session_id = session_id.strip()
    key = (render, caller.client_id, session_id)
    with deps.uow(write=False) as uow:
        stamp = uow.sessions.stamp(caller.client_id, session_id)
        if stamp is None:
            raise SessionNotFound(session_id=session_id)
        kept = deps.views.get(key, stamp)
        if kept is not None:
            return kept
        session = load(uow, caller, session_id)
    answer = render(session)
    deps.views.put(key, stamp, answer)
    return answer


def page_bounds(page_size: int, page_num: int, largest: int, num_field: str = "pageNum") -> None:
    if not 1 <= page_size <= largest:
        raise ValidationFailed(field="pageSize", reason=f"must be between 1 and {largest}")
    if page_num < 0:
        raise ValidationFailed(field=num_field, reason="must be 0 or more (pages count from 0)")


def lite_sessions(
    deps: Deps,
    caller: Caller,
    username: str,
    transaction_id: str,
    page_size: int,
    page_num: int,
    sort: LiteSortColumn,
    descending: bool,
) -> Page:
    page_bounds(page_size, page_num, deps.limits.max_page_size)
    with deps.uow(write=False) as uow:
        user = user_named(uow, caller, username)
        return uow.sessions.lite_page(
            caller.client_id, user.id, transaction_id, sort, descending, page_size, page_num
        )


def sessions_with_status(
    deps: Deps, caller: Caller, status: SessionStatus, page_size: int, page_num: int
) -> tuple[list[str], int]:
    page_bounds(page_size, page_num, deps.limits.max_id_page_size)
    with deps.uow(write=False) as uow:
        return uow.sessions.ids_with_status(caller.client_id, status, page_size, page_num)


def sessions_by_transaction(
    deps: Deps, caller: Caller, username: str, transaction_id: str
) -> list[SigningSession]:
    with deps.uow(write=False) as uow:
        user = user_named(uow, caller, username)
        ids = uow.sessions.by_transaction(caller.client_id, user.id, transaction_id)
        return [load(uow, caller, i) for i in ids]


def action_logs(deps: Deps, caller: Caller, session_id: str) -> list[AuditEvent]:
    with deps.uow(write=False) as uow:
        session = load(uow, caller, session_id)
        return uow.audit.for_session(session.id)


@dataclass(frozen=True, slots=True)
class ChainReport:
    session_found: bool
    events: int
    head: str
    broken: ChainBreak | None


def verify_audit(deps: Deps, session_id: str) -> ChainReport:
    """For operators (`esign audit verify`): check a session's hash chain, any client, or a
    client's own trail (its id in place of a session's)."""
    with deps.uow(write=False) as uow:
        found = (
            uow.sessions.client_holding(session_id) is not None
            or uow.clients.get(session_id) is not None
        )
        return _check_trail(deps, uow, session_id, found)


def verify_session_audit(deps: Deps, caller: Caller, session_id: str) -> ChainReport:
    """The same check of one of the caller's sessions (VerifySessionActionLogs)."""
    with deps.uow(write=False) as uow:
        session = load(uow, caller, session_id)
        return _check_trail(deps, uow, session.id, True)


def _check_trail(deps: Deps, uow: UnitOfWork, chain_id: str, found: bool) -> ChainReport:
    trail, unreadable = uow.audit.read_trail(chain_id)
    head = trail[-1].hash if trail else ""
    # The first broken link, wherever it is; then whether the trail ends where it should.
    broken = (
        verify_chain(trail)
        or unreadable
        or verify_head(chain_id, trail, uow.audit.read_head(chain_id), deps.cipher.digest)
    )
    if found and not trail and unreadable is None:  # each trail starts with its creation
        broken = ChainBreak(1, "", "the trail has no events at all")
    return ChainReport(found, len(trail) + (unreadable is not None), head, broken)


def roles(deps: Deps, caller: Caller) -> list[str]:
    with deps.uow(write=False) as uow:
        return list(client_of(uow, caller).settings.roles)
