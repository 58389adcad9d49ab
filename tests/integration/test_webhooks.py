"""Webhooks (contract §8) delivered over real HTTP to a receiver on 127.0.0.1: body shape,
HMAC signature, the delivery log, retries with growing intervals for 48 hours, never on the
request's path, and the private-address guard."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from esign.app import Runtime
from esign.domain.enums import SignerStatus
from esign.domain.errors import ValidationFailed
from esign.services import clients, events, webhooks
from esign.services.context import Caller
from esign.services.sessions import client_of, load
from tests.conftest import Api, FakeClock, make_api, pdf_document
from tests.integration.conftest import (
    Receiver,
    assert_signed,
    deliveries,
    ms,
    ms_of,
    sibling_runtime,
    wait_until,
)

SECRET = "whsec_test_0123456789"
NO_GUID = events.NO_ID
DATA_KEYS = [
    "SigningSessionId",
    "NewSigningSessionId",
    "SignerId",
    "Type",
    "Status",
    "Title",
    "DeclinedReason",
]


@pytest.fixture
def hooked(api: Api, runtime: Runtime, receiver: Receiver) -> Api:
    """The client's webhook points at the receiver."""
    assert clients.set_webhook(runtime.deps, api.client_id, receiver.url, SECRET) == SECRET
    return api


def _draft(api: Api, **kw: Any) -> str:
    sid: str = api.create_session(**kw)["SigningSessionId"]
    return sid


def _cancel(api: Api, sid: str) -> None:
    assert api.put(f"/rest/v1/sessions/{sid}/cancel")["Message"] == "Success"


def _one_webhook(api: Api) -> str:
    """A Draft without signers, cancelled: exactly one SessionStatus webhook."""
    sid = _draft(api, signers=[])
    _cancel(api, sid)
    return sid


def test_status_changes_are_delivered_signed_with_the_contract_body(
    hooked: Api, receiver: Receiver, clock: FakeClock
) -> None:
    sid = _draft(hooked)
    assert receiver.snapshot() == [] and deliveries(hooked) == []  # a Draft is not a change
    assert hooked.put(f"/rest/v1/sessions/{sid}/start")["Message"] == "Success"
    started_at = clock.now()
    _cancel(hooked, sid)
    assert receiver.snapshot() == [], "webhooks must wait for the job runner"
    # (huey times its queue by the real clock: move the fake one only after recording jobs.)
    clock.advance(seconds=5)

    assert hooked.drain() > 0
    hits = receiver.snapshot()
    bodies = [h.data for h in hits]
    for hit, body in zip(hits, bodies, strict=True):
        assert hit.path == "/hook"
        assert list(body) == ["Data"]
        assert sorted(body["Data"]) == sorted(DATA_KEYS), body
        assert_signed(hit, SECRET)
    session = hooked.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]
    signer_id = session["Signers"][0]["SignerId"]
    seen = sorted((b["Data"]["Type"], b["Data"]["Status"]) for b in bodies)
    # Sent (2) and Cancelled (4); the signer Invited (2) and Cancelled (5): once each.
    assert seen == [
        ("SessionStatus", 2),
        ("SessionStatus", 4),
        ("SignerStatus", 2),
        ("SignerStatus", 5),
    ], bodies
    for body in bodies:
        data = body["Data"]
        assert data["SigningSessionId"] == sid
        assert data["NewSigningSessionId"] == NO_GUID
        assert data["Title"] == "Offer on 12 Elm St"
        assert data["DeclinedReason"] == ""
        assert data["SignerId"] == (signer_id if data["Type"] == "SignerStatus" else NO_GUID)
    # The timestamp is the server's time of the attempt, in Unix seconds.
    assert {int(h.headers["x-esign-timestamp"]) for h in hits} == {int(clock.now().timestamp())}

    log = deliveries(hooked)
    assert len(log) == 4
    assert sorted(d["Body"] for d in log) == sorted(h.body.decode() for h in hits)
    for entry in log:
        assert entry["Status"] == "delivered"
        assert entry["SigningSessionId"] == sid
        assert entry["Url"] == receiver.url
        assert entry["NextAttemptOn"] is None
        assert len(entry["Attempts"]) == 1
        attempt = entry["Attempts"][0]
        assert attempt["StatusCode"] == 200 and attempt["Error"] == ""
        assert ms(attempt["Date"]) == ms_of(clock.now())
        assert attempt["DurationMs"] >= 0
    sent = [d for d in log if json.loads(d["Body"])["Data"]["Status"] == 2]
    assert {ms(d["CreatedOn"]) for d in sent} == {ms_of(started_at)}


