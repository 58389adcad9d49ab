"""The audit trail (contract §6): every action leaves a hash-chained event with actor, IP,
user agent and time; GetSessionActionLogs returns them in order; `esign audit verify` names
the first broken link after tampering."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update

from esign.app import Runtime
from esign.storage import tables as t
from tests.conftest import Api, FakeClock, pdf_document, signer
from tests.integration.conftest import ms, ms_of, run_cli

GENESIS = "0" * 64


def _logs(api: Api, sid: str) -> list[dict[str, Any]]:
    answer = api.get(f"/rest/v1/sessions/{sid}/actionlogs")
    assert answer["Message"] == "Success", answer
    assert answer["TotalCount"] == len(answer["ActionLogs"])
    logs: list[dict[str, Any]] = answer["ActionLogs"]
    return logs


def _session_with_history(api: Api, clock: FakeClock) -> tuple[str, list[tuple[str, int]]]:
    """Create, update, start, pause, ask for links, cancel: one second apart.
    Returns the session id and the (action, time in ms) expected in the trail."""
    expected: list[tuple[str, int]] = []
    sid = api.create_session()["SigningSessionId"]
    expected += [(k, ms_of(clock.now())) for k in ("session.created", "document.added")]
    expected += [("signer.added", ms_of(clock.now()))]
    clock.advance(seconds=1)
    answer = api.post(
        "/rest/v1/sessions/updatesession",
        {
            "userName": api.username,
            "session": {
                "Id": sid,
                "Documents": [pdf_document("addendum.pdf")],
                "Signers": [signer("Buyer 1")],
            },
        },
    )
    assert answer["Message"] == "Success" and answer["Details"] == [], answer
    expected += [(k, ms_of(clock.now())) for k in ("document.added", "signer.added")]
    clock.advance(seconds=1)
    assert api.put(f"/rest/v1/sessions/{sid}/start")["Message"] == "Success"
    now = ms_of(clock.now())
    expected += [("signer.invited", now), ("signer.invited", now), ("session.started", now)]
    clock.advance(seconds=1)
    paused = api.put(f"/rest/v1/sessions/EditSession/{sid}", {"userName": api.username})
    assert paused["Message"] == "Success", paused
    expected += [("session.paused", ms_of(clock.now()))]
    clock.advance(seconds=1)
    assert api.get(f"/rest/v1/sessions/{sid}/inviteurls")["Message"] == "Success"
    expected += [("signer.link_issued", ms_of(clock.now()))] * 2
    clock.advance(seconds=1)
    assert api.put(f"/rest/v1/sessions/{sid}/cancel")["Message"] == "Success"
    now = ms_of(clock.now())
    expected += [("session.cancelled", now), ("signer.cancelled", now), ("signer.cancelled", now)]
    return sid, expected


def test_every_action_is_logged_in_order_with_actor_ip_agent_and_time(
    api: Api, clock: FakeClock
) -> None:
    sid, expected = _session_with_history(api, clock)
    logs = _logs(api, sid)
    assert [(e["Action"], ms(e["Date"])) for e in logs] == expected
    assert [e["Sequence"] for e in logs] == list(range(1, len(expected) + 1))
    for event in logs:
        assert event["IPAddress"] == "testclient", event  # TestClient's client host
        assert event["UserAgent"] == "testclient", event
        assert event["Actor"], event
        assert event["Description"].strip(), event
    # The admin who owns the session is named where the call names a user.
    assert logs[0]["Actor"] == api.username
    assert api.username in logs[0]["Description"]
    # Each event carries the hash of the one before it.
    assert logs[0]["PreviousHash"] == GENESIS
    for before, after in itertools.pairwise(logs):
        assert after["PreviousHash"] == before["Hash"]
    assert len({e["Hash"] for e in logs}) == len(logs)


def test_user_agent_and_address_come_from_the_request(api: Api) -> None:
    sid = api.create_session()["SigningSessionId"]
    response = api.http.put(
        f"/rest/v1/sessions/{sid}/cancel",
        headers={**api.headers, "User-Agent": "BrokerCRM/7.2 (+https://crm.example)"},
    )
    assert response.json()["Message"] == "Success"
    cancelled, signer_cancelled = _logs(api, sid)[-2:]
    assert (cancelled["Action"], signer_cancelled["Action"]) == (
        "session.cancelled",
        "signer.cancelled",
    )
    for event in (cancelled, signer_cancelled):
        assert event["UserAgent"] == "BrokerCRM/7.2 (+https://crm.example)"
        assert event["IPAddress"] == "testclient"


def test_refused_items_are_logged_too(api: Api) -> None:
    sid = api.create_session()["SigningSessionId"]
    answer = api.post(
        "/rest/v1/sessions/updatesession",
        {
            "userName": api.username,
            "session": {
                "Id": sid,
                "Documents": [{"FileName": "notes.pdf", "FileBytes": "aGVsbG8="}],
                "Signers": [signer("Seller 1", email="other@example.com")],
            },
        },
    )
    assert answer["Message"] == "Success" and len(answer["Details"]) == 2, answer
    actions = [e["Action"] for e in _logs(api, sid)]
    assert actions[-2:] == ["document.refused", "signer.refused"]


def test_action_logs_are_scoped_to_the_client(api: Api, other_api: Api) -> None:
    sid = api.create_session()["SigningSessionId"]
    answer = other_api.get(f"/rest/v1/sessions/{sid}/actionlogs")
    assert answer["Message"] == "Error"
    assert answer["ErrorCodes"] == ["session_not_found"]
    assert "ActionLogs" not in answer or not answer["ActionLogs"]


# --- `esign audit verify` ----------------------------------------------------------------------


def _trail(rt: Runtime, sid: str) -> list[dict[str, Any]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_events)
            .where(t.audit_events.c.session_id == sid)
            .order_by(t.audit_events.c.seq)
        ).mappings()
        return [dict(r) for r in rows]


def _change(rt: Runtime, sid: str, seq: int, **values: Any) -> None:
    with rt.engine.begin() as conn:
        changed = conn.execute(
            update(t.audit_events)
            .where(t.audit_events.c.session_id == sid, t.audit_events.c.seq == seq)
            .values(**values)
        )
        assert changed.rowcount == 1


@pytest.fixture
def history(api: Api, clock: FakeClock) -> str:
    sid, expected = _session_with_history(api, clock)
    assert len(expected) == 14
    return sid


def test_untampered_trail_verifies(
    runtime: Runtime,
    history: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 0, out
    head = _trail(runtime, history)[-1]["hash"]
    assert out.strip() == f"OK: 14 events, chain head {head}"


def test_unknown_session_is_not_ok(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_cli(
        monkeypatch, capsys, runtime, "audit", "verify", "00000000-0000-0000-0000-000000000000"
    )
    assert (code, out) == (2, "")  # "no session …" on stderr: not a broken trail, no trail


def test_a_session_whose_whole_trail_was_deleted_is_broken(
    runtime: Runtime,
    history: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(delete(t.audit_events).where(t.audit_events.c.session_id == history))
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 1
    assert out.startswith(f"BROKEN: session {history} has no audit events"), out


@pytest.mark.parametrize(
    ("column", "tamper"),
    [
        ("description", lambda row: row["description"] + " (and nothing else happened)"),
        ("actor", lambda row: {**row["actor"], "ip": "203.0.113.9"}),
        ("at", lambda row: row["at"] - timedelta(hours=2)),
        ("data", lambda row: {**row["data"], "sha256": "0" * 64}),
        ("kind", lambda row: "session.viewed"),
    ],
)
def test_tampered_row_is_named(
    runtime: Runtime,
    history: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    column: str,
    tamper: Any,
) -> None:
    seq = 4  # the addendum's document.added event, which has data to tamper with
    row = _trail(runtime, history)[seq - 1]
    assert row["kind"] == "document.added"
    _change(runtime, history, seq, **{column: tamper(row)})
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 1, out
    assert out.startswith(f"BROKEN at event #{seq} ({row['id']})"), out
    assert "content does not match its hash" in out


# Stored values no event can be read from. Some only SQLite takes: PostgreSQL's column types
# refuse them.
UNREADABLE = [
    ("kind", "'bogus.kind'", True),
    ("actor", "'\"a string\"'", True),
    ("data", "'[1]'", True),
    ("actor", "'not json'", False),
    ("at", "'garbage'", False),
]


@pytest.mark.parametrize(("column", "value", "anywhere"), UNREADABLE)
def test_an_unreadable_row_is_named_and_answered_without_a_crash(
    api: Api,
    runtime: Runtime,
    history: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    column: str,
    value: str,
    anywhere: bool,
) -> None:
    if not anywhere and runtime.engine.dialect.name != "sqlite":
        pytest.skip("the database's own types refuse this value")
    row = _trail(runtime, history)[3]
    with runtime.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE audit_events SET {column} = {value} WHERE session_id = :s AND seq = 4"),
            {"s": history},
        )
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 1, out
    assert out.startswith(f"BROKEN at event #4 ({row['id']}): the stored event cannot be read")
    answer = api.http.get(f"/rest/v1/sessions/{history}/actionlogs", headers=api.headers)
    assert answer.status_code == 200
    assert answer.json()["ErrorCodes"] == ["audit_trail_damaged"]
    assert "Event #4 of this session's audit trail cannot be read" in answer.json()["Details"][0]


def test_the_first_broken_link_is_named_before_an_unreadable_row(
    runtime: Runtime,
    history: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = _trail(runtime, history)[1]
    _change(runtime, history, 2, description="rewritten")
    _change(runtime, history, 4, kind="bogus.kind")
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 1
    assert out.startswith(f"BROKEN at event #2 ({first['id']}): content does not match"), out


def test_rehashed_row_breaks_the_next_link(
    runtime: Runtime,
    history: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Someone who edits a row and recomputes its own hash is caught by the next event."""
    trail = _trail(runtime, history)
    _change(runtime, history, 6, description="forged", hash=hashlib.sha256(b"forged").hexdigest())
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 1
    # Event 6's stored hash no longer matches its content: that is the first broken link.
    assert out.startswith(f"BROKEN at event #6 ({trail[5]['id']})"), out
    # Put event 6 back and break only the link that event 7 holds to it.
    _change(runtime, history, 6, description=trail[5]["description"], hash=trail[5]["hash"])
    _change(runtime, history, 7, prev_hash=hashlib.sha256(b"x").hexdigest())
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 1
    assert out.startswith(f"BROKEN at event #7 ({trail[6]['id']})"), out
    assert "previous-hash link does not match" in out


