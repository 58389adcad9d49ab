""".NET wire compatibility: the vendor-style C# client (EsignClient.cs) against a live server.

The client is compiled with Mono's mcs and run with mono against `esign serve` on a free
loopback port, with a client freshly made by `esign clients create`. Install Mono with
scripts/install-mono.sh. Without Mono the test skips locally, and fails in CI (CI set).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.compat

HERE = Path(__file__).resolve().parent
CLIENT_SOURCE = HERE / "EsignClient.cs"
# The console script installed beside the interpreter running the tests.
ESIGN = Path(sys.executable).parent / "esign"

EXPECTED_STEPS = [
    "EncryptString",
    "GetToken",
    "CreateSession",
    "UpdateSession",
    "GetSession",
    "StartSession",
    "GetSessionsLiteByTransactionId",
    "GetSessionAfterStart",
    "InvalidToken",
]


def _require_mono() -> tuple[str, str]:
    mcs, mono = shutil.which("mcs"), shutil.which("mono")
    if mcs and mono:
        return mcs, mono
    reason = "mcs/mono not installed (run scripts/install-mono.sh)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the .NET compatibility test")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, limit: int = 6000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:]


def _wait_until_up(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    # Any HTTP answer means the server is listening; /health is just the likeliest path.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"esign serve exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(base_url + "rest/v1/health", timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"esign serve did not answer within 30 s:\n{_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def test_dotnet_client_flow(tmp_path: Path, database_url: str | None) -> None:
    mcs, mono = _require_mono()

    exe = tmp_path / "EsignClient.exe"
    build = subprocess.run(
        [mcs, "-r:System.Web.Extensions.dll", f"-out:{exe}", str(CLIENT_SOURCE)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert build.returncode == 0, f"mcs failed:\n{build.stdout}\n{build.stderr}"

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = dict(os.environ)
    env["ESIGN_DATA_DIR"] = str(data_dir)
    if database_url:  # the PostgreSQL run of the suite
        env["ESIGN_DATABASE_URL"] = database_url

    # A unique name, in case ESIGN_DATABASE_URL points at a database shared between runs.
    name = f"Compat {uuid.uuid4().hex[:8]}"
    created = subprocess.run(
        [
            str(ESIGN),
            "clients",
            "create",
            "--name",
            name,
            "--admin-email",
            "admin@compat.test",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert created.returncode == 0, (
        f"esign clients create failed ({created.returncode}):\n{created.stdout}\n{created.stderr}"
    )
    try:
        client = json.loads(created.stdout)
        api_key, admin = str(client["ApiKey"]), str(client["AdminUsername"])
        assert client["ClientId"]
    except (ValueError, KeyError, TypeError) as e:
        pytest.fail(
            f"esign clients create --json printed no usable JSON ({e!r}):\n{created.stdout}"
        )

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [
                str(ESIGN),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait_until_up(server, base_url, log)
        run = subprocess.run(
            [mono, str(exe), base_url, api_key, admin],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
        )
        report = (
            f"exit {run.returncode}\n--- client stdout\n{run.stdout}\n--- client stderr\n"
            f"{run.stderr}\n--- server log (tail)\n{_tail(log)}"
        )
        assert run.returncode == 0, report
        ok_steps = [line[3:] for line in run.stdout.splitlines() if line.startswith("OK ")]
        assert ok_steps == EXPECTED_STEPS, report
    finally:
        _stop(server)
