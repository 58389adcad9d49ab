"""What can go wrong when `esign` starts is one line naming it, exit status 2, and no
traceback (src/esign/startup.py): a data dir that is a file, a database URL that is none or
names a database esign does not run on, a database that is down, a malformed or unreachable
Redis, a secret key that is no key. A password in a URL is never printed."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from esign import cli
from esign.config import Settings
from esign.storage.database import make_engine
from esign.storage.migrate import alembic_config


def _local_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite in the data dir with its own key file, whatever the run's environment says."""
    for name in ("ESIGN_DATABASE_URL", "ESIGN_REDIS_URL", "ESIGN_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


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
    (
        ["serve", "--no-worker", "--port", "FREE"],
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
    _local_installation(monkeypatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = [_free_port() if a == "FREE" else a for a in args]
    code = cli.main([*args, "--data-dir", str(tmp_path / where)])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err, err
    assert err.startswith("esign: ") and err.count("\n") == 1, err  # one line, no traceback
    assert "hunter2" not in err


def test_a_process_with_another_secret_key_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its tokens, links and audit seals would mean nothing to the installation's others."""
    _local_installation(monkeypatch)
    where = ["--data-dir", str(tmp_path)]
    assert cli.main(["migrate", *where]) == 0  # the first process records its key
    monkeypatch.setenv("ESIGN_SECRET_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    assert cli.main(["clients", "list", *where]) == 2
    err = capsys.readouterr().err
    assert "esign: the database was set up with another secret key" in err, err
    monkeypatch.setenv("ESIGN_SECRET_KEY", (tmp_path / "secret.key").read_text())
    assert cli.main(["clients", "list", *where]) == 0


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


def test_an_empty_data_dir_is_no_data_dir(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not the current directory, where Path("") would put the database and keys."""
    monkeypatch.setenv("ESIGN_DATA_DIR", "")
    assert Settings.from_env().data_dir == Path("esign-data")  # empty: as if unset
    assert cli.main(["migrate", "--data-dir", " "]) == 2
    assert capsys.readouterr().err == "esign: the data dir (--data-dir) is empty: name a folder\n"


def test_the_first_start_curl_line_reaches_a_server_on_every_address() -> None:
    assert cli._local_url("::", 8080) == "http://127.0.0.1:8080"
    assert cli._local_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert cli._local_url("::1", 81) == "http://[::1]:81"
    assert cli._local_url("10.0.0.5", 81) == "http://10.0.0.5:81"


def test_a_refused_start_leaves_no_key_file_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of the database without its key file: the start is refused, and the key it
    generated goes too (it would refuse every later start, the right key file copied in or
    not)."""
    _local_installation(monkeypatch)
    first, copy = tmp_path / "first", tmp_path / "copy"
    assert cli.main(["migrate", "--data-dir", str(first)]) == 0
    copy.mkdir()
    for part in first.glob("esign.db*"):  # (with its write-ahead log)
        shutil.copy(part, copy / part.name)
    assert cli.main(["migrate", "--data-dir", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "another secret key" in err and "this start made was removed" in err, err
    assert not (copy / "secret.key").exists()
    shutil.copy(first / "secret.key", copy / "secret.key")
    assert cli.main(["migrate", "--data-dir", str(copy)]) == 0
    assert "up to date (revision " in capsys.readouterr().out


def test_a_process_that_does_not_migrate_needs_the_schema_of_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--no-migrate` on an older schema would misread what the migration has not moved yet
    (a worker refusing webhook deliveries whose secret was not sealed yet, say)."""
    _local_installation(monkeypatch)
    where = ["--data-dir", str(tmp_path)]
    assert cli.main(["clients", "list", "--no-migrate", *where]) == 2
    assert "schema is at revision none" in capsys.readouterr().err
    assert cli.main(["migrate", *where]) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'esign.db'}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    engine.dispose()
    assert cli.main(["clients", "list", "--no-migrate", *where]) == 2
    err = capsys.readouterr().err
    assert "at revision 0004 and this esign needs 0005: run `esign migrate` first" in err, err
    assert cli.main(["clients", "list", *where]) == 0


def test_a_database_a_newer_esign_migrated_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rollback to this version after a newer one migrated: one line saying so."""
    _local_installation(monkeypatch)
    where = ["--data-dir", str(tmp_path)]
    assert cli.main(["migrate", *where]) == 0
    capsys.readouterr()
    engine = make_engine(f"sqlite:///{tmp_path / 'esign.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert cli.main(["clients", "list", *where]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "schema is at revision 9999, which this esign does not know" in err, err
