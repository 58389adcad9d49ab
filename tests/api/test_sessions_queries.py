"""Reading sessions: GetSession (S10), GetSessionActionLogs (S11), by transaction (S12, S13),
the lite listing (S14), UpdateTransactionId (S20), GetRoles, GetDocumentFile, the error
answers of GetSessionFiles / GetArchivedSessionFiles, and tenant isolation on every session
endpoint (contract §2 "Every call is scoped to the token's client", §4)."""

from __future__ import annotations

import base64
import itertools
import urllib.parse
from typing import Any

import pytest

from esign.app import Runtime
from esign.domain.enums import SessionStatus
from esign.services import clients
from tests.api.session_helpers import (
    PURGED_TEXT,
    S,
    add_field,
    assert_error,
    assert_not_found,
    blob_keys,
    blob_path,
    cancelled,
    check_refused_in,
    completed,
    docx_bytes,
    enable_webhooks,
    force_status,
    get_session,
    move_tx,
    new_session,
    raw_document,
    signer_statuses,
    started,
    status_of,
    the_session,
    webhook_events,
)
from tests.conftest import Api, FakeClock, pdf_document, signer

# --- GetSession ------------------------------------------------------------------------------


def test_get_session_returns_the_whole_session(api: Api) -> None:
    doc = pdf_document("offer.pdf", pages=2, FormTag="main")
    sid = new_session(
        api,
        documents=[doc],
        signers=[
            signer(
                "Seller 1",
                Sequence=1,
                AuthMethod="SMS",
                AuthenticationSettings={"SMSPhoneNumber": "+15555550100"},
                MergeFieldMapping={"Company": "RED"},
                SignerEmailSubject="Please sign",
            )
        ],
        Description="Hello\nthere",
        CopyTo="cc@example.com",
        ApplicationKey="app-1",
    )
    answer = api.get(f"{S}/{sid}")
    assert answer["Message"] == "Success"
    assert answer["SigningSessionId"] == sid == answer["ReturnValue"]
    s = the_session(answer)
    info = s["SessionInfo"]
    assert info["StatusCode"] == 1
    assert info["Description"] == "Hello\nthere"
    assert info["CopyTo"] == "cc@example.com"
    assert info["ApplicationKey"] == "app-1"
    assert info["OwnerEmail"] == api.username
    assert info["ClientID"] == api.client_id
    assert info["CompletedOn"] is None
    assert info["ExpiresOn"] is None
    (d,) = s["Documents"]
    assert {
        "DocumentId",
        "FileName",
        "Sequence",
        "PageCount",
        "FormId",
        "FormTag",
        "HasAnchorTags",
        "AnchorTagsAdjustmentCategory",
        "ProcessingStatus",
        "ProcessingErrors",
        "Fields",
    } <= set(d)
    assert d["FormTag"] == "main" and d["PageCount"] == 2
    assert "FileBytes" not in d
    (g,) = s["Signers"]
    assert g["AuthMethod"] == 4
    assert g["AuthenticationSettings"]["SMSPhoneNumber"] == "+15555550100"
    assert g["MergeFieldMapping"] == {"Company": "RED"}
    assert g["SignerEmailSubject"] == "Please sign"
    assert g["SigningSessionId"] == sid
    assert g["StatusCode"] == 1
    assert g["DeclinedReason"] is None


def test_get_session_renders_fields_in_points(api: Api, runtime: Runtime) -> None:
    sid = new_session(api)
    field_id = add_field(runtime, api, sid, "Seller 1")
    (f,) = get_session(api, sid)["Documents"][0]["Fields"]
    seller = get_session(api, sid)["Signers"][0]
    assert f == {
        "FieldId": field_id,
        "Type": "sig",
        "Option": "req",
        "Role": "Seller 1",
        "SignerId": seller["SignerId"],
        "PageNumber": 1,
        "X": pytest.approx(61.2),
        "Y": pytest.approx(633.6),
        "Width": pytest.approx(183.6),
        "Height": pytest.approx(31.68),
        "FontSize": 0,
        "Items": [],
        "Value": None,
    }


