"""`make bench`: esign's CreateSession and GetSession beside a bare Starlette baseline.

What runs, all on 127.0.0.1 in one go:

* a real `esign serve --no-worker` subprocess on a fresh data dir (SQLite, local blobs),
  with one client made by `esign clients create`, and a token from encrypt + gettoken;
* `bench/baseline_app.py` in a second uvicorn subprocess: a bare Starlette handler that
  parses the same JSON, base64-decodes, checks `%PDF-`, stores the bytes through esign's
  `LocalBlobStore` and inserts one SQLite row; and a GET of one row by id;
* an asyncio load generator in this process: N keep-alive HTTP/1.1 connections over raw
  streams (cheap, since it shares the CPU with the servers), each sending its next request
  as soon as the last answer arrived, for a bounded time after a short warm-up.

Every POST carries a distinct ~20 KB one-page PDF (reportlab; a unique comment before
`%%EOF`), so the content-addressed stores of both servers really write every file.

Each comparison (CreateSession against the baseline POST, then GetSession, on ids the first
one made, against the baseline GET) alternates short slices of load on the two servers,
ABBA: esign then baseline, baseline then esign, and so on. This shared machine's speed drifts
by a quarter within minutes and jumps within seconds (decisions 0017, 0030); slices of a
second or two, interleaved, put each drift on both sides of the ratio. In a slice, the answers
that come from a settling moment after its start to its end are counted: neither the ramp-up
of a server that idled during the other's slice nor the answers still on their way at the end
weigh on its throughput. The ratios are of the throughputs summed over all slices; each pair's
ratio is printed too, with the median and the middle half of the pairs, so the spread is
visible. Printed: requests/s, p50 and p99 of the counted answers, errors, the server process's
CPU time per answer (all its threads), the share of the machine's CPU left idle meanwhile
(near 0: bound by the CPU), the ratios and PASS/FAIL for the targets of the issue.

Environment: BENCH_PAIRS (pairs of CreateSession slices, default 16; GetSession gets half as
many), BENCH_SLICE (seconds per slice, default 1.5, at most 4), BENCH_WARMUP (seconds of load
on each server before a comparison, default 1), BENCH_CONNECTIONS (default 16), BENCH_DIR
(where the temporary data dirs go; default the system temp dir), BENCH_KEEP=1 (keep the data
dirs and server logs).

Exit status: 0 when the benchmark ran (whatever the numbers); 1 when a server did not start
or the setup failed.
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import math
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
# At most 4 s: uvicorn closes a connection idle for 5 s, as each is during the other slice.
SLICE = min(4.0, float(os.environ.get("BENCH_SLICE", "1.5")))
WARMUP = float(os.environ.get("BENCH_WARMUP", "1"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
PAIRS = max(1, int(os.environ.get("BENCH_PAIRS", "16")))
GET_PAIRS = max(1, PAIRS // 2)
POLLED = 2000  # how many of the sessions made GetSession reads, over and over
KEEP = os.environ.get("BENCH_KEEP", "") in ("1", "true", "yes")

ADMIN_EMAIL = "admin@bench.example.com"
TARGET_CREATE_RATIO = 0.5
TARGET_CREATE_P99_MS = 250.0
TARGET_GET_RPS = 1000.0
# Above this, a new directory and file cost more than usual here (decision 0031).
SLOW_FILE_CREATION_US = 200.0


class SetupError(Exception):
    pass


# --- the document ---------------------------------------------------------------------------


def make_pdf() -> bytes:
    """A one-page A4 PDF of about 20 KB (uncompressed text, like a typical contract page)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=0, invariant=1)
    c.setTitle("esign bench")
    c.setFont("Helvetica", 6.5)
    text = (
        "Clause {:03d}. The Seller agrees to deliver the goods described in Schedule A to the "
        "Buyer at the agreed place; risk passes on delivery and title on full payment."
    )
    y = 815.0
    for i in range(104):
        c.drawString(28, y, text.format(i))
        y -= 7.6
    c.drawString(28, 20, "Seller 1 signature: ____________________   Date: ____________")
    c.showPage()
    c.save()
    return buf.getvalue()


