"""The session status machine over the API: StartSession (S4), EditSession (S5), Cancel (S6),
Close (S7), Delete (S8), Purge (S18), CancelPurging (S19), expiry, auto-archive, and the
webhook recorded for each change (contract §4 "Lifecycle rules", §8)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from esign.app import Runtime
from esign.domain.enums import FieldOption, ProcessingStatus, SessionStatus
from esign.domain.model import SigningSession
from esign.services import jobs
from esign.services import lifecycle as lifecycle_service
from esign.storage import tables
from tests.api.session_helpers import (
    PURGED_TEXT,
    SIGNER_RULE,
    S,
    add_field,
    assert_error,
    b64,
    blob_keys,
    blob_path,
    cancelled,
    check_refused_in,
    completed,
    docx_bytes,
    enable_webhooks,
    force_status,
    get_session,
    load,
    mutate,
    new_session,
    png_bytes,
    raw_document,
    relogin,
    session_webhooks,
    set_processing,
    set_signer_status,
    signer_statuses,
    signer_webhooks,
    start,
    started,
    status_of,
    update,
    webhook_events,
)
from tests.conftest import Api, FakeClock, pdf_document, signer

ALL = list(SessionStatus)


def sweep(runtime: Runtime) -> None:
    runtime.jobs.sweep()


def file_answer(api: Api, sid: str, doc_id: str) -> tuple[int, str, bytes]:
    r = api.http.get(f"{S}/{sid}/documents/{doc_id}/file", headers=api.headers)
    return r.status_code, r.headers.get("content-type", ""), r.content


def first_doc(api: Api, sid: str) -> str:
    return str(get_session(api, sid)["Documents"][0]["DocumentId"])


def expiring(api: Api, clock: FakeClock, days: float = 1, **kw: object) -> str:
    return new_session(api, ExpiresOn=(clock.now() + timedelta(days=days)).isoformat(), **kw)


# --- StartSession ----------------------------------------------------------------------------


def test_start_moves_draft_to_sent_and_invites_everyone(api: Api, runtime: Runtime) -> None:
    sid = new_session(api, signers=[signer("Seller 1"), signer("Buyer 1")])
    answer = api.put(f"{S}/{sid}/start?returnUrl=https://crm.example.com/done")
    assert answer["Message"] == "Success", answer
    assert answer["ReturnValue"] == "True"
    s = get_session(api, sid)
    assert s["SessionInfo"]["StatusCode"] == 2
    assert s["SessionInfo"]["ReturnURL"] == "https://crm.example.com/done"
    assert [g["StatusCode"] for g in s["Signers"]] == [2, 2]
    assert all(g["InvitedOn"] for g in s["Signers"])
    assert all(g.invitation_due for g in load(runtime, api, sid).signers)


def test_start_sequential_invites_the_lowest_group_only(api: Api, runtime: Runtime) -> None:
    sid = started(
        api,
        UseSequence=1,
        signers=[
            signer("Buyer 1", Sequence=2),
            signer("Seller 1", Sequence=1),
            signer("Seller 2", Sequence=1),
            signer("Listing Agent", Sequence=3),
        ],
    )
    assert signer_statuses(api, sid) == {
        "Seller 1": 2,
        "Seller 2": 2,
        "Buyer 1": 1,
        "Listing Agent": 1,
    }


def test_start_suspended_invites_nobody(api: Api) -> None:
    sid = started(api, UseSequence=2, signers=[signer("Seller 1"), signer("Buyer 1")])
    assert status_of(api, sid) == 2
    assert signer_statuses(api, sid) == {"Seller 1": 1, "Buyer 1": 1}


def test_start_without_signer_invites_invites_nobody(api: Api, runtime: Runtime) -> None:
    """Contract §4: StartSession invites "none when SendSignerInvites=false"."""
    sid = started(api, SendSignerInvites=False, signers=[signer("Seller 1"), signer("Buyer 1")])
    assert status_of(api, sid) == 2
    assert signer_statuses(api, sid) == {"Seller 1": 1, "Buyer 1": 1}
    assert not any(g.invitation_due for g in load(runtime, api, sid).signers)
    logs = [e["Description"] for e in api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]]
    assert not any(" invited (" in d for d in logs)


def test_start_refuses_a_session_without_signers_or_documents(api: Api) -> None:
    sid = new_session(api, signers=[])
    assert_error(start(api, sid), "no signers", code="start_refused")
    assert status_of(api, sid) == 1

    sid = new_session(api, documents=[])
    assert_error(start(api, sid), "no documents", code="start_refused")
    assert status_of(api, sid) == 1

    sid = new_session(api, documents=[], signers=[])
    text = assert_error(start(api, sid), "no signers", "no documents")
    assert len(start(api, sid)["Details"]) == 2, text


def test_start_refuses_an_invalid_signer(api: Api, runtime: Runtime) -> None:
    sid = new_session(api, signers=[signer("Seller 1"), signer("Buyer 1")])

    def spoil(s: SigningSession) -> None:
        s.signers[1].email = "no-at-sign"

    mutate(runtime, api, sid, spoil)
    answer = start(api, sid)
    assert_error(answer, code="start_refused")
    assert SIGNER_RULE in answer["Details"]
    assert signer_statuses(api, sid) == {"Seller 1": 1, "Buyer 1": 1}


def test_start_with_pending_documents_says_so(api: Api, runtime: Runtime) -> None:
    sid = new_session(api, documents=[pdf_document(), raw_document("terms.docx", docx_bytes())])
    assert_error(start(api, sid), "pending", "terms.docx", code="documents_pending")
    assert status_of(api, sid) == 1
    # Once the pipeline has made it Ready, the retry succeeds.
    set_processing(runtime, api, sid, ProcessingStatus.READY)
    assert start(api, sid)["Message"] == "Success"


def test_start_refuses_a_failed_document(api: Api, runtime: Runtime) -> None:
    sid = new_session(api)
    set_processing(runtime, api, sid, ProcessingStatus.FAILED)
    assert_error(start(api, sid), "offer.pdf", code="start_refused")
    assert status_of(api, sid) == 1


def test_start_refuses_a_required_field_nobody_holds(api: Api, runtime: Runtime) -> None:
    sid = new_session(api)
    add_field(runtime, api, sid, "Seller 1")
    add_field(runtime, api, sid, "Buyer 3", FieldOption.OPTIONAL)  # optional: no problem
    assert start(api, sid)["Message"] == "Success"
    other = new_session(api)
    add_field(runtime, api, other, "Buyer 3")
    assert_error(start(api, other), "Buyer 3", code="start_refused")
    # Adding the signer (or removing the field) fixes it.
    update(api, other, Signers=[signer("buyer 3")])
    assert start(api, other)["Message"] == "Success"


def test_start_refused_outside_draft_and_paused(api: Api, runtime: Runtime) -> None:
    others = [s for s in ALL if s not in (SessionStatus.DRAFT, SessionStatus.PAUSED)]
    check_refused_in(runtime, api, others, lambda sid: start(api, sid))

    assert_error(start(api, "does-not-exist"), "not found", code="session_not_found")


# --- EditSession (pause) ----------------------------------------------------------------------


def test_edit_session_pauses_draft_and_sent(api: Api) -> None:
    for sent in (False, True):
        sid = started(api) if sent else new_session(api)
        answer = api.put(f"{S}/EditSession/{sid}", {"userName": api.username})
        assert answer["Message"] == "Success", answer
        assert answer["Sessions"][0]["SessionInfo"]["StatusCode"] == 6
        assert status_of(api, sid) == 6
        # ...and it can be edited and sent again.
        update(api, sid, Signers=[signer("Buyer 1")])
        assert start(api, sid)["Message"] == "Success"
        assert status_of(api, sid) == 2
        assert signer_statuses(api, sid) == {"Seller 1": 2, "Buyer 1": 2}


def test_edit_session_path_and_username(api: Api) -> None:
    sid = new_session(api)
    assert api.put(f"{S}/editsession/{sid}")["Message"] == "Success"
    assert status_of(api, sid) == 6

    sid = new_session(api)
    answer = api.put(f"{S}/EditSession/{sid}?username=ghost@example.com")
    assert_error(answer, "Username not found")
    assert status_of(api, sid) == 1


def test_edit_session_refused_once_a_signer_started(api: Api, runtime: Runtime) -> None:
    for signer_status, label in ((3, "InProgress"), (4, "Completed")):
        sid = started(api, signers=[signer("Seller 1"), signer("Buyer 1")])
        set_signer_status(runtime, api, sid, "Buyer 1", signer_status)
        answer = api.put(f"{S}/EditSession/{sid}")
        assert_error(answer, "Signer Pat Doe has status " + label, code="signer_active")
        assert status_of(api, sid) == 2


def test_edit_session_refused_in_other_statuses(api: Api, runtime: Runtime) -> None:
    others = [s for s in ALL if s not in (SessionStatus.DRAFT, SessionStatus.SENT)]
    check_refused_in(runtime, api, others, lambda sid: api.put(f"{S}/EditSession/{sid}"))


# --- CancelSession / CloseSession / DeleteSession --------------------------------------------


def test_cancel_from_draft_sent_paused(api: Api) -> None:
    for how in ("draft", "sent", "paused"):
        sid = new_session(api, signers=[signer("Seller 1"), signer("Buyer 1")])
        if how != "draft":
            start(api, sid)
        if how == "paused":
            api.put(f"{S}/EditSession/{sid}")
        answer = api.put(f"{S}/{sid}/cancel?returnURL=https://crm.example.com")
        assert answer["Message"] == "Success" and answer["ReturnValue"] == "True", answer
        assert status_of(api, sid) == 4, how
        assert signer_statuses(api, sid) == {"Seller 1": 5, "Buyer 1": 5}


def test_cancel_refused_when_over(api: Api, runtime: Runtime) -> None:
    over = [
        s for s in ALL if s not in (SessionStatus.DRAFT, SessionStatus.SENT, SessionStatus.PAUSED)
    ]
    check_refused_in(runtime, api, over, lambda sid: api.put(f"{S}/{sid}/cancel"))


def test_close_completes_a_sent_session_cancelling_unfinished_signers(
    api: Api, runtime: Runtime
) -> None:
    sid = started(api, signers=[signer("Seller 1"), signer("Buyer 1"), signer("Buyer 2")])
    set_signer_status(runtime, api, sid, "Seller 1", 4)
    set_signer_status(runtime, api, sid, "Buyer 1", 3)
    answer = api.put(f"{S}/{sid}/close?returnURL=x")
    assert answer["Message"] == "Success" and answer["ReturnValue"] == "True"
    s = get_session(api, sid)
    assert s["SessionInfo"]["StatusCode"] == 3
    assert s["SessionInfo"]["CompletedOn"].startswith("/Date(")
    assert signer_statuses(api, sid) == {"Seller 1": 4, "Buyer 1": 5, "Buyer 2": 5}
    logs = [e["Description"] for e in api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]]
    assert any("closed" in d.lower() for d in logs)


def test_close_refused_unless_sent(api: Api, runtime: Runtime) -> None:
    others = [s for s in ALL if s is not SessionStatus.SENT]
    check_refused_in(runtime, api, others, lambda sid: api.put(f"{S}/{sid}/close"))


def test_delete_from_any_status_but_purged(api: Api, runtime: Runtime) -> None:
    deleted = []
    for status in ALL:
        if status in (SessionStatus.PURGED, SessionStatus.DELETED):
            continue
        sid = new_session(api)
        force_status(runtime, api, sid, status)
        answer = api.delete(f"{S}/{sid}")
        assert answer["Message"] == "Success" and answer["ReturnValue"] == "True", answer
        assert status_of(api, sid) == 5, status
        deleted.append(sid)
    listed = api.get(f"{S}/deleted/50/0")
    assert sorted(listed["SessionIds"]) == sorted(deleted)
    assert listed["TotalCount"] == len(deleted) == 8


def test_deleting_a_live_session_cancels_its_unfinished_signers(api: Api) -> None:
    sid = started(api, signers=[signer("Seller 1"), signer("Buyer 1")])
    assert signer_statuses(api, sid) == {"Seller 1": 2, "Buyer 1": 2}
    assert api.delete(f"{S}/{sid}")["ReturnValue"] == "True"
    assert signer_statuses(api, sid) == {"Seller 1": 5, "Buyer 1": 5}
    draft = new_session(api)
    assert api.delete(f"{S}/{draft}")["ReturnValue"] == "True"
    assert signer_statuses(api, draft) == {"Seller 1": 5}


def test_delete_keeps_documents_and_refuses_purged(api: Api, runtime: Runtime) -> None:
    sid = new_session(api)
    doc = first_doc(api, sid)
    assert api.delete(f"{S}/{sid}")["Message"] == "Success"
    code, ctype, body = file_answer(api, sid, doc)
    assert code == 200 and ctype == "application/pdf" and body.startswith(b"%PDF-")
    other = new_session(api)
    force_status(runtime, api, other, SessionStatus.PURGED)
    assert_error(
        api.delete(f"{S}/{other}"),
        "The session is Purged; DeleteSession is not allowed in that status.",
        code="wrong_status",
    )
    assert status_of(api, other) == 8


def test_deleted_sessions_listing_pages(api: Api) -> None:
    ids = [new_session(api) for _ in range(3)]
    for sid in ids:
        api.delete(f"{S}/{sid}")
    new_session(api)  # not deleted
    first, second = api.get(f"{S}/deleted/2/0"), api.get(f"{S}/deleted/2/1")
    assert first["TotalCount"] == second["TotalCount"] == 3
    assert len(first["SessionIds"]) == 2 and len(second["SessionIds"]) == 1
    assert set(first["SessionIds"] + second["SessionIds"]) == set(ids)
    assert api.get(f"{S}/deleted/2/5")["SessionIds"] == []
    assert len(api.get(f"{S}/deleted/1000/0")["SessionIds"]) == 3  # ids only: large pages
    assert_error(api.get(f"{S}/deleted/1001/0"), "pageSize must be between 1 and 1000")
    assert_error(api.get(f"{S}/deleted/0/0"), "pageSize")


# --- PurgeSessionDocs / CancelPurgingSession --------------------------------------------------


def test_purge_refused_outside_completed_expired_cancelled(api: Api, runtime: Runtime) -> None:
    purgeable = (SessionStatus.COMPLETED, SessionStatus.EXPIRED, SessionStatus.CANCELLED)
    others = [s for s in ALL if s not in purgeable]
    kept: list[str] = []

    def purge(sid: str) -> dict[str, Any]:
        kept.extend(blob_keys(runtime, api, sid))
        return api.put(f"{S}/{sid}/purge?purgeNow=true")

    check_refused_in(runtime, api, others, purge)
    check_refused_in(
        runtime, api, [SessionStatus.TO_BE_PURGED], lambda sid: api.put(f"{S}/{sid}/purge")
    )
    assert len(kept) == len(others)
    assert all(blob_path(runtime, k).exists() for k in kept)


@pytest.mark.parametrize("make", ["completed", "cancelled", "expired"])
def test_purge_now_deletes_every_byte_and_keeps_metadata(
    api: Api, runtime: Runtime, clock: FakeClock, make: str
) -> None:
    signers = [signer("Seller 1", SignatureImageBase64=b64(png_bytes()))]
    docs = [pdf_document("a.pdf"), pdf_document("b.pdf", pages=2)]
    if make == "completed":
        sid = completed(api, signers=signers, documents=docs)
    elif make == "cancelled":
        sid = cancelled(api, signers=signers, documents=docs)
    else:
        sid = expiring(api, clock, signers=signers, documents=docs)
        clock.advance(days=2)
        relogin(api)
        sweep(runtime)
        assert status_of(api, sid) == 7
    loaded = load(runtime, api, sid)
    keys = [d.blob_key for d in loaded.documents] + [loaded.signers[0].signature_image_key]
    assert all(k and blob_path(runtime, k).exists() for k in keys)
    doc = first_doc(api, sid)
    assert file_answer(api, sid, doc)[0] == 200

    answer = api.put(f"{S}/{sid}/purge?returnURL=x&purgeNow=true")
    assert answer["Message"] == "Success" and answer["ReturnValue"] == "True", answer
    assert status_of(api, sid) == 8
    assert not any(blob_path(runtime, k).exists() for k in keys if k)
    # Metadata and the audit trail stay; the bytes do not.
    s = get_session(api, sid)
    assert [d["FileName"] for d in s["Documents"]] == ["a.pdf", "b.pdf"]
    assert s["Documents"][1]["PageCount"] == 2
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
    assert any("purged" in e["Description"].lower() for e in logs)
    assert any("created" in e["Description"].lower() for e in logs)
    answer = api.get(f"{S}/{sid}/documents/{doc}/file")
    assert answer["Message"] == "Error"
    assert answer["Details"] == [PURGED_TEXT]
    # Purged is final: no second purge, no delete, no copy.
    assert_error(api.put(f"{S}/{sid}/purge?purgeNow=true"), "Purged")
    assert_error(api.put(f"{S}/cancelPurging/{sid}"), code="purge_not_pending")


def test_a_purge_cut_off_before_its_files_went_deletes_them_later(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purge records the deletion with its own change: a process that died right after
    the commit, before deleting anything, leaves a job that deletes the files."""
    sid = cancelled(api, documents=[pdf_document("a.pdf")])
    key = load(runtime, api, sid).documents[0].blob_key
    monkeypatch.setattr(lifecycle_service.blob_gc, "delete_unused", lambda *a, **k: None)
    assert api.put(f"{S}/{sid}/purge?purgeNow=true")["ReturnValue"] == "True"
    assert blob_path(runtime, key).exists()  # the process "died" here
    monkeypatch.undo()
    runtime.jobs.drain()
    assert not blob_path(runtime, key).exists()


