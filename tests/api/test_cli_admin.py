"""The operator's `esign clients …` and `esign users …` commands, run in the test process on the
test runtime's database, checked through the API they configure."""

from __future__ import annotations

from typing import Any

import pytest

from esign.app import Runtime
from tests.api.cli import cli_json, run_cli
from tests.conftest import Api

PASSWORD = "s3cret-pass"


def encrypted(api: Api, plain: str, salt: str) -> str:
    answer = api.http.get(f"/rest/v1/encrypt/{plain}/{salt}").json()
    value: str = answer["ReturnValue"]
    return value


def key_token(api: Api, key: str) -> dict[str, Any]:
    header = {"Authorization": encrypted(api, key, "k-salt")}
    answer: dict[str, Any] = api.http.get("/rest/v1/gettoken/k-salt", headers=header).json()
    return answer


def password_token(api: Api, username: str, password: str) -> dict[str, Any]:
    header = {"Authorization": encrypted(api, password, "p-salt")}
    path = f"/rest/v1/tokenusernamepassword/{username}/p-salt"
    answer: dict[str, Any] = api.http.get(path, headers=header).json()
    return answer


def test_clients_create_prints_a_key_and_an_admin_that_work(
    runtime: Runtime, api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made = cli_json(
        monkeypatch, capsys, runtime, "clients", "create", "--name", "Brokers Inc",
        "--admin-email", "Boss@Brokers.example.com",
    )  # fmt: skip
    assert set(made) >= {"ClientId", "ApiKey", "AdminUsername"}
    assert made["AdminUsername"] == "boss@brokers.example.com"
    assert key_token(api, made["ApiKey"])["Message"] == "Success"
    admin = password_token(api, made["AdminUsername"], made["AdminPassword"])
    assert admin["Message"] == "Success", admin
    # Without --json: the same facts, one per line.
    code, out, _ = run_cli(
        monkeypatch, capsys, runtime, "clients", "create", "--name", "Second",
        "--admin-email", "a@second.example.com",
    )  # fmt: skip
    assert code == 0 and "ApiKey: " in out and "AdminUsername: a@second.example.com" in out
    code, out, _ = run_cli(monkeypatch, capsys, runtime, "clients", "list")
    assert code == 0 and made["ClientId"] in out and "Brokers Inc" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--name", " ", "--admin-email", "a@b.example.com"), "--name is required"),
        (("--name", "X", "--admin-email", "not-an-address"), "--admin-email must be an e-mail"),
    ],
)
def test_clients_create_refuses_bad_options_and_stores_nothing(
    runtime: Runtime,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, runtime, "clients", "create", *args)
    assert code == 2 and message in err, (code, out, err)
    code, out, _ = run_cli(monkeypatch, capsys, runtime, "clients", "list")
    assert code == 0 and len(out.splitlines()) == 1  # the fixture's client alone


def test_rotate_key_revokes_the_old_key(
    runtime: Runtime, api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rotated = cli_json(monkeypatch, capsys, runtime, "clients", "rotate-key", "--client-id",
                       api.client_id)  # fmt: skip
    assert rotated["ClientId"] == api.client_id and rotated["ApiKey"] != api.api_key
    assert key_token(api, rotated["ApiKey"])["Message"] == "Success"
    assert key_token(api, api.api_key)["Message"] == "Error"
    code, _, err = run_cli(monkeypatch, capsys, runtime, "clients", "rotate-key", "--client-id",
                           "nobody")  # fmt: skip
    assert code == 2 and "no client 'nobody'" in err


def test_set_webhook_sets_and_removes_the_url(
    runtime: Runtime, api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("clients", "set-webhook", "--client-id", api.client_id)
    hook = cli_json(monkeypatch, capsys, runtime, *base, "--url", "https://93.184.216.34/e")
    assert hook["WebhookUrl"] == "https://93.184.216.34/e" and len(hook["WebhookSecret"]) >= 16
    kept = cli_json(monkeypatch, capsys, runtime, *base, "--url", "https://93.184.216.34/f")
    assert kept["WebhookSecret"] == hook["WebhookSecret"]  # kept unless a new one is given
    code, out, _ = run_cli(monkeypatch, capsys, runtime, "clients", "list")
    assert "webhook=https://93.184.216.34/f" in out
    code, _, err = run_cli(monkeypatch, capsys, runtime, *base, "--url", "ftp://x.example.com/")
    assert code == 2 and "--url" in err
    cli_json(monkeypatch, capsys, runtime, *base, "--url", "")
    code, out, _ = run_cli(monkeypatch, capsys, runtime, "clients", "list")
    assert "webhook=-" in out


def test_users_create_makes_a_user_who_can_log_in(
    runtime: Runtime, api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made = cli_json(
        monkeypatch, capsys, runtime, "users", "create", "--client-id", api.client_id,
        "--username", "Agent@Acme.example.com", "--first-name", " Ann ", "--last-name", "Agent",
        "--password", PASSWORD,
    )  # fmt: skip
    assert made["Username"] == "agent@acme.example.com"
    assert password_token(api, "agent@acme.example.com", PASSWORD)["Message"] == "Success"
    user = api.get(f"/rest/v1/users/{made['SystemUserId']}")["Users"][0]
    assert (user["FirstName"], user["LastName"]) == ("Ann", "Agent")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--first-name": "  "}, "--first-name is required"),
        ({"--last-name": ""}, "--last-name is required"),
        ({"--username": "agent"}, "--username must be an e-mail address"),
        ({"--password": "short"}, "--password must be at least 8 characters"),
        ({"--password": ""}, "--password (or ESIGN_USER_PASSWORD) is required"),
        ({"--client-id": "nobody"}, "no client 'nobody'"),
    ],
)
def test_users_create_refuses_bad_options_and_stores_nothing(
    runtime: Runtime,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    message: str,
) -> None:
    options = {
        "--client-id": api.client_id,
        "--username": "agent@acme.example.com",
        "--first-name": "Ann",
        "--last-name": "Agent",
        "--password": PASSWORD,
        **change,
    }
    args = [part for pair in options.items() for part in pair]
    code, out, err = run_cli(monkeypatch, capsys, runtime, "users", "create", *args)
    assert code == 2 and message in err, (code, out, err)
    assert password_token(api, "agent@acme.example.com", PASSWORD)["Message"] == "Error"


def test_users_create_refuses_a_taken_username(
    runtime: Runtime, api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        monkeypatch, capsys, runtime, "users", "create", "--client-id", api.client_id,
        "--username", api.username.upper(), "--first-name", "A", "--last-name", "B",
        "--password", PASSWORD,
    )  # fmt: skip
    assert code == 2 and "--username is taken in that client" in err
    assert password_token(api, api.username, PASSWORD)["Message"] == "Error"
