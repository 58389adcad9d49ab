"""UpdateSession calls at the same moment on one session: nothing lost, nothing doubled, the
audit chain intact (contract §4; issue: "two UpdateSession calls on one session at once lose
nothing")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from esign.app import Runtime, build_app
from esign.services import clients, queries
from tests.conftest import Api, pdf_document, signer
from tests.integration.conftest import WAIT, Receiver, deliveries


def at_once(calls: list[Callable[[], dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run the calls in threads released together; return their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[dict[str, Any] | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=WAIT)
            answers[i] = calls[i]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
    assert not any(t.is_alive() for t in threads), "a call did not come back in time"
    assert errors == [], errors
    return [a for a in answers if a is not None]


def _update(api: Api, sid: str, signers: list[dict[str, Any]], docs: list[dict[str, Any]]) -> Any:
    body = {"userName": api.username, "session": {"Id": sid, "Signers": signers, "Documents": docs}}
    http = TestClient(build_app(api.rt))  # a connection of its own, as a second caller has

    def call() -> dict[str, Any]:
        response = http.post("/rest/v1/sessions/updatesession", json=body, headers=api.headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    return call


def _session(api: Api, sid: str) -> dict[str, Any]:
    answer = api.get(f"/rest/v1/sessions/{sid}")
    assert answer["Message"] == "Success", answer
    session: dict[str, Any] = answer["Sessions"][0]
    return session


def _chain_ok(runtime: Runtime, sid: str, events: int) -> None:
    report = queries.verify_audit(runtime.deps, sid)
    assert report.broken is None, report.broken
    assert report.events == events


@pytest.mark.parametrize("callers", [2, 8])
def test_concurrent_updates_lose_nothing(api: Api, runtime: Runtime, callers: int) -> None:
    sid = api.create_session()["SigningSessionId"]  # offer.pdf, Seller 1: 3 events
    calls = [
        _update(api, sid, [signer(f"Buyer {n}")], [pdf_document(f"doc{n}.pdf", pages=n % 3 + 1)])
        for n in range(1, callers + 1)
    ]
    for answer in at_once(calls):
        assert answer["Message"] == "Success" and answer["Details"] == [], answer
    session = _session(api, sid)
    roles = sorted(s["SignerRole"] for s in session["Signers"])
    assert roles == sorted(["Seller 1", *(f"Buyer {n}" for n in range(1, callers + 1))])
    names = sorted(d["FileName"] for d in session["Documents"])
    assert names == sorted(["offer.pdf", *(f"doc{n}.pdf" for n in range(1, callers + 1))])
    assert [d["Sequence"] for d in session["Documents"]] == list(range(1, callers + 2))
    assert len({s["SignerId"] for s in session["Signers"]}) == callers + 1
    _chain_ok(runtime, sid, 3 + 2 * callers)


def test_the_same_role_twice_at_once_is_added_once(api: Api, runtime: Runtime) -> None:
    sid = api.create_session()["SigningSessionId"]
    first = signer("Buyer 1", email="ann@example.com", last="Ames")
    second = signer("Buyer 1", email="bob@example.com", last="Baker")
    answers = at_once([_update(api, sid, [first], []), _update(api, sid, [second], [])])
    assert all(a["Message"] == "Success" for a in answers), answers
    refused = [a for a in answers if a["Details"]]
    assert len(refused) == 1, answers
    (line,) = refused[0]["Details"]
    loser = "Pat Baker" if "Baker" in line else "Pat Ames"
    assert line == (
        f"Error: Signer {loser} was not added: role 'Buyer 1' is already assigned to another "
        "signer."
    )
    buyers = [s for s in _session(api, sid)["Signers"] if s["SignerRole"] == "Buyer 1"]
    assert len(buyers) == 1
    assert f"{buyers[0]['FirstName']} {buyers[0]['LastName']}" != loser
    _chain_ok(runtime, sid, 3 + 2)  # one signer.added, one signer.refused


def test_concurrent_updates_of_a_sent_session_invite_each_signer_once(
    api: Api, runtime: Runtime, receiver: Receiver
) -> None:
    """In a Sent session each added signer is invited: one webhook each, none lost."""
    clients.set_webhook(runtime.deps, api.client_id, receiver.url, "whsec_c")
    sid = api.create_session()["SigningSessionId"]
    assert api.put(f"/rest/v1/sessions/{sid}/start")["Message"] == "Success"
    before = len(deliveries(api))
    calls = [_update(api, sid, [signer(f"Agent {n}")], []) for n in range(6)]
    for answer in at_once(calls):
        assert answer["Message"] == "Success" and answer["Details"] == [], answer
    session = _session(api, sid)
    added = {s["SignerId"] for s in session["Signers"] if s["SignerRole"].startswith("Agent")}
    assert len(added) == 6
    assert all(s["StatusCode"] == 2 for s in session["Signers"]), session["Signers"]
    api.drain()
    # (Deliveries run side by side: they arrive in any order.)
    hooks = [h.data["Data"] for h in receiver.snapshot()]
    hooked_ids = sorted(
        d["SignerId"] for d in hooks if d["Type"] == "SignerStatus" and d["SignerId"] in added
    )
    assert hooked_ids == sorted(added)
    assert len(deliveries(api)) == before + 6
    _chain_ok(runtime, sid, 3 + 1 + 1 + 6 * 2)  # start: 1 invite + 1 started; each: added+invited


def test_an_update_racing_a_cancel_is_applied_or_refused_never_lost(
    api: Api, runtime: Runtime
) -> None:
    sid = api.create_session()["SigningSessionId"]
    http = TestClient(build_app(runtime))

    def cancel() -> dict[str, Any]:
        answer: dict[str, Any] = http.put(
            f"/rest/v1/sessions/{sid}/cancel", headers=api.headers
        ).json()
        return answer

    update_answer, cancel_answer = at_once(
        [_update(api, sid, [signer("Buyer 1")], [pdf_document("late.pdf")]), cancel]
    )
    assert cancel_answer["Message"] == "Success", cancel_answer
    session = _session(api, sid)
    assert session["SessionInfo"]["StatusCode"] == 4
    roles = {s["SignerRole"] for s in session["Signers"]}
    if update_answer["Message"] == "Success":
        assert "Buyer 1" in roles
        assert "late.pdf" in {d["FileName"] for d in session["Documents"]}
        # Applied first, so its signer was cancelled with the others.
        assert {s["StatusCode"] for s in session["Signers"]} == {5}
    else:
        assert update_answer["ErrorCodes"] == ["wrong_status"], update_answer
        assert "Buyer 1" not in roles
    report = queries.verify_audit(runtime.deps, sid)
    assert report.broken is None