def test_get_unknown_session_or_without_token(api: Api) -> None:
    assert_not_found(api.get(f"{S}/00000000-0000-0000-0000-000000000000"))
    assert_not_found(api.get(f"{S}/not-a-guid"))

    sid = new_session(api)
    answer = api.http.get(f"{S}/{sid}").json()
    assert answer["Details"] == ["Error: Invalid token"]
    assert answer["ErrorCodes"] == ["invalid_token"]


# --- GetSessionsLiteByTransactionId ----------------------------------------------------------


@pytest.fixture
def lite(api: Api, runtime: Runtime, clock: FakeClock) -> list[dict[str, Any]]:
    """Five sessions of transaction TX-L with distinct titles, statuses and creation times."""
    made = []
    for title, status in [
        ("delta", SessionStatus.SENT),  # (text sorts ignoring case)
        ("alpha", SessionStatus.COMPLETED),
        ("Echo", SessionStatus.DRAFT),
        ("Bravo", SessionStatus.SENT),
        ("Charlie", SessionStatus.CANCELLED),
    ]:
        sid = new_session(api, Title=title, TransactionId="TX-L")
        force_status(runtime, api, sid, status)
        made.append({"id": sid, "title": title, "status": int(status), "at": clock.now()})
        clock.advance(minutes=1)
    new_session(api, Title="Other tx", TransactionId="TX-OTHER")
    colleague = clients.add_user(
        runtime.deps,
        api.client_id,
        "colleague@acme.example.com",
        "Col",
        "League",
        "pw123456",
        False,
    )
    api.post(
        S,
        {
            "userName": colleague.username,
            "session": {
                "SessionInfo": {"Title": "Colleague's", "TransactionId": "TX-L"},
                "Documents": [pdf_document()],
                "Signers": [signer("Seller 1")],
            },
        },
    )
    return made


def lite_url(
    api: Api, size: int, num: int, col: str | None = None, order: str | None = None
) -> str:
    url = f"{S}/lite/{api.username}/TX-L/{size}/{num}/sortBy"
    query = [f"colName={col}" if col else "", f"sortOrder={order}" if order else ""]
    joined = "&".join(q for q in query if q)
    return url + ("?" + joined if joined else "")


def test_lite_rows_total_and_default_order(api: Api, lite: list[dict[str, Any]]) -> None:
    answer = api.get(lite_url(api, 50, 0, "Title", "asc"))
    assert answer["Message"] == "Success"
    assert answer["TotalCount"] == 5
    rows = answer["Sessions"]
    assert [r["Title"] for r in rows] == ["alpha", "Bravo", "Charlie", "delta", "Echo"]
    by_id = {m["id"]: m for m in lite}
    for r in rows:
        made = by_id[r["SigningSessionId"]]
        assert r["TransactionId"] == "TX-L"
        assert r["StatusCode"] == made["status"]
        assert r["CreatedOn"] == f"/Date({int(made['at'].timestamp() * 1000)})/"

    got = api.get(lite_url(api, 50, 0))
    assert [r["SigningSessionId"] for r in got["Sessions"]] == [m["id"] for m in reversed(lite)]


def test_lite_sorts_by_each_column(api: Api, lite: list[dict[str, Any]]) -> None:
    keys = {
        "SigningSessionId": lambda m: m["id"],
        "Title": lambda m: m["title"].lower(),
        "TransactionId": lambda m: "TX-L",
        "StatusCode": lambda m: m["status"],
        "CreatedOn": lambda m: m["at"],
    }
    for col, key in keys.items():
        for order in ("asc", "desc"):
            # Ties are broken by id, ascending, whatever the order.
            expected = sorted(sorted(lite, key=lambda m: m["id"]), key=key, reverse=order == "desc")
            got = api.get(lite_url(api, 50, 0, col, order))
            ids = [r["SigningSessionId"] for r in got["Sessions"]]
            assert ids == [m["id"] for m in expected], (col, order)
    # Column and order names are matched ignoring case.
    got = api.get(lite_url(api, 50, 0, "title", "DESC"))
    assert [r["Title"] for r in got["Sessions"]] == ["Echo", "delta", "Charlie", "Bravo", "alpha"]


