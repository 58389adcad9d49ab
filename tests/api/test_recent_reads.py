"""CreateSession reads its owner and the client's settings through `services.recent.owners`
(docs/decisions/0016): a change made in this process is seen by the very next request, and
one client's cached users never serve another client."""

from __future__ import annotations

from typing import Any

from esign.app import Runtime
from esign.services import clients
from tests.api.session_helpers import S, assert_error, the_session
from tests.conftest import Api, pdf_document, signer


def body(username: str, **document: Any) -> dict[str, Any]:
    return {
        "userName": username,
        "session": {
            "SessionInfo": {"Title": "Offer"},
            "Documents": [pdf_document(**document)],
            "Signers": [signer("Seller 1")],
        },
    }


def owner_name(answer: dict[str, Any]) -> str:
    assert answer["Message"] == "Success", answer
    return str(the_session(answer)["SessionInfo"]["OwnerName"])


def test_an_updated_user_is_seen_by_the_next_create(api: Api, runtime: Runtime) -> None:
    user = clients.add_user(
        runtime.deps, api.client_id, "agent@acme.example.com", "Ann", "Agent", "password1", False
    )
    assert owner_name(api.post(S, body(user.username))) == "Ann Agent"
    renamed = api.put("/rest/v1/users", {"user": {"SystemUserId": user.id, "FirstName": "Jo"}})
    assert renamed["Message"] == "Success", renamed
    assert owner_name(api.post(S, body(user.username))) == "Jo Agent"
    moved = api.put(
        "/rest/v1/users/updateByUsername",
        {"oldUsername": user.username, "user": {"Username": "agent2@acme.example.com"}},
    )
    assert moved["Message"] == "Success", moved
    assert_error(api.post(S, body(user.username)), "Username not found")
    assert owner_name(api.post(S, body("agent2@acme.example.com"))) == "Jo Agent"


def test_a_cached_owner_never_serves_another_client(api: Api, other_api: Api) -> None:
    assert owner_name(other_api.post(S, body(other_api.username))) != ""
    assert owner_name(api.post(S, body(api.username))) != ""
    # Both owners are now remembered; each stays its own client's.
    assert_error(api.post(S, body(other_api.username)), "Username not found")
    assert_error(other_api.post(S, body(api.username)), "Username not found")


def test_a_new_adjustment_category_is_seen_by_the_next_create(api: Api) -> None:
    first = api.post(S, body(api.username, AnchorTagsAdjustmentCategory="Forms"))
    assert "category 'Forms' does not exist" in first["Details"][0]
    put = api.put("/rest/v1/anchoradjustments/Forms", {"Adjustments": {"sig": {"X": 1}}})
    assert put["Message"] == "Success", put
    second = api.post(S, body(api.username, AnchorTagsAdjustmentCategory="Forms"))
    assert second["Details"] == [], second
