"""`esign serve` as an operator runs it: first start prints the demo client and a working curl
line, the server answers, its child worker delivers webhooks with no help, SIGTERM stops it
all."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from esign.app import Runtime
from esign.services import queries
from tests.conftest import pdf_document, signer
from tests.integration.conftest import (
    ESIGN,
    Receiver,
    alive,
    assert_signed,
    children_of,
    free_port,
    process_env,
    stop,
    wait_until,
)


@dataclass
class Server:
    proc: subprocess.Popen[str]
    base: str
    env: dict[str, str]
    data_dir: Path
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            kind = response.headers.get("Content-Type", "")
            return response.status, json.loads(raw) if "json" in kind else raw.decode()

    def call_raw(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()


def _read(proc: subprocess.Popen[str], lines: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)


def launch(runtime: Runtime, *extra: str) -> Server:
    """`esign serve` on a free port, on the database of the `runtime` fixture; waits until it
    answers."""
    port = free_port()
    env = process_env(runtime)
    proc = subprocess.Popen(
        [
            str(ESIGN),
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(runtime.settings.data_dir),
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    srv = Server(proc, f"http://127.0.0.1:{port}", env, runtime.settings.data_dir)
    threading.Thread(target=_read, args=(proc, srv.lines), daemon=True).start()

    def healthy() -> bool:
        if proc.poll() is not None:
            pytest.fail("esign serve exited:\n" + srv.output())
        try:
            return srv.call("GET", "/rest/v1/health")[0] == 200
        except OSError:
            return False

    try:
        wait_until(healthy, what="esign serve to answer")
        # Everything printed before uvicorn's own line (the first-start banner) is read now.
        wait_until(lambda: "Uvicorn running" in srv.output(), what="uvicorn's start line")
    except BaseException:
        shut_down(srv)
        raise
    return srv


def shut_down(srv: Server) -> None:
    workers = children_of(srv.proc.pid)  # found while their parent lives
    stop(srv.proc, signal.SIGTERM, grace=15)
    for pid in workers:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def server(runtime: Runtime) -> Iterator[Server]:
    """On the (empty) database of the `runtime` fixture: a first start."""
    srv = launch(runtime)
    yield srv
    shut_down(srv)


def _banner(srv: Server) -> dict[str, str]:
    text = srv.output()
    found = {
        key: m.group(1)
        for key in ("ClientId", "ApiKey", "AdminUsername", "AdminPassword")
        if (m := re.search(rf"^\s*{key}:\s+(\S+)\s*$", text, re.M))
    }
    curl = next(line.strip() for line in text.splitlines() if line.strip().startswith("curl "))
    found["curl"] = curl
    return found


def _token(srv: Server, printed_by: Server | None = None) -> str:
    """Exactly what the printed curl line does (against `srv`, wherever it was printed)."""
    words = shlex.split(_banner(printed_by or srv)["curl"])
    url = next(w for w in words if w.startswith("http"))
    url = srv.base + "/rest/" + url.split("/rest/", 1)[1]
    header = words[words.index("-H") + 1]
    name, _, value = header.partition(": ")
    assert name == "Authorization"
    request = urllib.request.Request(url, headers={"Authorization": value})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["Message"] == "Success", answer
    token: str = answer["ReturnValue"]
    return token


def test_first_start_prints_a_working_key_and_curl_line(server: Server) -> None:
    banner = _banner(server)
    assert banner["ApiKey"].startswith("esk_")
    assert banner["AdminUsername"] == "admin@demo.example.com"
    assert banner["curl"].startswith(f"curl -s {server.base}/rest/v1/gettoken/")
    token = _token(server)
    status, answer = server.call("GET", "/rest/v1/roles", headers={"Authorization": token})
    assert status == 200 and answer["Message"] == "Success", answer
    # The API key itself works too: encrypt it with any salt, then ask for a token.
    status, enc = server.call("GET", f"/rest/v1/encrypt/{banner['ApiKey']}/other")
    _, answer = server.call(
        "GET", "/rest/v1/gettoken/other", headers={"Authorization": enc["ReturnValue"]}
    )
    assert answer["Message"] == "Success", answer


def test_a_second_start_creates_no_second_demo_client(server: Server, runtime: Runtime) -> None:
    from esign.services import clients

    assert "First start" in server.output()
    shut_down(server)
    again = launch(runtime, "--no-worker")
    try:
        assert "First start" not in again.output()
        assert "ApiKey" not in again.output()
        assert clients.client_count(runtime.deps) == 1
        assert _token(again, printed_by=server)  # the first start's line works on the next
    finally:
        shut_down(again)


def test_the_server_answers_health_docs_and_openapi(server: Server) -> None:
    status, answer = server.call("GET", "/rest/v1/health")
    assert status == 200 and answer["Message"] == "Success"
    status, page = server.call("GET", "/docs")
    assert status == 200 and "<html" in page.lower()
    status, spec = server.call("GET", "/openapi.json")
    assert status == 200 and "/rest/v1/sessions" in json.dumps(spec)
    # HEAD wherever GET goes (a load balancer's health check): the headers, no body.
    head = urllib.request.Request(server.base + "/rest/v1/health", method="HEAD")
    with urllib.request.urlopen(head, timeout=10) as response:
        assert response.status == 200 and response.read() == b""
        assert int(response.headers["Content-Length"]) > 0


def test_the_child_worker_delivers_webhooks_and_sigterm_stops_everything(
    server: Server, runtime: Runtime, receiver: Receiver
) -> None:
    client_id = _banner(server)["ClientId"]
    hook = subprocess.run(
        [
            str(ESIGN),
            "clients",
            "set-webhook",
            "--client-id",
            client_id,
            "--url",
            receiver.url,
            "--json",
            "--data-dir",
            str(server.data_dir),
        ],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert hook.returncode == 0, hook.stderr
    secret = json.loads(hook.stdout.strip().splitlines()[-1])["WebhookSecret"]
    assert secret

    token = _token(server)
    auth = {"Authorization": token}
    _, created = server.call(
        "POST",
        "/rest/v1/sessions",
        {
            "userName": "admin@demo.example.com",
            "session": {
                "SessionInfo": {"Title": "Served"},
                "Documents": [pdf_document()],
                "Signers": [signer("Seller 1")],
            },
        },
        auth,
    )
    assert created["Message"] == "Success", created
    sid = created["SigningSessionId"]
    receiver.delay = 2.0  # a slow receiver must not slow the API down
    started = time.monotonic()
    _, answer = server.call("PUT", f"/rest/v1/sessions/{sid}/start", None, auth)
    assert answer["Message"] == "Success", answer
    assert time.monotonic() - started < 3.0  # inline, two webhooks would take 4 s
    # Sent (session) and Invited (signer): delivered by the child worker, no drain here.
    hits = receiver.wait_for(2)
    assert sorted(h.data["Data"]["Type"] for h in hits) == ["SessionStatus", "SignerStatus"]
    for hit in hits:
        assert hit.data["Data"]["SigningSessionId"] == sid
        assert_signed(hit, secret)

    def logged() -> bool:
        _, log = server.call("GET", "/rest/v1/webhooks/deliveries", None, auth)
        return [d["Status"] for d in log["Deliveries"]] == ["delivered"] * 2

    wait_until(logged, what="the delivery log")

    # The chain written with the real clock (microseconds and all) verifies.
    report = queries.verify_audit(runtime.deps, sid)
    assert report.broken is None and report.events >= 5, report

    workers = [pid for pid in children_of(server.proc.pid) if alive(pid)]
    assert len(workers) == 1, workers
    begun = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("esign serve did not stop within 15 s of SIGTERM:\n" + server.output())
    assert time.monotonic() - begun < 15
    assert server.proc.returncode == 0, server.output()
    wait_until(lambda: not alive(workers[0]), timeout=2, what="the worker to be gone")


def test_the_child_worker_prepares_documents_and_leaves_no_converter_behind(
    server: Server,
) -> None:
    from tests.integration.test_processing import anchor_pdf
    from tests.pdf.office_samples import docx, para, require_office

    require_office()
    auth = {"Authorization": _token(server)}
    word = docx(para("Company: {{Company}}") + para("Sign: <sig_req_Seller 1>"))
    _, created = server.call(
        "POST",
        "/rest/v1/sessions",
        {
            "userName": "admin@demo.example.com",
            "session": {
                "SessionInfo": {"Title": "Prepared by the worker"},
                "Documents": [
                    {"FileName": "a.pdf", "FileBytes": list(anchor_pdf()), "HasAnchorTags": True},
                    {"FileName": "b.docx", "FileBytes": list(word), "HasAnchorTags": True},
                ],
                "Signers": [signer("Seller 1", MergeFieldMapping={"Company": "Served Inc"})],
            },
        },
        auth,
    )
    assert created["Message"] == "Success", created
    sid = created["SigningSessionId"]

    def prepared() -> list[dict[str, Any]] | None:
        _, answer = server.call("GET", f"/rest/v1/sessions/{sid}", None, auth)
        docs: list[dict[str, Any]] = answer["Sessions"][0]["Documents"]
        return docs if all(d["ProcessingStatus"] != "Pending" for d in docs) else None

    docs = wait_until(prepared, timeout=120, what="the worker to prepare both documents")
    assert [d["ProcessingStatus"] for d in docs] == ["Ready", "Ready"], docs
    assert [f["Type"] for f in docs[1]["Fields"]] == ["sig"]
    page = f"/rest/v1/sessions/{sid}/documents/{docs[1]['DocumentId']}/pages/1"
    status, png = server.call_raw(page, auth)
    assert status == 200 and png.startswith(b"\x89PNG")
    worker = next(pid for pid in children_of(server.proc.pid) if alive(pid))
    converters = children_of(worker)
    assert converters, "the worker runs LibreOffice for the Word file"
    shut_down(server)
    wait_until(
        lambda: not any(alive(pid) for pid in converters),
        timeout=15,
        what="LibreOffice to stop with the worker",
    )


MALFORMED = [
    b"GET /rest/v1/templates/\xc3\xbc HTTP/1.1\r\nHost: x\r\n\r\n",  # raw UTF-8 in the path
    b"POST /rest/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /rest/v1/users?username=" + b"x" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET rest/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",  # no leading slash
]


def test_a_request_http_cannot_parse_gets_the_envelope(server: Server) -> None:
    """uvicorn's own plain-text 400 is replaced by the JSON envelope (contract §1)."""
    host, port = server.base.removeprefix("http://").split(":")
    for request_bytes in MALFORMED:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(request_bytes)
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 "), (request_bytes[:40], raw[:200])
        assert b"content-type: application/json" in head.lower()
        answer = json.loads(body)
        assert answer["Message"] == "Error" and answer["ErrorCodes"] == ["invalid_http"]
        assert answer["Details"][0].startswith("Error: The HTTP request could not be read")
    status, health = server.call("GET", "/rest/v1/health")  # and the server goes on
    assert status == 200 and health["Message"] == "Success"