def test_lite_pages_are_zero_based(api: Api, lite: list[dict[str, Any]]) -> None:
    pages = [api.get(lite_url(api, 2, n, "CreatedOn", "asc")) for n in range(4)]
    assert [len(p["Sessions"]) for p in pages] == [2, 2, 1, 0]
    assert all(p["TotalCount"] == 5 for p in pages)
    ids = [r["SigningSessionId"] for p in pages for r in p["Sessions"]]
    assert ids == [m["id"] for m in lite]


def test_lite_rejects_bad_page_size_and_sort(api: Api, lite: list[dict[str, Any]]) -> None:
    assert len(api.get(lite_url(api, 50, 0))["Sessions"]) == 5
    assert_error(api.get(lite_url(api, 51, 0)), "pageSize", code="validation_failed")
    assert_error(api.get(lite_url(api, 0, 0)), "pageSize", code="validation_failed")

    assert_error(api.get(lite_url(api, 10, 0, "Owner", "asc")), "colName")
    assert_error(api.get(lite_url(api, 10, 0, "Title", "up")), "sortOrder")


def test_negative_page_numbers_are_application_errors(api: Api) -> None:
    """Not 404: the route exists, the number is wrong (contract §1, HTTP 200 for those)."""
    for path, member in (
        (f"{S}/lite/{api.username}/TX-1/-1/0/sortBy", "pageSize"),
        (f"{S}/lite/{api.username}/TX-1/10/-1/sortBy", "pageNum"),
        (f"{S}/archived/-1/0", "pageSize"),
        (f"{S}/deleted/10/-1", "pageNum"),
        (f"{S}/expired/10/-1", "pageNum"),
    ):
        assert_error(api.get(path), member, code="validation_failed")
    for path, member in (
        (f"{S}/deleted/abc/0", "pageSize"),
        (f"{S}/lite/{api.username}/TX-1/10/1.5/sortBy", "pageNum"),
        (f"{S}/expired/10/%20", "pageNum"),
    ):
        assert_error(api.get(path), member, "whole number", code="invalid_request")
    forged = api.http.get(f"{S}/deleted/abc/0", headers={"Authorization": "forged"}).json()
    assert forged["ErrorCodes"] == ["invalid_token"]  # who may not call learns nothing more


def test_lite_needs_a_known_username(api: Api, other_api: Api, lite: list[dict[str, Any]]) -> None:
    url = f"{S}/lite/ghost@example.com/TX-L/10/0/sortBy?colName=Title&sortOrder=asc"
    assert_error(api.get(url), "Username not found")
    upper = api.get(f"{S}/lite/{api.username.upper()}/TX-L/10/0/sortBy")
    assert upper["TotalCount"] == 5
    # Another client cannot list these, even naming the right user.
    assert_error(other_api.get(lite_url(api, 10, 0)), "Username not found")


