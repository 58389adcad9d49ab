"""Running the `esign` command in the test process, on a test runtime's data dir and database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from esign import cli
from esign.app import Runtime


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], rt: Runtime, *args: str
) -> tuple[int, str, str]:
    """`esign ARGS --data-dir …`; (exit code, stdout, stderr)."""
    if rt.settings.database_url:
        monkeypatch.setenv("ESIGN_DATABASE_URL", rt.settings.database_url)
    else:
        monkeypatch.delenv("ESIGN_DATABASE_URL", raising=False)
    monkeypatch.delenv("ESIGN_REDIS_URL", raising=False)
    capsys.readouterr()
    code = cli.main([*args, "--data-dir", str(rt.settings.data_dir)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], rt: Runtime, *args: str
) -> Any:
    code, out, err = run_cli(monkeypatch, capsys, rt, *args, "--json")
    assert code == 0, (code, out, err)
    return json.loads(out)
