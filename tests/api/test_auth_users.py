"""Authentication (contract §2) and users U1–U6 (contract §3) through the ASGI app."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from esign.app import build_app, build_runtime
from esign.services import clients
from esign.storage.repositories import ApiKeyRepo
from tests.conftest import Api, FakeClock, make_api, signer

INVALID_TOKEN = {
    "Message": "Error",
    "Details": ["Error: Invalid token"],
    "ReturnValue": None,
    "ErrorCodes": ["invalid_token"],
}
PASSWORD = "correct horse 42"


def enc(api: Api, plain: str, salt: str = "s4lt") -> str:
    answer = api.http.get(f"/rest/v1/encrypt/{plain}/{salt}").json()
    assert answer["Message"] == "Success", answer
    value: str = answer["ReturnValue"]
    return value


def error_of(answer: dict[str, Any], refused: str | None = None) -> tuple[list[str], list[str]]:
    """Details and codes of an error; `refused`: its ReturnValue ("False" from boolean routes)."""
    assert answer["Message"] == "Error", answer
    assert answer["ReturnValue"] == refused, answer
    return answer["Details"], answer["ErrorCodes"]


def create_user(
    api: Api, username: str, password: str = PASSWORD, salt: str = "u-salt", **extra: Any
) -> dict[str, Any]:
    body = {
        "salt": salt,
        "user": {
            "Username": username,
            "FirstName": "Jo",
            "LastName": "Agent",
            "Password": enc(api, password, salt),
            **extra,
        },
    }
    return api.post("/rest/v1/users", body)


def new_user(api: Api, username: str = "agent@acme.example.com", **extra: Any) -> dict[str, Any]:
    answer = create_user(api, username, **extra)
    assert answer["Message"] == "Success", answer
    user: dict[str, Any] = answer["Users"][0]
    return user


def password_token(api: Api, username: str, password: str = PASSWORD) -> dict[str, Any]:
    header = {"Authorization": enc(api, password, "pw-salt")}
    response = api.http.get(f"/rest/v1/tokenusernamepassword/{username}/pw-salt", headers=header)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


# --- EncryptString -------------------------------------------------------------------------


def test_encrypt_is_deterministic_url_safe_and_salt_bound(api: Api) -> None:
    a1, a2 = enc(api, "my-api-key", "salt1"), enc(api, "my-api-key", "salt1")
    assert a1 == a2
    assert re.fullmatch(r"[A-Za-z0-9_-]+", a1)
    assert enc(api, "my-api-key", "salt2") != a1
    assert enc(api, "my-api-kez", "salt1") != a1
    assert api.rt.deps.cipher.decrypt(a1, "salt1") == "my-api-key"
    assert api.rt.deps.cipher.decrypt(a1, "salt2") is None


def test_encrypt_needs_no_token(api: Api) -> None:
    response = api.http.get("/rest/v1/encrypt/hello/there")
    assert response.status_code == 200
    assert response.json()["Message"] == "Success"


# --- GetToken ------------------------------------------------------------------------------


def test_gettoken_with_the_api_key(api: Api) -> None:
    key = enc(api, api.api_key, "any123")
    answer = api.http.get("/rest/v1/gettoken/any123", headers={"Authorization": key}).json()
    assert answer["Message"] == "Success"
    assert answer["ErrorCodes"] == []
    token = answer["ReturnValue"]
    assert token and token != api.token
    roles = api.http.get("/rest/v1/roles", headers={"Authorization": token}).json()
    assert roles["Message"] == "Success"
    assert "Seller 1" in roles["Roles"]


def test_a_token_holds_client_key_issued_and_expiry(api: Api, clock: FakeClock) -> None:
    """Contract §2: opaque, authenticated-encrypted (client, key id, issued, expiry)."""
    payload = api.rt.deps.cipher.open_token(api.token)
    assert payload is not None
    claims = json.loads(payload)
    assert claims["c"] == api.client_id and claims["k"]
    issued = int(clock.now().timestamp())
    assert (claims["i"], claims["e"]) == (issued, issued + 20 * 60)


def test_gettoken_with_a_bad_key(api: Api) -> None:
    for header in ["wrong", "", "token:password", "A" * 400, "ünï".encode()]:
        response = api.http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": header})
        assert response.status_code == 200
        assert error_of(response.json()) == (["Error: Invalid API key"], ["invalid_api_key"])


def test_gettoken_with_the_key_encrypted_under_another_salt(api: Api) -> None:
    key = enc(api, api.api_key, "salt-a")
    answer = api.http.get("/rest/v1/gettoken/salt-b", headers={"Authorization": key}).json()
    assert error_of(answer)[0] == ["Error: Invalid API key"]


def test_gettoken_with_an_unencrypted_key(api: Api) -> None:
    answer = api.http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": api.api_key}).json()
    assert error_of(answer)[0] == ["Error: Invalid API key"]


def test_token_lives_twenty_minutes(api: Api, clock: FakeClock) -> None:
    clock.advance(minutes=19, seconds=30)
    assert api.get("/rest/v1/landingurl")["Message"] == "Success"
    clock.advance(minutes=1, seconds=30)  # 21 minutes after issue
    response = api.http.get("/rest/v1/landingurl", headers=api.headers)
    assert response.status_code == 200
    assert response.json() == INVALID_TOKEN


def test_expired_token_on_a_write_changes_nothing(api: Api, clock: FakeClock) -> None:
    clock.advance(minutes=21)
    response = api.http.post(
        "/rest/v1/sessions",
        json={"userName": api.username, "session": {"SessionInfo": {"Title": "Late"}}},
        headers=api.headers,
    )
    assert response.json() == INVALID_TOKEN
    api.login()
    listed = api.get("/rest/v1/users/" + api.username + "/transactions/TX-1")
    assert listed["TotalCount"] == 0


FORGED: list[str | bytes] = [
    "garbage",
    "Bearer x",
    "AAAA",
    "A" * 64,
    "Zm9yZ2Vk" * 10,
    "tok en",
    "ünïcødé".encode(),
    "ünïcødé".encode("latin-1"),
    "x" * 8000,
]


def test_forged_tokens(api: Api) -> None:
    for token in FORGED:
        response = api.http.get("/rest/v1/roles", headers={"Authorization": token})
        assert response.status_code == 200, token
        assert response.json() == INVALID_TOKEN, token


def test_tampered_token(api: Api) -> None:
    flipped = api.token[:-3] + ("A" if api.token[-3] != "A" else "B") + api.token[-2:]
    assert api.http.get("/rest/v1/roles", headers={"Authorization": flipped}).json() == (
        INVALID_TOKEN
    )


def test_bearer_prefix_is_not_part_of_the_contract(api: Api) -> None:
    # The raw secret goes in the header; "Bearer <token>" is not the token.
    headers = {"Authorization": "Bearer " + api.token}
    assert api.http.get("/rest/v1/roles", headers=headers).json() == INVALID_TOKEN


def test_missing_token(api: Api) -> None:
    assert api.http.get("/rest/v1/roles").json() == INVALID_TOKEN


def test_token_in_the_body(api: Api) -> None:
    body = {
        "encryptedToken": api.token,
        "userName": api.username,
        "session": {"SessionInfo": {"Title": "Body token"}, "Signers": [signer("Buyer 1")]},
    }
    answer = api.http.post("/rest/v1/sessions", json=body).json()
    assert answer["Message"] == "Success", answer


def test_a_token_of_one_server_is_invalid_on_another(api: Api, tmp_path: Any) -> None:
    from esign.config import Settings

    other = build_runtime(Settings.from_env(data_dir=tmp_path / "other-server"))
    try:
        http = TestClient(build_app(other))
        assert http.get("/rest/v1/roles", headers=api.headers).json() == INVALID_TOKEN
    finally:
        other.engine.dispose()


def test_token_dies_when_the_key_is_rotated(api: Api) -> None:
    old_key_cipher = enc(api, api.api_key)
    new_key = clients.rotate_key(api.rt.deps, api.client_id)
    assert new_key != api.api_key
    assert api.http.get("/rest/v1/roles", headers=api.headers).json() == INVALID_TOKEN
    answer = api.http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": old_key_cipher})
    assert error_of(answer.json())[0] == ["Error: Invalid API key"]
    api.api_key = new_key
    api.login()
    assert api.get("/rest/v1/roles")["Message"] == "Success"


def test_a_key_check_racing_a_rotation_does_not_keep_valid(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check reads the key while another request rotates it: the old answer ("valid") must
    not be remembered for the second that follows (decision 0009)."""
    read_key = ApiKeyRepo.get
    rotated: list[str] = []

    def read_then_rotate(repo: ApiKeyRepo, key_id: str) -> Any:
        key = read_key(repo, key_id)
        if not rotated:  # the rotation commits after this read and before it is remembered
            rotated.append(clients.rotate_key(api.rt.deps, api.client_id))
        return key

    monkeypatch.setattr(ApiKeyRepo, "get", read_then_rotate)
    assert api.get("/rest/v1/roles")["Message"] == "Success"  # it read the key before
    assert rotated
    assert api.http.get("/rest/v1/roles", headers=api.headers).json() == INVALID_TOKEN


