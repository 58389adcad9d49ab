"""A client's own audit trail (decision 0035): what happens outside any session (users, API
keys, the webhook, settings, templates, anchor adjustments) is a hash-chained event with its
actor, in a chain keyed by the client's id, which `esign audit verify CLIENT_ID` checks."""

from __future__ import annotations

from typing import Any

import pytest

from esign.app import Runtime
from esign.domain.audit import AuditEvent
from esign.services import queries
from tests.api.cli import run_cli
from tests.api.test_auth_users import create_user
from tests.api.test_templates import template_body
from tests.conftest import Api
from tests.integration.test_concurrency import at_once


def _trail(rt: Runtime, client_id: str) -> list[AuditEvent]:
    with rt.deps.uow(write=False) as uow:
        return uow.audit.for_session(client_id)


def _kinds(rt: Runtime, client_id: str) -> list[str]:
    return [e.kind.value for e in _trail(rt, client_id)]


def test_a_new_client_starts_its_trail(api: Api) -> None:
    events = _trail(api.rt, api.client_id)
    assert [e.kind.value for e in events] == ["client.created", "user.created"]
    assert events[1].description == f"User {api.username} created"
    assert {e.actor.kind for e in events} == {"operator"}


def test_api_actions_are_in_the_trail_with_their_caller(api: Api) -> None:
    user = create_user(api, "agent@acme.example.com")["Users"][0]
    api.put("/rest/v1/users/provisionUser", {"systemUserId": user["SystemUserId"], "userStatus": 0})
    assert api.post("/rest/v1/templates", template_body("LISTING-1"))["Message"] == "Success"
    assert api.delete("/rest/v1/templates/LISTING-1")["Message"] == "Success"
    adjustments = {"Adjustments": {"sig": {"Y": -5}}}
    assert api.put("/rest/v1/anchoradjustments/Forms", adjustments)["Message"] == "Success"
    assert api.delete("/rest/v1/anchoradjustments/Forms")["Message"] == "Success"
    events = _trail(api.rt, api.client_id)[2:]
    assert [(e.kind.value, e.description) for e in events] == [
        ("user.created", "User agent@acme.example.com created"),
        ("user.status_changed", "User agent@acme.example.com set to inactive"),
        ("template.saved", "Template LISTING-1 ('Listing agreement') created"),
        ("template.deleted", "Template LISTING-1 ('Listing agreement') deleted"),
        ("adjustment.changed", "Anchor adjustment category 'Forms' changed"),
        ("adjustment.deleted", "Anchor adjustment category 'Forms' deleted"),
    ]
    assert {(e.actor.kind, e.actor.ip) for e in events} == {("api", "testclient")}


def test_refused_actions_are_not(api: Api) -> None:
    before = _kinds(api.rt, api.client_id)
    assert create_user(api, "not-an-email")["Message"] == "Error"
    assert api.delete("/rest/v1/templates/NOPE")["Message"] == "Error"
    assert _kinds(api.rt, api.client_id) == before


def test_operator_commands_are_in_the_trail_and_it_verifies(
    api: Api,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ESIGN_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    for args in (
        ["clients", "rotate-key", "--client-id", api.client_id],
        ["clients", "configure", "--client-id", api.client_id, "--purge-wait-hours", "24"],
        ["clients", "set-webhook", "--client-id", api.client_id, "--url", "http://127.0.0.1:9/h"],
    ):
        code, out, err = run_cli(monkeypatch, capsys, runtime, *args)
        assert code == 0, (args, out, err)
    events = _trail(runtime, api.client_id)[-3:]
    assert [(e.kind.value, e.description) for e in events] == [
        ("client.api_key_rotated", "API keys revoked, a new one issued"),
        ("client.configured", "Settings changed: purge_wait_hours"),
        ("client.webhook_set", "Webhook set to host 127.0.0.1"),
    ]
    assert all("whsec_" not in str(e.data) for e in events)  # never the secret
    code, out, _ = run_cli(monkeypatch, capsys, runtime, "audit", "verify", api.client_id)
    assert code == 0 and out.startswith("OK: 5 events"), out


def test_actions_at_once_chain_one_after_another(api: Api) -> None:
    """Users, templates and adjustment categories changed at the same moment: each waits its
    turn for the trail (on PostgreSQL none waits for another that waits for it)."""

    def user(n: int) -> Any:
        return lambda: create_user(api, f"agent{n}@acme.example.com")

    def template(n: int) -> Any:
        return lambda: api.post("/rest/v1/templates", template_body(f"FORM-{n}"))

    def category(n: int) -> Any:
        body = {"Adjustments": {"sig": {"Y": -n}}}
        return lambda: api.put(f"/rest/v1/anchoradjustments/Forms{n}", body)

    calls = [make(n) for n in range(4) for make in (user, template, category)]
    answers = at_once(calls)
    assert all(a["Message"] == "Success" for a in answers), answers
    report = queries.verify_audit(api.rt.deps, api.client_id)
    assert (report.broken, report.events) == (None, 2 + len(calls))
