"""Contract §1, transport: paths, HTTP-level errors, and the wire formats in and out."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import urllib.parse
from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any

import pytest
from starlette.testclient import TestClient

from esign.api.router import Dispatcher
from esign.api.routes import ROUTES
from esign.app import Runtime, build_app
from tests.conftest import Api, FakeClock, pdf_document, signer, tiny_pdf

ENVELOPE_KEYS = {"Message", "Details", "ReturnValue", "ErrorCodes"}


def envelope_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body.keys() >= ENVELOPE_KEYS
    assert body["Message"] == "Error"
    assert body["ReturnValue"] is None
    assert body["ErrorCodes"] == [code]
    assert body["Details"] and all(d.startswith("Error:") for d in body["Details"])
    return body


# --- paths ---------------------------------------------------------------------------------


def test_doubled_slashes_are_tolerated(api: Api) -> None:
    sid = api.create_session()["SigningSessionId"]
    for path in (
        f"/rest//v1/sessions/{sid}",
        f"/rest//v1//sessions//{sid}",
        f"/rest/v1/sessions/{sid}/",
    ):
        answer = api.get(path)
        assert answer["Message"] == "Success", path
        assert answer["SigningSessionId"] == sid
    body = {"userName": api.username, "session": {"Id": sid, "Signers": [signer("Buyer 1")]}}
    # The vendor's own docs print this one with a doubled slash.
    updated = api.post("/rest//v1/sessions/updatesession", body)
    assert updated["Message"] == "Success", updated
    assert len(updated["Sessions"][0]["Signers"]) == 2


def test_gettoken_through_a_doubled_slash(api: Api) -> None:
    key = api.http.get(f"/rest//v1/encrypt/{api.api_key}/s1").json()["ReturnValue"]
    answer = api.http.get("/rest//v1/gettoken/s1", headers={"Authorization": key}).json()
    assert answer["Message"] == "Success"


def test_literal_segments_are_case_insensitive(api: Api) -> None:
    sid = api.create_session()["SigningSessionId"]
    assert api.get(f"/REST/V1/Sessions/{sid}")["SigningSessionId"] == sid
    paused = api.put(f"/rest/v1/sessions/editsession/{sid}", {"userName": api.username})
    assert paused["Message"] == "Success", paused
    assert paused["Sessions"][0]["SessionInfo"]["StatusCode"] == 6
    assert api.put(f"/rest/v1/sessions/{sid}/CANCEL")["Message"] == "Success"
    assert api.put(f"/rest/v1/sessions/{sid}/purge?purgeNow=false")["Message"] == "Success"
    restored = api.put(f"/rest/v1/sessions/cancelpurging/{sid}")
    assert restored["Message"] == "Success", restored
    status = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]["SessionInfo"]["StatusCode"]
    assert status == 4  # back to Cancelled
    assert api.put(f"/rest/v1/sessions/{sid}/purge?PURGENOW=false")["Message"] == "Success"
    assert api.put(f"/rest/v1/sessions/CancelPurging/{sid}")["Message"] == "Success"


def test_path_parameters_keep_their_case(api: Api) -> None:
    answer = api.http.get("/REST/V1/ENCRYPT/MixedCase/SaLt").json()
    assert answer["ReturnValue"] == api.rt.deps.cipher.encrypt("MixedCase", "SaLt")
    assert answer["ReturnValue"] != api.rt.deps.cipher.encrypt("mixedcase", "salt")


def test_percent_encoded_path_parameters_are_decoded(api: Api) -> None:
    answer = api.http.get("/rest/v1/encrypt/a%20b%2Bc/s").json()
    assert answer["ReturnValue"] == api.rt.deps.cipher.encrypt("a b+c", "s")


def test_unknown_route_is_404(api: Api) -> None:
    for path in ("/rest/v1/nothing", "/rest/v3/sessions", "/rest/v1/sessions/a/b/c/d/e", "/x"):
        envelope_error(api.http.get(path, headers=api.headers), 404, "not_found")


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    body = envelope_error(
        api.http.delete("/rest/v1/roles", headers=api.headers), 405, "method_not_allowed"
    )
    assert "DELETE" in body["Details"][0]
    response = api.http.post("/rest/v1/sessions/abc", headers=api.headers, json={})
    envelope_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "DELETE, GET, HEAD"
    response = api.http.patch("/rest/v1/users", headers=api.headers, json={})
    envelope_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD, POST, PUT"


def test_unparseable_json_is_400(api: Api) -> None:
    for raw in (b"{not json", b'{"userName": "a",}', b"\xff\xfe{}", b'{"a": 1} x', b"[1, 2"):
        response = api.http.post(
            "/rest/v1/sessions",
            content=raw,
            headers={**api.headers, "Content-Type": "application/json"},
        )
        body = envelope_error(response, 400, "invalid_json")
        assert "not valid JSON" in body["Details"][0]


def test_utf16_bodies_are_read_and_other_encodings_are_named(api: Api) -> None:
    """.NET's Encoding.Unicode writes UTF-16, after a byte-order mark or (StringContent) with
    `charset=utf-16` alone: read like UTF-8. Bytes that are no UTF-8 are refused saying so."""
    body = json.dumps(
        {"userName": api.username, "session": {"SessionInfo": {"Title": "Ünïcode"}}},
        ensure_ascii=False,
    )
    for encoding, charset in (
        ("utf-16", "utf-16"),  # with its mark
        ("utf-16-le", "utf-16"),  # StringContent(json, Encoding.Unicode): no mark
        ("utf-16-be", "utf-16BE"),
    ):
        answer = api.http.post(
            "/rest/v1/sessions",
            content=body.encode(encoding),
            headers={**api.headers, "Content-Type": f"application/json; charset={charset}"},
        ).json()
        assert answer["Message"] == "Success", (encoding, answer)
        assert answer["Sessions"][0]["SessionInfo"]["Title"] == "Ünïcode"
    for raw, why in (
        (b'{"a": "\xff"}', "it must be UTF-8 text"),
        (b"\xff\xfe\x00", "it is not valid UTF-16"),  # a mark, then half a character
    ):
        response = api.http.post(
            "/rest/v1/sessions",
            content=raw,
            headers={**api.headers, "Content-Type": "application/json"},
        )
        answer = envelope_error(response, 400, "invalid_json")
        assert answer["Details"] == [f"Error: The request body is not valid JSON ({why})."]


def test_json_that_is_not_an_object_is_an_error_envelope(api: Api) -> None:
    for raw in (b"[]", b'"text"', b"42", b"null"):
        response = api.http.post(
            "/rest/v1/sessions",
            content=raw,
            headers={**api.headers, "Content-Type": "application/json"},
        )
        body = envelope_error(response, 200, "invalid_request")
        assert body["Details"] == ["Error: The request body must be a JSON object."]


def small_body_app(runtime: Runtime) -> TestClient:
    small = replace(runtime, settings=replace(runtime.settings, max_body_mb=1))
    return TestClient(build_app(small))


def test_body_too_large_is_413(api: Api) -> None:
    http = small_body_app(api.rt)
    big = json.dumps({"userName": api.username, "padding": "x" * (1024 * 1024 + 10)})
    response = http.post(
        "/rest/v1/sessions",
        content=big,
        headers={**api.headers, "Content-Type": "application/json"},
    )
    body = envelope_error(response, 413, "body_too_large")
    assert "1 MB" in body["Details"][0]


def test_body_too_large_without_content_length_is_413(api: Api) -> None:
    http = small_body_app(api.rt)

    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100_000

    response = http.post(
        "/rest/v1/sessions",
        content=chunks(),
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    envelope_error(response, 413, "body_too_large")


def test_body_just_under_the_limit_is_read(api: Api) -> None:
    http = small_body_app(api.rt)
    body = {
        "userName": api.username,
        "session": {
            "SessionInfo": {"Title": "Padded", "Description": "x" * 900_000},
            "Signers": [signer("Buyer 1")],
        },
    }
    response = http.post("/rest/v1/sessions", json=body, headers=api.headers)
    assert response.status_code == 200
    assert response.json()["Message"] == "Success", response.text


def test_a_client_gone_before_its_body_arrived_gets_no_answer_and_nothing_is_made(
    api: Api,
) -> None:
    """The API reads its body itself (raw ASGI): a disconnect midway ends the request quietly."""
    before = api.get("/rest/v1/sessions/lite", params={"userName": api.username})
    app = build_app(api.rt)
    messages = iter(
        [
            {"type": "http.request", "body": b'{"userName": "', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = _create_session_scope([(b"authorization", api.token.encode())])
    asyncio.run(app(scope, receive, send))
    assert sent == []
    after = api.get("/rest/v1/sessions/lite", params={"userName": api.username})
    assert after == before


def test_query_values_are_decoded_and_blank_ones_kept(api: Api) -> None:
    """Query strings are parsed as Starlette did: names any case, %XX decoded, blanks kept."""
    name = urllib.parse.quote(api.username, safe="")
    found = api.get(f"/rest/v1/users?UserName={name}&blank=")
    assert found["Message"] == "Success", found
    blank = api.get("/rest/v1/users?username=")
    assert blank["Message"] == "Error"
    assert "username" in " ".join(blank["Details"]).lower()


def test_unsupported_media_type_is_415(api: Api) -> None:
    for content_type in (
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "application/octet-stream",
    ):
        response = api.http.post(
            "/rest/v1/sessions",
            content=b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n',
            headers={**api.headers, "Content-Type": content_type},
        )
        body = envelope_error(response, 415, "unsupported_media_type")
        assert content_type.split(";")[0] in body["Details"][0]


def test_json_with_charset_and_text_plain_are_accepted(api: Api) -> None:
    body = json.dumps(
        {"userName": api.username, "session": {"SessionInfo": {"Title": "T"}, "Signers": []}}
    )
    for content_type in ("application/json; charset=utf-8", "text/plain", "Application/JSON"):
        response = api.http.post(
            "/rest/v1/sessions", content=body, headers={**api.headers, "Content-Type": content_type}
        )
        assert response.json()["Message"] == "Success", (content_type, response.text)


def test_bodiless_put_with_json_content_type(api: Api) -> None:
    # .NET clients send PUTs with Content-Type: application/json and ContentLength = 0.
    sid = api.create_session()["SigningSessionId"]
    response = api.http.put(
        f"/rest/v1/sessions/{sid}/cancel",
        content=b"",
        headers={**api.headers, "Content-Type": "application/json", "Content-Length": "0"},
    )
    assert response.json()["Message"] == "Success", response.text


def test_a_body_after_a_utf8_byte_order_mark_is_read(api: Api) -> None:
    # .NET's Encoding.UTF8 (a StreamWriter's default for many clients) writes one first.
    body = json.dumps({"userName": api.username, "session": {"SessionInfo": {"Title": "T"}}})
    response = api.http.post(
        "/rest/v1/sessions",
        content=b"\xef\xbb\xbf" + body.encode(),
        headers={**api.headers, "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.json()["Message"] == "Success", response.text


def test_routes_without_a_body_take_the_token_from_one(api: Api) -> None:
    """Contract §1: a body `encryptedToken` is accepted too, on every route."""
    for key in ("encryptedToken", "EncryptedToken"):
        sids = [api.create_session()["SigningSessionId"] for _ in range(3)]
        calls = [
            ("PUT", f"/rest/v1/sessions/{sids[0]}/cancel?returnURL=x"),
            ("PUT", f"/rest/v1/sessions/{sids[1]}/start?returnUrl=x"),
            ("DELETE", f"/rest/v1/sessions/{sids[2]}"),
            ("GET", f"/rest/v1/sessions/{sids[2]}"),
        ]
        for method, path in calls:
            answer = api.http.request(method, path, json={key: api.token}).json()
            assert answer["Message"] == "Success", (method, path, answer)
    refused = api.http.request("PUT", f"/rest/v1/sessions/{sids[1]}/start", json={"x": 1})
    assert refused.json()["ErrorCodes"] == ["invalid_token"]


def test_every_answer_is_an_envelope_with_error_codes(api: Api) -> None:
    for path in ("/rest/v1/roles", "/rest/v1/landingurl", "/rest/v1/health"):
        answer = api.get(path)
        assert answer.keys() >= ENVELOPE_KEYS
        assert answer["Message"] == "Success"
        assert answer["ErrorCodes"] == []
        assert isinstance(answer["Details"], list)


# --- output formats ------------------------------------------------------------------------


def pascal_keys(value: Any, where: str = "") -> list[str]:
    """Every object key that is not PascalCase, skipping user maps (MergeFieldMapping)."""
    bad: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", key):
                bad.append(f"{where}.{key}")
            if key != "MergeFieldMapping":
                bad += pascal_keys(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            bad += pascal_keys(item, f"{where}[{n}]")
    return bad


PDF = tiny_pdf()


def rich_session(api: Api, clock: FakeClock) -> str:
    signature = b"\x89PNG\r\n\x1a\n" + b"S" * 64
    answer = api.create_session(
        documents=[{"FileName": "offer.pdf", "FileBytes": base64.b64encode(PDF).decode()}],
        signers=[
            signer(
                "Buyer 1",
                AuthMethod=1,
                AuthenticationSettings={"Password": "hunter2hunter2"},
                Properties=[{"Key": "DisableEditName", "Value": "1"}],
                MergeFieldMapping={"buyerName": "Pat Doe"},
                SignatureImageBase64=base64.b64encode(signature).decode(),
            )
        ],
        UseSequence=1,
        ExpiresOn=(clock.now() + timedelta(days=10)).isoformat(),
        Password="session-secret",
    )
    sid: str = answer["SigningSessionId"]
    return sid


def test_output_keys_are_pascal_case(api: Api, clock: FakeClock) -> None:
    sid = rich_session(api, clock)
    answers = [
        api.get(f"/rest/v1/sessions/{sid}"),
        api.get(f"/rest/v1/sessions/{sid}/actionlogs"),
        api.get(f"/rest/v1/users/{api.username}/transactions/TX-1"),
        api.get(f"/rest/v1/sessions/lite/{api.username}/TX-1/10/0/sortBy?colName=Title"),
        api.get("/rest/v1/users", params={"username": api.username}),
        api.get(f"/rest/v1/sessions/{sid}/inviteurls"),
        api.get("/rest/v1/sessions/deleted/10/0"),
    ]
    for answer in answers:
        assert answer["Message"] == "Success", answer
        assert pascal_keys(answer) == []
    session = answers[0]["Sessions"][0]
    assert {"Id", "SigningSessionId", "SessionInfo", "Documents", "Signers"} <= session.keys()
    assert {"StatusCode", "CreatedOn", "OwnerEmail", "Title"} <= session["SessionInfo"].keys()
    doc_keys = {
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
    }
    assert doc_keys <= session["Documents"][0].keys()


def test_dates_go_out_as_escaped_microsoft_dates(api: Api, clock: FakeClock) -> None:
    sid = rich_session(api, clock)
    response = api.http.get(f"/rest/v1/sessions/{sid}", headers=api.headers)
    raw = response.text
    assert '"CreatedOn":"\\/Date(' in raw
    assert '"ExpiresOn":"\\/Date(' in raw
    assert not re.search(r'"\d{4}-\d\d-\d\dT', raw)  # no ISO dates anywhere
    info = response.json()["Sessions"][0]["SessionInfo"]
    created = re.fullmatch(r"/Date\((\d+)\)/", info["CreatedOn"])
    assert created is not None
    assert int(created[1]) == int(clock.now().timestamp() * 1000)
    expires = re.fullmatch(r"/Date\((\d+)\)/", info["ExpiresOn"])
    assert expires is not None
    assert int(expires[1]) == int((clock.now() + timedelta(days=10)).timestamp() * 1000)
    logs = api.http.get(f"/rest/v1/sessions/{sid}/actionlogs", headers=api.headers).text
    assert '"Date":"\\/Date(' in logs


def test_text_that_reads_like_a_date_stays_text(api: Api) -> None:
    """.NET readers take an escaped date (backslash, slash, Date(ms)) for a DateTime."""
    sid = api.create_session(Title="/Date(1)/", TransactionId="/Date(-5)/")["SigningSessionId"]
    raw = api.http.get(f"/rest/v1/sessions/{sid}", headers=api.headers).text
    assert '"Title":"/Date(1)/"' in raw and '"TransactionId":"/Date(-5)/"' in raw
    assert '"CreatedOn":"\\/Date(' in raw


def test_bytes_and_secrets_are_never_echoed(api: Api, clock: FakeClock) -> None:
    pdf = PDF
    sid = rich_session(api, clock)
    for path in (f"/rest/v1/sessions/{sid}", f"/rest/v1/users/{api.username}/transactions/TX-1"):
        raw = api.http.get(path, headers=api.headers).text
        assert "FileBytes" not in raw
        assert base64.b64encode(pdf).decode()[:40] not in raw
        assert base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"S" * 64).decode() not in raw
        assert "hunter2hunter2" not in raw
        assert "session-secret" not in raw
    s = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]
    assert s["SessionInfo"]["Password"] is None
    assert s["Signers"][0]["AuthenticationSettings"]["Password"] is None
    assert s["Signers"][0]["SignatureImageBase64"] is None
    assert s["Documents"][0]["Sha256"] == hashlib.sha256(pdf).hexdigest()


def test_enums_go_out_as_integers_and_properties_as_an_array(api: Api, clock: FakeClock) -> None:
    sid = rich_session(api, clock)
    s = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]
    info, g = s["SessionInfo"], s["Signers"][0]
    assert info["StatusCode"] == 1 and type(info["StatusCode"]) is int
    assert info["UseSequence"] == 1 and type(info["UseSequence"]) is int
    assert g["AuthMethod"] == 1 and type(g["AuthMethod"]) is int
    assert g["StatusCode"] == 1 and type(g["StatusCode"]) is int
    assert g["Properties"] == [{"Key": "DisableEditName", "Value": "1"}]
    assert g["MergeFieldMapping"] == {"buyerName": "Pat Doe"}


def test_dotnet_style_create_session_end_to_end(api: Api, clock: FakeClock) -> None:
    pdf = tiny_pdf(2)
    expires_ms = int((clock.now() + timedelta(days=30)).timestamp()) * 1000
    # What JavaScriptSerializer writes: byte[] as an int array, "\/Date(ms)\/" with escaped
    # slashes in the JSON text; here mixed with camelCase/lowercase keys and enum names.
    raw = (
        "{"
        f'"username":{json.dumps(api.username)},'
        '"SESSION":{'
        '"sessionInfo":{"title":"Dotnet offer","transactionId":"TX-NET",'
        f'"expiresOn":"\\/Date({expires_ms}+0200)\\/",'
        '"useSequence":"Sequential","sendSignerInvites":"True","reminderFrequencyDays":"45",'
        '"ReturnURL":"https://broker.test/back"},'
        f'"documents":[{{"filename":"contract.pdf","filebytes":{json.dumps(list(pdf))},'
        '"sequence":1,"hasanchortags":false}],'
        '"signers":[{"firstname":"Ann","lastname":"Lee","emailaddress":"ann@example.com",'
        '"signerrole":"Buyer 1","sequence":"1","authMethod":"password",'
        '"AuthenticateSigner":{"password":"ann-secret-1"},'
        '"properties":{"DisableEditName":"1","MandateDocUpload":"true"},'
        '"mergeFieldMapping":{"BuyerName":"Ann Lee"},"AuthMethods":[]},'
        '{"FirstName":"Bob","LastName":"Ray","EmailAddress":"bob@example.com",'
        '"SignerRole":"Seller 1","Sequence":2,"AuthMethod":0,'
        '"Properties":[{"Key":"DisableEditName","Value":"0"}]}]'
        "}}"
    )
    assert "\\/Date(" in raw
    response = api.http.post(
        "/rest/v1/sessions",
        content=raw.encode(),
        headers={**api.headers, "Content-Type": "application/json; charset=utf-8"},
    )
    answer = response.json()
    assert answer["Message"] == "Success", answer
    assert answer["Details"] == []
    sid = answer["SigningSessionId"]
    s = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]
    info = s["SessionInfo"]
    assert info["Title"] == "Dotnet offer"
    assert info["TransactionId"] == "TX-NET"
    assert info["UseSequence"] == 1
    assert info["ReminderFrequencyDays"] == 30  # capped
    assert info["ExpiresOn"] == f"/Date({expires_ms})/"
    assert info["ReturnURL"] == "https://broker.test/back"
    doc = s["Documents"][0]
    assert (doc["FileName"], doc["PageCount"], doc["ProcessingStatus"]) == (
        "contract.pdf",
        2,
        "Ready",
    )
    assert doc["Sha256"] == hashlib.sha256(pdf).hexdigest()
    ann, bob = s["Signers"]
    assert (ann["SignerRole"], ann["AuthMethod"], ann["MandateDocUpload"]) == ("Buyer 1", 1, True)
    assert ann["Properties"] == [
        {"Key": "DisableEditName", "Value": "1"},
        {"Key": "MandateDocUpload", "Value": "true"},
    ]
    assert ann["MergeFieldMapping"] == {"BuyerName": "Ann Lee"}
    assert (bob["SignerRole"], bob["Sequence"], bob["AuthMethod"]) == ("Seller 1", 2, 0)
    assert bob["Properties"] == [{"Key": "DisableEditName", "Value": "0"}]


def test_iso_expiry_with_offset_is_stored_utc(api: Api, clock: FakeClock) -> None:
    local = (clock.now() + timedelta(days=5)).replace(microsecond=0)
    text = local.astimezone(timezone(timedelta(hours=-7))).isoformat()
    sid = api.create_session(ExpiresOn=text)["SigningSessionId"]
    info = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]["SessionInfo"]
    assert info["ExpiresOn"] == f"/Date({int(local.timestamp()) * 1000})/"


def test_wire_errors_name_the_member(api: Api) -> None:
    body = {
        "userName": api.username,
        "session": {
            "SessionInfo": {"Title": "T"},
            "Documents": [pdf_document(), {"FileBytes": [1, 999]}],
        },
    }
    details = api.post("/rest/v1/sessions", body)["Details"]
    assert details == [
        "Error: session.Documents[1].FileBytes expected base64 or an array of integers 0..255."
    ]
    answer = api.post(
        "/rest/v1/sessions",
        {
            "userName": api.username,
            "session": {"SessionInfo": {"Title": "T", "UseSequence": "Random"}},
        },
    )
    assert answer["Message"] == "Error"
    assert answer["ErrorCodes"] == ["invalid_request"]
    assert answer["Details"][0].startswith("Error: session.SessionInfo.UseSequence unknown value")


def test_ids_in_upper_case_or_braces_name_the_same_thing(api: Api) -> None:
    """SQL Server and .NET's Guid.ToString("B") hand GUIDs back so; transaction ids are the
    caller's own text and stay as given."""
    tx = "0F8FAD5B-D9CB-469F-A165-70867728950E"
    sid = api.create_session(TransactionId=tx)["SigningSessionId"]
    for spelling in (sid.upper(), "{" + sid + "}", " {" + sid.upper() + "} "):
        answer = api.get(f"/rest/v1/sessions/{spelling}")
        assert answer["SigningSessionId"] == sid, (spelling, answer)
        assert answer["Sessions"][0]["SessionInfo"]["TransactionId"] == tx
    body = {
        "userName": api.username,
        "session": {"Id": sid.upper(), "Signers": [signer("Buyer 1")]},
    }
    assert api.post("/rest/v1/sessions/updatesession", body)["SigningSessionId"] == sid
    signer_id = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]["Signers"][0]["SignerId"]
    assert api.get(f"/rest/v1/signers/{signer_id.upper()}/token")["Message"] == "Success"
    user_id = api.get(f"/rest/v1/users?username={api.username}")["Users"][0]["SystemUserId"]
    assert api.get(f"/rest/v1/users/{{{user_id.upper()}}}")["Users"][0]["SystemUserId"] == user_id
    assert api.get(f"/rest/v1/users/{api.username}/transactions/{tx.lower()}")["Sessions"] == []