class Documents:
    """Distinct variants of one PDF: a unique comment line just before the final %%EOF."""

    def __init__(self, pdf: bytes) -> None:
        cut = pdf.rindex(b"%%EOF")
        self._head, self._tail = pdf[:cut], pdf[cut:]
        self._nonce = uuid.uuid4().hex[:12].encode()
        self._numbers = itertools.count(1)

    def variant(self, n: int) -> bytes:
        return b"%s%%bench %s %010d\n%s" % (self._head, self._nonce, n, self._tail)

    def next(self) -> bytes:
        """A variant never handed out before in this run (to either server)."""
        return self.variant(next(self._numbers))


def check_variant_opens(docs: Documents) -> int:
    """Make sure a variant is a clean PDF (no repair) so esign accepts it as is."""
    import pikepdf

    data = docs.variant(0)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if len(pdf.pages) != 1 or pdf.get_warnings():
            raise SetupError(f"the bench PDF variant is not clean: {pdf.get_warnings()}")
    return len(data)


def session_body(admin: str, pdf: bytes) -> bytes:
    return orjson.dumps(
        {
            "userName": admin,
            "session": {
                "SessionInfo": {"Title": "Bench"},
                "Documents": [
                    {"FileName": "a.pdf", "FileBytes": base64.b64encode(pdf).decode("ascii")}
                ],
                "Signers": [
                    {
                        "FirstName": "A",
                        "LastName": "B",
                        "EmailAddress": "a@example.com",
                        "SignerRole": "Seller 1",
                    }
                ],
            },
        }
    )


# --- a small keep-alive HTTP/1.1 client -----------------------------------------------------


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            await self.open()
        assert self._reader is not None and self._writer is not None
        self._writer.write(raw)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            parts = []
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self._reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await self._reader.readexactly(length)
        if close:
            self.close()
        return status, body


def http_request(method: str, path: str, host_header: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host_header}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def post(port: int, path: str, headers: dict[str, str], body: bytes) -> bytes:
    headers = {
        **headers,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    return http_request("POST", path, f"{HOST}:{port}", headers) + body


# --- load -----------------------------------------------------------------------------------

MakeRequest = Callable[[int], bytes]
# (status, body) -> (ok, id of what was made or None, short error text)
CheckAnswer = Callable[[int, bytes], tuple[bool, str | None, str]]


@dataclass
class Target:
    """One side of a comparison: a server and the request it is measured with."""

    server: Server
    name: str
    make: MakeRequest
    check: CheckAnswer


@dataclass
class Result:
    """One side's answers, summed over its slices."""

    name: str
    ok: int = 0  # every successful answer, settling and draining included
    errors: int = 0
    counted: int = 0  # successful answers that came within a slice's measured window
    window: float = 0.0  # seconds of measured windows
    latencies: list[float] = field(default_factory=list)  # of the counted answers
    error_samples: list[str] = field(default_factory=list)
    made: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # seconds of the server process's CPU (user + system) meanwhile
    machine_busy: float = 0.0  # CPU-seconds the whole machine spent busy meanwhile
    machine_total: float = 0.0  # CPU-seconds the machine had meanwhile (all vCPUs)

    @property
    def cpu_ms(self) -> float:
        """The server's CPU time per successful answer, in ms."""
        return self.server_cpu / self.ok * 1000 if self.ok else math.nan

    @property
    def rps(self) -> float:
        return self.counted / self.window if self.window else 0.0

    @property
    def idle_pct(self) -> float:
        """How much of the machine's CPU stayed idle while this side was loaded: near 0, the
        side is bound by CPU; well above, by something that makes its work wait in line."""
        return 100 * (1 - self.machine_busy / self.machine_total) if self.machine_total else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text)


