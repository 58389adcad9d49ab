"""Signer endpoints: GetSessionInviteUrls, GetSignerInviteToken (G1), SendSignerEmailInvites
(G2), UpdateSigners (G3), GetSignerDocuments (G4) (contract §4, §6 "Signer links")."""

from __future__ import annotations

import base64
from typing import Any

from esign.app import Runtime
from esign.domain.enums import SessionStatus
from tests.api.session_helpers import (
    SIGNER_RULE,
    S,
    assert_error,
    assert_not_found,
    check_refused_in,
    database_files_bytes,
    database_text,
    enable_webhooks,
    force_status,
    get_session,
    load,
    mutate,
    new_session,
    set_signer_status,
    signer_statuses,
    signer_webhooks,
    start,
    started,
    the_session,
)
from tests.conftest import Api, signer

TWO = [signer("Seller 1"), signer("Buyer 1", email="buyer@example.com")]


def ids(api: Api, sid: str) -> dict[str, str]:
    return {g["SignerRole"]: g["SignerId"] for g in get_session(api, sid)["Signers"]}


def assert_stored_only_as_hash(runtime: Runtime, secrets: list[str]) -> None:
    stored = database_text(runtime)
    raw = database_files_bytes(runtime)
    if runtime.engine.dialect.name == "sqlite":
        assert raw, "the SQLite files should be readable"
    for secret in secrets:
        assert len(secret) >= 22  # at least 128 bits, URL-safe base64
        assert secret not in stored
        assert secret.encode() not in raw
        # ...while its keyed hash is what the server keeps.
        assert runtime.deps.cipher.digest(secret) in stored


# --- GetSessionInviteUrls --------------------------------------------------------------------


def test_invite_urls_one_per_signer(api: Api, runtime: Runtime) -> None:
    sid = started(api, signers=TWO)
    answer = api.get(f"{S}/{sid}/inviteurls")
    assert answer["Message"] == "Success", answer
    links = answer["InviteUrls"]
    assert [(u["SignerId"], u["EmailAddress"]) for u in links] == [
        (ids(api, sid)["Seller 1"], "seller1@example.com"),
        (ids(api, sid)["Buyer 1"], "buyer@example.com"),
    ]
    for u in links:
        assert u["Url"].startswith("http://esign.test/sign/")
    assert len({u["Url"] for u in links}) == 2


def test_invite_urls_differ_on_each_call_and_only_hashes_are_stored(
    api: Api, runtime: Runtime
) -> None:
    sid = started(api, signers=TWO, SendSignerInvites=False)
    first = [u["Url"] for u in api.get(f"{S}/{sid}/inviteurls")["InviteUrls"]]
    second = [u["Url"] for u in api.get(f"{S}/{sid}/inviteurls")["InviteUrls"]]
    assert len(first) == len(second) == 2
    assert set(first).isdisjoint(second)
    tokens = [u.rsplit("/", 1)[1] for u in first + second]
    assert_stored_only_as_hash(runtime, tokens)
    logs = [e["Description"] for e in api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]]
    assert sum(d.startswith("Signing link issued") for d in logs) == 4
    assert not any(t in d for t in tokens for d in logs)


def test_invite_urls_without_signers_or_session(api: Api) -> None:
    sid = new_session(api, signers=[])
    answer = api.get(f"{S}/{sid}/inviteurls")
    assert answer["Message"] == "Success" and answer["InviteUrls"] == []

    assert_not_found(api.get(f"{S}/00000000-0000-0000-0000-000000000000/inviteurls"))


# --- GetSignerInviteToken --------------------------------------------------------------------


def test_signer_invite_token(api: Api, runtime: Runtime) -> None:
    sid = started(api, signers=TWO)
    signer_id = ids(api, sid)["Buyer 1"]
    first = api.get(f"/rest/v1/signers/{signer_id}/token")
    second = api.get(f"/rest/v1/signers/{signer_id}/token")
    assert first["Message"] == second["Message"] == "Success"
    assert first["ReturnValue"] and second["ReturnValue"]
    assert first["ReturnValue"] != second["ReturnValue"]
    assert_stored_only_as_hash(runtime, [first["ReturnValue"], second["ReturnValue"]])
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
    assert logs[-1]["Description"] == "Signing link issued for Pat Doe <buyer@example.com>"

    answer = api.get("/rest/v1/signers/no-such-signer/token")
    assert_error(answer, "no-such-signer", "not found", code="signer_not_found")