def test_purge_now_keeps_files_a_copy_still_uses(api: Api, runtime: Runtime) -> None:
    sid = completed(api)
    copy = api.post(
        f"{S}/copy",
        {
            "userName": api.username,
            "copyOptions": {"Version": 0},
            "session": {"SigningSessionId": sid},
        },
    )["SigningSessionId"]
    (key,) = blob_keys(runtime, api, sid)
    assert blob_keys(runtime, api, copy) == [key]
    assert api.put(f"{S}/{sid}/purge?purgeNow=true")["Message"] == "Success"
    assert blob_path(runtime, key).exists()
    code, _, body = file_answer(api, copy, first_doc(api, copy))
    assert code == 200 and body.startswith(b"%PDF-")
    assert api.get(f"{S}/{sid}/documents/{first_doc(api, sid)}/file")["Details"] == [PURGED_TEXT]
    # When the copy goes too, the file goes.
    api.put(f"{S}/{copy}/cancel")
    assert api.put(f"{S}/{copy}/purge?purgeNow=true")["Message"] == "Success"
    assert not blob_path(runtime, key).exists()


def test_purge_later_waits_72_hours_then_the_sweep_purges(
    api: Api, runtime: Runtime, clock: FakeClock
) -> None:
    sid = completed(api)
    (key,) = blob_keys(runtime, api, sid)
    doc = first_doc(api, sid)
    answer = api.put(f"{S}/{sid}/purge?returnURL=x")
    assert answer["Message"] == "Success", answer
    s = get_session(api, sid)
    assert s["SessionInfo"]["StatusCode"] == 10
    due_ms = int((clock.now() + timedelta(hours=72)).timestamp() * 1000)
    assert s["SessionInfo"]["PurgeDueOn"] == f"/Date({due_ms})/"
    # During the wait the documents can still be downloaded.
    assert file_answer(api, sid, doc)[0] == 200

    clock.advance(hours=71)
    relogin(api)
    sweep(runtime)
    assert status_of(api, sid) == 10
    assert blob_path(runtime, key).exists()

    clock.advance(hours=2)
    relogin(api)
    sweep(runtime)
    assert status_of(api, sid) == 8
    assert not blob_path(runtime, key).exists()
    assert api.get(f"{S}/{sid}/documents/{doc}/file")["Details"] == [PURGED_TEXT]
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
    assert logs[-1]["Description"] == "Documents purged after the waiting period"
    assert logs[-1]["IPAddress"] == ""  # the system did it, not a caller