def _first_address_of_the_trail(srv: Server, forwarded_for: str, first: Server) -> str:
    token = _token(srv, printed_by=first)
    headers = {"Authorization": token, "X-Forwarded-For": forwarded_for}
    body = {
        "userName": "admin@demo.example.com",
        "session": {"SessionInfo": {"Title": "Via a proxy"}, "Signers": [signer("Seller 1")]},
    }
    _, made = srv.call("POST", "/rest/v1/sessions", body, headers)
    _, logs = srv.call(
        "GET", f"/rest/v1/sessions/{made['SigningSessionId']}/actionlogs", None, headers
    )
    return str(logs["ActionLogs"][0]["IPAddress"])


def test_a_trusted_proxy_names_the_client_address(runtime: Runtime) -> None:
    """By default only a proxy on this machine is believed; --forwarded-allow-ips names
    others (here: none, so the proxy's own address counts)."""
    first = launch(runtime)
    try:
        assert _first_address_of_the_trail(first, "203.0.113.9", first) == "203.0.113.9"
    finally:
        shut_down(first)
    srv = launch(runtime, "--no-worker", "--forwarded-allow-ips", "192.0.2.1")
    try:
        assert _first_address_of_the_trail(srv, "203.0.113.9", first) == "127.0.0.1"
    finally:
        shut_down(srv)
