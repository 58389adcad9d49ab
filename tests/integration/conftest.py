"""Helpers for the integration tests: a real webhook receiver, second runtimes on the same
database (Redis queue, strict webhook policy), the `esign` command in and out of process,
and bounded waiting."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from esign.app import Runtime, build_runtime
from esign.config import Settings
from esign.domain.jobs import Job
from esign.services import jobs as job_service
from esign.services.context import new_id
from esign.storage import tables as t
from tests.api.cli import run_cli as run_in_process
from tests.conftest import Api

# The console script installed beside the interpreter running the tests.
ESIGN = Path(sys.executable).parent / "esign"
# A database number of its own, so a flush here touches nobody else's keys.
REDIS_URL = os.environ.get("ESIGN_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
WAIT = 20.0  # the longest any test waits for anything


def wait_until(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- a webhook receiver ---------------------------------------------------------------------


@dataclass
class Hit:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received: float  # time.monotonic()

    @property
    def data(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers what it is told."""

    host: str = "127.0.0.1"
    port: int = 0
    hits: list[Hit] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then `default`
    default: int = 200
    delay: float = 0.0  # seconds to sleep before answering
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    def record(self, hit: Hit) -> int:
        with self._lock:
            self.hits.append(hit)
            return self.statuses.pop(0) if self.statuses else self.default

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    def wait_for(self, count: int, timeout: float = WAIT) -> list[Hit]:
        wait_until(lambda: len(self.snapshot()) >= count, timeout, f"{count} webhook(s)")
        return self.snapshot()