def test_past_the_wait_nothing_is_served_or_cancelled_before_the_sweep_runs(
    api: Api, runtime: Runtime, clock: FakeClock
) -> None:
    sid = completed(api)
    doc = first_doc(api, sid)
    assert api.put(f"{S}/{sid}/purge")["Message"] == "Success"
    clock.advance(hours=72, seconds=1)  # the wait is over; no sweep has run yet
    relogin(api)
    assert status_of(api, sid) == 10
    answer = api.put(f"{S}/cancelPurging/{sid}")
    assert_error(answer, "purge wait ended", code="purge_wait_over")
    assert answer["ReturnValue"] == "False"
    assert api.get(f"{S}/{sid}/documents/{doc}/file")["Details"] == [PURGED_TEXT]
    assert api.get(f"{S}/{sid}/files")["Details"] == [PURGED_TEXT]
    copy = api.post(
        f"{S}/copy", {"copyOptions": {}, "session": {"Id": sid}, "userName": api.username}
    )
    assert copy["Details"] == [PURGED_TEXT]
    sweep(runtime)
    assert status_of(api, sid) == 8


def test_waiting_purge_and_case_insensitive_cancel_purging(api: Api) -> None:
    sid = cancelled(api)
    assert api.put(f"{S}/{sid}/purge?purgeNow=false")["Message"] == "Success"
    assert status_of(api, sid) == 10
    assert api.put(f"{S}/CANCELPURGING/{sid}")["Message"] == "Success"
    assert status_of(api, sid) == 4