def test_a_deactivated_users_transactions_are_still_listed(api: Api) -> None:
    """A deactivated user cannot own new sessions (contract §3), but the brokerage still
    finds the ones they had."""
    made = api.post(
        "/rest/v1/users",
        {
            "salt": "s",
            "user": {
                "Username": "left@acme.example.com",
                "FirstName": "Lee",
                "LastName": "Left",
                "Password": api.rt.deps.cipher.encrypt("pw-12345678", "s"),
            },
        },
    )["Users"][0]
    body = {
        "userName": "left@acme.example.com",
        "session": {"SessionInfo": {"Title": "Theirs", "TransactionId": "TX-LEFT"}},
    }
    sid = api.post(S, body)["SigningSessionId"]
    api.put("/rest/v1/users/provisionUser", {"systemUserId": made["SystemUserId"], "userStatus": 0})
    assert_error(api.post(S, body), "inactive")  # owns no new session
    lite = api.get(f"{S}/lite/left@acme.example.com/TX-LEFT/10/0/sortBy")
    assert [r["SigningSessionId"] for r in lite["Sessions"]] == [sid]
    for v in ("v1", "v2"):
        full = api.get(f"/rest/{v}/users/left@acme.example.com/transactions/TX-LEFT")
        assert [x["SigningSessionId"] for x in full["Sessions"]] == [sid]


def test_deleted_and_archived_sessions_are_listed_apart(api: Api, runtime: Runtime) -> None:
    """Deleted and Archived sessions leave the transaction's listings (decision 0038) for
    GetDeletedSessions and GetArchivedSessions; every other status stays listed."""
    kept = {}
    for status in SessionStatus:
        sid = new_session(api, Title=status.name, TransactionId="TX-APART")
        force_status(runtime, api, sid, status)
        kept[sid] = status
    listed = set(kept) - {
        sid for sid, s in kept.items() if s in (SessionStatus.DELETED, SessionStatus.ARCHIVED)
    }
    lite = api.get(f"{S}/lite/{api.username}/TX-APART/50/0/sortBy")
    assert {r["SigningSessionId"] for r in lite["Sessions"]} == listed
    assert lite["TotalCount"] == len(listed) == len(SessionStatus) - 2
    for v in ("v1", "v2"):
        full = api.get(f"/rest/{v}/users/{api.username}/transactions/TX-APART")
        assert {s["SigningSessionId"] for s in full["Sessions"]} == listed
        assert full["TotalCount"] == len(listed)
    apart = (("deleted", SessionStatus.DELETED), ("archived", SessionStatus.ARCHIVED))
    for bucket, status in apart:
        ids = api.get(f"{S}/{bucket}/50/0")["SessionIds"]
        assert ids == [sid for sid, s in kept.items() if s is status]
        assert status_of(api, ids[0]) == int(status)


# --- GetSessionsByTransactionId (v1) and ...Metadata (v2) -------------------------------------


def test_sessions_by_transaction_v1_and_v2(api: Api, runtime: Runtime) -> None:
    a = new_session(api, TransactionId="TX-77", Title="One")
    b = new_session(api, TransactionId="TX-77", Title="Two")
    new_session(api, TransactionId="TX-78")
    add_field(runtime, api, a, "Seller 1")
    v1 = api.get(f"/rest/v1/users/{api.username}/transactions/TX-77")
    assert v1["Message"] == "Success" and v1["TotalCount"] == 2
    assert [s["SigningSessionId"] for s in v1["Sessions"]] == [a, b]
    assert len(v1["Sessions"][0]["Documents"][0]["Fields"]) == 1
    assert v1["Sessions"][0]["Signers"][0]["SignerRole"] == "Seller 1"
    v2 = api.get(f"/rest/v2/users/{api.username}/transactions/TX-77")
    assert [s["SigningSessionId"] for s in v2["Sessions"]] == [a, b]
    assert v2["Sessions"][0]["SessionInfo"]["Title"] == "One"
    assert v2["Sessions"][0]["Documents"][0]["Fields"] == []
    empty = api.get(f"/rest/v1/users/{api.username}/transactions/TX-NONE")
    assert empty["Sessions"] == [] and empty["TotalCount"] == 0


def test_sessions_by_transaction_needs_a_user_of_the_client(api: Api, other_api: Api) -> None:
    new_session(api, TransactionId="TX-77")
    for v in ("v1", "v2"):
        assert_error(api.get(f"/rest/{v}/users/ghost@example.com/transactions/TX-77"), "Username")
        assert_error(
            other_api.get(f"/rest/{v}/users/{api.username}/transactions/TX-77"), "Username"
        )