def test_no_links_for_a_session_that_is_over(api: Api, runtime: Runtime) -> None:
    """Links are for sessions that are, or may become, Sent: none once a session is over."""
    over = [s for s in SessionStatus if s not in (S_DRAFT, S_SENT, S_PAUSED)]
    check_refused_in(runtime, api, over, lambda sid: api.get(f"{S}/{sid}/inviteurls"))
    check_refused_in(
        runtime,
        api,
        over,
        lambda sid: api.get(f"/rest/v1/signers/{ids(api, sid)['Seller 1']}/token"),
    )
    for status in (S_DRAFT, S_PAUSED):
        sid = new_session(api)
        force_status(runtime, api, sid, status)
        assert api.get(f"{S}/{sid}/inviteurls")["Message"] == "Success"


S_DRAFT, S_SENT, S_PAUSED = SessionStatus.DRAFT, SessionStatus.SENT, SessionStatus.PAUSED


# --- SendSignerEmailInvites ------------------------------------------------------------------


def invite(api: Api, sid: str, *signer_ids: str) -> dict[str, Any]:
    return api.put(
        "/rest/v1/signers/invite",
        {
            "signingSessionId": sid,
            "returnURL": "https://crm.example.com",
            "signerList": [
                {"SignerId": i, "Sequence": 1, "StateCode": 0, "StatusCode": 1} for i in signer_ids
            ],
        },
    )


def test_send_invites_invites_pending_signers_of_a_suspended_session(
    api: Api, runtime: Runtime
) -> None:
    enable_webhooks(runtime, api)
    sid = started(api, signers=TWO, UseSequence=2)
    who = ids(api, sid)
    assert signer_statuses(api, sid) == {"Seller 1": 1, "Buyer 1": 1}
    answer = invite(api, sid, who["Buyer 1"])
    assert answer["Message"] == "Success" and answer["ReturnValue"] == "True", answer
    assert answer["Details"] == []
    assert signer_statuses(api, sid) == {"Seller 1": 1, "Buyer 1": 2}
    stored = {g.role: g for g in load(runtime, api, sid).signers}
    assert stored["Buyer 1"].invitation_due and not stored["Seller 1"].invitation_due
    assert signer_webhooks(api, sid) == [(who["Buyer 1"], 2)]
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
    assert "buyer@example.com" in logs[-1]["Description"]


def test_send_invites_invites_whom_it_names(api: Api, runtime: Runtime) -> None:
    sid = started(api, signers=TWO, SendSignerInvites=False)
    who = ids(api, sid)
    assert signer_statuses(api, sid) == {"Seller 1": 1, "Buyer 1": 1}  # nobody, at start
    assert not any(g.invitation_due for g in load(runtime, api, sid).signers)
    answer = invite(api, sid, who["Seller 1"], who["Buyer 1"])
    assert answer["Message"] == "Success" and answer["Details"] == []
    assert signer_statuses(api, sid) == {"Seller 1": 2, "Buyer 1": 2}
    assert all(g.invitation_due for g in load(runtime, api, sid).signers)


def test_send_invites_reports_each_refused_signer(api: Api, runtime: Runtime) -> None:
    sid = started(api, signers=[*TWO, signer("Buyer 2")])
    who = ids(api, sid)
    set_signer_status(runtime, api, sid, "Buyer 2", 4)
    answer = invite(api, sid, who["Seller 1"], "ghost-signer", who["Buyer 2"])
    assert answer["Message"] == "Success"
    assert len(answer["Details"]) == 2
    assert any("ghost-signer" in line for line in answer["Details"])
    assert any("finished" in line for line in answer["Details"])
    # When nothing at all could be done, the answer is an error.
    answer = invite(api, sid, "ghost-signer", who["Buyer 2"])
    assert answer["Message"] == "Error" and answer["ReturnValue"] == "False"
    assert answer["ErrorCodes"] == ["signer_not_found", "signer_finished"]
    for twice in (["ghost-signer"] * 2, ["", ""]):  # (listed twice, refused once)
        answer = invite(api, sid, *twice)
        assert answer["Message"] == "Error" and answer["ReturnValue"] == "False", answer


def test_send_invites_only_in_sent(api: Api, runtime: Runtime) -> None:
    others = [s for s in SessionStatus if s is not SessionStatus.SENT]
    seen: list[str] = []

    def send(sid: str) -> dict[str, Any]:
        seen.append(sid)
        return invite(api, sid, ids(api, sid)["Seller 1"])

    check_refused_in(runtime, api, others, send)
    assert all(signer_statuses(api, sid) == {"Seller 1": 1} for sid in seen)

    answer = api.put("/rest/v1/signers/invite", {"signerList": []})
    assert_error(answer, "signingSessionId", code="invalid_request")
    assert_not_found(invite(api, "0f8fad5b-d9cb-469f-a165-70867728950e", "x"))