def test_a_waiting_purge_is_cancelled_before_it_is_purged_now(api: Api, runtime: Runtime) -> None:
    sid = cancelled(api)
    keys = blob_keys(runtime, api, sid)
    assert api.put(f"{S}/{sid}/purge")["ReturnValue"] == "True"
    refused = api.put(f"{S}/{sid}/purge?purgeNow=true")
    assert_error(refused, "ToBePurged")
    assert refused["ReturnValue"] == "False"
    assert status_of(api, sid) == int(SessionStatus.TO_BE_PURGED)
    assert all(blob_path(runtime, k).exists() for k in keys)
    assert api.put(f"{S}/cancelPurging/{sid}")["ReturnValue"] == "True"
    assert api.put(f"{S}/{sid}/purge?purgeNow=true")["ReturnValue"] == "True"
    assert status_of(api, sid) == int(SessionStatus.PURGED)
    assert not any(blob_path(runtime, k).exists() for k in keys)
    assert get_session(api, sid)["SessionInfo"]["PurgeDueOn"] is None


@pytest.mark.parametrize("make", ["completed", "cancelled", "expired"])
def test_cancel_purging_restores_the_previous_status(
    api: Api, runtime: Runtime, clock: FakeClock, make: str
) -> None:
    if make == "completed":
        sid, before = completed(api), 3
    elif make == "cancelled":
        sid, before = cancelled(api), 4
    else:
        sid, before = expiring(api, clock), 7
        clock.advance(days=2)
        relogin(api)
        sweep(runtime)
    (key,) = blob_keys(runtime, api, sid)
    assert status_of(api, sid) == before
    api.put(f"{S}/{sid}/purge")
    assert status_of(api, sid) == 10
    answer = api.put(f"{S}/cancelPurging/{sid}")
    assert answer["Message"] == "Success" and answer["ReturnValue"] == "True", answer
    s = get_session(api, sid)
    assert s["SessionInfo"]["StatusCode"] == before
    assert s["SessionInfo"]["PurgeDueOn"] is None
    # The sweep no longer purges it.
    clock.advance(hours=100)
    relogin(api)
    sweep(runtime)
    assert status_of(api, sid) in (before, 9)  # a completed one may be archived meanwhile
    assert blob_path(runtime, key).exists()


