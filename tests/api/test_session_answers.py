"""GetSession answers are rendered once per stored state of the session and kept
(services/views.py, docs/decisions/0021): every change, by this process or another one, is
seen by the next GetSession, and a kept answer never serves another client."""

from __future__ import annotations

from starlette.testclient import TestClient

from esign.app import build_app, build_runtime
from esign.domain.enums import SessionStatus
from esign.domain.model import SigningSession
from esign.services import queries
from esign.services.context import Caller
from tests.api.session_helpers import (
    S,
    assert_error,
    force_status,
    get_session,
    move_tx,
    new_session,
    start,
)
from tests.conftest import Api, FakeClock


def test_each_change_is_seen_by_the_next_get(api: Api) -> None:
    sid = new_session(api, TransactionId="TX-A")
    assert get_session(api, sid)["SessionInfo"]["TransactionId"] == "TX-A"
    moved = move_tx(api, sid, "TX-B")
    assert moved["ReturnValue"] == "True", moved
    assert get_session(api, sid)["SessionInfo"]["TransactionId"] == "TX-B"
    assert start(api, sid)["ReturnValue"] == "True"
    shown = get_session(api, sid)
    assert shown["SessionInfo"]["StatusCode"] == int(SessionStatus.SENT)
    assert [s["StatusCode"] for s in shown["Signers"]] != [0]


def test_a_renamed_owner_is_seen_by_the_next_get(api: Api) -> None:
    sid = new_session(api)
    assert get_session(api, sid)["SessionInfo"]["OwnerEmail"] == api.username
    renamed = api.put(
        "/rest/v1/users/updateByUsername",
        {"oldUsername": api.username, "user": {"Username": "boss@acme.example.com"}},
    )
    assert renamed["Message"] == "Success", renamed
    assert get_session(api, sid)["SessionInfo"]["OwnerEmail"] == "boss@acme.example.com"


def test_a_change_by_another_process_is_seen(api: Api, clock: FakeClock) -> None:
    sid = new_session(api)
    assert get_session(api, sid)["SessionInfo"]["StatusCode"] == int(SessionStatus.DRAFT)
    # A second server process: its own runtime and kept answers, on the same database.
    second = build_runtime(api.rt.settings, clock=clock)
    try:
        other = Api(TestClient(build_app(second)), second, api.client_id, api.api_key, api.username)
        other.login()
        assert get_session(other, sid)["SessionInfo"]["StatusCode"] == int(SessionStatus.DRAFT)
        assert start(other, sid)["ReturnValue"] == "True"
        assert get_session(api, sid)["SessionInfo"]["StatusCode"] == int(SessionStatus.SENT)
        assert start(api, sid)["Message"] == "Error"  # (already Sent: both see one state)
        force_status(api.rt, api, sid, SessionStatus.PAUSED)
        assert get_session(other, sid)["SessionInfo"]["StatusCode"] == int(SessionStatus.PAUSED)
    finally:
        second.engine.dispose()


def test_a_kept_answer_never_serves_another_client(api: Api, other_api: Api) -> None:
    sid = new_session(api)
    assert get_session(api, sid)["SigningSessionId"] == sid
    assert_error(other_api.get(f"{S}/{sid}"), code="session_not_found")


def test_an_unchanged_session_is_rendered_once(api: Api) -> None:
    sid = new_session(api)
    rendered: list[str] = []

    def render(session: SigningSession) -> bytes:
        rendered.append(session.info.transaction_id)
        return session.info.transaction_id.encode()

    caller = Caller(client_id=api.client_id, key_id=None, user_id=None)
    deps = api.rt.deps
    assert queries.session_answer(deps, caller, sid, render) == b"TX-1"
    assert queries.session_answer(deps, caller, f" {sid} ", render) == b"TX-1"
    assert rendered == ["TX-1"]
    assert move_tx(api, sid, "TX-2")["ReturnValue"] == "True"
    assert queries.session_answer(deps, caller, sid, render) == b"TX-2"
    assert rendered == ["TX-1", "TX-2"]


def test_a_reader_sees_one_state_of_the_session(api: Api) -> None:
    """The stamp and the session it stamps come from one snapshot (on PostgreSQL too, where
    read units of work are REPEATABLE READ), whatever commits in between."""
    sid = new_session(api, TransactionId="TX-A")
    with api.rt.deps.uow(write=False) as uow:
        before = uow.sessions.stamp(api.client_id, sid)
        assert move_tx(api, sid, "TX-B")["ReturnValue"] == "True"  # committed meanwhile
        assert uow.sessions.stamp(api.client_id, sid) == before
        session = uow.sessions.get(api.client_id, sid)
        assert session is not None and session.info.transaction_id == "TX-A"
    assert get_session(api, sid)["SessionInfo"]["TransactionId"] == "TX-B"