# --- UpdateTransactionId ---------------------------------------------------------------------


def test_update_transaction_id(api: Api, runtime: Runtime) -> None:
    for n, status in enumerate((SessionStatus.DRAFT, SessionStatus.SENT, SessionStatus.PAUSED)):
        sid = new_session(api, TransactionId=f"TX-OLD-{n}")
        force_status(runtime, api, sid, status)
        answer = move_tx(api, sid, f" TX-NEW-{n} ")
        assert answer["Message"] == "Success" and answer["ReturnValue"] == "True", answer
        assert get_session(api, sid)["SessionInfo"]["TransactionId"] == f"TX-NEW-{n}"
        assert api.get(f"/rest/v1/users/{api.username}/transactions/TX-OLD-{n}")["Sessions"] == []
        moved = api.get(f"/rest/v1/users/{api.username}/transactions/TX-NEW-{n}")["Sessions"]
        assert [s["SigningSessionId"] for s in moved] == [sid]
        logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
        assert f"TX-OLD-{n}" in logs[-1]["Description"]
        assert f"TX-NEW-{n}" in logs[-1]["Description"]


def test_update_transaction_id_needs_the_new_one(api: Api) -> None:
    sid = new_session(api, TransactionId="TX-KEEP")
    body = {"userName": api.username, "signingSessionId": sid}
    answer = api.put("/rest/v1/transaction/UpdateTxId", body)
    assert_error(answer, "newTransactionId is required", code="invalid_request")
    assert get_session(api, sid)["SessionInfo"]["TransactionId"] == "TX-KEEP"
    assert move_tx(api, sid, "")["ReturnValue"] == "True"  # an empty one clears it
    assert get_session(api, sid)["SessionInfo"]["TransactionId"] == ""


def test_update_transaction_id_refused_in_other_statuses(api: Api, runtime: Runtime) -> None:
    editable = (SessionStatus.DRAFT, SessionStatus.SENT, SessionStatus.PAUSED)
    others = [s for s in SessionStatus if s not in editable]
    check_refused_in(runtime, api, others, lambda sid: move_tx(api, sid, "TX-NEW"))
    assert api.get(f"/rest/v1/users/{api.username}/transactions/TX-NEW")["Sessions"] == []

    sid = new_session(api)
    assert_error(move_tx(api, sid, "X", username="ghost@example.com"), "Username not found")
    assert_error(move_tx(api, "", "X"), "signingSessionId")
    assert_not_found(move_tx(api, "nope", "X"))


# --- GetSessionActionLogs --------------------------------------------------------------------


def test_action_logs_record_each_action(api: Api) -> None:
    sid = new_session(api, signers=[signer("Seller 1"), signer("Buyer 1")])
    api.put(f"{S}/{sid}/start")
    api.put(f"{S}/EditSession/{sid}")
    api.put(f"{S}/{sid}/cancel")
    answer = api.get(f"{S}/{sid}/actionlogs")
    assert answer["Message"] == "Success"
    logs = answer["ActionLogs"]
    assert answer["TotalCount"] == len(logs)
    for e in logs:
        assert e["Date"].startswith("/Date(") and e["Date"].endswith(")/")
        assert e["IPAddress"] == "testclient"  # the caller's address, as the server saw it
        assert e["Description"]
    descriptions = [e["Description"] for e in logs]
    expected_in_order = [
        "created by " + api.username,
        "Document 'offer.pdf' added",
        "added as 'Seller 1'",
        "added as 'Buyer 1'",
        "invited",
        "invited",
        "Session sent for signature",
        "Session paused",
        "Session cancelled",
    ]
    position = 0
    for fragment in expected_in_order:
        while position < len(descriptions) and fragment not in descriptions[position]:
            position += 1
        assert position < len(descriptions), (fragment, descriptions)
        position += 1
    # Hash-chained, in order.
    assert [e["Sequence"] for e in logs] == list(range(1, len(logs) + 1))
    for before, after in itertools.pairwise(logs):
        assert after["PreviousHash"] == before["Hash"]

    assert_not_found(api.get(f"{S}/nope/actionlogs"))