def test_rotating_one_clients_key_leaves_others_alone(api: Api, other_api: Api) -> None:
    clients.rotate_key(api.rt.deps, api.client_id)
    assert other_api.get("/rest/v1/roles")["Message"] == "Success"


# --- rate limiting ---------------------------------------------------------------------------


def _fail_gettoken(http: TestClient, times: int) -> None:
    for _ in range(times):
        answer = http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": "nope"})
        assert answer.status_code == 200
        assert answer.json()["ErrorCodes"] == ["invalid_api_key"]


def _limited(response: Any) -> int:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["Message"] == "Error"
    assert body["ErrorCodes"] == ["rate_limited"]
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 15 * 60 + 1
    assert str(retry) in body["Details"][0]
    return retry


def test_failed_gettoken_is_rate_limited_per_address(api: Api, clock: FakeClock) -> None:
    _fail_gettoken(api.http, 10)
    good = {"Authorization": enc(api, api.api_key)}
    # Once limited, a wrong key is answered 429 until the window has passed.
    _limited(api.http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": "nope"}))
    # The right key still gets its token: another tenant's failures from a shared server
    # must not lock every tenant out, and no one guesses a key (decision 0006).
    assert api.http.get("/rest/v1/gettoken/s4lt", headers=good).json()["Message"] == "Success"
    other = make_api(api.rt, "Other")  # (logs in from the same address)
    from_here = {"Authorization": enc(other, other.api_key)}
    assert api.http.get("/rest/v1/gettoken/s4lt", headers=from_here).json()["Message"] == "Success"
    # Another address is not affected.
    elsewhere = TestClient(build_app(api.rt), client=("203.0.113.9", 4242))
    assert elsewhere.get("/rest/v1/gettoken/s4lt", headers=good).json()["Message"] == "Success"
    # Tokens already issued keep working: the limit is on authentication attempts.
    assert api.get("/rest/v1/roles")["Message"] == "Success"
    clock.advance(minutes=15, seconds=1)
    _fail_gettoken(api.http, 1)  # the window has passed: a wrong key is refused as usual


def test_nine_failures_do_not_limit(api: Api) -> None:
    _fail_gettoken(api.http, 9)
    good = {"Authorization": enc(api, api.api_key)}
    assert api.http.get("/rest/v1/gettoken/s4lt", headers=good).json()["Message"] == "Success"


def test_retry_after_counts_down(api: Api, clock: FakeClock) -> None:
    _fail_gettoken(api.http, 10)
    first = _limited(api.http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": "x"}))
    clock.advance(minutes=5)
    second = _limited(api.http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": "x"}))
    assert first - 300 - 1 <= second <= first - 300 + 1


def test_rate_limit_state_is_in_the_database(api: Api, clock: FakeClock) -> None:
    _fail_gettoken(api.http, 10)
    # A second server process: a new runtime (engine, caches) on the same database and data.
    second = build_runtime(api.rt.settings, clock=clock)
    try:
        http = TestClient(build_app(second))
        _limited(http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": "nope"}))
    finally:
        second.engine.dispose()


def test_failed_password_logins_are_rate_limited(api: Api) -> None:
    new_user(api, "victim@acme.example.com")
    for _ in range(10):
        answer = password_token(api, "victim@acme.example.com", "wrong password")
        assert error_of(answer)[1] == ["invalid_user_account"]
    header = {"Authorization": enc(api, PASSWORD, "pw-salt")}
    response = api.http.get(
        "/rest/v1/tokenusernamepassword/victim@acme.example.com/pw-salt", headers=header
    )
    _limited(response)


# --- GetTokenUserNamePassword, AuthenticateUser, GetLandingURL -----------------------------


def test_tokenusernamepassword(api: Api) -> None:
    new_user(api, "pat@acme.example.com")
    answer = password_token(api, "pat@acme.example.com")
    assert answer["Message"] == "Success", answer
    token = answer["ReturnValue"]
    roles = api.http.get("/rest/v1/roles", headers={"Authorization": token}).json()
    assert roles["Message"] == "Success"
    # The username is an e-mail address: matched without regard to case.
    assert password_token(api, "PAT@Acme.Example.com")["Message"] == "Success"


def test_the_audit_trail_names_a_user_token_by_its_user(api: Api) -> None:
    """A user's token acts as that user, whoever the body names; an API key's token acts
    under the name the request gives, or as "api"."""
    new_user(api, "pat@acme.example.com")
    as_pat = {"Authorization": password_token(api, "pat@acme.example.com")["ReturnValue"]}
    sid = api.create_session()["SigningSessionId"]
    assert api.put(f"/rest/v1/sessions/{sid}/start")["Message"] == "Success"
    paused = api.http.put(f"/rest/v1/sessions/EditSession/{sid}", headers=as_pat).json()
    assert paused["Message"] == "Success", paused
    logs = api.get(f"/rest/v1/sessions/{sid}/actionlogs")["ActionLogs"]
    actors = {e["Description"]: e["Actor"] for e in logs}
    assert actors[f"Session 'Offer on 12 Elm St' created by {api.username}"] == api.username
    assert actors["Session sent for signature"] == "api"
    assert actors["Session paused for editing"] == "pat@acme.example.com"


def test_tokenusernamepassword_refusals(api: Api, other_api: Api) -> None:
    new_user(api, "pat@acme.example.com")
    for username, password in [
        ("pat@acme.example.com", "wrong password"),
        ("nobody@acme.example.com", PASSWORD),
        (other_api.username, PASSWORD),
    ]:
        answer = password_token(api, username, password)
        assert error_of(answer) == (
            ["Error: Invalid user account information"],
            ["invalid_user_account"],
        )
    # The admin's password is random and never given out: the API key is its way in.
    assert error_of(password_token(api, api.username, "password"))[1] == ["invalid_user_account"]


def test_tokenusernamepassword_with_password_under_another_salt(api: Api) -> None:
    new_user(api, "pat@acme.example.com")
    header = {"Authorization": enc(api, PASSWORD, "salt-one")}
    response = api.http.get(
        "/rest/v1/tokenusernamepassword/pat@acme.example.com/salt-two", headers=header
    )
    assert error_of(response.json())[1] == ["invalid_user_account"]


def test_password_token_dies_when_the_user_is_deactivated(api: Api) -> None:
    user = new_user(api, "pat@acme.example.com")
    token = password_token(api, "pat@acme.example.com")["ReturnValue"]
    off = api.put(
        "/rest/v1/users/provisionUser", {"systemUserId": user["SystemUserId"], "userStatus": 0}
    )
    assert off["Message"] == "Success", off
    assert api.http.get("/rest/v1/roles", headers={"Authorization": token}).json() == (
        INVALID_TOKEN
    )


def authenticate_user(api: Api, username: str, password: str, token: str | None = None) -> Any:
    header = f"{token or api.token}:{enc(api, password, 'au-salt')}"
    return api.http.get(
        f"/rest/v1/authenticateuser/{username}/au-salt", headers={"Authorization": header}
    )


def test_authenticateuser(api: Api) -> None:
    user = new_user(api, "pat@acme.example.com")
    response = authenticate_user(api, "pat@acme.example.com", PASSWORD)
    assert response.status_code == 200
    answer = response.json()
    assert answer["Message"] == "Success", answer
    assert answer["ReturnValue"] == user["SystemUserId"]
    assert [u["Username"] for u in answer["Users"]] == ["pat@acme.example.com"]
    assert answer["Users"][0]["Password"] is None


def test_authenticateuser_refusals(api: Api, other_api: Api) -> None:
    new_user(api, "pat@acme.example.com")
    wrong = authenticate_user(api, "pat@acme.example.com", "not the password").json()
    assert error_of(wrong) == (
        ["Error: Invalid user account information"],
        ["invalid_user_account"],
    )
    bad_token = authenticate_user(api, "pat@acme.example.com", PASSWORD, token="forged").json()
    assert bad_token == INVALID_TOKEN
    no_colon = api.http.get(
        "/rest/v1/authenticateuser/pat@acme.example.com/au-salt",
        headers={"Authorization": api.token},
    ).json()
    assert error_of(no_colon)[1] == ["invalid_user_account"]
    # Another client's token cannot check this client's users.
    foreign = authenticate_user(api, "pat@acme.example.com", PASSWORD, token=other_api.token)
    assert error_of(foreign.json())[1] == ["invalid_user_account"]


def test_landingurl(api: Api) -> None:
    answer = api.get("/rest/v1/landingurl")
    assert answer["Message"] == "Success"
    url = answer["ReturnValue"]
    assert url.endswith("?")
    assert url.startswith("http://esign.test/")
    assert "AutoLogMeIn.aspx" in url
    assert api.http.get("/rest/v1/landingurl").json() == INVALID_TOKEN


# --- users U1–U6 -----------------------------------------------------------------------------


def test_create_user(api: Api) -> None:
    answer = create_user(
        api, "New.Agent@Acme.Example.com", Company="Acme Realty", TimeZoneId="UTC", JobTitle="VP"
    )
    assert answer["Message"] == "Success", answer
    user = answer["Users"][0]
    assert answer["ReturnValue"] == user["SystemUserId"]
    assert user["Username"] == "new.agent@acme.example.com"
    assert (user["FirstName"], user["LastName"], user["Company"]) == ("Jo", "Agent", "Acme Realty")
    assert user["Password"] is None
    assert user["StatusCode"] == 1
    stored = api.rt.deps
    with stored.uow(write=False) as uow:
        row = uow.users.get(api.client_id, user["SystemUserId"])
    assert row is not None and row.password_hash and PASSWORD not in row.password_hash


def test_create_user_accepts_lowercase_members(api: Api) -> None:
    body = {
        "SALT": "x1",
        "USER": {
            "username": "lower@acme.example.com",
            "firstname": "L",
            "lastname": "C",
            "encryptedpassword": enc(api, PASSWORD, "x1"),
            "statuscode": "Active",
        },
    }
    answer = api.post("/rest/v1/users", body)
    assert answer["Message"] == "Success", answer
    assert password_token(api, "lower@acme.example.com")["Message"] == "Success"


def test_duplicate_username(api: Api) -> None:
    new_user(api, "dup@acme.example.com")
    again = create_user(api, "DUP@acme.example.com")
    assert error_of(again) == (
        ["Error: Username dup@acme.example.com already exists."],
        ["username_taken"],
    )
    # The admin made with the client is a user too.
    assert error_of(create_user(api, api.username))[1] == ["username_taken"]


def test_same_username_in_two_clients_is_fine(api: Api, other_api: Api) -> None:
    new_user(api, "shared@example.com")
    assert create_user(other_api, "shared@example.com")["Message"] == "Success"


def test_same_username_in_two_clients_logs_in_to_its_own(api: Api, other_api: Api) -> None:
    """The password route names no client: the password tells the two users apart."""
    new_user(api, "shared@example.com")
    assert create_user(other_api, "shared@example.com", "another secret 7")["Message"] == "Success"
    for owner, password in ((api, PASSWORD), (other_api, "another secret 7")):
        token = password_token(api, "shared@example.com", password)["ReturnValue"]
        session = owner.create_session()  # (made by the client's admin, to compare with)
        read = api.http.get(
            f"/rest/v1/sessions/{session['SigningSessionId']}", headers={"Authorization": token}
        ).json()
        assert read["Sessions"][0]["SessionInfo"]["ClientID"] == owner.client_id, read


CREATE_REFUSALS: list[tuple[dict[str, Any], str]] = [
    ({"Username": "not-an-email"}, "user.Username must be an e-mail address"),
    ({"Username": None}, "user.Username must be an e-mail address"),
    ({"Username": "x" * 65 + "@acme.example.com"}, "user.Username is longer than an e-mail"),
    ({"Username": "x@" + "a" * 250 + ".com"}, "user.Username is longer than an e-mail"),
    ({"LastName": ""}, "user.LastName is required"),
    ({"FirstName": "   "}, "user.FirstName is required"),
    ({"Password": ""}, "user.Password is required"),
    ({"Password": "not-encrypted"}, "user.Password could not be decrypted"),
]


def test_create_user_validation(api: Api) -> None:
    base = {
        "Username": "v@acme.example.com",
        "FirstName": "V",
        "LastName": "W",
        "Password": enc(api, PASSWORD, "vs"),
    }
    for user, fragment in CREATE_REFUSALS:
        answer = api.post("/rest/v1/users", {"salt": "vs", "user": {**base, **user}})
        details, codes = error_of(answer)
        assert codes == ["validation_failed"], user
        assert fragment in details[0], (user, details)
    assert error_of(api.get("/rest/v1/users", params={"username": "v@acme.example.com"}))[1] == [
        "user_not_found"
    ]
    details, codes = error_of(api.post("/rest/v1/users", {"user": base}))  # no salt
    assert codes == ["validation_failed"] and details[0].startswith("Error: salt is required")


def test_short_password_is_refused(api: Api) -> None:
    answer = create_user(api, "short@acme.example.com", password="1234567")
    assert "at least 8 characters" in error_of(answer)[0][0]


def test_create_user_without_user_member(api: Api) -> None:
    details, codes = error_of(api.post("/rest/v1/users", {"salt": "x"}))
    assert codes == ["invalid_request"]
    assert details == ["Error: user is required."]


def test_get_user_by_id_and_by_username(api: Api) -> None:
    made = new_user(api, "find.me@acme.example.com")
    by_id = api.get(f"/rest/v1/users/{made['SystemUserId']}")
    assert by_id["Message"] == "Success"
    assert by_id["Users"] == [made]
    by_name = api.get("/rest/v1/users", params={"username": "Find.Me@acme.example.com"})
    assert by_name["Users"] == [made]


def test_a_plus_in_a_query_is_a_plus(api: Api) -> None:
    """Client code that concatenates a plus-addressed username into the URL finds it, as does
    one that encodes it; a space is still "%20" (it finds no one: no username has one)."""
    made = new_user(api, "pat+crm@acme.example.com")
    for query in ("pat+crm@acme.example.com", "pat%2Bcrm%40acme.example.com"):
        assert api.get(f"/rest/v1/users?username={query}")["Users"] == [made], query
    spaced = api.get("/rest/v1/users?username=pat%20crm@acme.example.com")
    assert error_of(spaced)[1] == ["user_not_found"]
    # Elsewhere a "+" is the space HttpUtility.UrlEncode writes.
    sid = api.create_session()["SigningSessionId"]
    back = "https%3a%2f%2fcrm.example.com%2fMy+Deals%2fdone"
    assert api.put(f"/rest/v1/sessions/{sid}/start?returnUrl={back}")["ReturnValue"] == "True"
    info = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]["SessionInfo"]
    assert info["ReturnURL"] == "https://crm.example.com/My Deals/done"


def test_get_unknown_user(api: Api) -> None:
    assert error_of(api.get("/rest/v1/users/00000000-0000-0000-0000-000000000000")) == (
        ["Error: User not found."],
        ["user_not_found"],
    )
    assert error_of(api.get("/rest/v1/users", params={"username": "ghost@x.example"}))[1] == [
        "user_not_found"
    ]
    details, _ = error_of(api.get("/rest/v1/users"))
    assert "username" in details[0]


def test_update_user_by_system_user_id(api: Api) -> None:
    made = new_user(api, "upd@acme.example.com")
    body = {"user": {"SystemUserId": made["SystemUserId"], "FirstName": "Joanna", "Region": "West"}}
    answer = api.put("/rest/v1/users", body)
    assert answer["Message"] == "Success", answer
    got = api.get(f"/rest/v1/users/{made['SystemUserId']}")["Users"][0]
    assert (got["FirstName"], got["LastName"], got["Region"]) == ("Joanna", "Agent", "West")
    assert got["Username"] == "upd@acme.example.com"


def test_update_by_system_user_id_renames_with_the_same_checks(api: Api) -> None:
    made = new_user(api, "old@acme.example.com")
    new_user(api, "taken@acme.example.com")
    uid = made["SystemUserId"]
    for username, code in (("taken@acme.example.com", "username_taken"), ("notmail", None)):
        answer = api.put("/rest/v1/users", {"user": {"SystemUserId": uid, "Username": username}})
        assert error_of(answer)[1] == [code or "validation_failed"], answer
    answer = api.put(
        "/rest/v1/users", {"user": {"SystemUserId": uid, "Username": "New@acme.example.com"}}
    )
    assert answer["Message"] == "Success", answer
    assert api.get(f"/rest/v1/users/{uid}")["Users"][0]["Username"] == "new@acme.example.com"


def test_updates_never_blank_a_required_name(api: Api) -> None:
    made = new_user(api, "named@acme.example.com")
    for path, body, field in (
        (
            "/rest/v1/users",
            {"user": {"SystemUserId": made["SystemUserId"], "FirstName": ""}},
            "FirstName",
        ),
        (
            "/rest/v1/users/updateByUsername",
            {"oldUsername": "named@acme.example.com", "user": {"LastName": "  "}},
            "LastName",
        ),
    ):
        answer = api.put(path, body)
        assert error_of(answer) == ([f"Error: user.{field} is required."], ["validation_failed"])
    got = api.get(f"/rest/v1/users/{made['SystemUserId']}")["Users"][0]
    assert (got["FirstName"], got["LastName"]) == ("Jo", "Agent")


def test_update_user_by_username_and_new_password(api: Api) -> None:
    made = new_user(api, "upd@acme.example.com")
    body = {
        "salt": "np",
        "user": {
            "Username": "UPD@acme.example.com",
            "Company": "New Co",
            "Password": enc(api, "a brand new password", "np"),
        },
    }
    answer = api.put("/rest/v1/users", body)
    assert answer["Message"] == "Success", answer
    assert answer["Users"][0]["SystemUserId"] == made["SystemUserId"]
    assert answer["Users"][0]["Company"] == "New Co"
    assert password_token(api, "upd@acme.example.com")["Message"] == "Error"
    assert password_token(api, "upd@acme.example.com", "a brand new password")["Message"] == (
        "Success"
    )


def test_update_unknown_user(api: Api) -> None:
    assert error_of(api.put("/rest/v1/users", {"user": {"SystemUserId": "nope"}}))[1] == [
        "user_not_found"
    ]
    details, codes = error_of(api.put("/rest/v1/users", {"user": {"FirstName": "X"}}))
    assert codes == ["validation_failed"]
    assert "user.SystemUserId or user.Username is required" in details[0]


def test_update_by_username_changes_the_e_mail(api: Api) -> None:
    made = new_user(api, "old.name@acme.example.com")
    body = {"oldUsername": "old.name@acme.example.com", "user": {"Username": "New.Name@Acme.com"}}
    answer = api.put("/rest/v1/users/updateByUsername", body)
    assert answer["Message"] == "Success", answer
    assert answer["Users"][0]["Username"] == "new.name@acme.com"
    found = api.get("/rest/v1/users", params={"username": "new.name@acme.com"})
    assert found["Users"][0]["SystemUserId"] == made["SystemUserId"]
    gone = api.get("/rest/v1/users", params={"username": "old.name@acme.example.com"})
    assert error_of(gone)[1] == ["user_not_found"]
    # The password still works under the new name.
    assert password_token(api, "new.name@acme.com")["Message"] == "Success"


def test_update_by_username_refusals(api: Api) -> None:
    new_user(api, "a@acme.example.com")
    new_user(api, "b@acme.example.com")
    taken = api.put(
        "/rest/v1/users/updateByUsername",
        {"oldUsername": "a@acme.example.com", "user": {"Username": "B@acme.example.com"}},
    )
    assert error_of(taken)[1] == ["username_taken"]
    bad = api.put(
        "/rest/v1/users/updateByUsername",
        {"oldUsername": "a@acme.example.com", "user": {"Username": "not an email"}},
    )
    assert error_of(bad)[1] == ["validation_failed"]
    missing = api.put(
        "/rest/v1/users/updateByUsername",
        {"oldUsername": "zz@acme.example.com", "user": {"Username": "c@acme.example.com"}},
    )
    assert error_of(missing)[1] == ["user_not_found"]
    no_old = api.put("/rest/v1/users/updateByUsername", {"user": {"Username": "c@x.example"}})
    assert error_of(no_old)[0] == ["Error: oldUsername is required."]
    # Nothing moved.
    assert api.get("/rest/v1/users", params={"username": "a@acme.example.com"})["Message"] == (
        "Success"
    )


def test_provision_user_deactivates_and_reactivates(api: Api) -> None:
    made = new_user(api, "agent@acme.example.com")
    uid = made["SystemUserId"]
    off = api.put("/rest/v1/users/provisionUser", {"systemUserId": uid, "userStatus": "Inactive"})
    assert off["Message"] == "Success", off
    assert off["Users"][0]["StatusCode"] == 0
    # A deactivated user cannot own new sessions…
    body = {
        "userName": "agent@acme.example.com",
        "session": {"SessionInfo": {"Title": "T"}, "Signers": [signer("Buyer 1")]},
    }
    refused = api.post("/rest/v1/sessions", body)
    assert error_of(refused) == (
        ["Error: User agent@acme.example.com is inactive."],
        ["user_inactive"],
    )
    # …nor log in, by either route.
    assert error_of(password_token(api, "agent@acme.example.com"))[1] == ["invalid_user_account"]
    auth = authenticate_user(api, "agent@acme.example.com", PASSWORD).json()
    assert error_of(auth)[1] == ["invalid_user_account"]
    on = api.put("/rest/v1/users/provisionUser", {"systemUserId": uid, "userStatus": 1})
    assert on["Users"][0]["StatusCode"] == 1
    assert api.post("/rest/v1/sessions", body)["Message"] == "Success"
    assert password_token(api, "agent@acme.example.com")["Message"] == "Success"


def test_provision_user_refusals(api: Api) -> None:
    made = new_user(api, "agent@acme.example.com")
    unknown = api.put("/rest/v1/users/provisionUser", {"systemUserId": "nope", "userStatus": 0})
    assert error_of(unknown)[1] == ["user_not_found"]
    bad_status = api.put(
        "/rest/v1/users/provisionUser", {"systemUserId": made["SystemUserId"], "userStatus": 7}
    )
    details, codes = error_of(bad_status)
    assert codes == ["invalid_request"]
    assert "userStatus" in details[0]
    no_status = api.put("/rest/v1/users/provisionUser", {"systemUserId": made["SystemUserId"]})
    assert error_of(no_status)[0] == ["Error: userStatus is required."]
    assert api.get(f"/rest/v1/users/{made['SystemUserId']}")["Users"][0]["StatusCode"] == 1


# --- tenancy -------------------------------------------------------------------------------


def test_other_client_cannot_see_or_change_users(api: Api, other_api: Api) -> None:
    made = new_user(api, "mine@acme.example.com")
    uid = made["SystemUserId"]
    assert error_of(other_api.get(f"/rest/v1/users/{uid}"))[1] == ["user_not_found"]
    by_name = other_api.get("/rest/v1/users", params={"username": "mine@acme.example.com"})
    assert error_of(by_name)[1] == ["user_not_found"]
    update = other_api.put("/rest/v1/users", {"user": {"SystemUserId": uid, "LastName": "Pwned"}})
    assert error_of(update)[1] == ["user_not_found"]
    rename = other_api.put(
        "/rest/v1/users/updateByUsername",
        {"oldUsername": "mine@acme.example.com", "user": {"Username": "x@rival.example"}},
    )
    assert error_of(rename)[1] == ["user_not_found"]
    off = other_api.put("/rest/v1/users/provisionUser", {"systemUserId": uid, "userStatus": 0})
    assert error_of(off)[1] == ["user_not_found"]
    assert api.get(f"/rest/v1/users/{uid}")["Users"] == [made]


def test_other_client_cannot_see_or_change_sessions(api: Api, other_api: Api) -> None:
    sid = api.create_session()["SigningSessionId"]
    not_found = (["Error: Session not found."], ["session_not_found"])
    assert error_of(other_api.get(f"/rest/v1/sessions/{sid}")) == not_found
    assert error_of(other_api.get(f"/rest/v1/sessions/{sid}/actionlogs")) == not_found
    assert error_of(other_api.put(f"/rest/v1/sessions/{sid}/cancel"), "False") == not_found
    assert error_of(other_api.delete(f"/rest/v1/sessions/{sid}"), "False") == not_found
    update = other_api.post(
        "/rest/v1/sessions/updatesession",
        {"userName": other_api.username, "session": {"Id": sid, "Signers": [signer("Buyer 1")]}},
    )
    assert error_of(update) == not_found
    by_tx = other_api.get(f"/rest/v1/users/{api.username}/transactions/TX-1")
    assert error_of(by_tx) == (["Error: Username not found."], ["username_not_found"])
    own_tx = other_api.get(f"/rest/v1/users/{other_api.username}/transactions/TX-1")
    assert own_tx["TotalCount"] == 0
    got = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]
    assert got["SessionInfo"]["StatusCode"] == 1
    assert len(got["Signers"]) == 1


def test_username_of_another_client_is_not_found(api: Api, other_api: Api) -> None:
    body = {
        "userName": other_api.username,
        "session": {"SessionInfo": {"Title": "T"}, "Signers": [signer("Buyer 1")]},
    }
    answer = api.post("/rest/v1/sessions", body)
    assert answer == {
        "Message": "Error",
        "Details": ["Error: Username not found."],
        "ReturnValue": None,
        "ErrorCodes": ["username_not_found"],
    }
    for missing in ("", "ghost@acme.example.com"):
        again = api.post("/rest/v1/sessions", {**body, "userName": missing})
        assert error_of(again)[0] == ["Error: Username not found."]


def test_session_owner_may_be_any_active_user_of_the_client(api: Api) -> None:
    new_user(api, "second@acme.example.com")
    body = {
        "UserName": "Second@Acme.Example.com",
        "session": {"SessionInfo": {"Title": "T"}, "Signers": [signer("Buyer 1")]},
    }
    answer = api.post("/rest/v1/sessions", body)
    assert answer["Message"] == "Success", answer
    assert answer["Sessions"][0]["SessionInfo"]["OwnerEmail"] == "second@acme.example.com"


def test_password_failures_are_limited_per_username_across_addresses(api: Api) -> None:
    # Per user as well as per address: spreading guesses over addresses does not help. The
    # name may be of any length (a long one must still be counted, and stored).
    for username in ("victim@acme.example.com", "v" * 400 + "@acme.example.com"):
        for n in range(10):
            http = TestClient(build_app(api.rt), client=(f"198.51.100.{n}", 1000))
            header = {"Authorization": enc(api, "wrong password", "pw-salt")}
            answer = http.get(f"/rest/v1/tokenusernamepassword/{username}/pw-salt", headers=header)
            assert error_of(answer.json())[1] == ["invalid_user_account"]
        fresh = TestClient(build_app(api.rt), client=("198.51.100.200", 1000))
        header = {"Authorization": enc(api, PASSWORD, "pw-salt")}
        _limited(fresh.get(f"/rest/v1/tokenusernamepassword/{username}/pw-salt", headers=header))


def _from(api: Api, address: str) -> TestClient:
    return TestClient(build_app(api.rt), client=(address, 1000))


def test_password_failures_count_on_both_password_routes(api: Api) -> None:
    new_user(api, "victim@acme.example.com")
    for n in range(10):
        header = f"{api.token}:{enc(api, 'wrong password', 'au-salt')}"
        answer = _from(api, f"198.51.100.{n}").get(
            "/rest/v1/authenticateuser/victim@acme.example.com/au-salt",
            headers={"Authorization": header},
        )
        assert error_of(answer.json())[1] == ["invalid_user_account"]
    header = {"Authorization": enc(api, PASSWORD, "pw-salt")}
    _limited(
        _from(api, "198.51.100.200").get(
            "/rest/v1/tokenusernamepassword/victim@acme.example.com/pw-salt", headers=header
        )
    )


def test_password_failures_are_limited_per_client(api: Api, other_api: Api) -> None:
    """Guesses spread over addresses and usernames still meet the client's own limit."""
    deps = replace(
        api.rt.deps, limits=replace(api.rt.deps.limits, auth_failures_per_client_window=5)
    )
    app = build_app(replace(api.rt, deps=deps))
    for n in range(6):
        new_user(api, f"agent{n}@acme.example.com")
    new_user(other_api, "agent@rival.example.com")

    def login(username: str, password: str, n: int) -> Any:
        http = TestClient(app, client=(f"203.0.113.{n}", 1000))
        header = {"Authorization": enc(api, password, "pw-salt")}
        return http.get(f"/rest/v1/tokenusernamepassword/{username}/pw-salt", headers=header)

    for n in range(5):
        answer = login(f"agent{n}@acme.example.com", "wrong password", n)
        assert error_of(answer.json())[1] == ["invalid_user_account"]
    _limited(login("agent5@acme.example.com", PASSWORD, 50))
    assert login("agent@rival.example.com", PASSWORD, 51).json()["Message"] == "Success"


def test_one_clients_failures_never_lock_out_another_clients_user(api: Api, other_api: Api) -> None:
    """Usernames are unique within a client only (contract §3): the same name in two clients
    is two users, and guesses at one do not limit the other."""
    for owner in (api, other_api):
        new_user(owner, "shared@multi.example.com")

    def authenticate(owner: Api, password: str, address: str) -> Any:
        header = f"{owner.token}:{enc(owner, password, 'au-salt')}"
        return _from(owner, address).get(
            "/rest/v1/authenticateuser/shared@multi.example.com/au-salt",
            headers={"Authorization": header},
        )

    for n in range(10):
        wrong = authenticate(other_api, "wrong password", f"198.51.100.{n}")
        assert error_of(wrong.json())[1] == ["invalid_user_account"]
    _limited(authenticate(other_api, PASSWORD, "198.51.100.100"))
    mine = authenticate(api, PASSWORD, "198.51.100.101")
    assert mine.json()["Message"] == "Success", mine.json()


class CountingHasher:
    def __init__(self, real: Any) -> None:
        self.real, self.checks = real, 0

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))

    def verify(self, password: str, hashed: str) -> bool:
        self.checks += 1
        return bool(self.real.verify(password, hashed))