class Load:
    """CONNECTIONS keep-alive connections to one server, each sending its next request as soon
    as the last answer came, for as many slices as asked."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.result = Result(target.name)
        self._conns = [Connection(target.server.port) for _ in range(CONNECTIONS)]
        self._numbers = itertools.count()

    async def open(self) -> None:
        await asyncio.gather(*(c.open() for c in self._conns))

    def close(self) -> None:
        for c in self._conns:
            c.close()

    async def run(self, seconds: float, settle: float, measure: bool = True) -> float:
        """Load the server for `seconds`; the throughput of the slice. Answers that come in the
        window from `settle` after the start to the end are counted: the server idled during
        the other side's slice, and the answers still on their way at the end are left out, so
        neither its ramp-up nor the drain weighs on the throughput."""
        pid = self.target.server.proc.pid
        cpu, machine = process_cpu(pid), machine_cpu()
        start = time.perf_counter()
        opens, deadline = start + settle, start + seconds
        counted = 0

        async def worker(conn: Connection) -> None:
            nonlocal counted
            while time.perf_counter() < deadline:
                # (not `counted += await ...`: that reads `counted` before the wait)
                answered = await self._one(conn, opens, deadline, measure)
                counted += answered

        tasks = [asyncio.ensure_future(worker(c)) for c in self._conns]
        done, pending = await asyncio.wait(tasks, timeout=seconds + 60)
        for task in pending:
            task.cancel()
        for task in done:
            task.result()
        if measure:
            self.result.server_cpu += process_cpu(pid) - cpu
            busy, total = (now - then for now, then in zip(machine_cpu(), machine, strict=True))
            self.result.machine_busy += busy
            self.result.machine_total += total
            self.result.counted += counted
            self.result.window += deadline - opens
        return counted / (deadline - opens) if deadline > opens else 0.0

    async def _one(self, conn: Connection, opens: float, deadline: float, measure: bool) -> int:
        """Send one request and check its answer; 1 if it counts in the window."""
        result = self.result
        raw = self.target.make(next(self._numbers))
        t0 = time.perf_counter()
        try:
            status, body = await conn.request(raw)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            conn.close()
            result.error(f"connection: {exc!r}")
            return 0
        t1 = time.perf_counter()
        ok, made, why = self.target.check(status, body)
        if not ok:
            result.error(f"HTTP {status}: {why}")
            return 0
        if made:
            result.made.append(made)
        if not measure:
            return 0
        result.ok += 1
        if opens <= t1 <= deadline:
            result.latencies.append(t1 - t0)
            return 1
        return 0


@dataclass
class Comparison:
    esign: Result
    baseline: Result
    ratios: list[float]  # esign / baseline throughput, one per pair of slices

    @property
    def ratio(self) -> float:
        """Of the summed throughputs: every slice weighs by its length, not by its speed."""
        return self.esign.rps / self.baseline.rps if self.baseline.rps else 0.0


async def compare(esign: Target, baseline: Target, pairs: int) -> Comparison:
    """Alternate slices of load on the two servers, ABBA: esign then baseline, then baseline
    then esign, and so on, so that a drift of the machine's speed weighs on both sides."""
    loads = Load(esign), Load(baseline)
    await asyncio.gather(*(load.open() for load in loads))
    settle = min(0.25, SLICE / 5)
    ratios = []
    try:
        for load in loads:
            if WARMUP > 0:
                await load.run(WARMUP, WARMUP, measure=False)
        for i in range(pairs):
            order = loads if i % 2 == 0 else loads[::-1]
            rps = {load: await load.run(SLICE, settle) for load in order}
            mine, theirs = rps[loads[0]], rps[loads[1]]
            ratios.append(mine / theirs if theirs else 0.0)
    finally:
        for load in loads:
            load.close()
    return Comparison(loads[0].result, loads[1].result, ratios)