def test_deleted_middle_row_is_detected(
    runtime: Runtime,
    history: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trail = _trail(runtime, history)
    with runtime.engine.begin() as conn:
        conn.execute(delete(t.audit_events).where(t.audit_events.c.id == trail[6]["id"]))
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 1, out
    # The gap is at seq 7: the event now in its place (seq 8) is the first broken link.
    assert out.startswith(f"BROKEN at event #8 ({trail[7]['id']})"), out
    assert "expected 7" in out


def test_renumbered_deletion_is_still_detected(
    runtime: Runtime,
    history: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Closing the gap (renumbering the later rows) does not hide a deletion."""
    trail = _trail(runtime, history)
    with runtime.engine.begin() as conn:
        conn.execute(delete(t.audit_events).where(t.audit_events.c.id == trail[6]["id"]))
        for row in trail[7:]:
            conn.execute(
                update(t.audit_events)
                .where(t.audit_events.c.id == row["id"])
                .values(seq=row["seq"] - 1)
            )
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", history)
    assert code == 1, out
    assert out.startswith(f"BROKEN at event #7 ({trail[7]['id']})"), out


def test_actions_after_verification_extend_the_same_chain(
    api: Api,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sid = api.create_session()["SigningSessionId"]
    code, first = run_cli(monkeypatch, capsys, runtime, "audit", "verify", sid)
    assert code == 0, first
    assert api.put(f"/rest/v1/sessions/{sid}/cancel")["Message"] == "Success"
    code, second = run_cli(monkeypatch, capsys, runtime, "audit", "verify", sid)
    assert code == 0, second
    logs = _logs(api, sid)
    # The old head is now the parent of the cancellation (and of its signer's cancellation).
    assert first.split()[-1] == logs[-3]["Hash"] == logs[-2]["PreviousHash"]
    assert second.split()[-1] == logs[-1]["Hash"]
    assert json.dumps(logs)  # plain JSON all the way down


# --- the sealed head (decision 0041) ----------------------------------------------------------


def _verify(
    runtime: Runtime, sid: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> tuple[int, str]:
    code, out = run_cli(monkeypatch, capsys, runtime, "audit", "verify", sid)
    return code, out.strip()


def test_events_cut_from_the_end_are_detected(
    runtime: Runtime, history: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    trail = _trail(runtime, history)
    with runtime.engine.begin() as conn:
        for row in trail[12:]:
            conn.execute(delete(t.audit_events).where(t.audit_events.c.id == row["id"]))
    assert _verify(runtime, history, monkeypatch, capsys) == (
        1,
        "BROKEN at event #13: events #13-#14 are missing from the end (the recorded head is #14)",
    )


def test_a_trail_rewritten_with_its_hashes_computed_again_is_detected(
    runtime: Runtime, history: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Without the server's key no one can seal the head of a rewritten trail, nor move the
    head back over events cut from its end."""
    from esign.domain import audit as chain
    from esign.storage.audit_repo import AuditRepo

    with runtime.engine.connect() as conn:
        events = AuditRepo(conn, str).for_session(history)
    events[4].description = "rewritten"
    prev = chain.GENESIS_HASH
    with runtime.engine.begin() as conn:
        for event in events:
            chain.seal(event, prev, event.seq)
            prev = event.hash
            conn.execute(
                update(t.audit_events)
                .where(t.audit_events.c.id == event.id)
                .values(description=event.description, prev_hash=event.prev_hash, hash=event.hash)
            )
        conn.execute(
            update(t.audit_heads)
            .where(t.audit_heads.c.chain_id == history)
            .values(hash=prev, seal=hashlib.sha256(prev.encode()).hexdigest())
        )
    code, out = _verify(runtime, history, monkeypatch, capsys)
    assert code == 1
    assert out == (
        f"BROKEN at event #14 ({events[-1].id}): the recorded head is not sealed by this "
        "server's key"
    )


def test_a_deleted_head_or_an_event_after_it_is_detected(
    runtime: Runtime, history: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    trail = _trail(runtime, history)
    heads = t.audit_heads
    with runtime.engine.begin() as conn:
        kept = conn.execute(select(heads).where(heads.c.chain_id == history)).one()
        conn.execute(update(heads).where(heads.c.chain_id == history).values(seq=13))
    code, out = _verify(runtime, history, monkeypatch, capsys)
    assert (code, out) == (
        1,
        f"BROKEN at event #14 ({trail[13]['id']}): comes after the recorded head (#13)",
    )
    with runtime.engine.begin() as conn:
        conn.execute(delete(heads).where(heads.c.chain_id == history))
    code, out = _verify(runtime, history, monkeypatch, capsys)
    assert out.endswith("the trail's recorded head is missing") and code == 1
    with runtime.engine.begin() as conn:
        conn.execute(heads.insert().values(**kept._mapping))
    assert _verify(runtime, history, monkeypatch, capsys)[0] == 0


def test_trails_written_before_heads_were_kept_get_a_sealed_head(
    api: Api, runtime: Runtime, history: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Migration 0003 records each existing trail's head, sealed with the key esign hands
    it; a trail then goes on as before."""
    from alembic import command

    from esign.storage.migrate import alembic_config, upgrade

    cfg = alembic_config()
    with runtime.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    upgrade(runtime.engine, runtime.deps.cipher.digest)
    code, out = _verify(runtime, history, monkeypatch, capsys)
    assert code == 0 and out.startswith("OK: 14 events"), out
    assert api.delete(f"/rest/v1/sessions/{history}")["ReturnValue"] == "True"
    code, out = _verify(runtime, history, monkeypatch, capsys)
    assert code == 0 and out.startswith("OK: 15 events"), out


def test_the_api_verifies_a_session_trail(
    api: Api, other_api: Api, runtime: Runtime, history: str
) -> None:
    """Contract §6: "a command and an endpoint verify the chain"."""
    url = f"/rest/v1/sessions/{history}/actionlogs/verify"
    trail = _trail(runtime, history)
    answer = api.get(url)
    assert answer == {
        "Message": "Success",
        "Details": [],
        "ReturnValue": "True",
        "ErrorCodes": [],
        "Verified": True,
        "Events": 14,
        "Head": trail[-1]["hash"],
        "BrokenAt": None,
    }
    _change(runtime, history, 5, description="rewritten")
    answer = api.get(url)
    assert (answer["ReturnValue"], answer["Verified"], answer["BrokenAt"]) == ("False", False, 5)
    assert answer["Details"] == [
        f"The audit trail is broken at event #5 ({trail[4]['id']}): "
        "content does not match its hash."
    ]
    assert other_api.get(url)["ErrorCodes"] == ["session_not_found"]


def test_the_api_finds_a_trail_deleted_with_its_head_broken(
    api: Api, runtime: Runtime, history: str
) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(delete(t.audit_events).where(t.audit_events.c.session_id == history))
        conn.execute(delete(t.audit_heads).where(t.audit_heads.c.chain_id == history))
    answer = api.get(f"/rest/v1/sessions/{history}/actionlogs/verify")
    assert (answer["ReturnValue"], answer["Events"], answer["BrokenAt"]) == ("False", 0, 1)
    assert answer["Details"] == [
        "The audit trail is broken at event #1: the trail has no events at all."
    ]


def test_an_event_appended_without_moving_the_head_neither_blocks_nor_is_sealed(
    api: Api, runtime: Runtime, history: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A process older than the heads (still running during an upgrade) appends events and
    leaves the head behind. The next change chains after the events, not the head; the trail
    then fails verification at its head, as one extended by anyone without the key would."""
    from esign.domain import audit as chain
    from esign.storage.audit_repo import AuditRepo

    with runtime.engine.connect() as conn:
        last = AuditRepo(conn, str).for_session(history)[-1]
    extra = chain.AuditEvent(
        id="00000000-0000-7000-8000-000000000001",
        session_id=history,
        client_id=last.client_id,
        kind=chain.AuditKind.SESSION_VIEWED,
        description="appended by an older process",
        actor=chain.SYSTEM,
        at=last.at,
    )
    chain.seal(extra, last.hash, last.seq + 1)
    with runtime.engine.begin() as conn:
        conn.execute(
            t.audit_events.insert().values(
                id=extra.id,
                session_id=history,
                client_id=extra.client_id,
                seq=extra.seq,
                kind=extra.kind.value,
                description=extra.description,
                actor={"kind": "system", "id": "", "name": "esign", "ip": "", "user_agent": ""},
                at=extra.at,
                data={},
                prev_hash=extra.prev_hash,
                hash=extra.hash,
            )
        )
    assert api.delete(f"/rest/v1/sessions/{history}")["ReturnValue"] == "True"
    logs = _logs(api, history)
    assert [e["Sequence"] for e in logs] == list(range(1, 17))
    assert logs[-1]["PreviousHash"] == extra.hash
    code, out = _verify(runtime, history, monkeypatch, capsys)
    assert code == 1 and out.endswith("the recorded head is not sealed by this server's key")


def test_a_forged_head_is_not_sealed_by_the_next_change(
    api: Api, runtime: Runtime, history: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Events cut from the end and the head moved back to match, with a made-up seal: the next
    legitimate change must not seal that head anew."""
    trail = _trail(runtime, history)
    with runtime.engine.begin() as conn:
        conn.execute(delete(t.audit_events).where(t.audit_events.c.id == trail[-1]["id"]))
        conn.execute(
            update(t.audit_heads)
            .where(t.audit_heads.c.chain_id == history)
            .values(seq=13, hash=trail[-2]["hash"], seal="0" * 64)
        )
    assert api.delete(f"/rest/v1/sessions/{history}")["ReturnValue"] == "True"
    code, out = _verify(runtime, history, monkeypatch, capsys)
    assert code == 1 and out.endswith("the recorded head is not sealed by this server's key")
    assert api.get(f"/rest/v1/sessions/{history}/actionlogs/verify")["Verified"] is False
