"""CreateSession (S1) and UpdateSession / AddSignersDocumentsToSession (S2, S3): contract §4
"Lifecycle rules", §5 (refused files) and reference §2.6 (gating, duplicate roles)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from esign.app import Runtime
from esign.domain.enums import FieldOption, SessionStatus
from esign.services import clients
from esign.services import sessions as sessions_service
from esign.storage import tables
from tests.api.session_helpers import (
    SIGNER_RULE,
    S,
    add_field,
    assert_error,
    assert_not_found,
    blank_pdf,
    blob_path,
    database_files_bytes,
    database_text,
    docx_bytes,
    encrypted_pdf,
    force_status,
    get_session,
    load,
    new_session,
    png_bytes,
    raw_document,
    set_signer_status,
    signer_statuses,
    started,
    the_session,
    update,
)
from tests.conftest import Api, FakeClock, pdf_document, signer, tiny_pdf
from tests.pdf.office_samples import encrypted_docx, sample_docx, zip_bomb_docx


def create(api: Api, session: dict[str, Any], username: str | None = None) -> dict[str, Any]:
    return api.post(
        S, {"userName": api.username if username is None else username, "session": session}
    )


def info(**extra: Any) -> dict[str, Any]:
    return {"Title": "Listing agreement", "TransactionId": "TX-C", **extra}


# --- CreateSession ---------------------------------------------------------------------------


def test_create_makes_a_draft_with_documents_and_signers(api: Api) -> None:
    answer = create(
        api,
        {
            "SessionInfo": info(Description="Please sign", UseSequence=1),
            "Documents": [
                pdf_document("offer.pdf", pages=3, FormTag="offer"),
                raw_document("addendum.docx", docx_bytes()),
            ],
            "Signers": [signer("Seller 1", Sequence=1), signer("Buyer 1", Sequence=2)],
        },
    )
    assert answer["Details"] == []
    assert answer["ErrorCodes"] == []
    sid = answer["SigningSessionId"]
    assert answer["ReturnValue"] == sid
    s = the_session(answer)
    assert s["Id"] == s["SigningSessionId"] == sid
    assert s["SessionInfo"]["StatusCode"] == 1
    assert s["SessionInfo"]["Title"] == "Listing agreement"
    assert s["SessionInfo"]["TransactionId"] == "TX-C"
    assert s["SessionInfo"]["UseSequence"] == 1
    assert s["SessionInfo"]["OwnerEmail"] == api.username
    assert s["SessionInfo"]["CreatedOn"].startswith("/Date(")
    pdf, docx = s["Documents"]
    assert (pdf["FileName"], pdf["Sequence"], pdf["PageCount"]) == ("offer.pdf", 1, 3)
    assert pdf["ProcessingStatus"] == "Ready"
    assert pdf["ProcessingErrors"] == []
    assert pdf["FormTag"] == "offer"
    assert pdf["DocumentId"]
    assert "FileBytes" not in pdf
    assert (docx["FileName"], docx["Sequence"]) == ("addendum.docx", 2)
    assert docx["ProcessingStatus"] == "Pending"
    assert [g["SignerRole"] for g in s["Signers"]] == ["Seller 1", "Buyer 1"]
    assert all(g["StatusCode"] == 1 for g in s["Signers"])  # PendingInvite
    assert all(g["SignerId"] for g in s["Signers"])
    # The stored session reads back the same.
    again = get_session(api, sid)
    assert again["Documents"] == s["Documents"]
    assert again["Signers"] == s["Signers"]


def test_create_accepts_bytes_as_integer_array_and_ms_dates(api: Api, clock: FakeClock) -> None:
    expires = clock.now() + timedelta(days=10)
    ms = int(expires.timestamp() * 1000)
    answer = create(
        api,
        {
            "SessionInfo": info(ExpiresOn=f"\\/Date({ms})\\/"),
            "Documents": [{"FileName": "a.pdf", "FileBytes": list(tiny_pdf())}],
            "Signers": [signer("Seller 1")],
        },
    )
    s = the_session(answer)
    assert s["Documents"][0]["PageCount"] == 1
    assert s["SessionInfo"]["ExpiresOn"] == f"/Date({ms})/"


def real_png(width: int = 40, height: int = 30) -> bytes:
    import io
    import zlib

    from PIL import Image

    if width * height <= 1_000_000:
        buf = io.BytesIO()
        Image.new("RGB", (width, height), "white").save(buf, format="PNG")
        return buf.getvalue()

    # Only a header that claims a vast picture (and one compressed row): never decoded.
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    row = zlib.compress(b"\x00" + b"\xff" * 3 * width)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


BAD_FILES = [
    ("locked.pdf", encrypted_pdf(), "encrypted"),
    ("restricted.pdf", encrypted_pdf(user_password=""), "encrypted"),
    ("truncated.pdf", tiny_pdf(2)[:800], "damaged"),
    ("empty.pdf", b"", "empty"),
    ("picture.pdf", png_bytes(), "not a .pdf"),
    ("notes.exe", b"MZ\x90\x00 program", "not accepted"),
    ("bomb.docx", zip_bomb_docx(300), "the limit is 200 MB"),
    ("secret.docx", encrypted_docx(), "password-protected"),
    ("cut.docx", sample_docx()[:900], "damaged"),
    ("photo.docx", png_bytes(), "a PNG image, not a Word document"),
    ("noise.png", png_bytes(), "not a PNG image"),
    ("cut.png", real_png()[:-20], "damaged"),
    ("huge.png", real_png(30_000, 30_000), "too large"),
]


def test_create_refuses_bad_files_and_keeps_the_rest(api: Api) -> None:
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [
                raw_document(BAD_FILES[0][0], BAD_FILES[0][1]),
                pdf_document("good.pdf"),
                *(raw_document(name, data) for name, data, _ in BAD_FILES[1:]),
                pdf_document("also-good.pdf"),
            ],
            "Signers": [signer("Seller 1")],
        },
    )
    assert answer["Message"] == "Success"
    assert answer["ErrorCodes"] == ["file_not_uploaded"]  # each error has its code (§1)
    details = answer["Details"]
    assert len(details) == len(BAD_FILES), details
    for (name, _, reason), line in zip(BAD_FILES, details, strict=True):
        assert line.startswith(f"Error: {name} did not upload. "), line
        assert reason.lower() in line.lower(), line
    s = the_session(answer)
    assert [(d["FileName"], d["Sequence"]) for d in s["Documents"]] == [
        ("good.pdf", 1),
        ("also-good.pdf", 2),
    ]
    assert [g["SignerRole"] for g in s["Signers"]] == ["Seller 1"]


def test_create_refuses_a_pdf_over_the_page_limit(api: Api) -> None:
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [
                raw_document("long.pdf", blank_pdf(501)),
                raw_document("max.pdf", blank_pdf(500)),
            ],
            "Signers": [signer("Seller 1")],
        },
    )
    assert len(answer["Details"]) == 1
    assert answer["Details"][0].startswith("Error: long.pdf did not upload."), answer
    assert "500" in answer["Details"][0]
    docs = the_session(answer)["Documents"]
    assert [(d["FileName"], d["PageCount"]) for d in docs] == [("max.pdf", 500)]


def _signers(count: int, first: int = 0) -> list[dict[str, Any]]:
    return [signer(f"Role {n}", f"s{n}@example.com") for n in range(first, first + count)]


def _stored(runtime: Runtime) -> tuple[int, int]:
    """Sessions in the database and files in the blob store."""
    with runtime.engine.connect() as conn:
        sessions = conn.execute(select(func.count()).select_from(tables.sessions)).scalar_one()
    blobs = sum(1 for p in (runtime.settings.data_dir / "blobs").rglob("*") if p.is_file())
    return sessions, blobs


def test_a_session_holds_at_most_100_signers_and_100_documents(api: Api, runtime: Runtime) -> None:
    """Decision 0036: found by fuzzing, 50,000 signers took 86 s. Refused as a whole, before
    any file is stored."""
    docs = [pdf_document(f"d{n}.pdf") for n in range(2)]
    before = _stored(runtime)
    answer = create(api, {"SessionInfo": info(), "Documents": docs, "Signers": _signers(101)})
    assert_error(answer, "session.Signers would make 101", "at most 100", code="validation_failed")
    many = [pdf_document(f"d{n}.pdf") for n in range(101)]
    answer = create(api, {"SessionInfo": info(), "Documents": many, "Signers": _signers(1)})
    assert_error(answer, "session.Documents would make 101", "at most 100")
    assert _stored(runtime) == before  # nothing was kept of either
    answer = create(api, {"SessionInfo": info(), "Documents": docs, "Signers": _signers(100)})
    assert len(the_session(answer)["Signers"]) == 100


def test_updates_and_copies_count_what_the_session_holds(api: Api) -> None:
    sid = new_session(api, signers=_signers(99))
    answer = update(api, sid, Signers=_signers(2, first=99))
    assert_error(answer, "session.Signers would make 101 (has 99, and 2 given)", "at most 100")
    assert len(get_session(api, sid)["Signers"]) == 99
    assert update(api, sid, Signers=_signers(1, first=99))["Message"] == "Success"
    answer = copy(api, sid, signers=_signers(1, first=100))
    assert_error(answer, "session.Signers would make 101 (has 100, and 1 given)")
    assert copy(api, sid)["Message"] == "Success"


def test_create_refuses_files_without_name_and_may_end_with_no_documents(api: Api) -> None:
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [{"FileBytes": list(tiny_pdf())}, pdf_document("ok.pdf")],
            "Signers": [signer("Seller 1")],
        },
    )
    assert answer["Details"][0].startswith("Error: (no FileName) did not upload.")
    assert [d["FileName"] for d in the_session(answer)["Documents"]] == ["ok.pdf"]

    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [raw_document("a.pdf", b""), raw_document("b.zip", b"PK\x03\x04")],
            "Signers": [signer("Seller 1")],
        },
    )
    assert answer["Message"] == "Success"
    assert len(answer["Details"]) == 2
    assert the_session(answer)["Documents"] == []


def test_create_refuses_a_signer_without_last_name_or_valid_email(api: Api) -> None:
    bad = [
        {"LastName": ""},
        {"LastName": "   "},
        {"EmailAddress": ""},
        {"EmailAddress": "not-an-email"},
        {"EmailAddress": "two@@example.com"},
        {"EmailAddress": "pat@example"},
        {"EmailAddress": "a b@example.com"},
    ]
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [pdf_document()],
            "Signers": [
                *(
                    {**signer(f"Buyer {n}", email=f"b{n}@example.com"), **b}
                    for n, b in enumerate(bad)
                ),
                signer("Seller 1"),
            ],
        },
    )
    assert answer["Message"] == "Success"
    assert answer["Details"] == [SIGNER_RULE] * len(bad)  # the vendor's text, to the letter
    assert answer["ErrorCodes"] == ["signer_invalid"]
    s = the_session(answer)
    assert [g["SignerRole"] for g in s["Signers"]] == ["Seller 1"]
    assert len(s["Documents"]) == 1


def test_create_needs_a_role_and_normalises_its_spacing(api: Api) -> None:
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [pdf_document()],
            "Signers": [signer("Seller 1"), signer("  ", email="x@example.com", last="Roleless")],
        },
    )
    assert answer["Message"] == "Success"
    assert "Roleless" in answer["Details"][0]
    assert len(the_session(answer)["Signers"]) == 1

    s = the_session(
        create(
            api,
            {
                "SessionInfo": info(),
                "Documents": [pdf_document()],
                "Signers": [signer("  Listing   Agent ")],
            },
        )
    )
    assert s["Signers"][0]["SignerRole"] == "Listing Agent"


def test_create_refuses_a_duplicate_role_naming_signer_and_role(api: Api) -> None:
    duplicates = ["Seller 1", "seller 1", "SELLER   1", "  Seller  1 "]
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [pdf_document()],
            "Signers": [
                signer("Seller 1", email="first@example.com"),
                *(
                    signer(dup, email=f"dup{n}@example.com", last=f"Dup{n}")
                    for n, dup in enumerate(duplicates)
                ),
                signer("Buyer 1"),
            ],
        },
    )
    assert answer["Message"] == "Success"
    assert answer["ErrorCodes"] == ["duplicate_role"]
    assert len(answer["Details"]) == len(duplicates), answer["Details"]
    for n, (dup, line) in enumerate(zip(duplicates, answer["Details"], strict=True)):
        assert line.startswith("Error:")
        assert f"Dup{n}" in line and f"'{dup.strip()}'" in line, line
    s = the_session(answer)
    assert [(g["SignerRole"], g["EmailAddress"]) for g in s["Signers"]] == [
        ("Seller 1", "first@example.com"),
        ("Buyer 1", "buyer1@example.com"),
    ]


def test_create_requires_a_title_or_its_alias(api: Api) -> None:
    for title in (None, "", "   "):
        session_info: dict[str, Any] = {"TransactionId": "TX-C"}
        if title is not None:
            session_info["Title"] = title
        answer = create(
            api,
            {
                "SessionInfo": session_info,
                "Documents": [pdf_document()],
                "Signers": [signer("A 1")],
            },
        )
        assert_error(answer, "Title", code="validation_failed")
        assert "Sessions" not in answer
    assert api.get("/rest/v1/users/" + api.username + "/transactions/TX-C")["Sessions"] == []

    answer = create(
        api,
        {
            "SessionInfo": {"TransactionTitle": "Via alias"},
            "Documents": [pdf_document()],
            "Signers": [signer("Seller 1")],
        },
    )
    info = the_session(answer)["SessionInfo"]
    assert info["Title"] == info["TransactionTitle"] == "Via alias"


def test_email_options_are_links_or_attachments(api: Api) -> None:
    for given, kept in [(0, 0), (3, 3), ("Attachments", 3), ("links", 0)]:
        answer = api.create_session(EmailOptions=given)
        assert the_session(answer)["SessionInfo"]["EmailOptions"] == kept, given
    for given in (1, 7, -1, "Fax"):
        answer = create(api, {"SessionInfo": info(EmailOptions=given)})
        assert_error(answer, "SessionInfo.EmailOptions", "0=LINKS, 3=ATTACHMENTS")


def test_create_checks_expires_on(api: Api, clock: FakeClock) -> None:
    accepted = []
    for delta, ok in [
        (timedelta(days=-1), False),
        (timedelta(seconds=0), False),
        (timedelta(days=90, seconds=1), False),
        (timedelta(days=365), False),
        (timedelta(minutes=5), True),
        (timedelta(days=90), True),
    ]:
        when = (clock.now() + delta).isoformat()
        answer = create(
            api,
            {
                "SessionInfo": info(ExpiresOn=when),
                "Documents": [pdf_document()],
                "Signers": [signer("Seller 1")],
            },
        )
        if ok:
            ms = int((clock.now() + delta).timestamp() * 1000)
            assert the_session(answer)["SessionInfo"]["ExpiresOn"] == f"/Date({ms})/", delta
            accepted.append(answer["SigningSessionId"])
        else:
            assert_error(answer, "ExpiresOn", code="validation_failed")
    # A refused request stores nothing.
    listed = api.get(f"/rest/v1/users/{api.username}/transactions/TX-C")
    assert [s["SigningSessionId"] for s in listed["Sessions"]] == accepted


def test_reminder_frequency_is_capped_at_30(api: Api) -> None:
    for given, kept in [(7, 7), (30, 30), (31, 30), (365, 30), (-3, 0)]:
        answer = create(
            api,
            {
                "SessionInfo": info(ReminderFrequencyDays=given),
                "Documents": [pdf_document()],
                "Signers": [signer("Seller 1")],
            },
        )
        assert the_session(answer)["SessionInfo"]["ReminderFrequencyDays"] == kept, given


def test_mandate_doc_upload_and_properties(api: Api) -> None:
    cases: list[tuple[dict[str, Any], bool]] = [
        ({"Properties": [{"Key": "MandateDocUpload", "Value": "1"}]}, True),
        ({"Properties": [{"Key": "mandatedocupload", "Value": "true"}]}, True),
        ({"Properties": {"MandateDocUpload": "TRUE"}}, True),
        ({"Properties": [{"Key": "MandateDocUpload", "Value": "0"}]}, False),
        ({"Properties": [{"Key": "MandateDocUpload", "Value": "false"}]}, False),
        ({"MandateDocUpload": True}, True),
        ({}, False),
    ]
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [pdf_document()],
            "Signers": [signer(f"Buyer {n}", **extra) for n, (extra, _) in enumerate(cases)],
        },
    )
    got = [g["MandateDocUpload"] for g in the_session(answer)["Signers"]]
    assert got == [mandate for _, mandate in cases]

    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [pdf_document()],
            "Signers": [signer("Seller 1", Properties={"DisableEditName": "1"})],
        },
    )
    g = the_session(answer)["Signers"][0]
    assert g["Properties"] == [{"Key": "DisableEditName", "Value": "1"}]


def test_passwords_are_never_echoed_nor_stored_in_clear(api: Api, runtime: Runtime) -> None:
    session_pw, signer_pw = "SessionPw-7c1e9a", "SignerPw-0b22f4"
    response = api.http.post(
        S,
        json={
            "userName": api.username,
            "session": {
                "SessionInfo": info(Password=session_pw),
                "Documents": [pdf_document()],
                "Signers": [
                    signer(
                        "Seller 1",
                        AuthMethod=1,
                        AuthenticationSettings={"Password": signer_pw},
                    )
                ],
            },
        },
        headers=api.headers,
    )
    assert response.status_code == 200
    body = response.json()
    sid = body["SigningSessionId"]
    s = the_session(body)
    assert s["SessionInfo"]["Password"] is None
    assert s["Signers"][0]["AuthenticationSettings"]["Password"] is None
    assert s["Signers"][0]["AuthMethod"] == 1
    for text in (response.text, api.http.get(f"{S}/{sid}", headers=api.headers).text):
        assert session_pw not in text and signer_pw not in text
    stored = database_text(runtime)
    raw = database_files_bytes(runtime)
    for pw in (session_pw, signer_pw):
        assert pw not in stored
        assert pw.encode() not in raw
    # ...but they were kept, as hashes.
    loaded = load(runtime, api, sid)
    assert loaded.info.password_hash and loaded.signers[0].password_hash


def test_create_needs_a_username_of_the_client_and_a_session(api: Api, other_api: Api) -> None:
    body = {"SessionInfo": info(), "Documents": [pdf_document()], "Signers": [signer("S 1")]}
    assert_error(create(api, body, username=""), "Username not found", code="username_not_found")
    assert_error(create(api, body, username="nobody@example.com"), "Username not found")
    assert_error(create(api, body, username=other_api.username), "Username not found")

    assert_error(api.post(S, {"userName": api.username}), "session", code="invalid_request")


def test_create_refuses_an_inactive_owner(api: Api, runtime: Runtime) -> None:
    user = clients.add_user(
        runtime.deps, api.client_id, "agent@acme.example.com", "Ann", "Agent", "password1", False
    )
    body = {"SessionInfo": info(), "Documents": [pdf_document()], "Signers": [signer("S 1")]}
    assert create(api, body, username=user.username)["Message"] == "Success"
    answer = api.put(
        "/rest/v1/users/provisionUser", {"systemUserId": user.id, "userStatus": 0, "salt": "x"}
    )
    assert answer["Message"] == "Success", answer
    assert_error(create(api, body, username=user.username), "inactive")


# --- UpdateSession / AddSignersDocumentsToSession --------------------------------------------


def test_update_adds_documents_and_signers_without_replacing(api: Api) -> None:
    sid = new_session(api)
    answer = update(
        api,
        sid,
        Documents=[pdf_document("second.pdf", pages=2)],
        Signers=[signer("Buyer 1")],
    )
    assert answer["Details"] == []
    assert answer["SigningSessionId"] == sid
    s = the_session(answer)
    assert [(d["FileName"], d["Sequence"]) for d in s["Documents"]] == [
        ("offer.pdf", 1),
        ("second.pdf", 2),
    ]
    assert s["Documents"][1]["PageCount"] == 2
    assert [g["SignerRole"] for g in s["Signers"]] == ["Seller 1", "Buyer 1"]
    assert get_session(api, sid)["Signers"] == s["Signers"]


def test_update_finds_the_session_and_ignores_info_changes(api: Api) -> None:
    sid = new_session(api)
    for n, where in enumerate(
        [{"Id": sid}, {"SigningSessionId": sid}, {"SessionInfo": {"Id": sid}}], start=1
    ):
        session = {**where, "Signers": [signer(f"Buyer {n}")]}
        answer = api.post(f"{S}/updatesession", {"userName": api.username, "session": session})
        assert len(the_session(answer)["Signers"]) == n + 1, where

    answer = api.post(
        f"{S}/updatesession",
        {"userName": api.username, "session": {"Signers": [signer("Buyer 1")]}},
    )
    assert_error(answer, "session.Id", code="invalid_request")
    assert_not_found(update(api, "9b3f5ad2-0000-4000-8000-000000000000", Signers=[]))

    sid = new_session(api)
    update(api, sid, SessionInfo={"Title": "Renamed", "UseSequence": 2})
    s = get_session(api, sid)
    assert s["SessionInfo"]["Title"] == "Offer on 12 Elm St"
    assert s["SessionInfo"]["UseSequence"] == 0


def test_document_sequence_places_the_new_document(api: Api) -> None:
    for sequence, order in [
        (1, ["new.pdf", "a.pdf", "b.pdf"]),
        (2, ["a.pdf", "new.pdf", "b.pdf"]),
        (3, ["a.pdf", "b.pdf", "new.pdf"]),
        (0, ["a.pdf", "b.pdf", "new.pdf"]),
        (9, ["a.pdf", "b.pdf", "new.pdf"]),
    ]:
        sid = new_session(api, documents=[pdf_document("a.pdf"), pdf_document("b.pdf")])
        answer = update(api, sid, Documents=[pdf_document("new.pdf", Sequence=sequence)])
        docs = the_session(answer)["Documents"]
        assert [d["FileName"] for d in docs] == order, sequence
        assert [d["Sequence"] for d in docs] == [1, 2, 3]
        assert [d["FileName"] for d in get_session(api, sid)["Documents"]] == order


def test_create_orders_documents_by_sequence(api: Api) -> None:
    for sequences, order in [
        ([3, 2, 1], "cba"),
        ([2, 3, 1], "cab"),
        ([0, 1, 0], "bac"),
        ([5, 10, 7], "acb"),
        ([1, 1, 0], "abc"),  # the same position: the request's order
        ([0, 2, 2], "abc"),
        ([0, 2, 0], "abc"),  # b is 2nd as asked; a and c keep the request's order around it
        ([2, 0, 0], "bac"),
        ([0, 0, 1], "cab"),
    ]:
        docs = [pdf_document(f"{n}.pdf", Sequence=q) for n, q in zip("abc", sequences, strict=True)]
        s = the_session(
            create(api, {"SessionInfo": info(), "Documents": docs, "Signers": [signer("S 1")]})
        )
        assert [d["FileName"] for d in s["Documents"]] == [f"{n}.pdf" for n in order], sequences
        assert [d["Sequence"] for d in s["Documents"]] == [1, 2, 3]


def test_update_places_several_new_documents_at_their_sequences(api: Api) -> None:
    sid = new_session(api, documents=[pdf_document("a.pdf"), pdf_document("b.pdf")])
    answer = update(
        api,
        sid,
        Documents=[pdf_document("second.pdf", Sequence=2), pdf_document("first.pdf", Sequence=1)],
    )
    names = [d["FileName"] for d in the_session(answer)["Documents"]]
    assert names == ["first.pdf", "second.pdf", "a.pdf", "b.pdf"]
    same = update(
        api, sid, Documents=[pdf_document("p.pdf", Sequence=2), pdf_document("q.pdf", Sequence=2)]
    )
    names = [d["FileName"] for d in the_session(same)["Documents"]]
    assert names == ["first.pdf", "p.pdf", "q.pdf", "second.pdf", "a.pdf", "b.pdf"]


def test_update_refuses_duplicate_role_and_applies_the_rest(api: Api) -> None:
    sid = new_session(api)  # holds "Seller 1"
    answer = update(
        api,
        sid,
        Documents=[pdf_document("extra.pdf"), raw_document("bad.pdf", b"%PDF-1.4 garbage")],
        Signers=[
            signer("seller  1", email="dup@example.com", last="Dupont"),
            signer("Buyer 1"),
            signer("Buyer 2", email="broken"),
        ],
    )
    assert answer["Message"] == "Success"
    details = answer["Details"]
    assert len(details) == 3, details
    assert any("Dupont" in line and "seller  1" in line for line in details), details
    assert any(line.startswith("Error: bad.pdf did not upload.") for line in details), details
    assert any(line.startswith(SIGNER_RULE) for line in details), details
    assert all(line.startswith("Error:") for line in details)
    s = the_session(answer)
    assert [g["SignerRole"] for g in s["Signers"]] == ["Seller 1", "Buyer 1"]
    assert [d["FileName"] for d in s["Documents"]] == ["offer.pdf", "extra.pdf"]
    assert "dup@example.com" not in [g["EmailAddress"] for g in get_session(api, sid)["Signers"]]


def test_update_allowed_in_draft_sent_and_paused(api: Api, runtime: Runtime) -> None:
    for status in (SessionStatus.DRAFT, SessionStatus.PAUSED):
        sid = new_session(api)
        force_status(runtime, api, sid, status)
        answer = update(api, sid, Signers=[signer("Buyer 1")], Documents=[pdf_document("x.pdf")])
        s = the_session(answer)
        assert s["SessionInfo"]["StatusCode"] == int(status)
        assert len(s["Signers"]) == 2 and len(s["Documents"]) == 2

    sid = started(api)
    s = the_session(update(api, sid, Documents=[pdf_document("late.pdf")]))
    assert s["SessionInfo"]["StatusCode"] == 2
    assert [d["FileName"] for d in s["Documents"]] == ["offer.pdf", "late.pdf"]


def test_update_refused_in_other_statuses_naming_the_status(api: Api, runtime: Runtime) -> None:
    for status in (
        SessionStatus.COMPLETED,
        SessionStatus.CANCELLED,
        SessionStatus.DELETED,
        SessionStatus.EXPIRED,
        SessionStatus.PURGED,
        SessionStatus.ARCHIVED,
        SessionStatus.TO_BE_PURGED,
    ):
        sid = new_session(api)
        force_status(runtime, api, sid, status)
        answer = update(api, sid, Signers=[signer("Buyer 1")], Documents=[pdf_document("x.pdf")])
        assert_error(answer, f"is {status.label};", code="wrong_status")
        s = load(runtime, api, sid)
        assert len(s.signers) == 1 and len(s.documents) == 1


def test_remove_unassigned_signer_roles(api: Api, runtime: Runtime) -> None:
    sid = new_session(api, documents=[pdf_document("a.pdf"), pdf_document("b.pdf")])
    kept = add_field(runtime, api, sid, "seller 1")  # held (case differs)
    orphan = add_field(runtime, api, sid, "Buyer 2", FieldOption.OPTIONAL)
    orphan2 = add_field(runtime, api, sid, "Tenant 1", doc_index=1)
    will_be_held = add_field(runtime, api, sid, "Buyer 1", doc_index=1)
    fields = {f["FieldId"]: f for d in get_session(api, sid)["Documents"] for f in d["Fields"]}
    assert set(fields) == {kept, orphan, orphan2, will_be_held}
    assert fields[orphan]["SignerId"] is None
    assert fields[kept]["PageNumber"] == 1
    assert fields[kept]["X"] == pytest.approx(61.2) and fields[kept]["Y"] == pytest.approx(633.6)

    # Without the flag nothing is removed.
    update(api, sid, Signers=[signer("Landlord 1")])
    assert sum(len(d["Fields"]) for d in get_session(api, sid)["Documents"]) == 4

    # With it: the additions happen first, then the orphans go.
    answer = update(
        api,
        sid,
        SessionInfo={"RemoveUnassignedSignerRoles": True},
        Signers=[signer("Buyer 1")],
    )
    docs = the_session(answer)["Documents"]
    remaining = {f["FieldId"]: f for d in docs for f in d["Fields"]}
    assert set(remaining) == {kept, will_be_held}
    holders = {g["SignerRole"]: g["SignerId"] for g in the_session(answer)["Signers"]}
    assert remaining[will_be_held]["SignerId"] == holders["Buyer 1"]
    assert remaining[kept]["SignerId"] == holders["Seller 1"]
    stored = load(runtime, api, sid)
    assert {f.id for d in stored.documents for f in d.fields} == {kept, will_be_held}


def test_signer_added_to_sent_session_is_invited_unless_suspended(api: Api) -> None:
    sid = started(api)
    s = the_session(update(api, sid, Signers=[signer("Buyer 1")]))
    assert {g["SignerRole"]: g["StatusCode"] for g in s["Signers"]} == {
        "Seller 1": 2,
        "Buyer 1": 2,
    }

    sid = started(api, UseSequence=2)
    update(api, sid, Signers=[signer("Buyer 1")])
    assert signer_statuses(api, sid) == {"Seller 1": 1, "Buyer 1": 1}


def test_signer_added_to_paused_session_waits_for_start(api: Api) -> None:
    sid = started(api)
    assert api.put(f"{S}/EditSession/{sid}")["Message"] == "Success"
    update(api, sid, Signers=[signer("Buyer 1")])
    assert signer_statuses(api, sid) == {"Seller 1": 2, "Buyer 1": 1}
    assert api.put(f"{S}/{sid}/start")["Message"] == "Success"
    assert signer_statuses(api, sid) == {"Seller 1": 2, "Buyer 1": 2}


def test_sequential_signers_added_to_sent_session_wait_for_their_turn(
    api: Api, runtime: Runtime
) -> None:
    sid = started(
        api,
        signers=[signer("Seller 1", Sequence=1), signer("Buyer 1", Sequence=2)],
        UseSequence=1,
    )
    assert signer_statuses(api, sid) == {"Seller 1": 2, "Buyer 1": 1}
    # Joining the current group: invited at once. Joining a later group: waits.
    s = the_session(
        update(
            api,
            sid,
            Signers=[signer("Seller 2", Sequence=1), signer("Buyer 2", Sequence=2)],
        )
    )
    assert {g["SignerRole"]: g["StatusCode"] for g in s["Signers"]} == {
        "Seller 1": 2,
        "Seller 2": 2,
        "Buyer 1": 1,
        "Buyer 2": 1,
    }
    # The first group finishes; the next addition finds the turn has moved on.
    set_signer_status(runtime, api, sid, "Seller 1", 4)
    set_signer_status(runtime, api, sid, "Seller 2", 4)
    update(api, sid, Signers=[signer("Listing Agent", Sequence=3)])
    assert signer_statuses(api, sid) == {
        "Seller 1": 4,
        "Seller 2": 4,
        "Buyer 1": 2,
        "Buyer 2": 2,
        "Listing Agent": 1,
    }


def test_update_records_audit_events(api: Api) -> None:
    sid = new_session(api)
    update(
        api,
        sid,
        Documents=[pdf_document("more.pdf"), raw_document("x.pdf", b"")],
        Signers=[signer("Buyer 1"), signer("seller 1")],
    )
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
    descriptions = [e["Description"] for e in logs]
    assert any("more.pdf" in d for d in descriptions)
    assert any("Buyer 1" in d for d in descriptions)
    assert sum(d.startswith("Refused") for d in descriptions) == 2


# --- CopySigningSession ----------------------------------------------------------------------


def copy(
    api: Api,
    source: str,
    signers: list[dict[str, Any]] | None = None,
    options: dict[str, Any] | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "copyOptions": options if options is not None else {"Version": 0, "RetainFields": True},
        "session": {"SigningSessionId": source, "Signers": signers or []},
    }
    body["userName"] = api.username if username is None else username
    return api.post(f"{S}/copy", body)


def test_copy_version_is_0_or_1(api: Api) -> None:
    source = new_session(api)
    for version in (0, 1):
        assert copy(api, source, options={"Version": version})["Message"] == "Success"
    refused = copy(api, source, options={"Version": 7})
    assert_error(refused, "copyOptions.Version must be 0", code="validation_failed")


def test_copy_makes_a_new_draft_with_the_same_documents(
    api: Api, runtime: Runtime, clock: FakeClock
) -> None:
    docs = [pdf_document("a.pdf", pages=2), pdf_document("b.pdf")]
    source = new_session(
        api,
        documents=docs,
        signers=[signer("Seller 1", Sequence=1), signer("Buyer 1", Sequence=2)],
        ExpiresOn=(clock.now() + timedelta(days=5)).isoformat(),
        UseSequence=1,
    )
    api.put(f"{S}/{source}/start")
    api.put(f"{S}/{source}/close")
    src = get_session(api, source)
    seller_id, buyer_id = (g["SignerId"] for g in src["Signers"])

    answer = copy(
        api,
        source,
        signers=[
            {"SignerId": buyer_id, "EmailAddress": "new.buyer@example.com"},
            signer("Listing Agent", Sequence=3),
        ],
    )
    assert answer["Details"] == []
    new_id = answer["SigningSessionId"]
    assert new_id != source and answer["ReturnValue"] == new_id
    c = the_session(answer)
    info = c["SessionInfo"]
    assert info["StatusCode"] == 1
    assert info["Title"] == src["SessionInfo"]["Title"]
    assert info["TransactionId"] == "TX-1"
    assert info["UseSequence"] == 1
    assert info["ExpiresOn"] is None  # the expiry is never copied
    assert info["CompletedOn"] is None
    assert [(d["FileName"], d["PageCount"], d["Sequence"]) for d in c["Documents"]] == [
        ("a.pdf", 2, 1),
        ("b.pdf", 1, 2),
    ]
    assert {d["DocumentId"] for d in c["Documents"]}.isdisjoint(
        {d["DocumentId"] for d in src["Documents"]}
    )
    for old, new in zip(src["Documents"], c["Documents"], strict=True):
        old_bytes = api.http.get(
            f"{S}/{source}/documents/{old['DocumentId']}/file", headers=api.headers
        ).content
        new_bytes = api.http.get(
            f"{S}/{new_id}/documents/{new['DocumentId']}/file", headers=api.headers
        ).content
        assert old_bytes == new_bytes and new_bytes.startswith(b"%PDF-")
    got = {g["SignerRole"]: g for g in c["Signers"]}
    assert list(got) == ["Seller 1", "Buyer 1", "Listing Agent"]
    assert got["Seller 1"]["EmailAddress"] == "seller1@example.com"
    assert got["Buyer 1"]["EmailAddress"] == "new.buyer@example.com"
    assert got["Buyer 1"]["LastName"] == "Doe" and got["Buyer 1"]["Sequence"] == 2
    assert all(g["StatusCode"] == 1 for g in c["Signers"])
    assert {g["SignerId"] for g in c["Signers"]}.isdisjoint({seller_id, buyer_id})
    # The source is untouched, and both trails say what happened.
    assert get_session(api, source)["SessionInfo"]["StatusCode"] == 3
    assert get_session(api, source)["Signers"] == src["Signers"]
    src_logs = api.get(f"{S}/{source}/actionlogs")["ActionLogs"]
    new_logs = api.get(f"{S}/{new_id}/actionlogs")["ActionLogs"]
    assert any(e["Description"] == f"Session copied to {new_id}" for e in src_logs)
    assert new_logs[0]["Description"] == f"Session created as a copy of {source}"
    added = [e["Description"] for e in new_logs[1:]]  # what the copy holds, as at a create
    assert sum(d.startswith("Document '") and " added (" in d for d in added) == len(c["Documents"])
    assert sum(d.startswith("Signer ") and " added as " in d for d in added) == 3
    # The copy can be sent.
    assert api.put(f"{S}/{new_id}/start")["Message"] == "Success"


def test_copy_takes_the_title_and_transaction_id_it_is_given(api: Api) -> None:
    source = new_session(api)
    body = {
        "copyOptions": {"Version": 0},
        "session": {
            "SigningSessionId": source,
            # As the reference's Copy example, with the rest a .NET client's defaults.
            "SessionInfo": {
                "TransactionTitle": " Offer 2 ",
                "TransactionId": "TX-2",
                "UseSequence": 0,
                "SendSignerInvites": False,
                "Description": None,
            },
        },
    }
    info = the_session(api.post(f"{S}/copy", body))["SessionInfo"]
    assert (info["Title"], info["TransactionTitle"], info["TransactionId"]) == (
        "Offer 2",
        "Offer 2",
        "TX-2",
    )
    assert info["SendSignerInvites"] is True  # the source's, not the default sent
    body["session"]["SessionInfo"] = {"Title": "  ", "TransactionId": ""}
    info = the_session(api.post(f"{S}/copy", body))["SessionInfo"]
    source_info = get_session(api, source)["SessionInfo"]
    assert (info["Title"], info["TransactionId"]) == (
        source_info["Title"],
        source_info["TransactionId"],
    )


def test_copy_retain_fields(api: Api, runtime: Runtime) -> None:
    source = new_session(api)
    field_id = add_field(runtime, api, source, "Seller 1")
    kept = the_session(copy(api, source, options={"Version": 0, "RetainFields": True}))
    fields = kept["Documents"][0]["Fields"]
    assert len(fields) == 1 and fields[0]["FieldId"] != field_id
    assert fields[0]["SignerId"] == kept["Signers"][0]["SignerId"]
    dropped = the_session(copy(api, source, options={"Version": 0, "RetainFields": False}))
    assert dropped["Documents"][0]["Fields"] == []


def test_copy_reports_bad_signer_changes(api: Api) -> None:
    source = new_session(api, signers=[signer("Seller 1"), signer("Buyer 1")])
    seller_id = get_session(api, source)["Signers"][0]["SignerId"]
    answer = copy(
        api,
        source,
        signers=[
            {"SignerId": "unknown-signer", "EmailAddress": "x@example.com"},
            {"SignerId": seller_id, "EmailAddress": "not-an-email"},
            signer("buyer 1", email="dup@example.com", last="Dupe"),
            signer("Buyer 2", email="bad"),
            signer("Buyer 3"),
        ],
    )
    assert answer["Message"] == "Success"
    details = answer["Details"]
    assert len(details) == 4, details
    assert all(line.startswith("Error:") for line in details)
    assert any("unknown-signer" in line for line in details)
    assert sum(line.startswith(SIGNER_RULE) for line in details) == 2
    assert any("Dupe" in line and "buyer 1" in line for line in details)
    got = {g["SignerRole"]: g["EmailAddress"] for g in the_session(answer)["Signers"]}
    # A refused replacement leaves the signer as in the source.
    assert got == {
        "Seller 1": "seller1@example.com",
        "Buyer 1": "buyer1@example.com",
        "Buyer 3": "buyer3@example.com",
    }


def test_copy_of_finished_sessions(api: Api, runtime: Runtime) -> None:
    for status in (SessionStatus.EXPIRED, SessionStatus.ARCHIVED, SessionStatus.CANCELLED):
        source = new_session(api)
        force_status(runtime, api, source, status)
        c = the_session(copy(api, source))
        assert c["SessionInfo"]["StatusCode"] == 1, status
        assert len(c["Documents"]) == 1


def test_copy_errors(api: Api, runtime: Runtime) -> None:
    assert_error(
        api.post(f"{S}/copy", {"userName": api.username, "session": {}}),
        "SigningSessionId",
        code="invalid_request",
    )
    # All zeros is a .NET Guid never set: no id at all (decision 0043).
    zero = copy(api, "00000000-0000-0000-0000-000000000000")
    assert_error(zero, "SigningSessionId is required", code="invalid_request")
    assert_not_found(copy(api, "0f8fad5b-d9cb-469f-a165-70867728950e"))
    source = new_session(api)
    assert_error(copy(api, source, username="ghost@example.com"), "Username not found")

    source = new_session(api)
    api.put(f"{S}/{source}/cancel")
    api.put(f"{S}/{source}/purge?purgeNow=true")
    answer = copy(api, source)
    assert answer["Message"] == "Error"
    assert answer["Details"] == ["You are attempting to access a session that has been purged."]
    assert "SigningSessionId" not in answer


def test_copy_owner_defaults_to_the_source_owner(api: Api, runtime: Runtime) -> None:
    source = new_session(api)
    user = clients.add_user(
        runtime.deps, api.client_id, "second@acme.example.com", "Sec", "Ond", "password1", False
    )
    assert the_session(copy(api, source, username=""))["SessionInfo"]["OwnerEmail"] == api.username
    mine = the_session(copy(api, source, username=user.username))
    assert mine["SessionInfo"]["OwnerEmail"] == user.username
    # An inactive source owner cannot own the copy (contract §3); another user named can.
    theirs = str(copy(api, source, username=user.username)["SigningSessionId"])
    off = {"systemUserId": user.id, "userStatus": 0, "salt": "x"}
    assert api.put("/rest/v1/users/provisionUser", off)["Message"] == "Success"
    assert_error(copy(api, theirs, username=""), "inactive", code="user_inactive")
    assert the_session(copy(api, theirs, username=api.username))["SessionInfo"]["OwnerEmail"] == (
        api.username
    )


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("UTF-8", "Grüße, 12 Elm St".encode()),
        ("UTF-16 with its byte-order mark", "Grüße, 12 Elm St".encode("utf-16")),
        ("Windows-1252", "Grüße, 12 Elm St".encode("cp1252")),
    ],
)
def test_text_files_in_the_encodings_the_converter_reads(
    api: Api, encoding: str, data: bytes
) -> None:
    """What the upload accepts is what the processing job converts (one rule for both)."""
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [raw_document("notes.txt", data)],
            "Signers": [signer("Seller 1")],
        },
    )
    assert answer["Message"] == "Success" and answer["Details"] == [], (encoding, answer)
    (doc,) = the_session(answer)["Documents"]
    assert (doc["FileName"], doc["ProcessingStatus"]) == ("notes.txt", "Pending")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x01binary\x00", "not a text file"),
        (b"  \r\n ", "the text file is empty"),
        (b"a" * (4 * 1024 * 1024 + 1), "the text file is over 4 mb"),
    ],
)
def test_text_that_is_no_text_is_refused(api: Api, data: bytes, reason: str) -> None:
    answer = create(
        api,
        {
            "SessionInfo": info(),
            "Documents": [raw_document("notes.txt", data), pdf_document("good.pdf")],
            "Signers": [signer("Seller 1")],
        },
    )
    (line,) = answer["Details"]
    assert line.startswith("Error: notes.txt did not upload. ") and reason in line.lower(), line


def _meanwhile(monkeypatch: pytest.MonkeyPatch, call: Any) -> None:
    """Another caller's request runs right after this one stored its files, before its
    transaction: the interleaving that two callers at once can produce."""
    real = sessions_service.intake.accept_documents

    def stored_then_other_caller(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        monkeypatch.setattr(sessions_service.intake, "accept_documents", real)
        call()
        return result

    monkeypatch.setattr(sessions_service.intake, "accept_documents", stored_then_other_caller)


def test_an_update_refused_after_its_files_were_stored_keeps_none(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = new_session(api)
    _meanwhile(monkeypatch, lambda: api.put(f"{S}/{sid}/cancel"))
    late = tiny_pdf(7)  # bytes no other document has
    answer = update(api, sid, Documents=[raw_document("late.pdf", late)])
    assert_error(answer, "Cancelled", code="wrong_status")
    assert not blob_path(runtime, hashlib.sha256(late).hexdigest()).exists()


def test_the_signer_limit_is_checked_again_in_the_transaction(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = new_session(api)  # one signer
    many = [signer(f"Agent {n}", f"agent{n}@example.com") for n in range(99)]
    _meanwhile(monkeypatch, lambda: update(api, sid, Signers=many))
    answer = update(api, sid, Signers=[signer("Buyer 1")], Documents=[pdf_document()])
    assert_error(answer, "session.Signers would make 101", code="validation_failed")
    assert len(get_session(api, sid)["Signers"]) == 100