def process_cpu(pid: int) -> float:
    """Seconds of CPU a process (all its threads) has used: utime + stime from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """CPU-seconds the machine has been busy, and has had, since boot (all vCPUs, /proc/stat;
    iowait counts as idle)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return math.nan, math.nan
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def run_async(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


# --- answers --------------------------------------------------------------------------------


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def check_create(status: int, body: bytes) -> tuple[bool, str | None, str]:
    data = _parse(body)
    if status != 200 or data is None or data.get("Message") != "Success":
        return False, None, body[:300].decode("utf-8", "replace")
    if data.get("Details"):  # e.g. the file was refused: Success with problems is a failure here
        return False, None, "; ".join(map(str, data["Details"]))[:300]
    sessions = data.get("Sessions") or [{}]
    if len(sessions[0].get("Documents") or []) != 1:
        return False, None, "the session has no document"
    return True, data.get("SigningSessionId"), ""


def check_get(status: int, body: bytes) -> tuple[bool, str | None, str]:
    data = _parse(body)
    if status != 200 or data is None or data.get("Message") != "Success":
        return False, None, body[:300].decode("utf-8", "replace")
    return True, None, ""


def check_baseline_create(status: int, body: bytes) -> tuple[bool, str | None, str]:
    data = _parse(body)
    if status != 200 or data is None or data.get("Message") != "Success":
        return False, None, body[:300].decode("utf-8", "replace")
    return True, data.get("ReturnValue"), ""


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def esign_command() -> list[str]:
    script = Path(sys.executable).parent / "esign"
    return [str(script)] if script.exists() else [sys.executable, "-m", "esign.cli"]


def server_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Measure the embedded default: SQLite in the data dir, no Redis.
    for name in ("ESIGN_DATABASE_URL", "ESIGN_REDIS_URL"):
        env.pop(name, None)
    env["ESIGN_DATA_DIR"] = str(data_dir)
    return env


class Server:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int, log: Path):
        self.name, self.port, self.log = name, port, log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://{HOST}:{self.port}{path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"{self.name} exited with {self.proc.returncode}\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise SetupError(f"{self.name} did not answer {url} in {timeout:.0f} s\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    " + line for line in text[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def get_json(port: int, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            data: dict[str, Any] = orjson.loads(r.read())
    except (OSError, orjson.JSONDecodeError) as exc:  # URLError and HTTPError are OSErrors
        raise SetupError(f"GET {path}: {exc!r}") from None
    if data.get("Message") != "Success":
        raise SetupError(f"GET {path}: {data}")
    return data


def get_token(port: int, api_key: str) -> str:
    salt = "bench" + uuid.uuid4().hex[:8]
    key = urllib.parse.quote(api_key, safe="")
    encrypted = get_json(port, f"/rest/v1/encrypt/{key}/{salt}")["ReturnValue"]
    return str(
        get_json(port, f"/rest/v1/gettoken/{salt}", {"Authorization": encrypted})["ReturnValue"]
    )