def test_cancel_purging_refused_unless_waiting(api: Api, runtime: Runtime) -> None:
    others = [s for s in ALL if s is not SessionStatus.TO_BE_PURGED]
    check_refused_in(
        runtime,
        api,
        others,
        lambda sid: api.put(f"{S}/cancelPurging/{sid}"),
        code="purge_not_pending",
    )


# --- expiry and archive -----------------------------------------------------------------------


def test_sessions_expire_after_expires_on(api: Api, runtime: Runtime, clock: FakeClock) -> None:
    sent = expiring(api, clock, days=3, signers=[signer("Seller 1"), signer("Buyer 1")])
    start(api, sent)
    draft = expiring(api, clock, days=3)
    paused = expiring(api, clock, days=3)
    api.put(f"{S}/EditSession/{paused}")
    later = expiring(api, clock, days=10)
    never = new_session(api)
    done = completed(api, ExpiresOn=(clock.now() + timedelta(days=3)).isoformat())

    clock.advance(days=2, hours=23)
    relogin(api)
    sweep(runtime)
    assert [status_of(api, s) for s in (sent, draft, paused)] == [2, 1, 6]
    assert api.get(f"{S}/expired/50/0")["TotalCount"] == 0

    clock.advance(hours=2)
    relogin(api)
    sweep(runtime)
    assert [status_of(api, s) for s in (sent, draft, paused)] == [7, 7, 7]
    assert [status_of(api, s) for s in (later, never, done)] == [1, 1, 3]
    assert signer_statuses(api, sent) == {"Seller 1": 5, "Buyer 1": 5}
    listed = api.get(f"{S}/expired/50/0")
    assert sorted(listed["SessionIds"]) == sorted([sent, draft, paused])
    assert listed["TotalCount"] == 3
    logs = api.get(f"{S}/{sent}/actionlogs")["ActionLogs"]
    assert [e["Description"] for e in logs[-3:]] == [
        "Session expired",
        "Signer Pat Doe <seller1@example.com> cancelled: session expired",
        "Signer Pat Doe <buyer1@example.com> cancelled: session expired",
    ]
    # Expired can be copied and purged, not restarted.
    assert_error(start(api, sent), "Expired")