def test_a_guid_never_set_names_nothing(api: Api) -> None:
    """A .NET `Guid` member left unset goes out as all zeros: read as not sent, so the other
    members that name the thing are used (the vendor's AddSigners example sets only
    SessionInfo.Id; Copy sends SigningSessionId; UpdateUser by Username)."""
    zero = "00000000-0000-0000-0000-000000000000"
    sid = api.create_session()["SigningSessionId"]
    body = {
        "userName": api.username,
        "session": {
            "Id": zero,
            "SigningSessionId": zero,
            "SessionInfo": {"Id": sid},
            "Signers": [signer("Buyer 1", SignerId=zero)],
        },
    }
    assert api.post("/rest/v1/sessions/updatesession", body)["SigningSessionId"] == sid
    copy = {
        "userName": api.username,
        "session": {
            "Id": zero,
            "SigningSessionId": sid,
            "Signers": [signer("Agent 1", SignerId=zero)],
        },
    }
    copied = api.post("/rest/v1/sessions/copy", copy)
    assert copied["Message"] == "Success" and copied["Details"] == [], copied
    roles = [g["SignerRole"] for g in copied["Sessions"][0]["Signers"]]
    assert roles == ["Seller 1", "Buyer 1", "Agent 1"]
    user = {"user": {"SystemUserId": zero, "Username": api.username, "JobTitle": "Broker"}}
    assert api.put("/rest/v1/users", user)["Users"][0]["JobTitle"] == "Broker"