def test_a_second_drain_delivers_nothing_twice(hooked: Api, receiver: Receiver) -> None:
    _one_webhook(hooked)
    hooked.drain()
    hooked.drain()
    hooked.rt.jobs.sweep()
    hooked.drain()
    assert len(receiver.snapshot()) == 1


def test_copy_reports_the_new_session_id(hooked: Api, receiver: Receiver) -> None:
    sid = _draft(hooked)
    answer = hooked.post(
        "/rest/v1/sessions/copy",
        {"userName": hooked.username, "session": {"SigningSessionId": sid}},
    )
    assert answer["Message"] == "Success", answer
    hooked.drain()
    (hit,) = receiver.snapshot()
    assert hit.data["Data"]["SigningSessionId"] == sid
    assert hit.data["Data"]["NewSigningSessionId"] == answer["SigningSessionId"]


def test_a_decline_sends_its_reason(
    hooked: Api, runtime: Runtime, receiver: Receiver, clock: FakeClock
) -> None:
    """The signing pages that record a decline are not built yet: the use-case layer's
    webhook for a declined signer is driven directly."""
    sid = _draft(hooked)
    caller = Caller(client_id=hooked.client_id, key_id=None, user_id=None)
    with runtime.deps.uow() as uow:
        session = load(uow, caller, sid, lock=True)
        declined = session.signers[0]
        declined.status = SignerStatus.DECLINED
        declined.declined_reason = "The price is wrong"
        events.signer_status_changed(runtime.deps, uow, client_of(uow, caller), session, declined)
        uow.sessions.save(session)
        uow.commit()
    hooked.drain()
    (hit,) = receiver.snapshot()
    assert hit.data["Data"]["Type"] == "SignerStatus"
    assert hit.data["Data"]["Status"] == int(SignerStatus.DECLINED)
    assert hit.data["Data"]["DeclinedReason"] == "The price is wrong"
    assert_signed(hit, SECRET)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("pageNum=abc", "pageNum must be a whole number"),
        ("pageNum=-1", "pageNum must be between 0 and"),
        ("pageSize=0", "pageSize must be between 1 and 200"),
        ("pageSize=x", "pageSize must be a whole number"),
    ],
)
def test_the_log_names_the_paging_value_it_refuses(api: Api, query: str, named: str) -> None:
    answer = api.get(f"/rest/v1/webhooks/deliveries?{query}")
    assert answer["Message"] == "Error" and named in answer["Details"][0], answer


def test_other_clients_see_neither_the_webhooks_nor_the_log(
    hooked: Api, other_api: Api, receiver: Receiver
) -> None:
    _draft(other_api, signers=[])  # the rival has no webhook: nothing is recorded for it
    rival = _draft(other_api, signers=[])
    _cancel(other_api, rival)
    _one_webhook(hooked)
    hooked.drain()
    assert len(receiver.snapshot()) == 1
    assert deliveries(other_api) == []
    assert len(deliveries(hooked)) == 1