def test_a_change_after_expires_on_finds_the_session_expired(
    api: Api, runtime: Runtime, clock: FakeClock
) -> None:
    """No sweep and no job has run yet: the first change after ExpiresOn expires the session
    first (decision 0040). What expiry forbids is refused naming Expired; what it allows
    (delete, purge) applies to the Expired session, and both changes are recorded."""
    sid = expiring(api, clock, days=1, signers=[signer("Seller 1")])
    start(api, sid)
    signer_id = get_session(api, sid)["Signers"][0]["SignerId"]
    clock.advance(days=1, seconds=1)
    relogin(api)
    more = {"userName": api.username, "session": {"Id": sid, "Signers": [signer("Buyer 1")]}}
    invite = {"signingSessionId": sid, "signerList": [{"SignerId": signer_id}]}
    for answer in (
        api.post(f"{S}/updatesession", more),
        api.put(f"{S}/EditSession/{sid}"),
        api.put(f"{S}/{sid}/cancel"),
        api.put(f"{S}/{sid}/close"),
        api.get(f"/rest/v1/signers/{signer_id}/token"),
        api.put("/rest/v1/signers/invite", invite),
    ):
        assert_error(answer, "Expired")
    assert signer_statuses(api, sid) == {"Seller 1": 2}  # each refusal changed nothing
    purged = api.put(f"{S}/{sid}/purge?purgeNow=true")
    assert purged["ReturnValue"] == "True", purged
    assert status_of(api, sid) == int(SessionStatus.PURGED)
    descriptions = [e["Description"] for e in api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]]
    assert descriptions[-3:] == [
        "Session expired",
        "Signer Pat Doe <seller1@example.com> cancelled: session expired",
        "Documents purged",
    ]