def test_session_status_goes_out_as_a_number_beside_status_code(api: Api) -> None:
    sid = api.create_session()["SigningSessionId"]
    info = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]["SessionInfo"]
    assert info["Status"] == info["StatusCode"] == 1


def test_null_items_and_overflowing_dates_are_wire_errors(api: Api) -> None:
    """Once stored, a null in a list broke every later read of the session (HTTP 500)."""
    cases = [
        (
            {"Signers": [signer("Buyer 1", AuthMethods=[None])]},
            "session.Signers[0].AuthMethods[0] must not be null",
        ),
        ({"Signers": [None]}, "session.Signers[0] must not be null"),
        (
            {"SessionInfo": {"Title": "T", "ExpiresOn": "9999-12-31T23:59:59-14:00"}},
            "session.SessionInfo.ExpiresOn is not a valid date",
        ),
    ]
    for session, detail in cases:
        session = {"SessionInfo": {"Title": "T", "TransactionId": "TX-NULL"}, **session}
        answer = api.post("/rest/v1/sessions", {"userName": api.username, "session": session})
        assert answer["Details"] == [f"Error: {detail}."], answer
        assert answer["ErrorCodes"] == ["invalid_request"]
    listed = api.get(f"/rest/v1/users/{api.username}/transactions/TX-NULL")
    assert listed["Message"] == "Success" and listed["Sessions"] == [], listed