def test_failures_are_retried_with_growing_intervals_until_success(
    hooked: Api, receiver: Receiver, clock: FakeClock
) -> None:
    receiver.default = 500
    _one_webhook(hooked)
    created = clock.now()
    hooked.drain()
    waits: list[timedelta] = []
    for _ in range(4):
        (entry,) = deliveries(hooked)
        assert entry["Status"] == "pending"
        due = ms(entry["NextAttemptOn"])
        last = ms(entry["Attempts"][-1]["Date"])
        waits.append(timedelta(milliseconds=due - last))
        # Not before it is due: the sweep finds nothing, nothing is sent.
        before = len(receiver.snapshot())
        clock.advance(milliseconds=due - last - 1000)
        hooked.rt.jobs.sweep()
        hooked.drain()
        assert len(receiver.snapshot()) == before
        clock.advance(seconds=1)
        hooked.rt.jobs.sweep()
        hooked.drain()
        assert len(receiver.snapshot()) == before + 1
    assert all(b > a for a, b in itertools.pairwise(waits)), waits
    assert waits[0] >= timedelta(seconds=1)

    receiver.default = 200
    (entry,) = deliveries(hooked)
    clock.advance(milliseconds=ms(entry["NextAttemptOn"]) - ms_of(clock.now()))
    hooked.rt.jobs.sweep()
    hooked.drain()
    (entry,) = deliveries(hooked)
    assert entry["Status"] == "delivered"
    assert [a["StatusCode"] for a in entry["Attempts"]] == [500] * 5 + [200]
    assert entry["NextAttemptOn"] is None
    hits = receiver.snapshot()
    assert len(hits) == 6
    assert len({h.body for h in hits}) == 1  # the same event every time
    assert len({h.headers["x-esign-delivery"] for h in hits}) == 1
    for hit in hits:
        assert_signed(hit, SECRET)  # re-signed with each attempt's own timestamp
    assert ms(entry["CreatedOn"]) == ms_of(created)


def test_gives_up_after_48_hours(hooked: Api, receiver: Receiver, clock: FakeClock) -> None:
    receiver.default = 503
    _one_webhook(hooked)
    created = clock.now()
    hooked.drain()
    for _ in range(200):
        (entry,) = deliveries(hooked)
        if entry["Status"] != "pending":
            break
        clock.advance(milliseconds=ms(entry["NextAttemptOn"]) - ms_of(clock.now()))
        hooked.rt.jobs.sweep()
        hooked.drain()
    (entry,) = deliveries(hooked)
    assert entry["Status"] == "failed"
    assert entry["NextAttemptOn"] is None
    times = [ms(a["Date"]) for a in entry["Attempts"]]
    assert len(times) == len(receiver.snapshot())
    assert all(a["StatusCode"] == 503 for a in entry["Attempts"])
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Never shorter than the one before, but for the last, cut short by the window's end.
    assert gaps[:-1] == sorted(gaps[:-1]), gaps
    cap = hooked.rt.deps.limits.webhook_max_interval
    assert max(gaps) == cap.total_seconds() * 1000  # capped, not doubling for ever
    window = timedelta(hours=48)
    assert times[-1] - ms_of(created) <= window.total_seconds() * 1000
    # It kept trying to the end of the window: the last try is at the 48-hour mark, not
    # hours before it because the next doubled interval would have crossed it.
    assert times[-1] - ms_of(created) == window.total_seconds() * 1000
    assert len(times) >= 8
    # Nothing is due afterwards: time passes, sweeps run, the receiver hears nothing more.
    clock.advance(hours=72)
    hooked.rt.jobs.sweep()
    hooked.drain()
    assert len(receiver.snapshot()) == len(times)


def test_unreachable_receiver_is_logged_as_an_error(
    hooked: Api, runtime: Runtime, receiver: Receiver
) -> None:
    from tests.integration.conftest import free_port

    clients.set_webhook(runtime.deps, hooked.client_id, f"http://127.0.0.1:{free_port()}/x", None)
    _one_webhook(hooked)
    hooked.drain()
    (entry,) = deliveries(hooked)
    assert entry["Status"] == "pending"
    (attempt,) = entry["Attempts"]
    assert attempt["StatusCode"] is None
    assert "Connect" in attempt["Error"]