def test_expiry_and_the_purge_wait_end_on_time_without_the_sweep(
    api: Api, runtime: Runtime, clock: FakeClock
) -> None:
    """A session.due job is recorded for ExpiresOn and for the end of a purge wait: each
    runs then, not up to a minute later with the sweep (decision 0040)."""
    sid = expiring(api, clock, days=2)
    (expiry,) = due_jobs(runtime, sid)
    assert expiry["run_at"] == clock.now() + timedelta(days=2)
    assert jobs.run_job(runtime.deps, expiry["id"]) is None  # not due yet: left for later
    assert status_of(api, sid) == int(SessionStatus.DRAFT)
    clock.advance(days=2)
    relogin(api)
    jobs.run_job(runtime.deps, expiry["id"])
    assert status_of(api, sid) == int(SessionStatus.EXPIRED)

    assert api.put(f"{S}/{sid}/purge")["ReturnValue"] == "True"
    wait = next(j for j in due_jobs(runtime, sid) if j["id"] != expiry["id"])
    clock.advance(hours=72)
    relogin(api)
    jobs.run_job(runtime.deps, wait["id"])
    assert status_of(api, sid) == int(SessionStatus.PURGED)


def due_jobs(runtime: Runtime, sid: str) -> list[dict[str, Any]]:
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(tables.jobs).where(tables.jobs.c.name == "session.due"))
        return [dict(r._mapping) for r in rows if r.payload["session_id"] == sid]


def test_completed_sessions_are_archived_after_30_days(
    api: Api, runtime: Runtime, clock: FakeClock
) -> None:
    sid = completed(api)
    cancelled_one = cancelled(api)
    clock.advance(days=29, hours=23)
    relogin(api)
    sweep(runtime)
    assert status_of(api, sid) == 3
    assert api.get(f"{S}/archived/50/0")["SessionIds"] == []
    clock.advance(hours=2)
    relogin(api)
    sweep(runtime)
    assert status_of(api, sid) == 9
    assert status_of(api, cancelled_one) == 4
    listed = api.get(f"{S}/archived/50/0")
    assert listed["SessionIds"] == [sid] and listed["TotalCount"] == 1
    # An archived session's documents are still there.
    assert file_answer(api, sid, first_doc(api, sid))[0] == 200


# --- webhooks on each status change -----------------------------------------------------------


def test_no_webhook_is_recorded_without_a_url(api: Api) -> None:
    sid = started(api)
    api.put(f"{S}/{sid}/cancel")
    assert webhook_events(api) == []


def test_webhooks_follow_the_session_through_its_statuses(api: Api, runtime: Runtime) -> None:
    enable_webhooks(runtime, api)
    sid = new_session(api, signers=[signer("Seller 1"), signer("Buyer 1")])
    ids = {g["SignerRole"]: g["SignerId"] for g in get_session(api, sid)["Signers"]}
    assert webhook_events(api, sid) == []

    start(api, sid)
    assert session_webhooks(api, sid) == [2]
    assert signer_webhooks(api, sid) == sorted([(ids["Seller 1"], 2), (ids["Buyer 1"], 2)])

    api.put(f"{S}/EditSession/{sid}")
    start(api, sid)  # signers already invited: no new signer events
    assert session_webhooks(api, sid) == [2, 2, 6]
    assert len(signer_webhooks(api, sid)) == 2

    api.put(f"{S}/{sid}/cancel")
    assert session_webhooks(api, sid) == [2, 2, 4, 6]
    assert signer_webhooks(api, sid) == sorted(
        [(ids["Seller 1"], 2), (ids["Buyer 1"], 2), (ids["Seller 1"], 5), (ids["Buyer 1"], 5)]
    )
    api.delete(f"{S}/{sid}")
    assert session_webhooks(api, sid) == [2, 2, 4, 5, 6]

    event = next(e for e in webhook_events(api, sid) if e["Status"] == 4)
    assert event == {
        "SigningSessionId": sid,
        "NewSigningSessionId": "00000000-0000-0000-0000-000000000000",
        "SignerId": "00000000-0000-0000-0000-000000000000",
        "Type": "SessionStatus",
        "Status": 4,
        "Title": "Offer on 12 Elm St",
        "DeclinedReason": "",
    }
    signer_event = next(e for e in webhook_events(api, sid) if e["Type"] == "SignerStatus")
    assert signer_event["Title"] == "Offer on 12 Elm St"
    assert signer_event["SignerId"] in ids.values()