# --- OpenAPI and docs ----------------------------------------------------------------------


def test_openapi_lists_every_route(api: Api) -> None:
    response = api.http.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for route in ROUTES:
        path = route.path.replace(":int}", "}")
        assert path in paths, path
        operation = paths[path][route.method.lower()]
        assert operation["summary"] == route.summary
        params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert params == set(re.findall(r"\{(\w+)", route.path))
        assert ("requestBody" in operation) == (route.body is not None)
        assert ("security" in operation) == route.auth
        assert ("admin_only" in operation.get("description", "")) == route.admin
    assert sum(r.admin for r in ROUTES) == 7  # decision 0039
    count = sum(len(ops) for ops in paths.values())
    assert count == len({(r.method, r.path) for r in ROUTES})


def _operation(api: Api, method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = api.http.get("/openapi.json").json()["paths"][path][method]
    return operation


def test_openapi_types_numbers_headers_and_files(api: Api) -> None:
    lite = _operation(api, "get", "/rest/v1/sessions/archived/{pageSize}/{pageNum}")
    kinds = {p["name"]: p["schema"]["type"] for p in lite["parameters"] if p["in"] == "path"}
    assert kinds == {"pageSize": "integer", "pageNum": "integer"}
    for path in (
        "/rest/v1/gettoken/{salt}",
        "/rest/v1/tokenusernamepassword/{userName}/{salt}",
        "/rest/v1/authenticateuser/{userName}/{salt}",
    ):
        headers = [p for p in _operation(api, "get", path)["parameters"] if p["in"] == "header"]
        assert [(h["name"], h["required"]) for h in headers] == [("Authorization", True)], path
    pdf = _operation(api, "get", "/rest/v1/sessions/{id}/documents/{documentId}/file")
    assert set(pdf["responses"]["200"]["content"]) == {"application/pdf", "application/json"}
    png = _operation(api, "get", "/rest/v1/sessions/{id}/documents/{documentId}/pages/{pageNumber}")
    assert "image/png" in png["responses"]["200"]["content"]
    session = _operation(api, "get", "/rest/v1/sessions/{id}")
    assert set(session["responses"]["200"]["content"]) == {"application/json"}
    assert {"404", "405"} <= set(session["responses"])


def test_docs_page_is_self_contained(api: Api) -> None:
    response = api.http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<table" in page
    for route in ROUTES:
        assert route.summary.replace("&", "&amp;") in page or route.summary in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)
    assert not re.search(r"@import|<link\b|<script\b[^>]*\bsrc", page, re.I)
    assert "url(" not in page.replace("/openapi.json", "")