def test_the_request_does_not_wait_for_the_receiver(hooked: Api, receiver: Receiver) -> None:
    receiver.delay = 2.0
    sid = _draft(hooked)
    started = time.monotonic()
    assert hooked.put(f"/rest/v1/sessions/{sid}/start")["Message"] == "Success"
    _cancel(hooked, sid)
    elapsed = time.monotonic() - started
    # Inline delivery would take 2 s for each of the four webhooks.
    assert elapsed < 3.0, f"the API calls took {elapsed:.1f}s: were webhooks sent inline?"
    assert receiver.snapshot() == []
    pending = deliveries(hooked)
    assert pending and {d["Status"] for d in pending} == {"pending"}
    assert all(d["Attempts"] == [] for d in pending)


def test_a_slow_receiver_does_not_hold_up_other_jobs(hooked: Api, receiver: Receiver) -> None:
    """Deliveries run on threads of their own: document processing queued behind four
    deliveries to a receiver that takes 5 s each is done before the first of them is."""
    receiver.delay = 5.0
    for _ in range(4):
        _one_webhook(hooked)
    sid = _draft(hooked, documents=[pdf_document(HasAnchorTags=True)])
    worker = threading.Thread(target=hooked.drain)
    worker.start()
    try:
        wait_until(lambda: status_of_document(hooked, sid) == "Ready", 30, "the document")
        ready_at = time.monotonic()
    finally:
        worker.join()
    hits = receiver.snapshot()
    assert len(hits) == 4
    # (Run one after another, the first delivery alone would end before processing began.)
    assert ready_at < min(h.received for h in hits) + receiver.delay
    assert {d["Status"] for d in deliveries(hooked)} == {"delivered"}


def status_of_document(api: Api, sid: str) -> str:
    answer = api.get(f"/rest/v1/sessions/{sid}")
    return str(answer["Sessions"][0]["Documents"][0]["ProcessingStatus"])


def test_a_failing_queue_does_not_fail_the_request(
    hooked: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("queue is down")

    monkeypatch.setattr(hooked.rt.jobs.huey.storage, "enqueue", down)
    _one_webhook(hooked)
    monkeypatch.undo()
    assert hooked.drain() == 0
    assert receiver.snapshot() == []
    hooked.rt.jobs.sweep()  # the periodic sweep finds what the queue never got
    hooked.drain()
    assert len(receiver.snapshot()) == 1
    assert deliveries(hooked)[0]["Status"] == "delivered"


# --- the private-address guard --------------------------------------------------------------


@pytest.fixture
def strict(runtime: Runtime) -> Runtime:
    rt = sibling_runtime(runtime, webhook_allow_private=False, webhook_allow_hosts=frozenset())
    return rt


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "not a url",
        "http://example.com:99999/hook",  # (these raised ValueError, a CLI traceback)
        "http://example.com:abc/hook",
        "http://[::1/hook",
    ],
)
def test_private_addresses_are_refused_when_not_allowed(
    api: Api, strict: Runtime, url: str
) -> None:
    with pytest.raises(ValidationFailed):
        clients.set_webhook(strict.deps, api.client_id, url, None)
    with strict.deps.uow(write=False) as uow:
        client = uow.clients.get(api.client_id)
    assert client is not None and client.settings.webhook_url is None


def test_a_blank_secret_is_refused(api: Api, runtime: Runtime, receiver: Receiver) -> None:
    with pytest.raises(ValidationFailed, match="--secret"):
        clients.set_webhook(runtime.deps, api.client_id, receiver.url, "   ")


def test_the_secret_is_stored_sealed_and_kept_when_the_url_changes(
    hooked: Api, runtime: Runtime, receiver: Receiver
) -> None:
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT settings FROM clients")).scalars().all()
    assert rows and not any(SECRET in str(row) for row in rows)
    # No --secret: the one set before is kept (and given back), not replaced.
    assert clients.set_webhook(runtime.deps, hooked.client_id, receiver.url + "/2", None) == SECRET
    _one_webhook(hooked)
    runtime.jobs.drain()
    assert_signed(receiver.snapshot()[0], SECRET)


