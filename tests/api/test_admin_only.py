"""Who may manage the client (decision 0039): an API key's token or an admin user's token
may manage users, templates and anchor adjustments and read the webhook log; any other user
may only change its own record."""

from __future__ import annotations

from typing import Any

import pytest

from esign.app import Runtime
from esign.services import clients
from tests.api.test_auth_users import PASSWORD, create_user, enc, new_user, password_token
from tests.conftest import Api, tiny_pdf

REFUSED = ["Error: Only an administrator of the account may do this."]


def user_token(api: Api, username: str) -> dict[str, str]:
    answer = password_token(api, username)
    assert answer["Message"] == "Success", answer
    return {"Authorization": answer["ReturnValue"]}


@pytest.fixture
def agent(api: Api) -> dict[str, Any]:
    return new_user(api, "agent@acme.example.com")


def admin_calls(api: Api, target_id: str) -> list[tuple[str, str, Any]]:
    """Every call for the administrative account, as (method, path, body)."""
    template = {
        "FormId": "F-1",
        "Name": "Listing",
        "Document": {"FileName": "t.pdf", "FileBytes": list(tiny_pdf())},
    }
    new = {
        "salt": "u-salt",
        "user": {
            "Username": "new@acme.example.com",
            "FirstName": "Ne",
            "LastName": "W",
            "Password": enc(api, PASSWORD, "u-salt"),
        },
    }
    return [
        ("POST", "/rest/v1/users", new),
        ("PUT", "/rest/v1/users/provisionUser", {"systemUserId": target_id, "userStatus": 0}),
        ("POST", "/rest/v1/templates", {"template": template}),
        ("DELETE", "/rest/v1/templates/F-1", None),
        ("PUT", "/rest/v1/anchoradjustments/tight", {"Adjustments": {"sig": {"X": 1}}}),
        ("DELETE", "/rest/v1/anchoradjustments/tight", None),
        ("GET", "/rest/v1/webhooks/deliveries", None),
    ]


def call(api: Api, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    response = api.http.request(method, path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_user_who_is_not_an_admin_is_refused_and_nothing_changes(
    api: Api, agent: dict[str, Any]
) -> None:
    target = new_user(api, "colleague@acme.example.com")
    as_agent = user_token(api, "agent@acme.example.com")
    for method, path, body in admin_calls(api, target["SystemUserId"]):
        answer = call(api, method, path, body, as_agent)
        assert answer["Message"] == "Error", (path, answer)
        assert answer["Details"] == REFUSED and answer["ErrorCodes"] == ["admin_only"]
        assert answer["ReturnValue"] in (None, "False")
    # Nothing was made or changed.
    assert api.get("/rest/v1/users?username=new@acme.example.com")["Message"] == "Error"
    assert api.get(f"/rest/v1/users/{target['SystemUserId']}")["Users"][0]["StatusCode"] == 1
    assert api.get("/rest/v1/templates")["Templates"] == []
    assert api.get("/rest/v1/anchoradjustments/tight")["Message"] == "Error"


def test_an_api_key_and_an_admin_user_may(api: Api, runtime: Runtime) -> None:
    clients.add_user(
        runtime.deps, api.client_id, "boss@acme.example.com", "Bo", "Ss", PASSWORD, True
    )
    as_boss = user_token(api, "boss@acme.example.com")
    for n, headers in enumerate(({"Authorization": api.token}, as_boss)):
        target = new_user(api, f"target{n}@acme.example.com")
        for method, path, body in admin_calls(api, target["SystemUserId"]):
            if path == "/rest/v1/users":
                body["user"]["Username"] = f"new{n}@acme.example.com"
            answer = call(api, method, path, body, headers)
            assert answer["Message"] == "Success", (path, answer)


def test_a_user_changes_its_own_record_and_no_one_elses(api: Api, agent: dict[str, Any]) -> None:
    as_agent = user_token(api, "agent@acme.example.com")
    mine = {
        "salt": "p2",
        "user": {"SystemUserId": agent["SystemUserId"], "Password": enc(api, "new pass 77", "p2")},
    }
    assert call(api, "PUT", "/rest/v1/users", mine, as_agent)["Message"] == "Success"
    assert password_token(api, "agent@acme.example.com", "new pass 77")["Message"] == "Success"
    admin = api.get(f"/rest/v1/users?username={api.username}")["Users"][0]
    theirs = {
        "salt": "p3",
        "user": {"SystemUserId": admin["SystemUserId"], "Password": enc(api, "taken 12345", "p3")},
    }
    by_name = {"salt": "p3", "oldUsername": api.username, "user": {"FirstName": "Mallory"}}
    for path, body in (("/rest/v1/users", theirs), ("/rest/v1/users/updateByUsername", by_name)):
        answer = call(api, "PUT", path, body, as_agent)
        assert answer["Details"] == REFUSED and answer["ErrorCodes"] == ["admin_only"], answer
    after = api.get(f"/rest/v1/users/{admin['SystemUserId']}")["Users"][0]
    assert after["FirstName"] == admin["FirstName"]
    assert password_token(api, api.username, "taken 12345")["Message"] == "Error"
    # Nor its own status: (de)activating is an admin's.
    off = {"salt": "s", "user": {"SystemUserId": agent["SystemUserId"], "StatusCode": 0}}
    assert call(api, "PUT", "/rest/v1/users", off, as_agent)["ErrorCodes"] == ["admin_only"]
    assert api.get(f"/rest/v1/users/{agent['SystemUserId']}")["Users"][0]["StatusCode"] == 1
    same = {"salt": "s", "user": {"SystemUserId": agent["SystemUserId"], "StatusCode": 1}}
    assert call(api, "PUT", "/rest/v1/users", same, as_agent)["Message"] == "Success"
    # Reading users stays open to every user of the client.
    assert (
        call(api, "GET", f"/rest/v1/users/{admin['SystemUserId']}", None, as_agent)["Message"]
        == "Success"
    )


def test_create_user_has_no_admin_path_around_it(api: Api, agent: dict[str, Any]) -> None:
    """IsAdmin in a body is not how anyone becomes an administrator."""
    as_agent = user_token(api, "agent@acme.example.com")
    mine = {"salt": "s", "user": {"SystemUserId": agent["SystemUserId"], "IsAdmin": True}}
    assert call(api, "PUT", "/rest/v1/users", mine, as_agent)["Message"] == "Success"
    assert api.get(f"/rest/v1/users/{agent['SystemUserId']}")["Users"][0]["IsAdmin"] is False
    made = create_user(api, "x@acme.example.com", IsAdmin=True)
    assert made["Users"][0]["IsAdmin"] is False