# --- UpdateSigners ---------------------------------------------------------------------------


def update_signers(
    api: Api, sid: str, signers: list[dict[str, Any]], username: str | None = None
) -> dict[str, Any]:
    return api.put(
        "/rest/v1/signers",
        {
            "username": api.username if username is None else username,
            "signingSessionId": sid,
            "signers": signers,
        },
    )


def test_update_signers_changes_contact_details(api: Api, runtime: Runtime) -> None:
    sid = started(api, signers=TWO)
    who = ids(api, sid)
    answer = update_signers(
        api,
        sid,
        [
            {
                "SignerId": who["Buyer 1"],
                "FirstName": "Robin",
                "LastName": "Roe",
                "EmailAddress": " robin@example.com ",
                "SignerRole": "Seller 9",  # roles are not changed here
                "AuthenticationSettings": {"Password": "NewSignerPw-991"},
            }
        ],
    )
    assert answer["Details"] == []
    s = the_session(answer)
    buyer = next(g for g in s["Signers"] if g["SignerId"] == who["Buyer 1"])
    assert (buyer["FirstName"], buyer["LastName"], buyer["EmailAddress"]) == (
        "Robin",
        "Roe",
        "robin@example.com",
    )
    assert buyer["SignerRole"] == "Buyer 1"
    assert buyer["StatusCode"] == 2
    assert buyer["AuthenticationSettings"]["Password"] is None
    assert "NewSignerPw-991" not in str(answer)
    stored = {g.role: g for g in load(runtime, api, sid).signers}
    assert stored["Buyer 1"].password_hash
    assert get_session(api, sid)["Signers"] == s["Signers"]
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
    assert logs[-1]["Description"] == "Signer Robin Roe <robin@example.com> updated"

    sid = new_session(api, signers=TWO)
    who = ids(api, sid)
    answer = update_signers(api, sid, [{"SignerId": who["Seller 1"], "EmailAddress": "s@x.org"}])
    seller = the_session(answer)["Signers"][0]
    assert (seller["FirstName"], seller["LastName"], seller["EmailAddress"]) == (
        "Pat",
        "Doe",
        "s@x.org",
    )


def test_update_signers_refuses_bad_items_and_applies_the_rest(api: Api, runtime: Runtime) -> None:
    sid = started(api, signers=[*TWO, signer("Buyer 2")])
    who = ids(api, sid)
    set_signer_status(runtime, api, sid, "Buyer 2", 4)
    answer = update_signers(
        api,
        sid,
        [
            {"SignerId": who["Seller 1"], "EmailAddress": "not-an-email"},
            {"SignerId": "ghost-signer", "EmailAddress": "g@example.com"},
            {"SignerId": who["Buyer 2"], "EmailAddress": "late@example.com"},
            {"SignerId": who["Buyer 1"], "EmailAddress": "ok@example.com"},
        ],
    )
    assert answer["Message"] == "Success"
    details = answer["Details"]
    assert len(details) == 3, details
    assert any(line.startswith(SIGNER_RULE) for line in details)
    assert any("ghost-signer" in line for line in details)
    assert any("finished" in line for line in details)
    emails = {g["SignerRole"]: g["EmailAddress"] for g in get_session(api, sid)["Signers"]}
    assert emails == {
        "Seller 1": "seller1@example.com",
        "Buyer 1": "ok@example.com",
        "Buyer 2": "buyer2@example.com",
    }


def test_update_signers_only_while_editable(api: Api, runtime: Runtime) -> None:
    editable = (SessionStatus.DRAFT, SessionStatus.SENT, SessionStatus.PAUSED)
    others = [s for s in SessionStatus if s not in editable]
    seen: list[str] = []

    def change(sid: str) -> dict[str, Any]:
        seen.append(sid)
        return update_signers(api, sid, [{"SignerId": ids(api, sid)["Seller 1"], "LastName": "X"}])

    check_refused_in(runtime, api, others, change)
    assert all(load(runtime, api, sid).signers[0].last_name == "Doe" for sid in seen)