def _serve_receiver(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            hit = Hit(
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                time.monotonic(),
            )
            status = receiver.record(hit)
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((receiver.host, 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    server = _serve_receiver(rec)
    yield rec
    server.shutdown()
    server.server_close()


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Contract §8, computed here independently of the server's code."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def assert_signed(hit: Hit, secret: str) -> None:
    timestamp = hit.headers["x-esign-timestamp"]
    assert timestamp.isdigit(), timestamp
    assert hit.headers["x-esign-signature"] == expected_signature(secret, timestamp, hit.body)
    assert hit.headers["content-type"].startswith("application/json")


# --- runtimes beside the `runtime` fixture ----------------------------------------------------


def sibling_runtime(rt: Runtime, **overrides: Any) -> Runtime:
    """Another runtime on the same database and data dir, with some settings changed."""
    values: dict[str, Any] = {
        "data_dir": rt.settings.data_dir,
        "database_url": rt.settings.database_url,
        "redis_url": rt.settings.redis_url,
        "queue_name": rt.settings.queue_name,
        "public_url": rt.settings.public_url,
        "secret_key": rt.settings.secret_key,
        "webhook_allow_private": rt.settings.webhook_allow_private,
        "webhook_allow_hosts": rt.settings.webhook_allow_hosts,
        "blob_grace_seconds": rt.settings.blob_grace_seconds,
    }
    values.update(overrides)
    return build_runtime(Settings(**values), clock=rt.deps.clock, migrate=False)


def redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_url() -> str:
    """The test Redis; skips without a server locally, fails without one in CI."""
    if not redis_available(REDIS_URL):
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def redis_runtime(runtime: Runtime, redis_url: str) -> Iterator[Runtime]:
    """A runtime whose jobs go through Redis, on a queue of its own: test runs sharing the
    machine's Redis (two checkouts, say) never see each other's jobs."""
    rt = sibling_runtime(
        runtime, redis_url=redis_url, queue_name=f"esign_test_{new_id().replace('-', '')}"
    )
    yield rt
    rt.engine.dispose()
    drop_queue(rt)


def queue_keys(rt: Runtime) -> list[bytes]:
    """The Redis keys of the runtime's queue (huey names them after it)."""
    import redis

    client = redis.Redis.from_url(rt.settings.redis_url or REDIS_URL)
    return list(client.scan_iter(match=f"huey.*{rt.settings.queue_name}*"))


def drop_queue(rt: Runtime) -> None:
    """What a Redis restart without persistence does to the runtime's queue."""
    import redis

    keys = queue_keys(rt)
    if keys:
        redis.Redis.from_url(rt.settings.redis_url or REDIS_URL).delete(*keys)


# --- jobs --------------------------------------------------------------------------------------


def record_job(rt: Runtime, name: str, payload: dict[str, Any], *, dispatch: bool = True) -> str:
    """Record a job as a use case would; with dispatch=False the queue never hears of it."""
    job = Job(
        id=new_id(), name=name, payload=payload, key=f"test:{new_id()}", run_at=rt.deps.clock.now()
    )
    factory: Any = rt.deps.uow
    saved = factory.dispatcher
    if not dispatch:
        factory.dispatcher = None
    try:
        with rt.deps.uow() as uow:
            assert uow.jobs.add(job)
            uow.commit()
    finally:
        factory.dispatcher = saved
    return job.id


def job_row(rt: Runtime, job_id: str) -> dict[str, Any]:
    with rt.engine.connect() as conn:
        row = conn.execute(select(t.jobs).where(t.jobs.c.id == job_id)).mappings().one()
        return dict(row)


def append_handler(path: Path, pause: float = 0.0) -> job_service.Handler:
    """A job handler that appends its job's `tag` to a file: one line per completed run."""

    def handler(deps: Any, payload: dict[str, Any]) -> None:
        if pause:
            time.sleep(pause)
        with open(path, "a") as out:
            out.write(f"{payload['tag']} {os.getpid()}\n")

    return handler


def completed_runs(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def claim_in_process(
    data_dir: str,
    database_url: str | None,
    job_ids: list[str],
    out_path: str,
    barrier: Any,
) -> None:
    """The body of a separate worker process (multiprocessing, spawn): its own runtime on the
    same database, the test handler registered, then run_job on every id, after the others
    are ready too."""
    settings = Settings.from_env(data_dir=Path(data_dir), database_url=database_url)
    rt = build_runtime(settings, migrate=False)
    job_service.HANDLERS["test.append"] = append_handler(Path(out_path), pause=0.1)
    barrier.wait(timeout=WAIT)
    for job_id in job_ids:
        job_service.run_job(rt.deps, job_id)
    rt.engine.dispose()


# --- the API -----------------------------------------------------------------------------------


def deliveries(api: Api) -> list[dict[str, Any]]:
    """The delivery log, oldest first (logging in again: the fake clock may have moved)."""
    api.login()
    answer = api.get("/rest/v1/webhooks/deliveries", params={"pageSize": 200})
    assert answer["Message"] == "Success", answer
    found: list[dict[str, Any]] = answer["Deliveries"]
    return sorted(found, key=lambda d: (ms(d["CreatedOn"]), d["DeliveryId"]))


def ms(value: str | None) -> int:
    """Milliseconds of a Microsoft JSON date `/Date(…)/`."""
    assert value is not None and value.startswith("/Date("), value
    return int(value[6:].split(")")[0].split("+")[0])


def ms_of(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


# --- the `esign` command -------------------------------------------------------------------------


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], rt: Runtime, *args: str
) -> tuple[int, str]:
    """`esign ARGS --data-dir …` in this process, on the runtime's database; (code, stdout)."""
    code, out, _ = run_in_process(monkeypatch, capsys, rt, *args)
    return code, out


def process_env(rt: Runtime, **extra: str) -> dict[str, str]:
    """Environment for an `esign` child process on the runtime's data dir and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESIGN_")}
    env["ESIGN_DATA_DIR"] = str(rt.settings.data_dir)
    env["ESIGN_WEBHOOK_ALLOW_PRIVATE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    if rt.settings.database_url:
        env["ESIGN_DATABASE_URL"] = rt.settings.database_url
    if rt.settings.secret_key:  # (else the data dir's secret.key, which the runtime made)
        env["ESIGN_SECRET_KEY"] = rt.settings.secret_key
    env["ESIGN_QUEUE_NAME"] = rt.settings.queue_name
    env.update(extra)
    return env


def start_esign(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([str(ESIGN), *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[Any], first: int = signal.SIGINT, grace: float = 10.0) -> int:
    """Ask politely, then insist; return the exit code."""
    if proc.poll() is None:
        proc.send_signal(first)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = next(
            (line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), ""
        )
        if ppid == str(pid):
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next((line.split()[1] for line in status.splitlines() if line.startswith("State:")), "")
    return state != "Z"
