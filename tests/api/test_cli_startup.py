"""What can go wrong when `esign` starts is one line naming it, exit status 2, and no
traceback (src/esign/startup.py): a data dir that is a file, a database URL that is none or
names a database esign does not run on, a database that is down, a malformed or unreachable
Redis, a secret key that is no key. A password in a URL is never printed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from esign import cli


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


CASES = [
    (["migrate"], {}, "afile", "is not a folder"),
    (["migrate"], {}, "afile/sub", "cannot be used: Not a directory"),
    (["migrate"], {"ESIGN_DATABASE_URL": "garbage"}, "d", "is not a database URL"),
    (["migrate"], {"ESIGN_DATABASE_URL": "mysql://x/y"}, "d", "names 'mysql'"),
    (
        ["migrate"],
        {"ESIGN_DATABASE_URL": "postgresql://someone:hunter2@127.0.0.1:1/x"},
        "d",
        "cannot use the database postgresql+psycopg://someone:***@127.0.0.1:1/x",
    ),
    (["migrate"], {"ESIGN_SECRET_KEY": "short"}, "d", "ESIGN_SECRET_KEY must be"),
    (["worker"], {"ESIGN_REDIS_URL": "notaurl"}, "d", "ESIGN_REDIS_URL (--redis-url)"),
    (
        ["worker"],
        {"ESIGN_REDIS_URL": "redis://:hunter2@127.0.0.1:1/0"},
        "d",
        "cannot reach Redis at redis://***@127.0.0.1:1/0",
    ),
    (
        ["serve", "--port", "FREE"],
        {"ESIGN_REDIS_URL": "redis://127.0.0.1:1/0"},
        "d",
        "cannot reach Redis at redis://127.0.0.1:1/0",
    ),
]


@pytest.mark.parametrize(("args", "env", "where", "expected"), CASES)
def test_a_bad_setting_is_one_line_and_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    where: str,
    expected: str,
) -> None:
    (tmp_path / "afile").write_text("not a folder")
    for name in ("ESIGN_DATABASE_URL", "ESIGN_REDIS_URL", "ESIGN_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = [_free_port() if a == "FREE" else a for a in args]
    code = cli.main([*args, "--data-dir", str(tmp_path / where)])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err, err
    assert err.startswith("esign: ") and err.count("\n") == 1, err  # one line, no traceback
    assert "hunter2" not in err


def test_a_data_dir_holding_no_database_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ESIGN_DATABASE_URL", raising=False)
    (tmp_path / "esign.db").write_text("garbage")
    code = cli.main(["migrate", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err.strip()
        == f"esign: cannot use the database sqlite:///{tmp_path}/esign.db: file is not a database"
    )


def test_a_reader_that_stops_reading_is_no_traceback(tmp_path: Path) -> None:
    """`esign clients list | head -1`: the pipe closes before esign has written."""
    esign = Path(sys.executable).parent / "esign"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESIGN_")}
    made = subprocess.run(
        [str(esign), "migrate", "--data-dir", str(tmp_path)], env=env, capture_output=True
    )
    assert made.returncode == 0, made.stderr
    create = ["clients", "create", "--name", "A", "--admin-email", "a@b.example.com", "--json"]
    proc = subprocess.Popen(
        [str(esign), *create, "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nobody reads what it prints
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