def test_update_signers_errors(api: Api) -> None:
    sid = new_session(api, signers=TWO)
    assert_error(update_signers(api, sid, [], username="ghost@example.com"), "Username not found")
    assert_not_found(update_signers(api, "0f8fad5b-d9cb-469f-a165-70867728950e", []))
    answer = api.put("/rest/v1/signers", {"username": api.username, "signers": []})
    assert_error(answer, "signingSessionId", code="invalid_request")


# --- GetSignerDocuments ----------------------------------------------------------------------


def test_signer_documents(api: Api) -> None:
    sid = started(api, signers=TWO)
    signer_id = ids(api, sid)["Buyer 1"]
    answer = api.get(f"/rest/v1/signer/docs/{api.username}/{sid}/{signer_id}/1/5")
    assert answer["Message"] == "Success", answer
    assert answer["Documents"] == [] and answer["TotalCount"] == 0

    sid = new_session(api, signers=TWO)
    other = new_session(api)
    stranger = ids(api, other)["Seller 1"]
    assert_error(api.get(f"/rest/v1/signer/docs/{api.username}/{sid}/{stranger}/1/5"), "signerId")
    base = f"/rest/v1/signer/docs/{api.username}/{sid}/{signer_id}"
    for page, size, field in ((1, 0, "pageSize"), (1, 1001, "pageSize"), (-1, 5, "pageNumber")):
        assert_error(api.get(f"{base}/{page}/{size}"), field)
    assert_not_found(api.get(f"/rest/v1/signer/docs/{api.username}/nope/{stranger}/1/5"))
    signer_id = ids(api, sid)["Seller 1"]
    answer = api.get(f"/rest/v1/signer/docs/ghost@example.com/{sid}/{signer_id}/1/5")
    assert_error(answer, "Username not found")


def test_signer_contact_is_kept_and_answered(api: Api) -> None:
    contact = {"Phone": "555-0100", "Company": "Acme Realty", "Zip": 12345, "Mobile": True}
    kept = {"Phone": "555-0100", "Company": "Acme Realty", "Zip": "12345", "Mobile": "true"}
    sid = new_session(api, signers=[signer("Seller 1", Contact=contact), signer("Buyer 1")])
    seller, buyer = get_session(api, sid)["Signers"]
    assert (seller["Contact"], buyer["Contact"]) == (kept, None)
    body = {"userName": api.username, "session": {"SigningSessionId": sid}}
    copied = api.post(f"{S}/copy", body)["SigningSessionId"]
    assert get_session(api, copied)["Signers"][0]["Contact"] == kept
    answer = update_signers(
        api, sid, [{"SignerId": buyer["SignerId"], "Contact": {"Phone": "555-0199"}}]
    )
    assert answer["Details"] == []
    assert get_session(api, sid)["Signers"][1]["Contact"] == {"Phone": "555-0199"}
    # Members with objects or arrays in them are left out; a Contact that is no object is refused.
    sid = new_session(api, signers=[signer("Seller 1", Contact={"A": "b", "Address": {"x": 1}})])
    assert get_session(api, sid)["Signers"][0]["Contact"] == {"A": "b"}
    for bad, why in [("555-0100", "expected an object"), ({"k": "x" * 20_001}, "longer than")]:
        answer = api.post(
            S,
            {
                "userName": api.username,
                "session": {"Signers": [signer("Seller 1", Contact=bad)]},
            },
        )
        assert_error(answer, "Signers[0].Contact", why)


def test_first_signer_makes_the_owner_sign_first(api: Api) -> None:
    given = [signer("Seller 1", Sequence=1), signer("Buyer 1", Sequence=2)]
    answer = api.create_session(signers=given, FirstSigner=True, UseSequence=1)
    assert answer["Details"] == [], answer
    sid = answer["SigningSessionId"]
    got = [
        (g["SignerRole"], g["EmailAddress"], g["FirstName"], g["LastName"], g["Sequence"])
        for g in get_session(api, sid)["Signers"]
    ]
    assert got == [
        ("Session Owner", api.username, "Admin", "Acme", 1),
        ("Seller 1", "seller1@example.com", "Pat", "Doe", 2),
        ("Buyer 1", "buyer1@example.com", "Pat", "Doe", 3),
    ]
    start(api, sid)
    invited = [g["SignerRole"] for g in get_session(api, sid)["Signers"] if g["StatusCode"] == 2]
    assert invited == ["Session Owner"]  # sequential: the owner's turn comes first