def test_webhooks_for_close_purge_and_cancel_purging(api: Api, runtime: Runtime) -> None:
    enable_webhooks(runtime, api)
    sid = started(api, signers=[signer("Seller 1"), signer("Buyer 1")])
    api.put(f"{S}/{sid}/close")
    assert session_webhooks(api, sid) == [2, 3]
    assert sorted(s for _, s in signer_webhooks(api, sid)) == [2, 2, 5, 5]

    api.put(f"{S}/{sid}/purge")
    api.put(f"{S}/cancelPurging/{sid}")
    api.put(f"{S}/{sid}/purge?purgeNow=true")
    assert session_webhooks(api, sid) == [2, 3, 3, 8, 10]
    # A purge changes no signer's status, so it sends no signer event.
    assert sorted(s for _, s in signer_webhooks(api, sid)) == [2, 2, 5, 5]


def test_webhooks_for_sweep_changes(api: Api, runtime: Runtime, clock: FakeClock) -> None:
    enable_webhooks(runtime, api)
    expiring_id = expiring(api, clock, days=1)
    start(api, expiring_id)
    done = completed(api)
    purging = cancelled(api)
    api.put(f"{S}/{purging}/purge")
    clock.advance(days=31)
    relogin(api)
    sweep(runtime)
    assert session_webhooks(api, expiring_id) == [2, 7]
    assert sorted(s for _, s in signer_webhooks(api, expiring_id)) == [2, 5]
    assert session_webhooks(api, done) == [2, 3, 9]
    assert session_webhooks(api, purging) == [4, 8, 10]
    assert sorted(s for _, s in signer_webhooks(api, purging)) == [5]


def test_a_session_deleted_while_waiting_to_be_purged_is_still_purged(
    api: Api, runtime: Runtime, clock: FakeClock
) -> None:
    sid = api.create_session()["SigningSessionId"]
    assert api.put(f"/rest/v1/sessions/{sid}/cancel")["Message"] == "Success"
    assert api.put(f"/rest/v1/sessions/{sid}/purge?purgeNow=false")["Message"] == "Success"
    assert api.delete(f"/rest/v1/sessions/{sid}")["Message"] == "Success"
    clock.advance(hours=73)
    runtime.jobs.sweep()
    api.login()  # the token expired meanwhile
    answer = api.get(f"/rest/v1/sessions/{sid}")
    assert answer["Message"] == "Success", answer
    info = answer["Sessions"][0]["SessionInfo"]
    assert info["StatusCode"] == 8
    blobs = [p for p in (runtime.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert blobs == []
    # Deleted, it stays listed apart once purged (decision 0038).
    lite = api.get(f"{S}/lite/{api.username}/TX-1/50/0/sortBy")
    assert lite["TotalCount"] == 0 and lite["Sessions"] == []
    assert api.get(f"/rest/v1/users/{api.username}/transactions/TX-1")["TotalCount"] == 0
    assert api.get(f"{S}/deleted/50/0")["SessionIds"] == [sid]


def test_purge_now_reads_the_usual_spellings_of_yes(api: Api) -> None:
    for value, status in (("True", 8), ("yes", 8), ("1", 8), ("false", 10), ("no", 10)):
        sid = cancelled(api)
        answer = api.put(f"{S}/{sid}/purge?returnURL=x&purgeNow={value}")
        assert answer["ReturnValue"] == "True", answer
        assert status_of(api, sid) == status, value


def test_purge_now_that_is_neither_yes_nor_no_is_refused(api: Api) -> None:
    sid = cancelled(api)
    answer = api.put(f"{S}/{sid}/purge?purgeNow=garbage")
    assert_error(answer, "purgeNow must be true or false", code="invalid_request")
    assert status_of(api, sid) == 4  # nothing done
    assert api.put(f"{S}/{sid}/purge?purgeNow=")["ReturnValue"] == "True"  # empty: not given
    assert status_of(api, sid) == 10