def test_a_secret_that_does_not_open_is_never_replaced_by_no_signature(
    hooked: Api, runtime: Runtime, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """A sealed secret copied onto another client's row does not open there; that client's
    deliveries are refused, not sent unsigned."""
    other = make_api(runtime, "Other")
    clients.set_webhook(runtime.deps, other.client_id, receiver.url, "whsec_other")
    with runtime.deps.uow() as uow:
        mine, theirs = uow.clients.get(hooked.client_id), uow.clients.get(other.client_id)
        assert mine is not None and theirs is not None
        theirs.settings.sealed_webhook_secret = mine.settings.sealed_webhook_secret
        uow.clients.update(theirs)
        uow.commit()
    assert webhooks.signing_secret(runtime.deps, mine) == SECRET
    assert webhooks.signing_secret(runtime.deps, theirs) is None
    _one_webhook(other)
    with caplog.at_level(logging.WARNING, logger="esign.webhooks"):
        runtime.jobs.drain()
    assert receiver.snapshot() == []
    [delivery] = deliveries(other)
    assert delivery["Status"] == "refused", delivery
    assert "signing secret cannot be read" in delivery["Attempts"][0]["Error"]
    assert "signing secret cannot be read" in caplog.text


def test_the_log_hides_credentials_and_query_of_the_url(
    api: Api, runtime: Runtime, receiver: Receiver
) -> None:
    scheme, _, rest = receiver.url.partition("://")
    host, _, path = rest.partition("/")
    url = f"{scheme}://hookuser:hookpass@{host}/{path}?tok=abc"
    clients.set_webhook(runtime.deps, api.client_id, url, SECRET)
    _one_webhook(api)
    runtime.jobs.drain()
    assert receiver.snapshot()[0].headers["authorization"].startswith("Basic ")  # still used
    [delivery] = deliveries(api)
    assert delivery["Url"] == f"{scheme}://***@{host}/{path}?***"


def test_an_allowed_host_may_be_private(runtime: Runtime, receiver: Receiver) -> None:
    rt = sibling_runtime(
        runtime, webhook_allow_private=False, webhook_allow_hosts=frozenset({"127.0.0.1"})
    )
    strict_api = make_api(rt, "Allowed")
    clients.set_webhook(rt.deps, strict_api.client_id, receiver.url, SECRET)
    _one_webhook(strict_api)
    rt.jobs.drain()
    assert len(receiver.snapshot()) == 1
    assert_signed(receiver.snapshot()[0], SECRET)


def test_a_delivery_whose_url_turned_private_is_refused_and_logged(
    hooked: Api, strict: Runtime, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """The URL was accepted while the operator allowed private addresses; the worker that
    delivers now runs without that permission: nothing is sent, the log says why."""
    _one_webhook(hooked)
    with caplog.at_level(logging.WARNING, logger="esign.webhooks"):
        strict.jobs.drain()  # the same queue, drained by the strict worker
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "esign.webhooks"]
    assert "refused: the host '127.0.0.1' resolves to a non-public address" in warning
    assert receiver.snapshot() == []
    (entry,) = deliveries(hooked)
    assert entry["Status"] == "refused"
    assert entry["NextAttemptOn"] is None
    (attempt,) = entry["Attempts"]
    assert attempt["StatusCode"] is None
    assert attempt["Error"].startswith("refused: ")
    assert "127.0.0.1" in attempt["Error"]
    # A refusal is final: no retries follow.
    hooked.rt.jobs.sweep()
    hooked.drain()
    assert receiver.snapshot() == []


def test_a_host_that_does_not_resolve_for_now_is_retried(
    hooked: Api, runtime: Runtime, strict: Runtime, receiver: Receiver
) -> None:
    # Accepted while private addresses were allowed (no lookup then); .invalid never resolves.
    clients.set_webhook(runtime.deps, hooked.client_id, "http://hooks.example.invalid/x", None)
    _one_webhook(hooked)
    strict.jobs.drain()
    (entry,) = deliveries(hooked)
    assert entry["Status"] == "pending", entry  # a failed attempt, to be tried again
    assert entry["NextAttemptOn"] is not None