def test_first_signer_adds_no_one_when_the_owner_already_signs(api: Api) -> None:
    owner_signs = signer("Listing Agent", email=api.username.upper(), Sequence=2)
    sid = api.create_session(signers=[signer("Seller 1"), owner_signs], FirstSigner=True)[
        "SigningSessionId"
    ]
    signers = get_session(api, sid)["Signers"]
    assert [(g["SignerRole"], g["Sequence"]) for g in signers] == [
        ("Seller 1", 1),
        ("Listing Agent", 2),
    ]
    assert get_session(api, sid)["SessionInfo"]["FirstSigner"] is True
    plain = api.create_session(signers=[signer("Seller 1")], FirstSigner=False)
    assert [g["SignerRole"] for g in the_session(plain)["Signers"]] == ["Seller 1"]


def test_signature_and_initials_images_must_be_images(api: Api) -> None:
    not_an_image = base64.b64encode(b"this is not an image").decode()
    answer = api.create_session(
        signers=[
            signer("Seller 1", SignatureImageBase64=not_an_image, AutoApplySignature=True),
            signer("Buyer 1", InitialsImageBase64=[1, 2, 3]),
            signer("Buyer 2", InitialsImageBase64=base64.b64encode(b"GIF89a" + bytes(20)).decode()),
        ]
    )
    assert answer["Details"] == [
        "Error: Signer Pat Doe was not added: SignatureImageBase64 is not a PNG, JPEG or GIF "
        "image.",
        "Error: Signer Pat Doe was not added: InitialsImageBase64 is not a PNG, JPEG or GIF image.",
    ]
    assert answer["ErrorCodes"] == ["signer_image_invalid"]
    assert [g["SignerRole"] for g in the_session(answer)["Signers"]] == ["Buyer 2"]


def test_signer_lists_are_bounded_and_repeats_write_nothing_more(api: Api) -> None:
    """One request cannot flood a trail: a list names at most as many signers as a session
    may have, a signer listed twice is invited once, and an update that changes nothing is
    not recorded."""
    sid = started(api, signers=TWO, SendSignerInvites=False)
    who = ids(api, sid)
    events = len(api.get(f"{S}/{sid}/actionlogs")["ActionLogs"])
    too_many = invite(api, sid, *[who["Buyer 1"]] * 101)
    assert_error(too_many, "signerList names at most 100 signers")
    assert invite(api, sid, *[who["Buyer 1"]] * 50)["Details"] == []
    logs = api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]
    assert len(logs) == events + 1  # one invitation
    assert_error(
        update_signers(api, sid, [{"SignerId": who["Seller 1"]}] * 101),
        "signers names at most 100 signers",
    )
    same = {"SignerId": who["Seller 1"], "FirstName": "Pat", "LastName": "Doe"}
    assert update_signers(api, sid, [same] * 20)["Details"] == []
    assert len(api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]) == len(logs)
    changed = update_signers(api, sid, [{**same, "FirstName": "Pam"}] * 3)
    assert changed["Details"] == []
    assert len(api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]) == len(logs) + 1


def test_a_listed_signer_without_signer_id_is_named_so(api: Api) -> None:
    sid = started(api, signers=TWO, SendSignerInvites=False)
    assert_error(invite(api, sid, ""), "A signer in the list has no SignerId")
    answer = update_signers(api, sid, [{"FirstName": "x"}])
    assert answer["Details"] == ["Error: A signer in the list has no SignerId."]


def test_records_an_older_check_let_in_can_still_be_updated(api: Api, runtime: Runtime) -> None:
    """A signer whose address today's check refuses (decision 0050) still takes a new phone
    number; re-sending the password it has records nothing."""
    sid = started(api, signers=TWO)
    who = ids(api, sid)

    def older(s: Any) -> None:
        s.signers[0].email = "jo..agent@example.com"

    mutate(runtime, api, sid, older)
    phone = {"SignerId": who["Seller 1"], "AuthenticationSettings": {"SMSPhoneNumber": "555"}}
    assert update_signers(api, sid, [phone])["Details"] == []
    assert load(runtime, api, sid).signers[0].sms_phone_number == "555"
    bad = update_signers(api, sid, [{"SignerId": who["Seller 1"], "EmailAddress": "x@b..com"}])
    assert bad["ErrorCodes"] == ["signer_invalid"]
    password = {"SignerId": who["Buyer 1"], "AuthenticationSettings": {"Password": "pw-123456"}}
    update_signers(api, sid, [password])
    events = len(api.get(f"{S}/{sid}/actionlogs")["ActionLogs"])
    assert update_signers(api, sid, [password] * 3)["Details"] == []
    assert len(api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]) == events
