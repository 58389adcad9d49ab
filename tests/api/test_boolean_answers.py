"""Routes whose result is a yes/no (reference §2: "For boolean RR results, ReturnValue is the
string "True" or "False"") answer "False" when refused; a bad token stays as contract §1 has it."""

from __future__ import annotations

from typing import Any

import pytest

from esign.api.routes import ROUTES
from tests.conftest import Api

BOOLEAN_ROUTES = {
    "StartSession",
    "CancelSession",
    "CloseSession",
    "DeleteSession",
    "PurgeSessionDocs",
    "CancelPurgingSession",
    "UpdateTransactionId",
    "SendSignerEmailInvites",
    "DeleteTemplate",
    "DeleteAnchorAdjustmentCategory",
}
MISSING = "0f8fad5b-d9cb-469f-a165-70867728950e"
S = "/rest/v1/sessions"


def test_the_boolean_routes_are_those_of_the_reference() -> None:
    assert {r.summary for r in ROUTES if r.boolean} == BOOLEAN_ROUTES


def call(api: Api, name: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Each boolean route, asked about something that does not exist."""
    requests: dict[str, tuple[str, str, Any]] = {
        "StartSession": ("PUT", f"{S}/{MISSING}/start", None),
        "CancelSession": ("PUT", f"{S}/{MISSING}/cancel", None),
        "CloseSession": ("PUT", f"{S}/{MISSING}/close", None),
        "DeleteSession": ("DELETE", f"{S}/{MISSING}", None),
        "PurgeSessionDocs": ("PUT", f"{S}/{MISSING}/purge?purgeNow=true", None),
        "CancelPurgingSession": ("PUT", f"{S}/cancelPurging/{MISSING}", None),
        "UpdateTransactionId": (
            "PUT",
            "/rest/v1/transaction/UpdateTxId",
            {"userName": api.username, "signingSessionId": MISSING, "newTransactionId": "T"},
        ),
        "SendSignerEmailInvites": (
            "PUT",
            "/rest/v1/signers/invite",
            {"signingSessionId": MISSING, "signerList": [{"SignerId": MISSING}]},
        ),
        "DeleteTemplate": ("DELETE", "/rest/v1/templates/no-such-form", None),
        "DeleteAnchorAdjustmentCategory": ("DELETE", "/rest/v1/anchoradjustments/Nope", None),
    }
    method, path, body = requests[name]
    response = api.http.request(
        method, path, json=body, headers=api.headers if headers is None else headers
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize("name", sorted(BOOLEAN_ROUTES))
def test_a_refused_boolean_call_answers_false(api: Api, name: str) -> None:
    answer = call(api, name)
    assert answer["Message"] == "Error" and answer["ReturnValue"] == "False", answer
    assert answer["Details"] and answer["ErrorCodes"], answer


@pytest.mark.parametrize("name", sorted(BOOLEAN_ROUTES))
def test_a_bad_token_still_answers_null(api: Api, name: str) -> None:
    answer = call(api, name, {"Authorization": "forged"})
    assert answer == {
        "Message": "Error",
        "Details": ["Error: Invalid token"],
        "ReturnValue": None,
        "ErrorCodes": ["invalid_token"],
    }


def test_done_is_true_and_a_wrong_status_or_bad_input_is_false(api: Api) -> None:
    sid = api.create_session()["SigningSessionId"]
    assert api.put(f"{S}/{sid}/cancel")["ReturnValue"] == "True"
    again = api.put(f"{S}/{sid}/cancel")
    assert (again["ReturnValue"], again["ErrorCodes"]) == ("False", ["wrong_status"])
    bad = api.put("/rest/v1/transaction/UpdateTxId", {"signingSessionId": 7})
    assert (bad["ReturnValue"], bad["ErrorCodes"]) == ("False", ["invalid_request"])


def test_other_routes_keep_a_null_return_value_when_refused(api: Api) -> None:
    answer = api.get(f"{S}/{MISSING}")
    assert (answer["Message"], answer["ReturnValue"]) == ("Error", None)