def test_root_redirects_to_docs(api: Api) -> None:
    response = api.http.get("/", follow_redirects=False)
    assert response.status_code in (302, 307)
    assert response.headers["location"].endswith("/docs")


@pytest.mark.parametrize("path", ["/", "/docs", "/openapi.json"])
def test_pages_refuse_other_methods_in_the_envelope(api: Api, path: str) -> None:
    response = api.http.request("PATCH", path)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert response.json() == {
        "Message": "Error",
        "Details": ["Error: PATCH is not allowed here; use GET."],
        "ReturnValue": None,
        "ErrorCodes": ["method_not_allowed"],
    }


def test_percent_encoding_that_is_no_utf8_is_refused_naming_the_value(api: Api) -> None:
    """%FF or a Latin-1 `caf%E9` would otherwise arrive as U+FFFD, and `caf%E8` would then name
    the same category as `caf%E9`."""
    for raw in ("%FF", "caf%E9"):
        answer = api.put(f"/rest/v1/anchoradjustments/{raw}", {"Adjustments": {"sig": {"X": 1}}})
        assert answer["Details"] == [
            "Error: category is not UTF-8 (percent-encode the text's UTF-8 bytes)."
        ], answer
    assert api.get("/rest/v1/anchoradjustments")["Categories"] == []
    for odd_name in ("%FF=1", "%FF=%FF"):  # a query name that is no UTF-8 names nothing
        odd = api.get(f"/rest/v1/users?username={api.username}&{odd_name}")
        assert odd["Message"] in ("Success", "Error") and "ErrorCodes" in odd, odd
    query = api.get("/rest/v1/users?username=a%FF@example.com")
    assert query["ErrorCodes"] == ["invalid_request"] and "username" in query["Details"][0]
    fine = api.put("/rest/v1/anchoradjustments/caf%C3%A9", {"Adjustments": {"sig": {"X": 1}}})
    assert fine["Category"] == "café"


