"""Settings from the environment: a value that cannot be used is refused with its name, and
the `esign` command says so in one line (no traceback)."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import pytest

from esign import cli
from esign.config import Settings, SettingsError


def test_defaults_and_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ESIGN_QUEUE_NAME", "ESIGN_MAX_PAGES"):
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env(data_dir=tmp_path).queue_name == "esign"
    assert Settings.from_env(data_dir=tmp_path).max_pages == 500
    monkeypatch.setenv("ESIGN_QUEUE_NAME", "office2_prod")
    monkeypatch.setenv("ESIGN_MAX_PAGES", " 40 ")
    settings = Settings.from_env(data_dir=tmp_path)
    assert (settings.queue_name, settings.max_pages) == ("office2_prod", 40)


# Settings (Settings.from_env refuses them) and option variables (the parser refuses them).
UNUSABLE_SETTINGS = [
    ("ESIGN_QUEUE_NAME", "two words", "ESIGN_QUEUE_NAME must be 1 to 64 letters"),
    ("ESIGN_QUEUE_NAME", "office-2", "ESIGN_QUEUE_NAME must be 1 to 64 letters"),
    ("ESIGN_QUEUE_NAME", "x" * 65, "ESIGN_QUEUE_NAME must be 1 to 64 letters"),
    ("ESIGN_MAX_PAGES", "many", "ESIGN_MAX_PAGES must be a whole number of at least 1, not 'm"),
    ("ESIGN_MAX_PAGES", "0", "ESIGN_MAX_PAGES must be a whole number of at least 1, not '0'"),
    ("ESIGN_MAX_BODY_MB", "0", "ESIGN_MAX_BODY_MB must be a whole number of at least 1"),
    ("ESIGN_MAX_SESSION_MB", "0", "ESIGN_MAX_SESSION_MB must be a whole number of at least 1"),
    ("ESIGN_PUBLIC_URL", "notaurl", "ESIGN_PUBLIC_URL"),
    ("ESIGN_PUBLIC_URL", "ftp://x.example", "ESIGN_PUBLIC_URL"),
    ("ESIGN_MAX_BODY_MB", "-1", "ESIGN_MAX_BODY_MB must be a whole number"),
    ("ESIGN_REQUEST_THREADS", "2.5", "ESIGN_REQUEST_THREADS must be a whole number"),
    ("ESIGN_BLOB_GRACE_SECONDS", "ten", "ESIGN_BLOB_GRACE_SECONDS must be a whole number"),
    ("ESIGN_WEBHOOK_ALLOW_PRIVATE", "banana", "ESIGN_WEBHOOK_ALLOW_PRIVATE must be one of 1"),
]
UNUSABLE_OPTIONS = [
    ("ESIGN_PORT", "abc", "ESIGN_PORT must be a port number (1 to 65535)"),
    ("ESIGN_PORT", "99999", "ESIGN_PORT must be a port number (1 to 65535)"),
    ("ESIGN_WORKER_THREADS", "0", "ESIGN_WORKER_THREADS must be a whole number from 1"),
    ("ESIGN_NO_WORKER", "banana", "ESIGN_NO_WORKER must be one of 1, true, yes, on"),
]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    UNUSABLE_SETTINGS + UNUSABLE_OPTIONS,
)
def test_an_unusable_value_is_named(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    if (name, value, message) in UNUSABLE_SETTINGS:
        with pytest.raises(SettingsError, match=message):
            Settings.from_env(data_dir=tmp_path)
    _migrate_refuses(capsys, tmp_path, message)
    assert not (tmp_path / "data" / "esign.db").exists()  # nothing was set up


def _migrate_refuses(capsys: pytest.CaptureFixture[str], tmp_path: Path, message: str) -> None:
    """`esign migrate` stops with exit status 2 and one line naming the problem."""
    assert cli.main(["migrate", "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"esign: {message}") and "Traceback" not in err


def test_serve_links_to_where_it_listens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ESIGN_PUBLIC_URL", raising=False)

    def public_url(*argv: str) -> str:
        args = cli.parser().parse_args([*argv, "--data-dir", str(tmp_path)])
        return cli._settings(args).public_url

    assert public_url("serve", "--port", "18099") == "http://127.0.0.1:18099"
    assert public_url("serve", "--host", "0.0.0.0", "--port", "80") == "http://127.0.0.1:80"
    assert public_url("serve", "--host", "::1", "--port", "81") == "http://[::1]:81"
    given = ("serve", "--port", "18099", "--public-url", "https://sign.example.com")
    assert public_url(*given) == "https://sign.example.com"
    assert public_url("migrate") == "http://127.0.0.1:8080"  # (no server: the default)
    monkeypatch.setenv("ESIGN_PUBLIC_URL", "https://esign.example.com")
    assert public_url("serve", "--port", "18099") == "https://esign.example.com"


def test_every_option_reads_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESIGN_NAME", "Env Co")
    monkeypatch.setenv("ESIGN_ADMIN_EMAIL", "boss@env.example.com")
    monkeypatch.setenv("ESIGN_JSON", "yes")
    args = cli.parser().parse_args(["clients", "create"])  # the required options are given
    assert (args.name, args.admin_email, args.json) == ("Env Co", "boss@env.example.com", True)
    args = cli.parser().parse_args(["clients", "create", "--name", "Flag Co"])
    assert args.name == "Flag Co"  # the command line wins
    monkeypatch.setenv("ESIGN_NO_WORKER", "off")
    monkeypatch.setenv("ESIGN_PORT", "9090")
    monkeypatch.setenv("ESIGN_WORKER_THREADS", "4")
    assert (
        cli.parser().parse_args(["serve"]).no_worker,
        cli.parser().parse_args(["serve"]).port,
    ) == (
        False,
        9090,
    )
    assert cli.parser().parse_args(["worker"]).threads == 4
    for action in _options(cli.parser()):
        assert "ESIGN_" in (action.help or ""), action.option_strings  # and --help says which


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _options(child)
        elif action.option_strings and action.dest != "help":
            found.append(action)
    return found


def test_serve_on_a_port_in_use_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        argv = ["serve", "--port", port, "--data-dir", str(tmp_path / "data")]
        assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"esign: cannot listen on 127.0.0.1:{port}: Address already in use" in err
    assert "Traceback" not in err