# --- GetRoles --------------------------------------------------------------------------------


def test_get_roles(api: Api) -> None:
    answer = api.get("/rest/v1/roles")
    assert answer["Message"] == "Success"
    roles = answer["Roles"]
    assert isinstance(roles, list) and all(isinstance(r, str) for r in roles)
    assert {"Seller 1", "Buyer 1", "Listing Agent", "Selling Agent"} <= set(roles)


# --- GetDocumentFile, GetSessionFiles, GetArchivedSessionFiles --------------------------------


def test_document_file_returns_the_pdf(api: Api) -> None:
    doc = pdf_document("offer.pdf", pages=2)
    sid = new_session(api, documents=[doc])
    doc_id = get_session(api, sid)["Documents"][0]["DocumentId"]
    r = api.http.get(f"{S}/{sid}/documents/{doc_id}/file", headers=api.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert 'filename="offer.pdf"' in r.headers["content-disposition"]
    assert r.content == base64.b64decode(doc["FileBytes"])
    assert r.headers["content-length"] == str(len(r.content))
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]  # who took a copy is evidence
    assert logs[-1]["Description"] == "Document 'offer.pdf' downloaded"
    assert logs[-1]["IPAddress"] == "testclient"


def test_document_file_of_any_name(api: Api) -> None:
    """Headers are Latin-1: "€" in a name once made the download an HTTP 500."""
    name = 'Offer "€ 5,000" \u202egpj.pdf'
    sid = new_session(api, documents=[pdf_document(name)])
    doc_id = get_session(api, sid)["Documents"][0]["DocumentId"]
    r = api.http.get(f"{S}/{sid}/documents/{doc_id}/file", headers=api.headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('inline; filename="Offer __ 5,000_ _gpj.pdf"; ')
    assert disposition.endswith("filename*=UTF-8''" + urllib.parse.quote(name, safe=""))


def test_document_file_whose_bytes_went_meanwhile_is_an_error(api: Api) -> None:
    sid = new_session(api)
    doc_id = get_session(api, sid)["Documents"][0]["DocumentId"]
    for key in blob_keys(api.rt, api, sid):
        blob_path(api.rt, key).unlink()
    assert_error(api.get(f"{S}/{sid}/documents/{doc_id}/file"), PURGED_TEXT)


def test_document_file_errors(api: Api) -> None:
    sid = new_session(api, documents=[pdf_document(), raw_document("a.docx", docx_bytes())])
    other = new_session(api)
    pending = get_session(api, sid)["Documents"][1]["DocumentId"]
    assert_error(api.get(f"{S}/{sid}/documents/{pending}/file"), "a.docx", "processed")
    assert_not_found(api.get(f"{S}/{sid}/documents/nope/file"))
    other_doc = get_session(api, other)["Documents"][0]["DocumentId"]
    assert_not_found(api.get(f"{S}/{sid}/documents/{other_doc}/file"))
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
    assert not [x for x in logs if "downloaded" in x["Description"]]  # refused: not taken


def test_session_files_error_answers(api: Api) -> None:
    draft = new_session(api)
    purged = completed(api)
    api.put(f"{S}/{purged}/purge?purgeNow=true")
    for prefix in (S, f"{S}/archived"):
        for suffix in ("", "?format=zip"):
            r = api.http.get(f"{prefix}/{draft}/files{suffix}", headers=api.headers)
            assert r.status_code == 200
            assert_error(r.json(), "Draft")
        answer = api.get(f"{prefix}/{purged}/files")
        assert answer["Message"] == "Error" and answer["Details"] == [PURGED_TEXT]
        assert_not_found(api.get(f"{prefix}/00000000-0000-0000-0000-000000000000/files"))


# --- tenant isolation ------------------------------------------------------------------------


def test_another_client_sees_not_found_on_every_session_endpoint(
    api: Api, other_api: Api, runtime: Runtime
) -> None:
    enable_webhooks(runtime, api)
    sid = started(api, signers=[signer("Seller 1"), signer("Buyer 1")])
    done = cancelled(api)
    api.put(f"{S}/{done}/purge")  # ToBePurged: the one status CancelPurging accepts
    s = get_session(api, sid)
    doc_id = s["Documents"][0]["DocumentId"]
    signer_id = s["Signers"][0]["SignerId"]
    trail_before = len(api.get(f"{S}/{sid}/actionlogs")["ActionLogs"])
    webhooks_before = len(webhook_events(api))
    them = other_api.username
    session_body = {"userName": them, "session": {"Id": sid, "Signers": [signer("Buyer 2")]}}
    calls: list[tuple[str, str, Any]] = [
        ("GET", f"{S}/{sid}", None),
        ("POST", f"{S}/updatesession", session_body),
        ("POST", f"{S}/copy", {"userName": them, "session": {"SigningSessionId": sid}}),
        ("PUT", f"{S}/{sid}/start", None),
        ("PUT", f"{S}/EditSession/{sid}", None),
        ("PUT", f"{S}/{sid}/cancel", None),
        ("PUT", f"{S}/{sid}/close", None),
        ("DELETE", f"{S}/{sid}", None),
        ("PUT", f"{S}/{done}/purge?purgeNow=true", None),
        ("PUT", f"{S}/cancelPurging/{done}", None),
        ("GET", f"{S}/{sid}/actionlogs", None),
        ("GET", f"{S}/{sid}/inviteurls", None),
        ("GET", f"{S}/{sid}/files", None),
        ("GET", f"{S}/archived/{sid}/files", None),
        ("GET", f"{S}/{sid}/documents/{doc_id}/file", None),
        (
            "PUT",
            "/rest/v1/transaction/UpdateTxId",
            {"userName": them, "signingSessionId": sid, "newTransactionId": "STOLEN"},
        ),
        ("GET", f"/rest/v1/signers/{signer_id}/token", None),
        (
            "PUT",
            "/rest/v1/signers/invite",
            {"signingSessionId": sid, "signerList": [{"SignerId": signer_id}]},
        ),
        (
            "PUT",
            "/rest/v1/signers",
            {
                "userName": them,
                "signingSessionId": sid,
                "signers": [{"SignerId": signer_id, "EmailAddress": "thief@example.com"}],
            },
        ),
        ("GET", f"/rest/v1/signer/docs/{them}/{sid}/{signer_id}/1/5", None),
    ]
    for method, path, body in calls:
        response = other_api.http.request(method, path, json=body, headers=other_api.headers)
        assert response.status_code == 200, (path, response.text)
        answer = response.json()
        assert_not_found(answer)
        assert sid not in response.text.replace(path, ""), path
    # Listings of the other client do not show these sessions either.
    api.delete(f"{S}/{new_session(api)}")
    for listing in ("deleted", "expired", "archived"):
        assert other_api.get(f"{S}/{listing}/50/0")["TotalCount"] == 0
    assert other_api.get("/rest/v1/webhooks/deliveries")["TotalCount"] == 0
    # Nothing changed.
    assert status_of(api, sid) == 2
    assert status_of(api, done) == 10
    assert signer_statuses(api, sid) == {"Seller 1": 2, "Buyer 1": 2}
    after = get_session(api, sid)
    assert after["SessionInfo"]["TransactionId"] == "TX-1"
    assert [g["EmailAddress"] for g in after["Signers"]] == [
        g["EmailAddress"] for g in s["Signers"]
    ]
    assert len(after["Signers"]) == 2
    assert len(api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]) == trail_before
    # the delete above (the session and its one signer, cancelled), nothing else
    assert len(webhook_events(api)) == webhooks_before + 2