def test_half_of_a_surrogate_pair_becomes_a_replacement_character(api: Api) -> None:
    """Valid JSON that orjson refuses: an escaped lone surrogate (an emoji cut in two)."""
    raw = (
        b'{"userName": "%s", "session": {"SessionInfo": {"Title": "Offer \\ud83d",'
        b' "Description": "ok \\ud83d\\ude00"}, "Signers": [], "Documents": []}}'
    ) % api.username.encode()
    response = api.http.post(
        "/rest/v1/sessions",
        content=raw,
        headers={**api.headers, "Content-Type": "application/json"},
    )
    answer = response.json()
    assert answer["Message"] == "Success", answer
    info = answer["Sessions"][0]["SessionInfo"]
    assert (info["Title"], info["Description"]) == ("Offer \ufffd", "ok 😀")
    # What was kept is found again by its UTF-8 (U+FFFD is text; only bytes that are no
    # UTF-8 are refused in a path).
    found = api.get(f"/rest/v1/users/{api.username}/transactions/TX%EF%BF%BD")
    assert found["Message"] == "Success" and found["Sessions"] == [], found
    for still_bad in (b'{"a": "\\ud800", "b": NaN}', b'{"a": "\\udc00"' + b"]" * 3):
        refused = api.http.post(
            "/rest/v1/sessions",
            content=still_bad,
            headers={**api.headers, "Content-Type": "application/json"},
        )
        envelope_error(refused, 400, "invalid_json")


def test_a_body_that_stops_arriving_is_answered_408(runtime: Runtime) -> None:
    """A client that promises more body than it sends does not hold its connection for good."""
    dispatcher = Dispatcher(runtime.deps, ROUTES, 1024 * 1024, threads=1, body_wait=0.2)
    parts = [{"type": "http.request", "body": b'{"userName": ', "more_body": True}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if parts:
            return parts.pop()
        await asyncio.sleep(3600)  # the rest never comes
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = _create_session_scope(
        [(b"content-length", b"100"), (b"content-type", b"application/json")]
    )
    asyncio.run(asyncio.wait_for(dispatcher(scope, receive, send), 5))
    assert sent[0]["status"] == 408
    body = json.loads(sent[1]["body"])
    assert body["ErrorCodes"] == ["request_timeout"]
    assert body["Details"] == ["Error: The request body stopped arriving for 0.2 seconds."]


def _create_session_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope of a CreateSession request, for driving the API app by hand."""
    return {
        "type": "http",
        "method": "POST",
        "path": "/rest/v1/sessions",
        "raw_path": b"/rest/v1/sessions",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
    }