def test_a_login_checks_a_password_whether_or_not_the_user_exists(api: Api) -> None:
    """The time a wrong password takes must not tell which usernames exist: an unknown or
    inactive user costs one (slow) password check, as a real one does."""
    new_user(api, "gone@acme.example.com")
    gone = api.get("/rest/v1/users", params={"username": "gone@acme.example.com"})["Users"][0]
    api.put(
        "/rest/v1/users/provisionUser",
        {"systemUserId": gone["SystemUserId"], "userStatus": 0},
    )
    hasher = CountingHasher(api.rt.deps.passwords)
    app = build_app(replace(api.rt, deps=replace(api.rt.deps, passwords=hasher)))
    for n, username in enumerate(("ghost@acme.example.com", "gone@acme.example.com", api.username)):
        before = hasher.checks
        http = TestClient(app, client=(f"203.0.113.{n}", 1000))
        header = {"Authorization": enc(api, "wrong password", "pw-salt")}
        answer = http.get(f"/rest/v1/tokenusernamepassword/{username}/pw-salt", headers=header)
        assert error_of(answer.json())[1] == ["invalid_user_account"]
        assert hasher.checks - before == 1, username


def test_a_user_sent_back_as_read_keeps_a_name_an_older_check_let_in(api: Api) -> None:
    made = new_user(api, "jo.agent@acme.example.com")
    with api.rt.deps.uow() as uow:
        user = uow.users.get(api.client_id, made["SystemUserId"])
        assert user is not None
        user.username = "jo..agent@acme.example.com"  # refused by today's check (0050)
        uow.users.update(user)
        uow.commit()
    read = api.get(f"/rest/v1/users/{made['SystemUserId']}")["Users"][0]
    answer = api.put("/rest/v1/users", {"user": {**read, "JobTitle": "Broker"}})
    assert answer["Message"] == "Success", answer
    assert answer["Users"][0]["JobTitle"] == "Broker"
    renamed = api.put("/rest/v1/users", {"user": {**read, "Username": "jo@agent..example.com"}})
    assert renamed["ErrorCodes"] == ["validation_failed"]