def create_client(data_dir: Path) -> dict[str, Any]:
    cmd = [
        *esign_command(),
        "clients",
        "create",
        "--name",
        "Bench",
        "--admin-email",
        ADMIN_EMAIL,
        "--json",
        "--data-dir",
        str(data_dir),
    ]
    done = subprocess.run(
        cmd, env=server_env(data_dir), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise SetupError(f"esign clients create failed ({done.returncode}):\n{done.stderr}")
    line = next((x for x in reversed(done.stdout.splitlines()) if x.startswith("{")), "")
    if not line:
        raise SetupError(f"esign clients create printed no JSON:\n{done.stdout}\n{done.stderr}")
    made: dict[str, Any] = orjson.loads(line)
    return made


# --- the run --------------------------------------------------------------------------------


@dataclass
class Run:
    create: Comparison
    get: Comparison


def measure(esign: Server, base: Server, client: dict[str, Any], docs: Documents) -> Run:
    admin = client["AdminUsername"]
    auth = {"Authorization": get_token(esign.port, client["ApiKey"])}  # tokens live 20 min
    create = run_async(
        compare(
            Target(
                esign,
                "esign CreateSession",
                lambda n: post(
                    esign.port, "/rest/v1/sessions", auth, session_body(admin, docs.next())
                ),
                check_create,
            ),
            Target(
                base,
                "baseline POST",
                lambda n: post(base.port, "/documents", {}, session_body(admin, docs.next())),
                check_baseline_create,
            ),
            PAIRS,
        )
    )
    print(f"CreateSession / baseline POST, each pair: {_each(create.ratios)}", flush=True)
    # The sessions made last, as an integrator polls those in flight (and as decision 0021's
    # kept answers are bounded: cycling through more than they hold would render every read).
    ids = create.esign.made[-POLLED:] or ["00000000-0000-0000-0000-000000000000"]
    gets = [
        http_request("GET", f"/rest/v1/sessions/{i}", f"{HOST}:{esign.port}", auth) for i in ids
    ]
    base_ids = create.baseline.made[-POLLED:] or ["missing"]
    base_gets = [
        http_request("GET", f"/documents/{i}", f"{HOST}:{base.port}", {}) for i in base_ids
    ]
    get = run_async(
        compare(
            Target(esign, "esign GetSession", lambda n: gets[n % len(gets)], check_get),
            Target(base, "baseline GET", lambda n: base_gets[n % len(base_gets)], check_get),
            GET_PAIRS,
        )
    )
    print(f"GetSession / baseline GET, each pair: {_each(get.ratios)}", flush=True)
    return Run(create, get)


def _each(ratios: list[float]) -> str:
    return " ".join(f"{r:.2f}" for r in ratios)


def print_table(results: list[Result]) -> None:
    print(
        f"\n{'endpoint':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ok':>9}{'errors':>8}"
        f"{'CPU ms/req':>12}{'idle %':>8}"
    )
    for r in results:
        print(
            f"{r.name:<22}{r.rps:>10.1f}{r.pct(0.50):>10.2f}{r.pct(0.99):>10.2f}{r.counted:>9}"
            f"{r.errors:>8}{r.cpu_ms:>12.2f}{r.idle_pct:>8.0f}"
        )


def count_rows(db: Path, table: str) -> int | str:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.Error as exc:
        return f"? ({exc})"


def count_blobs(root: Path) -> int:
    return sum(1 for p in root.glob("*/*/*") if p.is_file()) if root.exists() else 0


def spread(ratios: list[float]) -> str:
    """The median pair and the middle half of the pairs."""
    if len(ratios) < 4:
        return f"pairs {_each(ratios)}"
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    return f"pairs: median {median:.2f}, middle half {q1:.2f}-{q3:.2f}, {len(ratios)} pairs"


def report(run: Run) -> None:
    create, get = run.create, run.get
    print_table([create.esign, create.baseline, get.esign, get.baseline])
    print("\nratios (esign / baseline throughput, summed over the slices)")
    print(f"  CreateSession / baseline POST: {create.ratio:.2f}  ({spread(create.ratios)})")
    print(f"  GetSession    / baseline GET:  {get.ratio:.2f}  ({spread(get.ratios)})")
    cpu = create.baseline.cpu_ms / create.esign.cpu_ms if create.esign.cpu_ms else 0.0
    print(f"  CPU per request, baseline POST / esign CreateSession: {cpu:.2f}")
    print("\ntargets")
    checks = [
        (
            create.ratio >= TARGET_CREATE_RATIO,
            f"CreateSession throughput >= {TARGET_CREATE_RATIO:.0%} of baseline: "
            f"{create.ratio:.0%}",
        ),
        (
            create.esign.pct(0.99) < TARGET_CREATE_P99_MS,
            f"CreateSession p99 < {TARGET_CREATE_P99_MS:.0f} ms: {create.esign.pct(0.99):.1f} ms",
        ),
        (
            get.esign.rps >= TARGET_GET_RPS,
            f"GetSession >= {TARGET_GET_RPS:,.0f} req/s: {get.esign.rps:,.0f} req/s",
        ),
    ]
    for ok, text in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    for res in (create.esign, create.baseline, get.esign, get.baseline):
        for sample in res.error_samples:
            print(f"  error sample, {res.name}: {sample}")


def main() -> int:
    pdf = make_pdf()
    docs = Documents(pdf)
    size = check_variant_opens(docs)
    body_size = len(session_body(ADMIN_EMAIL, docs.variant(0)))
    print(
        f"esign bench: {CONNECTIONS} connections, {PAIRS} pairs of {SLICE:g} s slices "
        f"(GetSession {GET_PAIRS}) after {WARMUP:g} s warm-up, {os.cpu_count()} CPUs"
    )
    print(f"document: 1-page PDF of {size:,} bytes (unique per request); JSON body {body_size:,} B")
    print(f"load average before: {_load()}")
    if os.getloadavg()[0] > 0.5:
        print(
            "  note: the machine is busy; the numbers will be lower and noisier than on an idle one"
        )
    root = Path(tempfile.mkdtemp(prefix="esign-bench-", dir=os.environ.get("BENCH_DIR")))
    cost = file_creation_cost(root / "probe")
    print(f"file system: a new directory and file cost {cost:.0f} µs of CPU (as each blob stored)")
    if cost > SLOW_FILE_CREATION_US:
        print(
            "  note: slow; on an ext4 without a journal, files deleted in the last minutes (an"
            " earlier run's data) make each new one slower (decision 0031): wait between runs"
        )
    esign_dir, base_dir = root / "esign", root / "baseline"
    servers: list[Server] = []
    run: Run | None = None
    try:
        client = create_client(esign_dir)
        esign_port, base_port = free_port(), free_port()
        esign = Server(
            "esign serve",
            [
                *esign_command(),
                "serve",
                "--no-worker",
                "--host",
                HOST,
                "--port",
                str(esign_port),
                "--data-dir",
                str(esign_dir),
            ],
            server_env(esign_dir),
            esign_port,
            root / "esign.log",
        )
        servers.append(esign)
        base = Server(
            "baseline",
            [
                sys.executable,
                str(HERE / "baseline_app.py"),
                "--host",
                HOST,
                "--port",
                str(base_port),
                "--data-dir",
                str(base_dir),
            ],
            server_env(base_dir),
            base_port,
            root / "baseline.log",
        )
        servers.append(base)
        esign.wait_ready("/rest/v1/health")
        base.wait_ready("/health")
        print(f"servers: esign on :{esign_port}, baseline on :{base_port}; data in {root}")
        run = measure(esign, base, client, docs)
    except SetupError as exc:
        print(f"esign bench: setup failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            server.stop()
        stored = _stored(esign_dir, base_dir)
        if KEEP:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    assert run is not None
    report(run)
    print(f"\nstored: {stored}")
    print(f"load average after: {_load()} (the bench itself adds about 1.5)")
    return 0


def file_creation_cost(where: Path, count: int = 200) -> float:
    """Thread CPU, in µs, to make a directory and a file in it, as the blob store does for
    most blobs: on this machine it moves between runs more than anything esign does."""
    where.mkdir()
    start = time.thread_time()
    for n in range(count):
        directory = where / str(n)
        directory.mkdir()
        os.close(os.open(directory / "blob", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    spent = time.thread_time() - start
    shutil.rmtree(where)
    return spent / count * 1e6


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stored(esign_dir: Path, base_dir: Path) -> str:
    return (
        f"esign {count_rows(esign_dir / 'esign.db', 'sessions')} sessions, "
        f"{count_blobs(esign_dir / 'blobs')} blobs; baseline "
        f"{count_rows(base_dir / 'baseline.db', 'documents')} rows, "
        f"{count_blobs(base_dir / 'blobs')} blobs"
    )


if __name__ == "__main__":
    sys.exit(main())
